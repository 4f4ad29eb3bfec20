"""Pseudonymised outcome measures for program evaluation (the analyst's export).

One row per month, officer and group: how many contacts, who initiated them, how many ended
in enforcement, how many left a working relationship or better. Officers and groups appear
only as keyed pseudonyms (HMAC-SHA256 with the app's secret key), stable across exports so an
evaluator can follow them over time, and meaningless without the key. No stakeholder appears
at all, and nothing free-text.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from datetime import date

import sqlalchemy as sa

from crm.audit.services import record_event
from crm.extensions import db
from crm.models import Contact, ContactGroup, ContactOfficer

COLUMNS = ("month", "officer", "group", "contacts", "proactive", "requested", "reactive",
           "with_enforcement", "working_relationship_or_better")


def pseudonym(secret: str, kind: str, ident: int) -> str:
    digest = hmac.new(secret.encode(), f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0].upper()}-{digest[:12]}"


def _month(column) -> sa.ColumnElement:
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def outcome_rows(secret: str, *, date_from: date | None = None, date_to: date | None = None):
    c, co, cg = Contact.__table__, ContactOfficer.__table__, ContactGroup.__table__
    month = _month(c.c.occurred_at).label("month")

    def count_if(cond):
        return sa.func.sum(sa.case((cond, 1), else_=0))

    q = (sa.select(month, co.c.user_id, cg.c.group_id, sa.func.count(),
                   count_if(c.c.initiated_by == "proactive"),
                   count_if(c.c.initiated_by == "requested"),
                   count_if(c.c.initiated_by == "reactive"),
                   count_if(c.c.enforcement != "none"),
                   count_if(c.c.stage_after.in_(("working_relationship", "collaborating_partner"))))
         .select_from(c.join(co, co.c.contact_id == c.c.id).join(cg, cg.c.contact_id == c.c.id))
         .group_by(month, co.c.user_id, cg.c.group_id)
         .order_by(month, co.c.user_id, cg.c.group_id))
    if date_from:
        q = q.where(c.c.occurred_at >= date_from)
    if date_to:
        q = q.where(c.c.occurred_at < date_to)
    for m, officer, group, *counts in db.session.execute(q):
        yield (m, pseudonym(secret, "officer", officer), pseudonym(secret, "group", group),
               *(int(n or 0) for n in counts))


def export_outcomes(actor, secret: str, *, date_from: date | None = None,
                    date_to: date | None = None, ip: str = "") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in outcome_rows(secret, date_from=date_from, date_to=date_to):
        writer.writerow(row)
        n += 1
    record_event(actor, "analytics.outcomes_export", object_type="outcomes", ip=ip,
                 detail={"rows": n, "from": str(date_from or ""), "to": str(date_to or ""),
                         "pseudonymised": True})
    return out.getvalue()
