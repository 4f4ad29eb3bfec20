"""Interactive API docs: Swagger UI served from the installed bundle (no CDN, no inline script)."""

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, render_template, send_from_directory
from flask_login import login_required

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")
ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


@bp.route("/")
@login_required
def index():
    return render_template("api/docs.html")


@bp.route("/assets/<path:filename>")
def asset(filename: str):
    return send_from_directory(ASSETS, filename)
