"""Analytics API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("analytics_api", __name__, url_prefix="/api/v1/analytics", description="Network analytics")
