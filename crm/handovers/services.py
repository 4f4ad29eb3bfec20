"""Hand-over services: draft a plan, name successors, transfer, note, and measure.

Every function takes an explicit `actor` (None: the system, e.g. the CLI), writes the
audit trail and flushes; the request or command that called it commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from analytics.handover import Retention, reestablished
from crm.access import beat_ids_select
from crm.assignments.models import Assignment
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ForbiddenError, ValidationError
from crm.extensions import db
from crm.handovers.models import INTRO_MODES, Handover, HandoverItem
from crm.models import (
    Beat,
    BeatAssignment,
    CaseAction,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    Membership,
    Stakeholder,
    User,
    case_beats,
    group_beats,
)
from crm.timezones import days_utc, iso_local, local_date, local_today
from crm.vocab import STAGES

PLAN_ROLES = ("supervisor", "admin")
RAPPORT_OR_BETTER = STAGES[STAGES.index("rapport"):]
WARY = ("wary", "hostile")
OPEN_ACTION = ("open", "in_progress")
MAX_NOTE = 300
# With no meeting possible (the officer has left), the successor gets this long to call.
INTRODUCE_WITHIN_DAYS = 30


# ---- drafting ---------------------------------------------------------------------------------

def open_handover(officer_id: int, beat_id: int) -> Handover | None:
    """The plan still waiting for its transfer for this officer and beat, if any."""
    return db.session.scalar(sa.select(Handover).where(
        Handover.leaving_officer_id == officer_id, Handover.beat_id == beat_id,
        Handover.status == "draft"))


def _officer_people(officer_id: int, beat_id: int) -> list[tuple[int, str, datetime]]:
    """People the officer met on the beat, with their last contact, at rapport or better now."""
    last = sa.func.max(ContactStakeholder.occurred_at)
    return list(db.session.execute(
        sa.select(ContactStakeholder.stakeholder_id, Stakeholder.stage, last)
        .join(ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
        .join(Contact, Contact.id == ContactStakeholder.contact_id)
        .join(Stakeholder, Stakeholder.id == ContactStakeholder.stakeholder_id)
        .where(ContactOfficer.user_id == officer_id, Contact.beat_id == beat_id,
               Stakeholder.stage.in_(RAPPORT_OR_BETTER), Stakeholder.erased_at.is_(None),
               Stakeholder.merged_into_id.is_(None))
        .group_by(ContactStakeholder.stakeholder_id, Stakeholder.stage)
        .order_by(ContactStakeholder.stakeholder_id)))


def _officer_groups(officer_id: int, beat_id: int) -> list[tuple[CommunityGroup, datetime]]:
    """Groups of the beat the officer reached: rapport or better, or wary ones being worked on."""
    last = sa.func.max(ContactGroup.occurred_at)
    rows = db.session.execute(
        sa.select(ContactGroup.group_id, last)
        .join(ContactOfficer, ContactOfficer.contact_id == ContactGroup.contact_id)
        .where(ContactOfficer.user_id == officer_id,
               ContactGroup.group_id.in_(sa.select(group_beats.c.group_id)
                                         .where(group_beats.c.beat_id == beat_id)))
        .group_by(ContactGroup.group_id)).all()
    groups = {g.id: g for g in db.session.scalars(
        sa.select(CommunityGroup).where(CommunityGroup.id.in_([r[0] for r in rows])))}
    return sorted(((groups[gid], at) for gid, at in rows
                   if groups[gid].stage in RAPPORT_OR_BETTER or groups[gid].stance in WARY),
                  key=lambda r: r[0].id)


def _open_follow_ups(officer_id: int, beat_id: int) -> list[Contact]:
    return list(db.session.scalars(sa.select(Contact).where(
        Contact.beat_id == beat_id, Contact.follow_up_on.is_not(None),
        Contact.follow_up_done_at.is_(None),
        sa.or_(Contact.logged_by_id == officer_id,
               Contact.id.in_(sa.select(ContactOfficer.contact_id)
                              .where(ContactOfficer.user_id == officer_id))))
        .order_by(Contact.follow_up_on, Contact.id)))


def _open_actions(officer_id: int, beat_id: int) -> list[CaseAction]:
    return list(db.session.scalars(sa.select(CaseAction).where(
        CaseAction.status.in_(OPEN_ACTION),
        sa.or_(CaseAction.owner_user_id == officer_id, CaseAction.liaison_user_id == officer_id),
        CaseAction.case_id.in_(sa.select(case_beats.c.case_id)
                               .where(case_beats.c.beat_id == beat_id)))
        .order_by(CaseAction.id)))


def _first_met(officer_id: int, people: list[int]) -> dict[int, datetime]:
    """When the officer first took part in a contact with each person."""
    if not people:
        return {}
    return dict(db.session.execute(
        sa.select(ContactStakeholder.stakeholder_id, sa.func.min(ContactStakeholder.occurred_at))
        .join(ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
        .where(ContactOfficer.user_id == officer_id, ContactStakeholder.stakeholder_id.in_(people))
        .group_by(ContactStakeholder.stakeholder_id)).all())


def introducers(officer_id: int, people: list[int], groups: list[int]) -> dict[tuple[str, int], Assignment]:
    """Who introduced the officer to each person and group, from the records.

    Nothing on a person records an introducer; what does is the officer's own "introduction"
    assignment (crm.assignments): the officer asked person X for an introduction to group G,
    and it was done. So X introduced the officer to G, and to each member of G the officer
    first met on or after the day they asked (X excepted). The earliest such introduction
    wins. Returns {("group"|"stakeholder", id): assignment}.
    """
    asked = list(db.session.scalars(sa.select(Assignment).where(
        Assignment.officer_id == officer_id, Assignment.kind == "introduction",
        Assignment.status == "done", Assignment.stakeholder_id.is_not(None))
        .order_by(Assignment.created_at, Assignment.id)))
    if not asked:
        return {}
    out: dict[tuple[str, int], Assignment] = {}
    for a in asked:
        if a.group_id in groups:
            out.setdefault(("group", a.group_id), a)
    members: dict[int, set[int]] = {}
    for sid, gid in db.session.execute(sa.select(Membership.stakeholder_id, Membership.group_id).where(
            Membership.stakeholder_id.in_(people), Membership.group_id.in_({a.group_id for a in asked}))):
        members.setdefault(gid, set()).add(sid)
    first = _first_met(officer_id, people)
    for a in asked:
        for sid in sorted(members.get(a.group_id, ())):
            met = first.get(sid)
            if (sid != a.stakeholder_id and met is not None
                    and local_date(met) >= local_date(a.created_at)):  # the department's days
                out.setdefault(("stakeholder", sid), a)
    return out


def _draft_items(officer_id: int, beat_id: int) -> list[HandoverItem]:
    items = _draft_rows(officer_id, beat_id)
    found = introducers(officer_id, [i.stakeholder_id for i in items if i.kind == "stakeholder"],
                        [i.group_id for i in items if i.kind == "group"])
    for i in items:
        a = found.get((i.kind, i.stakeholder_id if i.kind == "stakeholder" else i.group_id))
        if a is not None:
            i.introduced_by_id, i.introduction_id = a.stakeholder_id, a.id
    return items


def _draft_rows(officer_id: int, beat_id: int) -> list[HandoverItem]:
    items = []
    for sid, stage, at in _officer_people(officer_id, beat_id):
        items.append(HandoverItem(kind="stakeholder", stakeholder_id=sid, stage=stage,
                                  last_contact_at=at))
    for g, at in _officer_groups(officer_id, beat_id):
        items.append(HandoverItem(kind="group", group_id=g.id, stage=g.stage, last_contact_at=at,
                                  hard_to_engage=g.stance in WARY))
    for c in _open_follow_ups(officer_id, beat_id):
        items.append(HandoverItem(kind="follow_up", contact_id=c.id, last_contact_at=c.occurred_at))
    for a in _open_actions(officer_id, beat_id):
        items.append(HandoverItem(kind="case_action", case_action_id=a.id))
    return items


def draft_handover(actor: User | None, officer: User, beat: Beat, *, leaves_on: date,
                   reason: str = "planned", ip: str = "", keep_empty: bool = True) -> Handover | None:
    """Draft (or return the waiting) hand-over of `officer`'s relationships on `beat`.

    A second call for the same officer and beat returns the waiting plan unchanged (it may
    already carry successors and notes). With `keep_empty=False` an officer with nothing
    to hand over gets no plan (None), so ending an idle assignment leaves no noise.
    """
    errors = {}
    if officer.role != "officer":
        errors["officer"] = f"{officer.username} is not an officer"
    if not isinstance(leaves_on, date):
        errors["leaves_on"] = "is not a date (YYYY-MM-DD)"
    if errors:
        raise ValidationError(errors)
    existing = open_handover(officer.id, beat.id)
    if existing is not None:
        return existing
    items = _draft_items(officer.id, beat.id)
    if not items and not keep_empty:
        return None
    h = Handover(beat_id=beat.id, leaving_officer_id=officer.id, leaves_on=leaves_on,
                 reason=reason, created_by_id=getattr(actor, "id", None), items=items)
    db.session.add(h)
    db.session.flush()
    counts = {k: sum(1 for i in items if i.kind == k)
              for k in ("stakeholder", "group", "follow_up", "case_action")}
    record_event(actor, "handover.draft", h, ip=ip,
                 detail={"beat": beat.code, "officer_id": officer.id, "reason": reason,
                         "leaves_on": leaves_on.isoformat(), **counts})
    return h


def draft_on_assignment_end(actor: User | None, assignment: BeatAssignment, *,
                            ip: str = "") -> Handover | None:
    """The plan drafted when an officer's beat assignment ends (crm.users.services)."""
    if assignment.user.role != "officer":
        return None
    last_day = assignment.ends_on or local_today()
    return draft_handover(actor, assignment.user, assignment.beat, leaves_on=last_day,
                          reason="assignment_ended", ip=ip, keep_empty=False)


