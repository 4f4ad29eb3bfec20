"""/search?q=: the header's search box (people, groups and cases in the user's scope)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from crm.access import roles_required
from crm.search import services
from crm.web.forms import client_ip, current_actor
from crm.web.paging import page_arg

bp = Blueprint("search", __name__, url_prefix="/search")

URLS = {"group": ("groups.show", "group_id"), "person": ("stakeholders.detail", "stakeholder_id"),
        "case": ("cases.show", "case_id")}
KIND_LABELS = {"group": "Group", "person": "Person", "case": "Case"}


@bp.route("")
@roles_required(*services.SEARCH_ROLES)
def index():
    actor = current_actor()
    raw = request.args.get("q") or ""
    ctx = {"q": raw, "urls": URLS, "kinds": KIND_LABELS, "results": None, "error": None}
    if not raw.strip():
        return render_template("search/index.html", **ctx)
    try:
        q = services.clean_query(raw)
    except services.QueryError as e:
        ctx["error"] = str(e)
        return render_template("search/index.html", **ctx), 422
    ctx["results"] = services.search(actor, q, page=page_arg(), ip=client_ip())
    return render_template("search/index.html", **ctx)
