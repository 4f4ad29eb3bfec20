"""Stakeholders API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("stakeholders_api", __name__, url_prefix="/api/v1/stakeholders", description="Stakeholders")