# ---- who may do what --------------------------------------------------------------------------

def may_plan(actor: User | None, beat_id: int) -> bool:
    """Supervisors plan moves on their district's beats; admins (and the CLI) anywhere."""
    if actor is None or actor.role == "admin":
        return True
    if actor.role != "supervisor":
        return False
    return db.session.scalar(sa.select(sa.literal(True)).where(
        sa.literal(beat_id).in_(beat_ids_select(actor)))) is True


def _require_planner(actor: User | None, h: Handover) -> None:
    if not may_plan(actor, h.beat_id):
        raise ForbiddenError("Only a supervisor of this beat's district may change its hand-over.")


def visible_items(viewer: User | None, h: Handover) -> list[HandoverItem]:
    """The items `viewer` may read: all for planners and the leaving officer, theirs for a successor."""
    if may_plan(viewer, h.beat_id) or (viewer is not None and viewer.id == h.leaving_officer_id):
        return list(h.items)
    if h.status != "transferred":
        return []
    return [i for i in h.items if i.successor_id == viewer.id]


def handovers_for(user: User) -> sa.Select:
    """Plans the user may open: their district's (supervisor), theirs to give or receive."""
    q = sa.select(Handover).order_by(Handover.status != "draft", Handover.leaves_on.desc(),
                                     Handover.id.desc())
    if user.role == "admin":
        return q
    received = sa.select(HandoverItem.handover_id).where(HandoverItem.successor_id == user.id)
    mine = sa.or_(Handover.leaving_officer_id == user.id,
                  sa.and_(Handover.status == "transferred", Handover.id.in_(received)))
    if user.role == "supervisor":
        return q.where(sa.or_(mine, Handover.beat_id.in_(beat_ids_select(user))))
    return q.where(mine)


