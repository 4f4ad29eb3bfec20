"""Hand-over demo data: one beat in hand-over on top of the demo community
(`seed_handover_demo`, called by `crm.demo.services.seed_demo`).

The officer with the most relationships at rapport or better on one of their beats is to
leave it in three weeks: the plan is drafted, a successor from the same district is named for
the people and groups, and the follow-ups and case actions still wait for one, so the coverage
page shows the beat "in hand-over" and the plan page shows both states. One of the people was
met through an introduction the officer had asked for, so the plan names who introduced them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crm.assignments.models import Assignment
from crm.extensions import db
from crm.handovers import services as hs
from crm.models import (
    Beat,
    BeatAssignment,
    Contact,
    ContactOfficer,
    ContactStakeholder,
    Membership,
    Stakeholder,
    User,
)
from crm.timezones import local_today

LEAVES_IN_DAYS = 21


def _busiest_pair(today: date) -> tuple[User, Beat] | None:
    """(officer, current beat) with the most people at rapport or better met on that beat."""
    people = sa.func.count(sa.distinct(ContactStakeholder.stakeholder_id))
    row = db.session.execute(
        sa.select(ContactOfficer.user_id, Contact.beat_id, people)
        .join(Contact, Contact.id == ContactOfficer.contact_id)
        .join(ContactStakeholder, ContactStakeholder.contact_id == Contact.id)
        .join(Stakeholder, Stakeholder.id == ContactStakeholder.stakeholder_id)
        .join(User, User.id == ContactOfficer.user_id)
        .join(BeatAssignment, sa.and_(BeatAssignment.user_id == ContactOfficer.user_id,
                                      BeatAssignment.beat_id == Contact.beat_id))
        .where(User.role == "officer", User.active.is_(True),
               Stakeholder.stage.in_(hs.RAPPORT_OR_BETTER), Stakeholder.erased_at.is_(None),
               BeatAssignment.current_on(today))
        .group_by(ContactOfficer.user_id, Contact.beat_id)
        .order_by(people.desc(), ContactOfficer.user_id, Contact.beat_id).limit(1)).first()
    if row is None:
        return None
    return db.session.get(User, row[0]), db.session.get(Beat, row[1])


def _successor(leaver: User, beat: Beat, today: date) -> User | None:
    """Another active officer, one working a beat of the same district first."""
    same_district = sa.select(BeatAssignment.user_id).join(Beat, Beat.id == BeatAssignment.beat_id).where(
        Beat.district_id == beat.district_id, BeatAssignment.current_on(today))
    return db.session.scalar(
        sa.select(User).where(User.role == "officer", User.active.is_(True), User.id != leaver.id)
        .order_by(User.id.not_in(same_district), User.id).limit(1))


def _asked_introduction(leaver: User, beat: Beat) -> Assignment | None:
    """An introduction the leaver asked for before first meeting one of their people: a fellow
    member of one of that person's groups introduced them (a done "introduction" assignment)."""
    for sid, _stage, _last in hs._officer_people(leaver.id, beat.id):
        first = db.session.scalar(
            sa.select(sa.func.min(ContactStakeholder.occurred_at))
            .join(ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
            .where(ContactOfficer.user_id == leaver.id, ContactStakeholder.stakeholder_id == sid))
        for (group_id,) in db.session.execute(sa.select(Membership.group_id).where(
                Membership.stakeholder_id == sid).order_by(Membership.group_id)):
            introducer = db.session.scalar(
                sa.select(Membership.stakeholder_id).join(Stakeholder, Stakeholder.id == Membership.stakeholder_id)
                .where(Membership.group_id == group_id, Membership.stakeholder_id != sid,
                       Stakeholder.erased_at.is_(None), Stakeholder.stage.in_(hs.RAPPORT_OR_BETTER))
                .order_by(Membership.stakeholder_id).limit(1))
            if introducer is None or first is None:
                continue
            asked = datetime.combine(first.date() - timedelta(days=7), datetime.min.time())
            a = Assignment(kind="introduction", group_id=group_id, stakeholder_id=introducer,
                           officer_id=leaver.id, assigned_by_id=leaver.id,
                           due_on=asked.date() + timedelta(days=14), status="done",
                           note="Ask for an introduction to the group.", created_at=asked,
                           updated_at=asked, closed_at=asked + timedelta(days=2), closed_by_id=leaver.id)
            db.session.add(a)
            db.session.flush()
            return a
    return None


def seed_handover_demo(*, today: date | None = None) -> dict:
    """Put one beat in hand-over (see the module docstring). Flushes only; returns counts."""
    today = today or local_today()
    counts = {"handovers": 0, "handover_items": 0, "handover_introductions": 0}
    pair = _busiest_pair(today)
    if pair is None:
        return counts
    leaver, beat = pair
    successor = _successor(leaver, beat, today)
    if successor is None:
        return counts
    if _asked_introduction(leaver, beat) is not None:
        counts["handover_introductions"] = 1
    supervisor = db.session.scalar(sa.select(User).where(
        User.role == "supervisor", User.district_id == beat.district_id).order_by(User.id).limit(1))
    h = hs.draft_handover(supervisor, leaver, beat, leaves_on=today + timedelta(days=LEAVES_IN_DAYS))
    relationships = [i.id for i in h.items if i.kind in ("stakeholder", "group")]
    if relationships:
        hs.assign_successor(supervisor, h, successor, item_ids=relationships)
    counts.update(handovers=1, handover_items=len(h.items))
    return counts
