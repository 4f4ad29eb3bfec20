"""The case timeline: one `CaseEvent` and one audit event for every change."""

from __future__ import annotations

from crm.audit.services import record_event
from crm.db import utcnow
from crm.extensions import db
from crm.models import CaseEvent, ProblemCase, User

from .rules import jsonable


def log(actor: User | None, case: ProblemCase, action: str, summary: str, obj=None,
        detail: dict | None = None) -> CaseEvent:
    """One timeline entry and one audit event for one change."""
    detail = {k: jsonable(v) for k, v in (detail or {}).items()}
    ev = CaseEvent(case_id=case.id, at=utcnow(), actor_id=getattr(actor, "id", None),
                   action=action, summary=summary[:2000], detail=detail)
    db.session.add(ev)
    db.session.flush()
    # The trail keeps that a reason was given, not what it says (it may name someone).
    record_event(actor, action if action.startswith("case.") else f"case.{action}",
                 obj if obj is not None else case, detail={"case_id": case.id, **detail},
                 free_text=("reason",))
    return ev


def apply_changes(obj, values: dict) -> dict:
    """Apply `values` to `obj`; return {field: {"before", "after"}} for what really changed."""
    out = {}
    for k, v in values.items():
        before = getattr(obj, k)
        if before != v:
            out[k] = {"before": jsonable(before), "after": jsonable(v)}
            setattr(obj, k, v)
    return out