def get_handover(user: User, handover_id: int) -> Handover | None:
    return db.session.scalar(handovers_for(user).where(Handover.id == handover_id))


# ---- naming successors, notes and the transfer -------------------------------------------------

def assign_successor(actor: User | None, h: Handover, successor: User, *,
                     item_ids: list[int] | None = None, ip: str = "") -> list[HandoverItem]:
    """Give items (default: every item nobody has yet) to `successor`; a split is several calls."""
    _require_planner(actor, h)
    if h.status != "draft":
        raise ValidationError({"status": "this hand-over was already transferred"})
    errors = {}
    if successor.role != "officer" or not successor.active:
        errors["successor"] = f"{successor.username} is not an active officer"
    elif successor.id == h.leaving_officer_id:
        errors["successor"] = "is the leaving officer"
    by_id = {i.id: i for i in h.items}
    if item_ids:
        unknown = [str(i) for i in item_ids if i not in by_id]
        if unknown:
            errors["items"] = f"not in this hand-over: {', '.join(unknown)}"
    if errors:
        raise ValidationError(errors)
    chosen = ([by_id[i] for i in item_ids] if item_ids
              else [i for i in h.items if i.successor_id is None])
    for item in chosen:
        item.successor_id = successor.id
    db.session.flush()
    record_event(actor, "handover.assign", h, ip=ip,
                 detail={"successor_id": successor.id, "items": [i.id for i in chosen]})
    return chosen


