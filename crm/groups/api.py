"""Groups API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("groups_api", __name__, url_prefix="/api/v1/groups", description="Groups")
