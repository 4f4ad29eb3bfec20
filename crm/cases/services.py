"""Problem-solving cases (SARA) run with the community: every change goes through here.

Each change writes exactly one `CaseEvent` on the case's timeline (who, what, when; field
edits with before/after) and one audit event, then flushes. Nothing here commits.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.access import case_scope, contact_scope, group_scope, stakeholder_scope
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import (Beat, CaseAction, CaseEvent, CaseIdea, CaseMeasure, CaseMeasureValue,
                        CaseParticipant, CommunityGroup, Contact, GroupRelation, ProblemCase,
                        Stakeholder, User, case_beats, case_contacts, group_beats)
from crm.vocab import (ACTION_STATUSES, CASE_STAGES, IDEA_STATUSES, OWNER_KINDS,
                       PARTICIPANT_KINDS, PARTICIPANT_ROLES, label)

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


def _require(ok: bool) -> None:
    if not ok:
        from flask import abort
        abort(403)


def _check_version(obj, version_id: int | None, snapshot) -> None:
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


# ---- the timeline ----------------------------------------------------------------------

def _jsonable(v):
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v


def _log(actor: User | None, case: ProblemCase, action: str, summary: str, obj=None,
         detail: dict | None = None) -> CaseEvent:
    """One timeline entry and one audit event for one change."""
    detail = {k: _jsonable(v) for k, v in (detail or {}).items()}
    ev = CaseEvent(case_id=case.id, at=utcnow(), actor_id=getattr(actor, "id", None),
                   action=action, summary=summary[:2000], detail=detail)
    db.session.add(ev)
    db.session.flush()
    audit_detail = {"case_id": case.id, **detail}
    record_event(actor, action if action.startswith("case.") else f"case.{action}",
                 obj if obj is not None else case, detail=audit_detail)
    return ev


def _changes(obj, values: dict) -> dict:
    """Apply `values` to `obj`; return {field: {"before", "after"}} for what really changed."""
    out = {}
    for k, v in values.items():
        before = getattr(obj, k)
        if before != v:
            out[k] = {"before": _jsonable(before), "after": _jsonable(v)}
            setattr(obj, k, v)
    return out


# ---- lookups the services validate against -----------------------------------------------

def _user(user_id, field: str, errors: dict) -> User | None:
    if user_id in (None, "", 0):
        return None
    u = db.session.get(User, int(user_id))
    if u is None or not u.active or u.role not in ("officer", "unit", "supervisor", "admin"):
        errors[field] = "is not an active officer"
        return None
    return u


def selectable_groups(actor: User, case: ProblemCase | None = None) -> sa.Select:
    """Groups the actor may attach to a case: those they see, plus the groups of the case's
    beats (a unit member can bring a group of the case's area into the case)."""
    cond = group_scope(actor)
    if case is not None and case.beats:
        cond = sa.or_(cond, CommunityGroup.id.in_(
            sa.select(group_beats.c.group_id).where(
                group_beats.c.beat_id.in_([b.id for b in case.beats]))))
    return sa.select(CommunityGroup).where(cond).order_by(CommunityGroup.name)


def _group(actor, case, group_id, field: str, errors: dict) -> CommunityGroup | None:
    if group_id in (None, "", 0):
        return None
    g = db.session.scalar(selectable_groups(actor, case).where(CommunityGroup.id == int(group_id)))
    if g is None:
        errors[field] = "is not a group you can see"
    return g


def selectable_stakeholders(actor: User) -> sa.Select:
    return (sa.select(Stakeholder).where(stakeholder_scope(actor), Stakeholder.erased_at.is_(None),
                                         Stakeholder.merged_into_id.is_(None))
            .order_by(Stakeholder.name))


def _stakeholder(actor, stakeholder_id, field: str, errors: dict) -> Stakeholder | None:
    if stakeholder_id in (None, "", 0):
        return None
    s = db.session.scalar(selectable_stakeholders(actor).where(Stakeholder.id == int(stakeholder_id)))
    if s is None:
        errors[field] = "is not a person you can see"
    return s


def _beats(beat_ids, errors: dict) -> list[Beat]:
    ids = sorted({int(b) for b in beat_ids or ()})
    beats = list(db.session.scalars(sa.select(Beat).where(Beat.id.in_(ids)).order_by(Beat.code)))
    if len(beats) != len(ids):
        errors["beat_ids"] = "contains an unknown beat"
    return beats


def _text(value, field: str, errors: dict, *, required: bool = False, max_len: int | None = None
          ) -> str:
    v = (value or "").strip()
    if required and not v:
        errors[field] = "is required"
    elif max_len and len(v) > max_len:
        errors[field] = f"must be at most {max_len} characters"
    return v


# ---- cases -----------------------------------------------------------------------------

def create_case(actor: User, *, title: str, problem_statement: str = "", beat_ids=(),
                lead_id: int | None = None, opened_on: date | None = None) -> ProblemCase:
    """Open a case in scanning. The lead defaults to the actor; a unit member who names
    another lead takes part as an officer, so the case stays in their list."""
    _require(can_create(actor))
    errors: dict = {}
    title = _text(title, "title", errors, required=True, max_len=200)
    beats = _beats(beat_ids, errors)
    if not beats and "beat_ids" not in errors:
        errors["beat_ids"] = "choose at least one beat"
    lead = _user(lead_id, "lead_id", errors) if lead_id else actor
    if errors:
        raise ValidationError(errors)
    case = ProblemCase(title=title, problem_statement=(problem_statement or "").strip(),
                       stage="scanning", lead_id=lead.id, opened_on=opened_on or date.today(),
                       stage_entered_at=utcnow())
    case.beats = beats
    if actor.role == "unit" and lead.id != actor.id:
        case.participants.append(CaseParticipant(kind="officer", role="co_producer",
                                                 user_id=actor.id))
    db.session.add(case)
    db.session.flush()
    _log(actor, case, "case.create", f"Opened: {title}", detail={
        "title": title, "lead_id": lead.id, "beats": [b.code for b in beats]})
    return case


def update_case(actor: User, case: ProblemCase, values: dict, *, version_id: int | None
                ) -> ProblemCase:
    """Edit a case's text fields, lead and beats; one timeline entry with before/after."""
    _require(can_edit(actor, case))
    _check_version(case, version_id, case_snapshot)
    errors: dict = {}
    clean: dict = {}
    for f in TEXT_FIELDS:
        if f in values and values[f] is not None:
            clean[f] = _text(values[f], f, errors, required=(f == "title"),
                             max_len=200 if f == "title" else None)
    if values.get("lead_id") is not None:
        lead = _user(values["lead_id"], "lead_id", errors)
        if lead is not None:
            clean["lead_id"] = lead.id
    beats = None
    if values.get("beat_ids") is not None:
        beats = _beats(values["beat_ids"], errors)
        if not beats and "beat_ids" not in errors:
            errors["beat_ids"] = "choose at least one beat"
    if errors:
        raise ValidationError(errors)
    changes = _changes(case, clean)
    if beats is not None:
        before = [b.code for b in case.beats]
        after = [b.code for b in beats]
        if before != after:
            case.beats = beats
            changes["beats"] = {"before": before, "after": after}
    if not changes:
        return case
    db.session.flush()
    names = ", ".join(field_label(k).lower() for k in changes)
    _log(actor, case, "case.update", f"Edited {names}", detail={"changes": changes})
    return case


def _measure_has_later_value(m: CaseMeasure) -> bool:
    if m.baseline_value is None:
        return False
    return any(m.baseline_on is None or v.measured_on > m.baseline_on for v in m.values)


def stage_guard_errors(case: ProblemCase, to_stage: str) -> dict[str, str]:
    """What is missing before the case may enter `to_stage` (empty when nothing is)."""
    errors: dict[str, str] = {}
    if to_stage == "response":
        for f in ANALYSIS_REQUIRED:
            if not (getattr(case, f) or "").strip():
                errors[f] = ("write the analysis before the response" if f == "analysis" else
                             f"fill in the {field_label(f).lower()} side of the problem "
                             "analysis triangle")
    if to_stage == "closed":
        if not (case.assessment or "").strip():
            errors["assessment"] = "write the assessment before closing"
        if not any(_measure_has_later_value(m) for m in case.measures):
            errors["measures"] = ("record at least one measure with a baseline and a value "
                                  "measured after it")
        if not (case.community_verdict or "").strip():
            errors["community_verdict"] = "record what the community says before closing"
    return errors


def allowed_moves(case: ProblemCase) -> list[tuple[str, bool]]:
    """(stage, needs a reason) for every move the stage rules allow from here."""
    i = CASE_STAGES.index(case.stage)
    if case.stage == "closed":
        return [("assessment", True), ("analysis", True)]
    moves = [(CASE_STAGES[i + 1], False)]
    moves += [(s, True) for s in reversed(CASE_STAGES[:i])]
    return moves


def move_case(actor: User, case: ProblemCase, to_stage: str, *, reason: str | None = None,
              version_id: int | None) -> ProblemCase:
    """Move a case through SARA: forward one stage at a time, back only with a reason.

    Guards: no response without a written analysis (text and the triangle's place, victim /
    target and offender); no closing without an assessment, a measure with a value after its
    baseline and the community's verdict; a closed case reopens only with a reason, to
    assessment or analysis. A refused move raises ValidationError naming what is missing.
    """
    _require(can_edit(actor, case))
    _check_version(case, version_id, case_snapshot)
    reason = (reason or "").strip()
    if to_stage not in CASE_STAGES:
        raise ValidationError({"to": f"must be one of {', '.join(CASE_STAGES)}"})
    here, there = CASE_STAGES.index(case.stage), CASE_STAGES.index(to_stage)
    if there == here:
        raise ValidationError({"to": f"the case is already in {label(to_stage).lower()}"})
    if case.stage == "closed":
        if to_stage not in ("assessment", "analysis"):
            raise ValidationError({"to": "a closed case reopens to assessment or analysis"})
        if not reason:
            raise ValidationError({"reason": "say why the case is reopened"})
    elif there < here:
        if not reason:
            raise ValidationError({"reason": f"say why the case goes back to {label(to_stage).lower()}"})
    elif there > here + 1:
        raise ValidationError({"to": f"move one stage at a time: next is "
                                     f"{label(CASE_STAGES[here + 1]).lower()}"})
    errors = stage_guard_errors(case, to_stage)
    if errors:
        raise ValidationError(errors)
    from_stage = case.stage
    now = utcnow()
    case.stage = to_stage
    case.stage_entered_at = now
    case.closed_at = now if to_stage == "closed" else None
    db.session.flush()
    verb = "Closed" if to_stage == "closed" else ("Reopened" if from_stage == "closed" else "Stage")
    summary = f"{verb}: {label(from_stage)} → {label(to_stage)}" + (f" ({reason})" if reason else "")
    _log(actor, case, "case.stage", summary,
         detail={"from": from_stage, "to": to_stage, "reason": reason})
    return case


# ---- who is involved -------------------------------------------------------------------

def participant_name(p: CaseParticipant, visible_stakeholder_ids: set[int] | None = None) -> str:
    if p.kind == "group":
        return p.group.name if p.group else f"Group {p.group_id}"
    if p.kind == "stakeholder":
        if visible_stakeholder_ids is not None and p.stakeholder_id not in visible_stakeholder_ids:
            return f"Person #{p.stakeholder_id}"
        return p.stakeholder.name if p.stakeholder else f"Person #{p.stakeholder_id}"
    if p.kind == "officer":
        return p.user.display_name if p.user else f"Officer {p.user_id}"
    return p.agency


def add_participant(actor: User, case: ProblemCase, *, kind: str, role: str,
                    group_id=None, stakeholder_id=None, user_id=None, agency: str = ""
                    ) -> CaseParticipant:
    """Add a group, stakeholder, officer or partner agency to the case with a role."""
    _require(can_edit(actor, case))
    errors: dict = {}
    if kind not in PARTICIPANT_KINDS:
        errors["kind"] = f"must be one of {', '.join(PARTICIPANT_KINDS)}"
    if role not in PARTICIPANT_ROLES:
        errors["role"] = f"must be one of {', '.join(PARTICIPANT_ROLES)}"
    p = CaseParticipant(kind=kind, role=role, agency="")
    if kind == "group":
        g = _group(actor, case, group_id, "group_id", errors)
        if g is None and "group_id" not in errors:
            errors["group_id"] = "choose a group"
        p.group_id = g.id if g else None
    elif kind == "stakeholder":
        s = _stakeholder(actor, stakeholder_id, "stakeholder_id", errors)
        if s is None and "stakeholder_id" not in errors:
            errors["stakeholder_id"] = "choose a person"
        p.stakeholder_id = s.id if s else None
    elif kind == "officer":
        u = _user(user_id, "user_id", errors)
        if u is None and "user_id" not in errors:
            errors["user_id"] = "choose an officer"
        p.user_id = u.id if u else None
    elif kind == "agency":
        p.agency = _text(agency, "agency", errors, required=True, max_len=200)
    if not errors:
        dup = [q for q in case.participants if q.kind == kind and q.role == role and
               (q.group_id, q.stakeholder_id, q.user_id, q.agency) ==
               (p.group_id, p.stakeholder_id, p.user_id, p.agency)]
        if dup:
            errors["kind"] = "already takes part in this case with that role"
    if errors:
        raise ValidationError(errors)
    case.participants.append(p)
    db.session.flush()
    name = participant_name(p) if kind != "stakeholder" else f"Person #{p.stakeholder_id}"
    _log(actor, case, "participant.add", f"{name} added as {label(role).lower()}", obj=p,
         detail={"participant_id": p.id, "kind": kind, "role": role, "group_id": p.group_id,
                 "stakeholder_id": p.stakeholder_id, "user_id": p.user_id, "agency": p.agency})
    return p


def remove_participant(actor: User, case: ProblemCase, participant: CaseParticipant) -> None:
    _require(can_edit(actor, case))
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
    _log(actor, case, "participant.remove",
         f"{name} removed ({label(detail['role']).lower()})", detail=detail)


def competing_warnings(case: ProblemCase, *, today: date | None = None) -> list[dict]:
    """Groups the planned response touches that compete with one of the case's co-producers.

    A group is touched when it takes part in the case (any role) or owns an action that is
    not dropped. For each current `competing` relation between a touched group and a
    co-producer group, one warning names both groups and the issue between them.
    """
    today = today or date.today()
    co_producers = {p.group_id for p in case.participants
                    if p.kind == "group" and p.role == "co_producer" and p.group_id}
    if not co_producers:
        return []
    touched: dict[int, str] = {}
    for p in case.participants:
        if p.kind == "group" and p.group_id:
            touched.setdefault(p.group_id, f"takes part as {label(p.role).lower()}")
    for a in case.actions:
        if a.owner_kind == "group" and a.owner_group_id and a.status != "dropped":
            touched.setdefault(a.owner_group_id, f"owns the action “{a.description[:80]}”")
    if not touched:
        return []
    rels = db.session.scalars(
        sa.select(GroupRelation).where(
            GroupRelation.type == "competing",
            sa.or_(GroupRelation.starts_on.is_(None), GroupRelation.starts_on <= today),
            sa.or_(GroupRelation.ends_on.is_(None), GroupRelation.ends_on >= today),
            sa.or_(sa.and_(GroupRelation.group_a_id.in_(co_producers),
                           GroupRelation.group_b_id.in_(touched)),
                   sa.and_(GroupRelation.group_b_id.in_(co_producers),
                           GroupRelation.group_a_id.in_(touched))))
        .options(selectinload(GroupRelation.group_a), selectinload(GroupRelation.group_b))
        .order_by(GroupRelation.id)).all()
    out, seen = [], set()
    for r in rels:
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


# ---- analysis: what we heard -------------------------------------------------------------

def visible_case_contacts(actor: User, case: ProblemCase) -> list[Contact]:
    return list(db.session.scalars(
        sa.select(Contact).join(case_contacts, case_contacts.c.contact_id == Contact.id)
        .where(case_contacts.c.case_id == case.id, contact_scope(actor))
        .options(selectinload(Contact.group_links))
        .order_by(Contact.occurred_at.desc())))


def link_contact(actor: User, case: ProblemCase, contact_id) -> Contact:
    _require(can_edit(actor, case))
    contact = None
    if contact_id not in (None, ""):
        contact = db.session.scalar(sa.select(Contact).where(
            Contact.id == int(contact_id), contact_scope(actor)))
    if contact is None:
        raise ValidationError({"contact_id": "is not a contact you can see"})
    linked = db.session.scalar(sa.select(case_contacts.c.contact_id).where(
        case_contacts.c.case_id == case.id, case_contacts.c.contact_id == contact.id))
    if linked:
        raise ValidationError({"contact_id": "is already linked to this case"})
    db.session.execute(case_contacts.insert().values(case_id=case.id, contact_id=contact.id))
    db.session.expire(case, ["contacts"])
    _log(actor, case, "contact.link",
         f"Linked what we heard: contact of {contact.occurred_at.date().isoformat()}",
         detail={"contact_id": contact.id})
    return contact


def unlink_contact(actor: User, case: ProblemCase, contact_id: int) -> None:
    _require(can_edit(actor, case))
    visible = db.session.scalar(sa.select(Contact.id).where(
        Contact.id == int(contact_id), contact_scope(actor)))
    res = db.session.execute(case_contacts.delete().where(
        case_contacts.c.case_id == case.id, case_contacts.c.contact_id == int(contact_id)))
    if not visible or res.rowcount == 0:
        raise ValidationError({"contact_id": "is not linked to this case"})
    db.session.expire(case, ["contacts"])
    _log(actor, case, "contact.unlink", "Unlinked a contact from what we heard",
         detail={"contact_id": int(contact_id)})


# ---- ideas -------------------------------------------------------------------------------

def add_idea(actor: User, case: ProblemCase, *, text: str, proposed_by_stakeholder_id=None,
             proposed_by_group_id=None) -> CaseIdea:
    """Record a solution proposed by the community, credited to a person or a group."""
    _require(can_edit(actor, case))
    errors: dict = {}
    text = _text(text, "text", errors, required=True)
    s = _stakeholder(actor, proposed_by_stakeholder_id, "proposed_by_stakeholder_id", errors)
    g = _group(actor, case, proposed_by_group_id, "proposed_by_group_id", errors)
    if s is None and g is None and not errors:
        errors["proposed_by"] = "credit the idea to the person or group who proposed it"
    if errors:
        raise ValidationError(errors)
    idea = CaseIdea(text=text, proposed_by_stakeholder_id=s.id if s else None,
                    proposed_by_group_id=g.id if g else None, status="proposed")
    case.ideas.append(idea)
    db.session.flush()
    by = g.name if g else f"Person #{s.id}"
    _log(actor, case, "idea.add", f"Idea from {by}: {text[:120]}", obj=idea,
         detail={"idea_id": idea.id, "text": text, "proposed_by_stakeholder_id": idea.proposed_by_stakeholder_id,
                 "proposed_by_group_id": idea.proposed_by_group_id})
    return idea


def update_idea(actor: User, idea: CaseIdea, *, version_id: int | None, status: str | None = None,
                decline_reason: str | None = None, proposer_told_on: date | None = None,
                text: str | None = None) -> CaseIdea:
    """Adopt or decline an idea, or note when the proposer was told.

    Declining needs a reason, and the proposer is then to be told (the timeline says so
    until `proposer_told_on` is set)."""
    case = idea.case
    _require(can_edit(actor, case))
    _check_version(idea, version_id, idea_snapshot)
    errors: dict = {}
    values: dict = {}
    if text is not None:
        values["text"] = _text(text, "text", errors, required=True)
    if status is not None:
        if status not in IDEA_STATUSES:
            errors["status"] = f"must be one of {', '.join(IDEA_STATUSES)}"
        values["status"] = status
    new_status = values.get("status", idea.status)
    reason = (decline_reason if decline_reason is not None else
              (idea.decline_reason if new_status == "declined" else "")).strip()
    if new_status == "declined" and not reason:
        errors["decline_reason"] = "say why the idea is declined (the proposer will be told)"
    values["decline_reason"] = reason if new_status == "declined" else ""
    if proposer_told_on is not None:
        if proposer_told_on > date.today():
            errors["proposer_told_on"] = "cannot be in the future"
        values["proposer_told_on"] = proposer_told_on
    if errors:
        raise ValidationError(errors)
    changes = _changes(idea, values)
    if not changes:
        return idea
    db.session.flush()
    detail = {"idea_id": idea.id, "changes": changes}
    if "status" in changes:
        summary = f"Idea {label(new_status).lower()}: {idea.text[:100]}"
        if new_status == "declined":
            summary += f" — reason: {reason}"
            if idea.proposer_told_on is None:
                summary += " (proposer to be told)"
                detail["proposer_to_be_told"] = True
    elif "proposer_told_on" in changes:
        summary = f"Proposer told on {idea.proposer_told_on.isoformat()}: {idea.text[:100]}"
    else:
        summary = f"Idea edited: {idea.text[:100]}"
    _log(actor, case, "idea.update", summary, obj=idea, detail=detail)
    return idea


# ---- actions -----------------------------------------------------------------------------

def _owner_values(actor, case, data: dict, errors: dict) -> dict:
    kind = data.get("owner_kind")
    if kind not in OWNER_KINDS:
        errors["owner_kind"] = f"must be one of {', '.join(OWNER_KINDS)}"
        return {}
    out = {"owner_kind": kind, "owner_user_id": None, "owner_stakeholder_id": None,
           "owner_group_id": None, "owner_agency": ""}
    if kind == "officer":
        u = _user(data.get("owner_user_id"), "owner_user_id", errors)
        if u is None and "owner_user_id" not in errors:
            errors["owner_user_id"] = "choose the officer who owns the action"
        out["owner_user_id"] = u.id if u else None
    elif kind == "stakeholder":
        s = _stakeholder(actor, data.get("owner_stakeholder_id"), "owner_stakeholder_id", errors)
        if s is None and "owner_stakeholder_id" not in errors:
            errors["owner_stakeholder_id"] = "choose the person who owns the action"
        out["owner_stakeholder_id"] = s.id if s else None
    elif kind == "group":
        g = _group(actor, case, data.get("owner_group_id"), "owner_group_id", errors)
        if g is None and "owner_group_id" not in errors:
            errors["owner_group_id"] = "choose the group that owns the action"
        out["owner_group_id"] = g.id if g else None
    else:
        out["owner_agency"] = _text(data.get("owner_agency"), "owner_agency", errors,
                                    required=True, max_len=200)
    return out


def add_action(actor: User, case: ProblemCase, *, description: str, owner_kind: str,
               owner_user_id=None, owner_stakeholder_id=None, owner_group_id=None,
               owner_agency: str = "", liaison_user_id=None, due_on: date | None = None,
               status: str = "open", outcome: str = "") -> CaseAction:
    """An action owned by an officer, a stakeholder, a group or a partner agency. An action
    the community or an agency owns gets a liaison officer (the case lead unless named)."""
    _require(can_edit(actor, case))
    errors: dict = {}
    description = _text(description, "description", errors, required=True)
    owner = _owner_values(actor, case, {
        "owner_kind": owner_kind, "owner_user_id": owner_user_id,
        "owner_stakeholder_id": owner_stakeholder_id, "owner_group_id": owner_group_id,
        "owner_agency": owner_agency}, errors)
    liaison = _user(liaison_user_id, "liaison_user_id", errors)
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
    _log(actor, case, "action.add",
         f"Action ({label(owner_kind).lower()}): {description[:120]}"
         + (f", due {due_on.isoformat()}" if due_on else ""), obj=action,
         detail={"action_id": action.id, **action_snapshot(action)})
    return action


def update_action(actor: User, action: CaseAction, values: dict, *, version_id: int | None
                  ) -> CaseAction:
    """Change an action's status, outcome, due date, description, owner or liaison."""
    _require(can_update_action(actor, action))
    _check_version(action, version_id, action_snapshot)
    case = action.case
    errors: dict = {}
    clean: dict = {}
    if values.get("description") is not None:
        clean["description"] = _text(values["description"], "description", errors, required=True)
    if values.get("status") is not None:
        if values["status"] not in ACTION_STATUSES:
            errors["status"] = f"must be one of {', '.join(ACTION_STATUSES)}"
        clean["status"] = values["status"]
    if values.get("outcome") is not None:
        clean["outcome"] = (values["outcome"] or "").strip()
    if "due_on" in values:
        clean["due_on"] = values["due_on"]
    if values.get("owner_kind") is not None:
        if not can_edit(actor, case):
            errors["owner_kind"] = "only the case's editors change who owns an action"
        else:
            clean.update(_owner_values(actor, case, values, errors))
    if values.get("liaison_user_id") not in (None, ""):
        liaison = _user(values["liaison_user_id"], "liaison_user_id", errors)
        if liaison is not None:
            clean["liaison_user_id"] = liaison.id
    if errors:
        raise ValidationError(errors)
    changes = _changes(action, clean)
    if not changes:
        return action
    db.session.flush()
    what = ", ".join(label(k).lower() for k in changes)
    status = f" → {label(action.status).lower()}" if "status" in changes else ""
    _log(actor, case, "action.update", f"Action{status} ({what}): {action.description[:100]}",
         obj=action, detail={"action_id": action.id, "changes": changes})
    return action


def is_overdue(action: CaseAction, today: date | None = None) -> bool:
    today = today or date.today()
    return (action.due_on is not None and action.due_on < today
            and action.status in OPEN_ACTION_STATUSES)


def overdue_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    today = today or date.today()
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


# ---- measures ----------------------------------------------------------------------------

def add_measure(actor: User, case: ProblemCase, *, name: str, unit: str = "",
                baseline_value: float | None = None, baseline_on: date | None = None
                ) -> CaseMeasure:
    _require(can_edit(actor, case))
    errors: dict = {}
    name = _text(name, "name", errors, required=True, max_len=200)
    unit = _text(unit, "unit", errors, max_len=60)
    if baseline_value is not None and baseline_on is None:
        errors["baseline_on"] = "say when the baseline was measured"
    if errors:
        raise ValidationError(errors)
    m = CaseMeasure(name=name, unit=unit, baseline_value=baseline_value, baseline_on=baseline_on)
    case.measures.append(m)
    db.session.flush()
    base = (f" (baseline {baseline_value:g} {unit} on {baseline_on.isoformat()})"
            if baseline_value is not None else "")
    _log(actor, case, "measure.add", f"Measure: {name}{base}", obj=m,
         detail={"measure_id": m.id, "name": name, "unit": unit, "baseline_value": baseline_value,
                 "baseline_on": baseline_on})
    return m


def add_measure_value(actor: User, measure: CaseMeasure, *, measured_on: date, value: float,
                      note: str = "") -> CaseMeasureValue:
    case = measure.case
    _require(can_edit(actor, case))
    errors: dict = {}
    note = _text(note, "note", errors, max_len=300)
    if measured_on is None:
        errors["measured_on"] = "is required"
    elif measured_on > date.today():
        errors["measured_on"] = "cannot be in the future"
    elif measure.baseline_on and measured_on < measure.baseline_on:
        errors["measured_on"] = f"is before the baseline ({measure.baseline_on.isoformat()})"
    if value is None:
        errors["value"] = "is required"
    if errors:
        raise ValidationError(errors)
    v = CaseMeasureValue(measured_on=measured_on, value=float(value), note=note)
    measure.values.append(v)
    db.session.flush()
    _log(actor, case, "measure.value",
         f"{measure.name}: {float(value):g} {measure.unit} on {measured_on.isoformat()}".strip(),
         obj=v, detail={"measure_id": measure.id, "value_id": v.id, "value": float(value),
                        "measured_on": measured_on, "note": note})
    return v


# ---- queries for pages and the API ------------------------------------------------------

def case_list_query(user: User, *, stage: str | None = None, beat_id: int | None = None,
                    lead_id: int | None = None, overdue: bool = False, q: str | None = None,
                    today: date | None = None) -> sa.Select:
    query = (sa.select(ProblemCase).where(case_scope(user))
             .options(selectinload(ProblemCase.beats), selectinload(ProblemCase.lead))
             .order_by(ProblemCase.opened_on.desc(), ProblemCase.id.desc()))
    if stage:
        query = query.where(ProblemCase.stage == stage)
    if beat_id:
        query = query.where(ProblemCase.id.in_(
            sa.select(case_beats.c.case_id).where(case_beats.c.beat_id == beat_id)))
    if lead_id:
        query = query.where(ProblemCase.lead_id == lead_id)
    if overdue:
        query = query.where(ProblemCase.id.in_(
            sa.select(CaseAction.case_id).where(overdue_condition(today))))
    if q:
        query = query.where(ProblemCase.title.ilike(f"%{q}%"))
    return query


def overdue_counts(case_ids: list[int], today: date | None = None) -> dict[int, int]:
    if not case_ids:
        return {}
    return dict(db.session.execute(
        sa.select(CaseAction.case_id, sa.func.count()).where(
            CaseAction.case_id.in_(case_ids), overdue_condition(today))
        .group_by(CaseAction.case_id)).all())


def load_case_options():
    """Eager loads for one case page / API read (no N+1 over its parts)."""
    return (selectinload(ProblemCase.beats), selectinload(ProblemCase.lead),
            selectinload(ProblemCase.participants).selectinload(CaseParticipant.group),
            selectinload(ProblemCase.participants).selectinload(CaseParticipant.stakeholder),
            selectinload(ProblemCase.participants).selectinload(CaseParticipant.user),
            selectinload(ProblemCase.ideas).selectinload(CaseIdea.proposed_by_group),
            selectinload(ProblemCase.ideas).selectinload(CaseIdea.proposed_by_stakeholder),
            selectinload(ProblemCase.actions).selectinload(CaseAction.owner_user),
            selectinload(ProblemCase.actions).selectinload(CaseAction.owner_group),
            selectinload(ProblemCase.actions).selectinload(CaseAction.owner_stakeholder),
            selectinload(ProblemCase.actions).selectinload(CaseAction.liaison_user),
            selectinload(ProblemCase.measures).selectinload(CaseMeasure.values),
            selectinload(ProblemCase.events).selectinload(CaseEvent.actor))


def cases_for_figures(user: User, member_id: int | None = None) -> list[ProblemCase]:
    """The cases a unit's figures cover: what the user sees (a unit member: the cases they
    lead or take part in; admin: all), optionally narrowed to one member's cases."""
    query = sa.select(ProblemCase).where(case_scope(user)).options(
        selectinload(ProblemCase.actions), selectinload(ProblemCase.ideas),
        selectinload(ProblemCase.events))
    if member_id:
        query = query.where(sa.or_(
            ProblemCase.lead_id == member_id,
            ProblemCase.id.in_(sa.select(CaseParticipant.case_id)
                               .where(CaseParticipant.user_id == member_id))))
    return list(db.session.scalars(query))


def visible_stakeholder_ids(user: User, ids) -> set[int]:
    ids = {i for i in ids if i}
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Stakeholder.id).where(
        Stakeholder.id.in_(ids), stakeholder_scope(user))))


def stakeholder_ids_of(case: ProblemCase) -> set[int]:
    ids = {p.stakeholder_id for p in case.participants}
    ids |= {i.proposed_by_stakeholder_id for i in case.ideas}
    ids |= {a.owner_stakeholder_id for a in case.actions}
    return {i for i in ids if i}


def officer_choices() -> list[User]:
    return list(db.session.scalars(
        sa.select(User).where(User.active.is_(True),
                              User.role.in_(("officer", "unit", "supervisor", "admin")))
        .order_by(User.display_name)))
