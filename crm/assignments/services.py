"""Assignments: who may assign whom to which group, and when an assignment is done.

- A supervisor assigns a visit to an officer working a beat of their district, for a group of
  their district (the scope rules of `crm.access`); an administrator may assign anyone any
  group. The suggested warm introduction (the analytics' best chain for that officer, else
  the best one) is attached.
- An officer (or unit member) asks for an introduction: an assignment to themself to contact
  the first person of one of their own chains about the target group.
- An assignment closes itself when **the assigned officer** takes part in a contact with the
  group (visit) or with the person to ask (introduction), dated on or after the day it was
  assigned. A colleague's visit does not close it: the supervisor asked this officer to build
  the relationship, and can cancel the assignment when a colleague's visit is enough.

Every step is audited (assignment.create / .close / .cancel). Services flush, never commit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.access import beat_ids_select, group_ids_select
from crm.assignments.models import MAX_ASSIGNMENT_NOTE, Assignment
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import BeatAssignment, CommunityGroup, Stakeholder, User
from crm.text import clean_text
from crm.timezones import local_date, local_day_bounds, local_today
from crm.vocab import STAFF_ROLES

ASSIGN_ROLES = ("supervisor", "admin")
ASSIGNEE_ROLES = ("officer", "unit")
MAX_DUE_DAYS = 366
INTRO_DUE_DAYS = 7
LOADS = (selectinload(Assignment.group), selectinload(Assignment.officer),
         selectinload(Assignment.assigned_by))


# ---- who may be assigned what ----------------------------------------------------------------


def assignable_officers(actor: User) -> list[User]:
    """Officers the actor may assign: a supervisor's, those working a beat of their district."""
    q = (sa.select(User).where(User.active.is_(True), User.role.in_(ASSIGNEE_ROLES))
         .order_by(User.display_name))
    if actor.role != "admin":
        q = q.where(User.id.in_(sa.select(BeatAssignment.user_id).where(
            BeatAssignment.beat_id.in_(beat_ids_select(actor)),
            BeatAssignment.current_on(local_today()))))
    return list(db.session.scalars(q.limit(500)))


def _group_in_scope(actor: User, group_id: int) -> CommunityGroup | None:
    q = sa.select(CommunityGroup).where(CommunityGroup.id == group_id)
    visible = group_ids_select(actor)
    if visible is not None:
        q = q.where(CommunityGroup.id.in_(visible))
    return db.session.scalar(q)


def group_for_assignment(actor: User, group_id: int) -> CommunityGroup | None:
    """The group if the actor may assign visits to it (None: not theirs, shown as 404)."""
    if actor.role not in ASSIGN_ROLES:
        return None
    return _group_in_scope(actor, group_id)


def _parse_due(value, errors: dict, *, today: date) -> date | None:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            errors["due_on"] = "is not a date (YYYY-MM-DD)"
            return None
    if not isinstance(value, date):
        errors["due_on"] = "is required"
        return None
    if value < today:
        errors["due_on"] = "is in the past"
    elif value > today + timedelta(days=MAX_DUE_DAYS):
        errors["due_on"] = f"is more than {MAX_DUE_DAYS} days ahead"
    return value


def _note(value, errors: dict) -> str:
    note = clean_text(value)
    if len(note) > MAX_ASSIGNMENT_NOTE:
        errors["note"] = f"must be at most {MAX_ASSIGNMENT_NOTE} characters (now {len(note)})"
    return note


def suggested_chain(officer: User, group_id: int) -> dict | None:
    """The stored warm introduction to the group: the officer's own best, else the best one."""
    from crm.network import results

    own = results.latest("introductions", group_id=group_id, officer_id=officer.id, limit=1)
    chains = (own.document or {}).get("chains") or []
    if not chains:
        best = results.latest("introductions", group_id=group_id)
        chains = (best.document or {}).get("chains") or []
    return chains[0] if chains else None


def first_person(chain: dict | None) -> int | None:
    for step in (chain or {}).get("steps", []):
        if step.get("kind") == "stakeholder":
            return step.get("id")
    return None


# ---- creating and closing --------------------------------------------------------------------


