"""Who is involved in a case (groups, people, officers, partner agencies), and the warning when
the response touches groups that compete with a co-producer."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CaseParticipant, GroupRelation, ProblemCase, User
from crm.timezones import local_today
from crm.vocab import PARTICIPANT_KINDS, PARTICIPANT_ROLES, label

from . import lookups
from .rules import HIDDEN, person_label, require_edit
from .scope import check_grant, grant_note, record_grant
from .timeline import log


def participant_name(p: CaseParticipant, visible_stakeholder_ids: set[int] | None = None,
                     hidden=HIDDEN) -> str | None:
    """Display name; a person outside `visible_stakeholder_ids` shows as "Person #id" (or
    `hidden`, e.g. None for the API)."""
    if p.kind == "group":
        return p.group.name if p.group else f"Group {p.group_id}"
    if p.kind == "stakeholder":
        return person_label(p.stakeholder_id, p.stakeholder, visible_stakeholder_ids, hidden)
    if p.kind == "officer":
        return p.user.display_name if p.user else f"Officer {p.user_id}"
    return p.agency


def _subject(actor: User, case: ProblemCase, p: CaseParticipant, ids: dict, errors: dict
             ) -> dict | None:
    """Fill in who `p` is from `ids`; returns the scope grant when an officer joins."""
    kind = p.kind
    if kind == "group":
        g = lookups.group(actor, ids.get("group_id"), "group_id", errors)
        if g is None and "group_id" not in errors:
            errors["group_id"] = "choose a group"
        p.group_id = g.id if g else None
    elif kind == "stakeholder":
        s = lookups.stakeholder(actor, ids.get("stakeholder_id"), "stakeholder_id", errors)
        if s is None and "stakeholder_id" not in errors:
            errors["stakeholder_id"] = "choose a person"
        p.stakeholder_id = s.id if s else None
    elif kind == "officer":
        u = lookups.user(ids.get("user_id"), "user_id", errors)
        if u is None and "user_id" not in errors:
            errors["user_id"] = "choose an officer"
        p.user_id = u.id if u else None
        if u is not None:
            return check_grant(actor, u, case, "user_id", errors)
    elif kind == "agency":
        p.agency = lookups.text(ids.get("agency"), "agency", errors, required=True, max_len=200)
    return None


def _is_duplicate(case: ProblemCase, p: CaseParticipant) -> bool:
    key = (p.kind, p.role, p.group_id, p.stakeholder_id, p.user_id, p.agency)
    return any((q.kind, q.role, q.group_id, q.stakeholder_id, q.user_id, q.agency) == key
               for q in case.participants)


def add_participant(actor: User, case: ProblemCase, *, kind: str, role: str,
                    group_id=None, stakeholder_id=None, user_id=None, agency: str = ""
                    ) -> CaseParticipant:
    """Add a group, stakeholder, officer or partner agency to the case with a role.

    Groups and people must be ones the actor sees; an officer who would gain groups or people
    through the case is a scope grant the actor must hold (see `scope`)."""
    require_edit(actor, case)
    errors: dict = {}
    if kind not in PARTICIPANT_KINDS:
        errors["kind"] = f"must be one of {', '.join(PARTICIPANT_KINDS)}"
    if role not in PARTICIPANT_ROLES:
        errors["role"] = f"must be one of {', '.join(PARTICIPANT_ROLES)}"
    p = CaseParticipant(kind=kind, role=role, agency="")
    grant = _subject(actor, case, p, {"group_id": group_id, "stakeholder_id": stakeholder_id,
                                      "user_id": user_id, "agency": agency}, errors)
    if not errors and _is_duplicate(case, p):
        errors["kind"] = "already takes part in this case with that role"
    if errors:
        raise ValidationError(errors)
    case.participants.append(p)
    db.session.flush()
    name = participant_name(p) if kind != "stakeholder" else f"Person #{p.stakeholder_id}"
    log(actor, case, "participant.add",
        f"{name} added as {label(role).lower()}{grant_note(grant)}", obj=p,
        detail={"participant_id": p.id, "kind": kind, "role": role, "group_id": p.group_id,
                "stakeholder_id": p.stakeholder_id, "user_id": p.user_id, "agency": p.agency})
    record_grant(actor, case, grant, via="participant")
    return p


def remove_participant(actor: User, case: ProblemCase, participant: CaseParticipant) -> None:
    require_edit(actor, case)
    if participant.case_id != case.id:
        raise ValidationError({"participant": "is not part of this case"})
    name = participant_name(participant) if participant.kind != "stakeholder" \
        else f"Person #{participant.stakeholder_id}"
    detail = {"participant_id": participant.id, "kind": participant.kind,
              "role": participant.role, "group_id": participant.group_id,
              "stakeholder_id": participant.stakeholder_id, "user_id": participant.user_id,
              "agency": participant.agency}
    case.participants.remove(participant)
    db.session.flush()
    log(actor, case, "participant.remove",
        f"{name} removed ({label(detail['role']).lower()})", detail=detail)


def _touched_groups(case: ProblemCase) -> dict[int, str]:
    """Groups the response touches, each with how: taking part, or owning a live action."""
    touched: dict[int, str] = {}
    for p in case.participants:
        if p.kind == "group" and p.group_id:
            touched.setdefault(p.group_id, f"takes part as {label(p.role).lower()}")
    for a in case.actions:
        if a.owner_kind == "group" and a.owner_group_id and a.status != "dropped":
            touched.setdefault(a.owner_group_id, f"owns the action “{a.description[:80]}”")
    return touched


def _competing_relations(co_producers: set[int], touched, today: date) -> list[GroupRelation]:
    return list(db.session.scalars(
        sa.select(GroupRelation).where(
            GroupRelation.type == "competing",
            sa.or_(GroupRelation.starts_on.is_(None), GroupRelation.starts_on <= today),
            GroupRelation.open_on(today),
            sa.or_(sa.and_(GroupRelation.group_a_id.in_(co_producers),
                           GroupRelation.group_b_id.in_(touched)),
                   sa.and_(GroupRelation.group_b_id.in_(co_producers),
                           GroupRelation.group_a_id.in_(touched))))
        .options(selectinload(GroupRelation.group_a), selectinload(GroupRelation.group_b))
        .order_by(GroupRelation.id)))


def competing_warnings(case: ProblemCase, *, today: date | None = None) -> list[dict]:
    """Groups the planned response touches that compete with one of the case's co-producers.

    A group is touched when it takes part in the case (any role) or owns an action that is
    not dropped. For each current `competing` relation between a touched group and a
    co-producer group, one warning names both groups and the issue between them.
    """
    today = today or local_today()
    co_producers = {p.group_id for p in case.participants
                    if p.kind == "group" and p.role == "co_producer" and p.group_id}
    touched = _touched_groups(case) if co_producers else {}
    if not touched:
        return []
    out, seen = [], set()
    for r in _competing_relations(co_producers, list(touched), today):
        if r.group_a_id in co_producers and r.group_b_id in touched:
            cop, other = r.group_a, r.group_b
        else:
            cop, other = r.group_b, r.group_a
        key = (r.id, frozenset((cop.id, other.id)))
        if key in seen:
            continue
        seen.add(key)
        issue = r.issue or "no issue recorded"
        out.append({
            "relation_id": r.id, "co_producer_group_id": cop.id, "co_producer_group": cop.name,
            "group_id": other.id, "group": other.name, "issue": r.issue, "via": touched[other.id],
            "message": f"{other.name} ({touched[other.id]}) competes with co-producer "
                       f"{cop.name} over: {issue}",
        })
    return out
