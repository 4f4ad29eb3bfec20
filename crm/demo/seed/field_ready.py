"""What every demo login should find on day one (issue 12 item 12): each officer has a
hard-to-engage group on their beats with a warm introduction to it, and each unit member
takes part in a case.

Runs after the other steps on the rows they wrote and draws nothing from the generator, so
it leaves every other step's draws (and a seed's reproducibility) as they were. It makes
the smallest changes that give each login its example, in this order of preference:

- a group on the officer's beats that nobody engaged in the window is kept as it is; else
  the least engaged group there (wary and hostile first) has its recent visits recorded as
  calls for service instead ("we only go when called"); an officer without any group on
  their beats gets their first beat added to a hard-to-engage group;
- the introduction: a member of the target group joins a group of someone the officer has a
  working relationship with (officer -> that person -> their group -> member -> target), or,
  when the target has no members yet, that person joins the target;
- a unit member without a case joins the case of one of their assigned groups (or the first
  case) as an officer taking part.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from crm.demo.seed.base import Demo
from crm.extensions import db
from crm.models import (
    BeatAssignment,
    CaseParticipant,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    GroupAssignment,
    Membership,
    ProblemCase,
    Stakeholder,
    group_beats,
)

HARD_DAYS = 90  # the hard-to-engage window of the my-beat and coverage pages
MARGIN_DAYS = 5  # kept clear of the window's edge, so "today" in any time zone agrees
ENGAGING = ("proactive", "requested")
WARM_STAGES = ("working_relationship", "collaborating_partner")
STANCE_ORDER = {"hostile": 0, "wary": 1, "unknown": 2, "neutral": 3, "receptive": 4}


def make_field_ready(demo: Demo) -> None:
    since = demo.now - timedelta(days=HARD_DAYS + MARGIN_DAYS)
    for officer_id in (int(o) for o in demo.officer_ids):
        target = _hard_group_for(demo, officer_id, since)
        if target is not None:
            _introduce(demo, officer_id, target)
    _unit_cases(demo)


# ---- a hard-to-engage group on each officer's beats -------------------------------------------

def _beats_of(officer_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(BeatAssignment.beat_id).where(
        BeatAssignment.user_id == officer_id, BeatAssignment.ends_on.is_(None))
        .order_by(BeatAssignment.beat_id)))


def _last_engaged(group_ids=None) -> dict[int, object]:
    """Each group's last proactive or requested contact (of `group_ids`, or of every group)."""
    q = sa.select(ContactGroup.group_id, sa.func.max(ContactGroup.occurred_at)).where(
        ContactGroup.initiated_by.in_(ENGAGING))
    if group_ids is not None:
        q = q.where(ContactGroup.group_id.in_(group_ids))
    return dict(db.session.execute(q.group_by(ContactGroup.group_id)).all())


def _hard_group_for(demo: Demo, officer_id: int, since) -> int | None:
    beats = _beats_of(officer_id)
    if not beats:
        return None
    groups = db.session.execute(
        sa.select(CommunityGroup.id, CommunityGroup.stance)
        .where(CommunityGroup.id.in_(sa.select(group_beats.c.group_id)
                                     .where(group_beats.c.beat_id.in_(beats))))
        .order_by(CommunityGroup.id)).all()
    if not groups:
        return _bring_a_hard_group(demo, beats[0], since)
    last = _last_engaged([g for g, _ in groups])
    hard = [g for g, _ in groups if last.get(g) is None or last[g] < since]
    if hard:
        return hard[0]
    # None yet: the least engaged group (hostile and wary first) is only met when called.
    recent = dict(db.session.execute(
        sa.select(ContactGroup.group_id, sa.func.count())
        .where(ContactGroup.group_id.in_([g for g, _ in groups]),
               ContactGroup.initiated_by.in_(ENGAGING), ContactGroup.occurred_at >= since)
        .group_by(ContactGroup.group_id)).all())
    target = min(groups, key=lambda gs: (STANCE_ORDER.get(gs[1], 5), recent.get(gs[0], 0), gs[0]))[0]
    _only_when_called(target, since)
    return target


