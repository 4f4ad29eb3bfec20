"""Coverage, network and my-beat pages."""

from flask import Blueprint

bp = Blueprint("analytics", __name__, url_prefix="/analytics")
