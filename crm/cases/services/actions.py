"""Actions of a case's response, each owned by an officer, a person, a group or an agency,
and the overdue ones."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.access import case_scope
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CaseAction, ProblemCase, User
from crm.timezones import local_today
from crm.vocab import ACTION_STATUSES, OWNER_KINDS, label

from . import lookups
from .rules import (
    HIDDEN,
    OPEN_ACTION_STATUSES,
    action_snapshot,
    can_edit,
    can_update_action,
    check_version,
    person_label,
    require,
    require_edit,
)
from .timeline import apply_changes, log


def action_owner(a: CaseAction, visible_stakeholder_ids: set[int] | None = None,
                 hidden=HIDDEN) -> str | None:
    """Who owns the action; a person outside `visible_stakeholder_ids` shows as "Person #id"
    (or `hidden`)."""
    if a.owner_kind == "officer":
        return a.owner_user.display_name if a.owner_user else None
    if a.owner_kind == "group":
        return a.owner_group.name if a.owner_group else None
    if a.owner_kind == "stakeholder":
        return person_label(a.owner_stakeholder_id, a.owner_stakeholder,
                            visible_stakeholder_ids, hidden)
    return a.owner_agency


def _owner_values(actor: User, data: dict, errors: dict) -> dict:
    kind = data.get("owner_kind")
    if kind not in OWNER_KINDS:
        errors["owner_kind"] = f"must be one of {', '.join(OWNER_KINDS)}"
        return {}
    out = {"owner_kind": kind, "owner_user_id": None, "owner_stakeholder_id": None,
           "owner_group_id": None, "owner_agency": ""}
    if kind == "officer":
        u = lookups.user(data.get("owner_user_id"), "owner_user_id", errors)
        if u is None and "owner_user_id" not in errors:
            errors["owner_user_id"] = "choose the officer who owns the action"
        out["owner_user_id"] = u.id if u else None
    elif kind == "stakeholder":
        s = lookups.stakeholder(actor, data.get("owner_stakeholder_id"), "owner_stakeholder_id",
                                errors)
        if s is None and "owner_stakeholder_id" not in errors:
            errors["owner_stakeholder_id"] = "choose the person who owns the action"
        out["owner_stakeholder_id"] = s.id if s else None
    elif kind == "group":
        g = lookups.group(actor, data.get("owner_group_id"), "owner_group_id", errors)
        if g is None and "owner_group_id" not in errors:
            errors["owner_group_id"] = "choose the group that owns the action"
        out["owner_group_id"] = g.id if g else None
    else:
        out["owner_agency"] = lookups.text(data.get("owner_agency"), "owner_agency", errors,
                                           required=True, max_len=200)
    return out


def add_action(actor: User, case: ProblemCase, *, description: str, owner_kind: str,
               owner_user_id=None, owner_stakeholder_id=None, owner_group_id=None,
               owner_agency: str = "", liaison_user_id=None, due_on: date | None = None,
               status: str = "open", outcome: str = "") -> CaseAction:
    """An action owned by an officer, a stakeholder, a group or a partner agency. An action
    the community or an agency owns gets a liaison officer (the case lead unless named)."""
    require_edit(actor, case)
    errors: dict = {}
    description = lookups.text(description, "description", errors, required=True)
    owner = _owner_values(actor, {
        "owner_kind": owner_kind, "owner_user_id": owner_user_id,
        "owner_stakeholder_id": owner_stakeholder_id, "owner_group_id": owner_group_id,
        "owner_agency": owner_agency}, errors)
    liaison = lookups.user(liaison_user_id, "liaison_user_id", errors)
    if status not in ACTION_STATUSES:
        errors["status"] = f"must be one of {', '.join(ACTION_STATUSES)}"
    if errors:
        raise ValidationError(errors)
    if liaison is None and owner_kind != "officer":
        liaison_id = case.lead_id
    else:
        liaison_id = liaison.id if liaison else None
    action = CaseAction(description=description, **owner, liaison_user_id=liaison_id,
                        due_on=due_on, status=status, outcome=(outcome or "").strip())
    case.actions.append(action)
    db.session.flush()
    log(actor, case, "action.add",
        f"Action ({label(owner_kind).lower()}): {description[:120]}"
        + (f", due {due_on.isoformat()}" if due_on else ""), obj=action,
        detail={"action_id": action.id, **action_snapshot(action)})
    return action


def _action_values(actor: User, action: CaseAction, values: dict, errors: dict) -> dict:
    clean: dict = {}
    if values.get("description") is not None:
        clean["description"] = lookups.text(values["description"], "description", errors,
                                            required=True)
    if values.get("status") is not None:
        if values["status"] not in ACTION_STATUSES:
            errors["status"] = f"must be one of {', '.join(ACTION_STATUSES)}"
        clean["status"] = values["status"]
    if values.get("outcome") is not None:
        clean["outcome"] = (values["outcome"] or "").strip()
    if "due_on" in values:
        clean["due_on"] = values["due_on"]
    if values.get("owner_kind") is not None:
        if not can_edit(actor, action.case):
            errors["owner_kind"] = "only the case's editors change who owns an action"
        else:
            clean.update(_owner_values(actor, values, errors))
    if values.get("liaison_user_id") not in (None, ""):
        liaison = lookups.user(values["liaison_user_id"], "liaison_user_id", errors)
        if liaison is not None:
            clean["liaison_user_id"] = liaison.id
    return clean


def update_action(actor: User, action: CaseAction, values: dict, *, version_id: int | None
                  ) -> CaseAction:
    """Change an action's status, outcome, due date, description, owner or liaison."""
    require(can_update_action(actor, action), "Only the case's editors and the action's "
            "owner or liaison update this action.")
    check_version(action, version_id, action_snapshot)
    errors: dict = {}
    clean = _action_values(actor, action, values, errors)
    if errors:
        raise ValidationError(errors)
    changes = apply_changes(action, clean)
    if not changes:
        return action
    db.session.flush()
    what = ", ".join(label(k).lower() for k in changes)
    status = f" → {label(action.status).lower()}" if "status" in changes else ""
    log(actor, action.case, "action.update",
        f"Action{status} ({what}): {action.description[:100]}",
        obj=action, detail={"action_id": action.id, "changes": changes})
    return action