def _only_when_called(group_id: int, since) -> None:
    """The group's engaging contacts since `since` become calls for service (all their links)."""
    contact_ids = sa.select(ContactGroup.contact_id).where(
        ContactGroup.group_id == group_id, ContactGroup.initiated_by.in_(ENGAGING),
        ContactGroup.occurred_at >= since).scalar_subquery()
    ids = list(db.session.scalars(sa.select(Contact.id).where(Contact.id.in_(contact_ids))))
    if ids:
        db.session.execute(sa.update(ContactGroup).where(ContactGroup.contact_id.in_(ids))
                           .values(initiated_by="reactive"))
        db.session.execute(sa.update(Contact).where(Contact.id.in_(ids))
                           .values(initiated_by="reactive"))


def _bring_a_hard_group(demo: Demo, beat_id: int, since) -> int | None:
    """An officer whose beats hold no group: a hard-to-engage group reaches into their beat."""
    if not hasattr(demo, "hard_groups"):  # looked up once, for every such officer
        groups = list(db.session.scalars(sa.select(CommunityGroup.id).order_by(CommunityGroup.id)))
        last = _last_engaged()
        demo.hard_groups = [g for g in groups if last.get(g) is None or last[g] < since]
    hard = demo.hard_groups
    if not hard:
        return None
    demo.insert(group_beats, [{"group_id": hard[0], "beat_id": beat_id}], "groups")
    return hard[0]


# ---- a warm introduction to it ----------------------------------------------------------------

def _introduce(demo: Demo, officer_id: int, target: int) -> None:
    """Make sure a chain officer -> known person -> group -> member -> target exists."""
    known = list(db.session.scalars(
        sa.select(Stakeholder.id)
        .join(ContactStakeholder, ContactStakeholder.stakeholder_id == Stakeholder.id)
        .join(ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
        .where(ContactOfficer.user_id == officer_id, Stakeholder.stage.in_(WARM_STAGES),
               Stakeholder.erased_at.is_(None))
        .group_by(Stakeholder.id).order_by(Stakeholder.id)))
    if not known:
        return
    members = set(_current(demo, sa.select(Membership.stakeholder_id)
                           .where(Membership.group_id == target)))
    if members & set(known):
        return  # someone the officer knows is a member already
    their_groups = db.session.execute(_current_rows(
        demo, sa.select(Membership.stakeholder_id, Membership.group_id)
        .where(Membership.stakeholder_id.in_(known), Membership.group_id != target))
        .order_by(Membership.stakeholder_id, Membership.group_id)).all()
    if members:
        shared = set(_current(demo, sa.select(Membership.group_id)
                              .where(Membership.stakeholder_id.in_(members))))
        if any(g in shared for _, g in their_groups):
            return  # a four-hop chain exists already
        if their_groups:
            _, via = their_groups[0]
            _join(demo, min(members), via)
            return
    _join(demo, known[0], target)


def _current(demo: Demo, query):
    return db.session.scalars(_current_rows(demo, query))


def _current_rows(demo: Demo, query):
    return query.where(Membership.current_on(demo.today))


def _join(demo: Demo, stakeholder_id: int, group_id: int) -> None:
    demo.insert(Membership.__table__, [{
        "id": demo.next_id(Membership.__table__), "stakeholder_id": stakeholder_id,
        "group_id": group_id, "role": "member", "starts_on": None, "ends_on": None,
        "version_id": 1, "created_at": demo.now, "updated_at": demo.now}], "memberships")


# ---- a case for each unit member --------------------------------------------------------------

def _unit_cases(demo: Demo) -> None:
    for unit_id in (int(u) for u in getattr(demo, "unit_ids", ())):
        has = db.session.scalar(sa.select(sa.func.count()).select_from(ProblemCase).where(
            sa.or_(ProblemCase.lead_id == unit_id,
                   ProblemCase.id.in_(sa.select(CaseParticipant.case_id)
                                      .where(CaseParticipant.user_id == unit_id)))))
        if has:
            continue
        assigned = sa.select(GroupAssignment.group_id).where(GroupAssignment.user_id == unit_id)
        case_id = db.session.scalar(
            sa.select(sa.func.min(CaseParticipant.case_id))
            .where(CaseParticipant.group_id.in_(assigned))) or \
            db.session.scalar(sa.select(sa.func.min(ProblemCase.id)))
        if case_id is None:
            continue
        demo.insert(CaseParticipant.__table__, [{
            "id": demo.next_id(CaseParticipant.__table__), "case_id": case_id,
            "kind": "officer", "role": "resource", "user_id": unit_id, "agency": "",
            "created_at": demo.now, "updated_at": demo.now}], "cases")
