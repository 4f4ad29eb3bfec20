"""Stakeholders pages."""

from flask import Blueprint

bp = Blueprint("stakeholders", __name__, url_prefix="/stakeholders")
