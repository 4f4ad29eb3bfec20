"""Cases API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases", description="Cases")
