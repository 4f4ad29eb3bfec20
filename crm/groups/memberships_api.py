"""Memberships API endpoints."""

from flask_smorest import Blueprint

blp = Blueprint("memberships_api", __name__, url_prefix="/api/v1/memberships", description="Memberships")
