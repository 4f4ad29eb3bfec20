"""Pseudonymised outcome measures for program evaluation (the analyst's export).

One row per month, officer and group: how many contacts, who initiated them, how many ended
in enforcement, how many left a working relationship or better. Officers and groups appear
only as keyed pseudonyms (HMAC-SHA256 with the app's secret key and a salt drawn for each
export): consistent within one export, so an evaluator can follow an officer across months,
but different in every export and in every analytics answer, so no two of them can be joined
to put a name to a pseudonym. No stakeholder appears at all, and nothing free-text.

`Pseudonyms` is also what the analytics API uses to answer analysts (`for_analyst`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import date, timedelta

import sqlalchemy as sa

from crm.audit.services import record_event
from crm.csvio.safe import SafeWriter
from crm.extensions import db
from crm.models import Contact, ContactGroup, ContactOfficer
from crm.timezones import day_start_utc, sql_local_date

COLUMNS = ("month", "officer", "group", "contacts", "proactive", "requested", "reactive",
           "with_enforcement", "working_relationship_or_better")


class Pseudonyms:
    """Keyed pseudonyms for one export or answer: the same id gets the same code within it,
    and a different one in the next (a fresh random salt each time)."""

    def __init__(self, secret: str):
        self._key = secret.encode() + b":" + secrets.token_bytes(16)

    def __call__(self, kind: str, ident: int) -> str:
        digest = hmac.new(self._key, f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()
        return f"{kind[0].upper()}-{digest[:12]}"


COARSE = 5  # officer counts shown to analysts are rounded down to a multiple of this


def _coarse(n: int | None) -> int | None:
    return None if n is None else n - n % COARSE


def _round1(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def for_analyst(name: str, doc: dict, secret: str) -> dict:
    """An analytics document as an analyst may see it: no officer or community member named
    or identified by id, and per-officer counts coarsened, so nothing joins back to the
    outcomes export (whose pseudonyms differ anyway)."""
    pseudo = Pseudonyms(secret)
    doc = dict(doc)
    if name == "coverage":
        doc["officers"] = [
            {**o, "officer": {"id": None, "name": None, "pseudonym": pseudo("officer", o["officer"]["id"])},
             "contacts": _coarse(o["contacts"]), "groups_reached": _coarse(o["groups_reached"]),
             "contacts_receptive": _coarse(o["contacts_receptive"]),
             "contacts_wary_hostile": _coarse(o["contacts_wary_hostile"]),
             "proactive_share": _round1(o["proactive_share"]),
             "comfort_zone_index": _round1(o["comfort_zone_index"])}
            for o in doc.get("officers", [])]
        # Officers' order is by name: shuffle it into pseudonym order instead.
        doc["officers"].sort(key=lambda o: o["officer"]["pseudonym"])
    elif name == "factions":
        doc["mediators"] = [{**m, "stakeholder": {"id": None,
                                                  "pseudonym": pseudo("stakeholder", m["stakeholder"]["id"])}}
                            for m in doc.get("mediators", [])]
    elif name == "brokers":
        doc["brokers"] = [b if b["kind"] != "stakeholder" else
                          {**b, "id": None, "name": pseudo("stakeholder", b["id"])}
                          for b in doc.get("brokers", [])]
    elif name == "introductions":
        raise PermissionError("analysts get no introductions: they name officers and people")
    return doc


def _month(column) -> sa.ColumnElement:
    """The local month of a stored time (a contact at 23:30 on March 31 in Chicago is March's)."""
    dialect = db.engine.dialect.name
    day = sql_local_date(column, dialect)
    if dialect == "postgresql":
        return sa.func.to_char(day, "YYYY-MM")
    return sa.func.substr(day, 1, 7)


def outcome_rows(secret: str, *, date_from: date | None = None, date_to: date | None = None):
    pseudonym = Pseudonyms(secret)  # salted per export
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
    # from and to are local days, both included (like every date filter).
    if date_from:
        q = q.where(c.c.occurred_at >= day_start_utc(date_from))
    if date_to:
        q = q.where(c.c.occurred_at < day_start_utc(date_to + timedelta(days=1)))
    for m, officer, group, *counts in db.session.execute(q):
        yield (m, pseudonym("officer", officer), pseudonym("group", group),
               *(int(n or 0) for n in counts))


def export_outcomes(actor, secret: str, *, date_from: date | None = None,
                    date_to: date | None = None, ip: str = "") -> str:
    out = io.StringIO()
    writer = SafeWriter(out)  # spreadsheet-safe cells, like every export
    writer.writerow(COLUMNS)
    n = 0
    for row in outcome_rows(secret, date_from=date_from, date_to=date_to):
        writer.writerow(row)
        n += 1
    record_event(actor, "analytics.outcomes_export", object_type="outcomes", ip=ip,
                 detail={"rows": n, "from": str(date_from or ""), "to": str(date_to or ""),
                         "pseudonymised": True})
    return out.getvalue()
