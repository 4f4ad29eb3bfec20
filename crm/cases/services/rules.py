"""Who may change a case, field labels, snapshots and the version check shared by every part."""

from __future__ import annotations

from datetime import date, datetime

from crm.errors import ConflictError, ForbiddenError
from crm.models import CaseAction, CaseIdea, ProblemCase, User
from crm.vocab import label

CREATE_ROLES = ("unit", "supervisor", "admin")
EDIT_ROLES = ("unit", "supervisor", "admin")
OPEN_ACTION_STATUSES = ("open", "in_progress")
TEXT_FIELDS = ("title", "problem_statement", "place", "place_managers", "victim_target",
               "guardians", "offender", "handlers", "analysis", "response_plan", "assessment",
               "community_verdict")
# What a written analysis is: the text and the three sides of the problem analysis triangle.
ANALYSIS_REQUIRED = ("analysis", "place", "victim_target", "offender")
FIELD_LABELS = {"victim_target": "Victim / target", "problem_statement": "Problem statement",
                "community_verdict": "Community verdict", "response_plan": "Response plan",
                "place_managers": "Place managers"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, label(name))


# ---- permissions -----------------------------------------------------------------------

def can_create(user: User) -> bool:
    return user.role in CREATE_ROLES


def can_edit(user: User, case: ProblemCase) -> bool:
    """Unit, supervisors and admins edit the cases they see; officers edit the cases they lead
    or take part in (they only view the other cases of their beats)."""
    if user.role in EDIT_ROLES:
        return True
    if user.role != "officer":
        return False
    return case.lead_id == user.id or any(
        p.kind == "officer" and p.user_id == user.id for p in case.participants)


def can_update_action(user: User, action: CaseAction) -> bool:
    """Besides the case editors, the officer who owns or answers for an action updates it."""
    return can_edit(user, action.case) or user.id in (action.owner_user_id,
                                                      action.liaison_user_id)


def require(ok: bool, message: str = "You may not change this case.") -> None:
    """Refuse with a 403 domain error (the web layer turns it into a page or JSON)."""
    if not ok:
        raise ForbiddenError(message)


def require_create(actor: User) -> None:
    require(can_create(actor), f"Your role ({actor.role}) may not open cases.")


def require_edit(actor: User, case: ProblemCase) -> None:
    require(can_edit(actor, case), "You may view this case but not change it.")


# ---- versions and snapshots ---------------------------------------------------------------

def check_version(obj, version_id: int | None, snapshot) -> None:
    if version_id is not None and int(version_id) != obj.version_id:
        raise ConflictError(
            f"{type(obj).__name__} {obj.id} was changed by someone else (now version "
            f"{obj.version_id}, you edited version {version_id}).", current=snapshot(obj))


def case_snapshot(case: ProblemCase) -> dict:
    return {"id": case.id, "version_id": case.version_id, "stage": case.stage,
            "lead_id": case.lead_id, "beat_ids": sorted(b.id for b in case.beats),
            **{f: getattr(case, f) for f in TEXT_FIELDS}}


def action_snapshot(a: CaseAction) -> dict:
    return {"id": a.id, "version_id": a.version_id, "description": a.description,
            "owner_kind": a.owner_kind, "owner_user_id": a.owner_user_id,
            "owner_stakeholder_id": a.owner_stakeholder_id, "owner_group_id": a.owner_group_id,
            "owner_agency": a.owner_agency, "liaison_user_id": a.liaison_user_id,
            "due_on": a.due_on.isoformat() if a.due_on else None, "status": a.status,
            "outcome": a.outcome}


def idea_snapshot(i: CaseIdea) -> dict:
    return {"id": i.id, "version_id": i.version_id, "text": i.text, "status": i.status,
            "decline_reason": i.decline_reason,
            "proposer_told_on": i.proposer_told_on.isoformat() if i.proposer_told_on else None}


HIDDEN = object()  # "show the usual placeholder" (see person_label)


def person_label(stakeholder_id: int | None, stakeholder, visible: set[int] | None,
                 hidden=HIDDEN) -> str | None:
    """A case's person by name when `visible` (ids the reader may see; None: no check) holds
    them, otherwise "Person #id" (or `hidden`, e.g. None for the API)."""
    if stakeholder_id is None:
        return None
    if visible is not None and stakeholder_id not in visible:
        return f"Person #{stakeholder_id}" if hidden is HIDDEN else hidden
    return stakeholder.name if stakeholder else f"Person #{stakeholder_id}"


def jsonable(v):
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v