def is_overdue(action: CaseAction, today: date | None = None) -> bool:
    today = today or local_today()
    return (action.due_on is not None and action.due_on < today
            and action.status in OPEN_ACTION_STATUSES)


def overdue_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    today = today or local_today()
    return sa.and_(CaseAction.due_on.is_not(None), CaseAction.due_on < today,
                   CaseAction.status.in_(OPEN_ACTION_STATUSES))


def overdue_actions_for(user: User, *, today: date | None = None) -> list[CaseAction]:
    """Overdue actions the user owns or answers for as liaison, earliest first."""
    return list(db.session.scalars(
        sa.select(CaseAction).where(
            overdue_condition(today),
            sa.or_(CaseAction.owner_user_id == user.id, CaseAction.liaison_user_id == user.id))
        .options(selectinload(CaseAction.case))
        .order_by(CaseAction.due_on, CaseAction.id).limit(100)))


def overdue_actions_in_scope(user: User, *, today: date | None = None) -> list[CaseAction]:
    """Overdue actions on every case the user sees (a unit member's cases)."""
    return list(db.session.scalars(
        sa.select(CaseAction).join(ProblemCase, ProblemCase.id == CaseAction.case_id)
        .where(overdue_condition(today), case_scope(user))
        .options(selectinload(CaseAction.case))
        .order_by(CaseAction.due_on, CaseAction.id).limit(200)))


def overdue_counts(case_ids: list[int], today: date | None = None) -> dict[int, int]:
    if not case_ids:
        return {}
    return dict(db.session.execute(
        sa.select(CaseAction.case_id, sa.func.count()).where(
            CaseAction.case_id.in_(case_ids), overdue_condition(today))
        .group_by(CaseAction.case_id)).all())
