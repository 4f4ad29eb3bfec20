"""Relations API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("relations_api", __name__, url_prefix="/api/v1/relations", description="Relations")