def assign_visit(actor: User, data: dict, *, ip: str = "", today: date | None = None,
                 chain: dict | None = None) -> Assignment:
    """A supervisor assigns a visit to a group; `data`: group_id, officer_id, due_on, note.

    `chain` is the warm introduction to attach (default: `suggested_chain`).
    """
    if actor.role not in ASSIGN_ROLES:
        raise ValidationError({"role": "only supervisors and administrators assign visits"})
    today = today or local_today()
    errors: dict[str, str] = {}
    group = None
    try:
        group = _group_in_scope(actor, int(data.get("group_id")))
    except (TypeError, ValueError):
        pass
    if group is None:
        errors["group_id"] = "is not a group of your district"
    officer = None
    try:
        officer_id = int(data.get("officer_id"))
        officer = next((u for u in assignable_officers(actor) if u.id == officer_id), None)
    except (TypeError, ValueError):
        pass
    if officer is None:
        errors["officer_id"] = "is not an officer working a beat of your district"
    due_on = _parse_due(data.get("due_on"), errors, today=today)
    note = _note(data.get("note"), errors)
    if errors:
        raise ValidationError(errors)
    if chain is None:
        chain = suggested_chain(officer, group.id)
    person = first_person(chain)
    if person is not None and db.session.get(Stakeholder, person) is None:
        person = None  # erased since the chain was computed
    a = Assignment(kind="visit", group_id=group.id, officer_id=officer.id,
                   assigned_by_id=actor.id, due_on=due_on, note=note, chain=chain,
                   stakeholder_id=person)
    db.session.add(a)
    db.session.flush()
    record_event(actor, "assignment.create", a, ip=ip, detail={
        "kind": "visit", "group": group.id, "officer": officer.id,
        "due_on": due_on.isoformat(), "introduction": bool(chain)})
    return a


def ask_for_introduction(actor: User, group_id: int, chain: dict, *, note: str,
                         ip: str = "", today: date | None = None) -> Assignment:
    """The actor's follow-up to ask the chain's first person for an introduction to the group.

    `chain` is one of the actor's own stored chains (the view finds it; nothing from the
    client is trusted). Asking twice while one is open returns the open one.
    """
    if actor.role not in STAFF_ROLES:
        raise ValidationError({"role": "your role does not follow up"})
    person_id = first_person(chain)
    if person_id is None or (chain.get("officer") or {}).get("id") != actor.id:
        raise ValidationError({"chain": "is not one of your introductions"})
    existing = db.session.scalar(sa.select(Assignment).where(
        Assignment.officer_id == actor.id, Assignment.group_id == group_id,
        Assignment.kind == "introduction", Assignment.stakeholder_id == person_id,
        Assignment.status == "open"))
    if existing is not None:
        return existing
    errors: dict[str, str] = {}
    note = _note(note, errors)
    if errors:
        raise ValidationError(errors)
    today = today or local_today()
    a = Assignment(kind="introduction", group_id=group_id, stakeholder_id=person_id,
                   officer_id=actor.id, assigned_by_id=actor.id,
                   due_on=today + timedelta(days=INTRO_DUE_DAYS), note=note, chain=chain)
    db.session.add(a)
    db.session.flush()
    record_event(actor, "assignment.create", a, ip=ip, detail={
        "kind": "introduction", "group": group_id, "stakeholder": person_id,
        "due_on": a.due_on.isoformat()})
    return a


def close_for_contact(actor: User, contact_id: int, occurred_at: datetime, officer_ids: list[int],
                      group_ids: list[int], stakeholder_ids: list[int], *, ip: str = "") -> list[Assignment]:
    """Close the open assignments a new contact fulfils (see the module docstring)."""
    if not officer_ids or not (group_ids or stakeholder_ids):
        return []
    fulfils = []
    if group_ids:
        fulfils.append(sa.and_(Assignment.kind == "visit", Assignment.group_id.in_(group_ids)))
    if stakeholder_ids:
        fulfils.append(sa.and_(Assignment.kind == "introduction",
                               Assignment.stakeholder_id.in_(stakeholder_ids)))
    done = list(db.session.scalars(sa.select(Assignment).where(
        Assignment.status == "open", Assignment.officer_id.in_(officer_ids),
        sa.or_(*fulfils),
        # Assigned before the end of the contact's local day.
        Assignment.created_at < local_day_bounds(local_date(occurred_at))[1])))
    now = utcnow()
    for a in done:
        a.status, a.closed_at, a.closed_by_id, a.contact_id = "done", now, actor.id, contact_id
    if done:
        db.session.flush()
        for a in done:
            record_event(actor, "assignment.close", a, ip=ip,
                         detail={"contact": contact_id, "kind": a.kind, "group": a.group_id})
    return done