def set_note(actor: User, item: HandoverItem, note: str, *, ip: str = "") -> HandoverItem:
    """The leaving officer's short engagement note on a person or group (never intelligence)."""
    if actor is None or actor.id != item.handover.leaving_officer_id:
        raise ForbiddenError("Only the leaving officer writes the hand-over notes.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": f"is longer than {MAX_NOTE} characters ({len(note)})"})
    if item.kind not in ("stakeholder", "group"):
        raise ValidationError({"note": "notes are for people and groups"})
    item.note = note
    db.session.flush()
    # The trail records that a note was written, not what it says.
    record_event(actor, "handover.note", item.handover, ip=ip,
                 detail={"item_id": item.id, "note": bool(note)}, free_text=("note",))
    return item


def _move_action(actor: User | None, h: Handover, action: CaseAction, to: User) -> None:
    from crm.cases.services.timeline import log as case_log

    changes = {}
    if action.owner_kind == "officer" and action.owner_user_id == h.leaving_officer_id:
        action.owner_user_id = to.id
        changes["owner_user_id"] = {"before": h.leaving_officer_id, "after": to.id}
    if action.liaison_user_id == h.leaving_officer_id:
        action.liaison_user_id = to.id
        changes["liaison_user_id"] = {"before": h.leaving_officer_id, "after": to.id}
    if changes:
        db.session.flush()
        case_log(actor, action.case, "case.action_handed_over",
                 f"Action handed over from {h.leaving_officer.display_name} to {to.display_name}",
                 obj=action, detail={"handover_id": h.id, "action_id": action.id, **changes})


def transfer(actor: User | None, h: Handover, *, meet_by: date | None = None,
             today: date | None = None, ip: str = "") -> Handover:
    """Hand every item to its successor; refused while any item has nobody (the plan waits).

    Case actions change owner (the case timeline keeps who had them); follow-ups become the
    successor's through the plan; each person becomes an introduction task due `meet_by`
    (default: the leaving officer's last day, or 30 days from now once they have left).
    """
    _require_planner(actor, h)
    today = today or local_today()
    if h.status != "draft":
        raise ValidationError({"status": "this hand-over was already transferred"})
    waiting = [i.id for i in h.items if i.successor_id is None]
    if waiting:
        raise ValidationError({"successor": f"{len(waiting)} item(s) have no successor yet"})
    if meet_by is not None and meet_by < today:
        raise ValidationError({"meet_by": "is in the past"})
    together = h.leaves_on >= today
    due = meet_by or (h.leaves_on if together else today + timedelta(days=INTRODUCE_WITHIN_DAYS))
    for item in h.items:
        if item.kind == "stakeholder":
            item.intro_mode = INTRO_MODES[0] if together else INTRO_MODES[1]
            item.intro_due_on = due
        elif item.kind == "case_action":
            action = db.session.get(CaseAction, item.case_action_id)
            if action is not None and action.status in OPEN_ACTION:
                _move_action(actor, h, action, item.successor)
    h.status = "transferred"
    h.transferred_at = utcnow()
    h.transferred_by_id = getattr(actor, "id", None)
    db.session.flush()
    per = {}
    for i in h.items:
        per.setdefault(str(i.successor_id), []).append(i.id)
    record_event(actor, "handover.transfer", h, ip=ip,
                 detail={"leaving_officer_id": h.leaving_officer_id, "items_by_successor": per,
                         "intro_due_on": due.isoformat()})
    return h


# ---- reading ----------------------------------------------------------------------------------

@dataclass
class ItemRow:
    item: HandoverItem
    kind: str
    label: str
    stage: str | None
    last_contact_at: datetime | None
    channel: str | None
    language: str | None
    task: str | None
    done: bool | None
    url: str | None
    introduced_by: str | None = None


def _last_channels(officer_id: int, stakeholder_ids: list[int]) -> dict[int, str]:
    """How the officer last reached each person: the channel only, never a number or address."""
    rows = db.session.execute(
        sa.select(ContactStakeholder.stakeholder_id, Contact.channel, Contact.occurred_at)
        .join(Contact, Contact.id == ContactStakeholder.contact_id)
        .join(ContactOfficer, ContactOfficer.contact_id == Contact.id)
        .where(ContactOfficer.user_id == officer_id,
               ContactStakeholder.stakeholder_id.in_(stakeholder_ids))
        .order_by(Contact.occurred_at)).all()
    return {sid: ch for sid, ch, _ in rows}


