"""Admins search the audit trail by user, record and date."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from crm.access import roles_required
from crm.audit.models import AuditEvent
from crm.audit.services import record_event
from crm.extensions import db
from crm.timezones import day_start_utc
from crm.web.forms import client_ip, current_actor
from crm.web.paging import Page, page_arg

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 100


def _date_arg(name: str):
    raw = request.args.get(name, "").strip()
    if not raw:
        return None, None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date(), None
    except ValueError:
        return None, f"{name.replace('_', ' ').capitalize()}: use the form YYYY-MM-DD"


@bp.route("/")
@roles_required("admin")
def search():
    errors = []
    q = sa.select(AuditEvent)
    user = request.args.get("user", "").strip().lower()
    if user:
        q = q.where(AuditEvent.actor_username == user)
    if request.args.get("object_type"):
        q = q.where(AuditEvent.object_type == request.args["object_type"].strip())
    if request.args.get("object_id"):
        q = q.where(AuditEvent.object_id == request.args["object_id"].strip())
    if request.args.get("action"):
        q = q.where(AuditEvent.action.startswith(request.args["action"].strip()))
    start, err = _date_arg("date_from")
    errors += [err] if err else []
    end, err = _date_arg("date_to")
    errors += [err] if err else []
    if start:
        q = q.where(AuditEvent.at >= day_start_utc(start))  # local days
    if end:
        q = q.where(AuditEvent.at < day_start_utc(end + timedelta(days=1)))
    # No count: the trail is long; one event past the page says whether there is another.
    page = page_arg()
    events = db.session.scalars(q.order_by(AuditEvent.id.desc())
                                .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    record_event(current_actor(), "audit.search", object_type="audit_events",
                 detail={k: v for k, v in request.args.items() if k != "page"}, ip=client_ip())
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("audit/search.html", args=args, errors=errors,
                           events=Page(events[:PAGE_SIZE], None, page, PAGE_SIZE,
                                       more=len(events) > PAGE_SIZE)), (422 if errors else 200)
