"""Follow-ups API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("followups_api", __name__, url_prefix="/api/v1/follow-ups", description="Follow-ups")