def met_since(pairs: list[tuple[int, int]], since: datetime) -> set[tuple[int, int]]:
    """Which (stakeholder, officer) pairs have a contact together at or after `since`."""
    if not pairs:
        return set()
    people = {p for p, _ in pairs}
    rows = db.session.execute(
        sa.select(ContactStakeholder.stakeholder_id, ContactOfficer.user_id)
        .join(ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
        .where(ContactStakeholder.stakeholder_id.in_(people),
               ContactStakeholder.occurred_at >= since).distinct()).all()
    return set(map(tuple, rows)) & set(pairs)


def _introducer_names(viewer: User | None, ids: set[int], shown: set[int]) -> dict[int, str]:
    """Introducers' names as the viewer may see them: a person among the items the viewer
    reads (`shown`) or in their scope; anyone else (say a person given to another successor)
    is "a community member"; erased people are not named."""
    from crm.access import visible_stakeholder_ids
    if not ids:
        return {}
    live = dict(db.session.execute(sa.select(Stakeholder.id, Stakeholder.name).where(
        Stakeholder.id.in_(ids), Stakeholder.erased_at.is_(None))).all())
    seen = set(live) if viewer is None else (set(live) & shown) | visible_stakeholder_ids(viewer, set(live))
    return {sid: name if sid in seen else "a community member" for sid, name in live.items()}


def item_rows(viewer: User | None, h: Handover) -> list[ItemRow]:
    """The plan as `viewer` may read it, with each person's introduction task and its state."""
    items = visible_items(viewer, h)
    people = [i.stakeholder_id for i in items if i.kind == "stakeholder" and i.stakeholder_id]
    found = db.session.execute(sa.select(Stakeholder.id, Stakeholder.name, Stakeholder.language)
                               .where(Stakeholder.id.in_(people))).all() if people else []
    names = {sid: name for sid, name, _ in found}
    languages = {sid: lang for sid, _, lang in found}
    channels = _last_channels(h.leaving_officer_id, people) if people else {}
    met = set()
    if h.transferred_at is not None:
        met = met_since([(i.stakeholder_id, i.successor_id) for i in items
                         if i.kind == "stakeholder" and i.successor_id], h.transferred_at)
    leaving = h.leaving_officer.display_name
    introducer = _introducer_names(viewer, {i.introduced_by_id for i in items if i.introduced_by_id},
                                   set(people))
    rows = []
    for i in items:
        if i.kind == "stakeholder":
            name = names.get(i.stakeholder_id) or "(erased)"
            task = done = None
            if i.intro_due_on is not None:
                task = (f"Meet {name} with {leaving} before {i.intro_due_on.isoformat()}"
                        if i.intro_mode == "meet_together" else
                        f"Introduce yourself to {name} by {i.intro_due_on.isoformat()}, "
                        f"mentioning {leaving}")
                done = (i.stakeholder_id, i.successor_id) in met
            rows.append(ItemRow(i, "person", name, i.stage, i.last_contact_at,
                                channels.get(i.stakeholder_id), languages.get(i.stakeholder_id),
                                task, done, f"/stakeholders/{i.stakeholder_id}",
                                introducer.get(i.introduced_by_id)))
        elif i.kind == "group":
            g = db.session.get(CommunityGroup, i.group_id)
            rows.append(ItemRow(i, "group", g.name if g else "(deleted)", i.stage, i.last_contact_at,
                                ", ".join(g.channels or []) if g else None,
                                ", ".join(g.languages or []) if g else None,
                                None, None, f"/groups/{i.group_id}", introducer.get(i.introduced_by_id)))
        elif i.kind == "follow_up":
            c = db.session.get(Contact, i.contact_id)
            text = (f"Follow-up due {c.follow_up_on.isoformat()}: {c.follow_up_note or c.purpose}"
                    if c and c.follow_up_on else "Follow-up")
            rows.append(ItemRow(i, "follow-up", text, None, i.last_contact_at, None, None,
                                None, bool(c and c.follow_up_done_at), f"/contacts/{i.contact_id}"))
        else:
            a = db.session.get(CaseAction, i.case_action_id)
            text = (f"{a.description[:120]} (due {a.due_on.isoformat() if a.due_on else 'open'})"
                    if a else "Case action")
            rows.append(ItemRow(i, "case action", text, None, None, None, None, None,
                                bool(a and a.status not in OPEN_ACTION),
                                f"/cases/{a.case_id}" if a else None))
    return rows


def to_dict(viewer: User | None, h: Handover) -> dict:
    return {
        "id": h.id, "beat": h.beat.code, "status": h.status, "reason": h.reason,
        "leaving_officer": h.leaving_officer.username, "leaves_on": h.leaves_on.isoformat(),
        "transferred_at": iso_local(h.transferred_at),  # local time with its offset, like the API
        "items": [{"id": r.item.id, "kind": r.kind, "label": r.label, "stage": r.stage,
                   "last_contact_at": iso_local(r.last_contact_at),
                   "channel": r.channel, "language": r.language, "note": r.item.note,
                   "hard_to_engage": r.item.hard_to_engage, "introduced_by": r.introduced_by,
                   "successor": r.item.successor.username if r.item.successor else None,
                   "task": r.task, "done": r.done} for r in item_rows(viewer, h)],
    }


def beats_in_handover(beat_ids: list[int] | None = None) -> set[int]:
    """Beats with a plan still waiting for its transfer (the coverage page says "in hand-over")."""
    q = sa.select(Handover.beat_id).where(Handover.status == "draft")
    if beat_ids is not None:
        q = q.where(Handover.beat_id.in_(beat_ids))
    return set(db.session.scalars(q))


@dataclass
class BeatRetention:
    beat_code: str
    handover_id: int
    transferred_on: date
    retention: Retention


def retention(beat_ids: list[int] | None, date_from: date, date_to: date) -> list[BeatRetention]:
    """Per plan transferred in the window: relationships re-established within 30/60/90 days."""
    start, end = days_utc(date_from, date_to)  # the department's days, DST included
    q = (sa.select(Handover).where(Handover.status == "transferred",
                                   Handover.transferred_at >= start, Handover.transferred_at < end)
         .order_by(Handover.transferred_at))
    if beat_ids is not None:
        q = q.where(Handover.beat_id.in_(beat_ids))
    out = []
    for h in db.session.scalars(q):
        # Contacts are entered to the minute, the transfer is stamped to the second: a visit
        # logged in the minute of the transfer counts.
        since = h.transferred_at.replace(second=0, microsecond=0)
        people = {i.stakeholder_id: i.successor_id for i in h.items
                  if i.kind == "stakeholder" and i.stakeholder_id
                  and i.stage in RAPPORT_OR_BETTER}
        contacts = db.session.execute(
            sa.select(ContactStakeholder.stakeholder_id, ContactOfficer.user_id,
                      ContactStakeholder.occurred_at)
            .join(ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
            .where(ContactStakeholder.stakeholder_id.in_(list(people) or [0]),
                   ContactStakeholder.occurred_at >= since)).all()
        transferred_on = local_date(h.transferred_at)
        r = reestablished(transferred_on, people,
                          [(p, o, local_date(at)) for p, o, at in contacts])
        out.append(BeatRetention(h.beat.code, h.id, transferred_on, r))
    return out


def coverage_figures(beat_ids: list[int] | None, as_of: date, days: int | None) -> dict:
    """What the coverage page shows: beats in hand-over, and retention per beat that changed hands.

    The window is the page's (`days` up to `as_of`), at least 90 days so that a hand-over's
    90-day figure has a chance to show.
    """
    days = max(days or 365, 90)
    rows = retention(beat_ids, as_of - timedelta(days=days), as_of)
    return {"in_handover": beats_in_handover(beat_ids), "retention": rows,
            "windows": (30, 60, 90), "days": days}


RETENTION_COLUMNS = ("month", "beat", "handed_over_on", "relationships",
                     *(f"reestablished_{d}d" for d in (30, 60, 90)))


def export_retention_csv(actor: User | None, *, date_from: date | None = None,
                         date_to: date | None = None, ip: str = "") -> str:
    """The outcomes export's hand-over table: per plan transferred in the window (by the
    transfer's day), the relationships at rapport or better handed over and how many the
    successors re-established within 30, 60 and 90 days. Beats only: no officer, no person."""
    import io

    from crm.csvio.safe import SafeWriter
    rows = retention(None, date_from or date(1970, 1, 1), date_to or local_today())
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(RETENTION_COLUMNS)
    for r in rows:
        writer.writerow((r.transferred_on.strftime("%Y-%m"), r.beat_code, r.transferred_on.isoformat(),
                         r.retention.relationships, *(r.retention.within[d] for d in (30, 60, 90))))
    record_event(actor, "analytics.handover_retention_export", object_type="outcomes", ip=ip,
                 detail={"rows": len(rows), "from": str(date_from or ""), "to": str(date_to or "")})
    return out.getvalue()
