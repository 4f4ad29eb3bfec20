"""The help page (each role's day in a few lines) and the browser's /favicon.ico."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required

from crm.vocab import ROLES

bp = Blueprint("help", __name__)


@bp.route("/help")
@login_required
def index():
    """What each role does with the app on an ordinary day; the reader's own role first."""
    return render_template("help/index.html", roles=ROLES)


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: send them to the SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