def can_cancel(actor: User, a: Assignment) -> bool:
    if actor.role == "admin" or a.assigned_by_id == actor.id:
        return True
    if a.kind == "introduction":
        return a.officer_id == actor.id
    return actor.role == "supervisor" and _group_in_scope(actor, a.group_id) is not None


def cancel_assignment(actor: User, a: Assignment, *, ip: str = "") -> Assignment:
    if not can_cancel(actor, a):
        raise ValidationError({"role": "only who assigned it (or a supervisor of the group) "
                                       "cancels an assignment"})
    if a.status == "open":
        a.status, a.closed_at, a.closed_by_id = "cancelled", utcnow(), actor.id
        db.session.flush()
        record_event(actor, "assignment.cancel", a, ip=ip,
                     detail={"kind": a.kind, "group": a.group_id, "officer": a.officer_id})
    return a


# ---- reading ---------------------------------------------------------------------------------


def assignment_scope(actor: User) -> sa.ColumnElement[bool]:
    """Assignments the actor may see: their own, ones they gave, their scope's groups' visits."""
    if actor.role == "admin":
        return sa.true()
    mine = sa.or_(Assignment.officer_id == actor.id, Assignment.assigned_by_id == actor.id)
    if actor.role == "supervisor":
        return sa.or_(mine, sa.and_(Assignment.kind == "visit",
                                    Assignment.group_id.in_(group_ids_select(actor))))
    return mine


def get_visible(actor: User, assignment_id: int) -> Assignment | None:
    return db.session.scalar(sa.select(Assignment).options(*LOADS).where(
        Assignment.id == assignment_id, assignment_scope(actor)))


def assignments_query(actor: User, *, officer_id: int | None = None,
                      group_ids: list[int] | None = None, status: str | None = "open") -> sa.Select:
    """Visible assignments, earliest due first."""
    q = (sa.select(Assignment).options(*LOADS).where(assignment_scope(actor))
         .order_by(Assignment.due_on, Assignment.id))
    if officer_id is not None:
        q = q.where(Assignment.officer_id == officer_id)
    if group_ids is not None:
        q = q.where(Assignment.group_id.in_(group_ids))
    if status is not None:
        q = q.where(Assignment.status == status)
    return q


def my_open(actor: User, limit: int = 50) -> list[Assignment]:
    """The actor's own open assignments (home page and follow-ups), earliest due first."""
    return list(db.session.scalars(assignments_query(actor, officer_id=actor.id).limit(limit)))


def open_by_group(actor: User, group_ids: list[int]) -> dict[int, list[Assignment]]:
    """Open visits per group, for the coverage page's "assigned to X, due …"."""
    out: dict[int, list[Assignment]] = {}
    if not group_ids:
        return out
    for a in db.session.scalars(assignments_query(actor, group_ids=list(group_ids))
                                .where(Assignment.kind == "visit")):
        out.setdefault(a.group_id, []).append(a)
    return out


def overdue(actor: User, *, today: date | None = None, limit: int = 100) -> list[Assignment]:
    """Open visits past their due date that the actor may see (a supervisor: their district)."""
    today = today or local_today()
    return list(db.session.scalars(assignments_query(actor).where(
        Assignment.kind == "visit", Assignment.due_on < today).limit(limit)))


def chain_text(chain: dict | None, names: dict[int, str], me: User) -> str:
    """The chain in words, e.g. "You → Ana Lopez → Park Neighbours → Market Traders"."""
    parts = []
    for step in (chain or {}).get("steps", []):
        kind, ident = step.get("kind"), step.get("id")
        if kind == "officer":
            parts.append("You" if ident == me.id else (step.get("name") or "an officer"))
        elif kind == "stakeholder":
            parts.append(names.get(ident) or "a member")
        else:
            parts.append(step.get("name") or f"group #{ident}")
    return " → ".join(parts)


def chain_people(chains) -> set[int]:
    """Stakeholder ids in the chains (their names are shown only to who may see them)."""
    return {s["id"] for c in chains for s in (c or {}).get("steps", [])
            if s.get("kind") == "stakeholder"}


def person_name(stakeholder_id: int) -> str | None:
    return db.session.scalar(sa.select(Stakeholder.name).where(Stakeholder.id == stakeholder_id))
