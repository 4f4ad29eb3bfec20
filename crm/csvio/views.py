"""CSV import/export pages (units and admins)."""

from flask import Blueprint

bp = Blueprint("csvio", __name__, url_prefix="/data")
