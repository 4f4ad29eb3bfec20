"""Hand-overs (issue 15): drafting, successors, transfer, notes, scope and the measure."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.access import contact_scope, group_scope, stakeholder_scope
from crm.contacts.services import follow_ups_query
from crm.errors import ForbiddenError, ValidationError
from crm.extensions import db
from crm.handovers import services as hs
from crm.models import (
    AuditEvent,
    CaseAction,
    CaseEvent,
    CommunityGroup,
    Contact,
    ProblemCase,
    Stakeholder,
    case_beats,
)


class World:
    pass


def build_world(make, today):
    """Two beats of one district; the leaver's people, groups, follow-up and case action."""
    w = World()
    w.district = make.district()
    w.beat = make.beat(district=w.district)
    w.other = make.beat(district=w.district)
    w.leaver = make.user("leaver", beats=[w.beat])
    w.succ = make.user("succ", beats=[w.other])
    w.succ2 = make.user("succ2", beats=[w.other])
    w.sup = make.user("sup", role="supervisor", district=w.district)
    w.group = make.group("Tenants", beats=[w.beat], stage="rapport", stance="receptive")
    w.wary = make.group("Corner youth", beats=[w.beat], stage="initial_contact", stance="wary")
    w.quiet = make.group("Bowls club", beats=[w.beat], stage="initial_contact", stance="neutral")
    w.p1 = make.stakeholder("Ada Rapport", stage="rapport", language="es")
    w.p2 = make.stakeholder("Bo Working", stage="working_relationship")
    w.p3 = make.stakeholder("Cy New", stage="initial_contact")
    # p1 is visible to the old beat through the group; p2 only because the leaver met them.
    make.membership(w.p1, w.group)
    earlier = datetime.utcnow() - timedelta(days=10)
    make.contact(w.leaver, groups=[w.group, w.wary, w.quiet], stakeholders=[w.p1, w.p2, w.p3],
                 beat=w.beat, occurred_at=earlier, channel="meeting")
    w.fu = make.contact(w.leaver, stakeholders=[w.p1], beat=w.beat, channel="phone",
                        follow_up_on=today + timedelta(days=3), follow_up_note="Bring the flyer")
    case = ProblemCase(title="Stairwell lighting", lead_id=w.sup.id)
    db.session.add(case)
    db.session.flush()
    db.session.execute(case_beats.insert().values(case_id=case.id, beat_id=w.beat.id))
    w.action = CaseAction(case_id=case.id, description="Ask the landlord", owner_kind="officer",
                          owner_user_id=w.leaver.id)
    db.session.add(w.action)
    db.session.flush()
    return w


@pytest.fixture
def world(make, today):
    return build_world(make, today)


def _kinds(h):
    return sorted((i.kind, i.stakeholder_id or i.group_id or i.contact_id or i.case_action_id)
                  for i in h.items)


def test_draft_lists_rapport_people_groups_follow_ups_and_actions(world, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today + timedelta(days=14))
    assert _kinds(h) == sorted([("stakeholder", w.p1.id), ("stakeholder", w.p2.id),
                                ("group", w.group.id), ("group", w.wary.id),
                                ("follow_up", w.fu.id), ("case_action", w.action.id)])
    wary = next(i for i in h.items if i.group_id == w.wary.id)
    assert wary.hard_to_engage and wary.stage == "initial_contact"
    rows = {r.label: r for r in hs.item_rows(w.sup, h)}
    assert rows["Ada Rapport"].channel == "phone" and rows["Ada Rapport"].language == "es"
    assert rows["Bo Working"].channel == "meeting" and rows["Bo Working"].stage == "working_relationship"
    # A second draft returns the plan that waits; the draft is audited.
    assert hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today).id == h.id
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "handover.draft"))
    assert ev.detail["stakeholder"] == 2 and ev.detail["follow_up"] == 1


def test_only_a_supervisor_of_the_district_plans(world, make, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    stranger = make.user("sup2", role="supervisor", district=make.district())
    with pytest.raises(ForbiddenError):
        hs.assign_successor(stranger, h, w.succ)
    with pytest.raises(ForbiddenError):
        hs.assign_successor(w.leaver, h, w.succ)
    with pytest.raises(ValidationError) as e:
        hs.assign_successor(w.sup, h, w.leaver)
    assert "successor" in e.value.errors


def test_transfer_waits_for_every_successor_then_moves_and_splits(world, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today + timedelta(days=14))
    p2_item = next(i for i in h.items if i.stakeholder_id == w.p2.id)
    hs.assign_successor(w.sup, h, w.succ2, item_ids=[p2_item.id])
    with pytest.raises(ValidationError) as e:
        hs.transfer(w.sup, h)  # the rest has nobody yet: the plan waits
    assert "successor" in e.value.errors and h.status == "draft"
    assert hs.beats_in_handover() == {w.beat.id}
    hs.assign_successor(w.sup, h, w.succ)  # everything left
    hs.transfer(w.sup, h)
    assert h.status == "transferred" and hs.beats_in_handover() == set()
    assert p2_item.successor_id == w.succ2.id
    assert {i.successor_id for i in h.items if i.id != p2_item.id} == {w.succ.id}
    # The case action changed owner, with the timeline keeping who had it.
    assert w.action.owner_user_id == w.succ.id
    ev = db.session.scalar(sa.select(CaseEvent).where(CaseEvent.action == "case.action_handed_over"))
    assert ev.detail["owner_user_id"] == {"before": w.leaver.id, "after": w.succ.id}
    # The follow-up is the successor's to do now, not the leaving officer's.
    assert w.fu.id in db.session.scalars(sa.select(Contact.id).where(
        follow_ups_query(w.succ).whereclause)).all()
    assert w.fu.id not in db.session.scalars(sa.select(Contact.id).where(
        follow_ups_query(w.leaver).whereclause)).all()
    # Introductions: meet together before the last day while the leaver is still on the beat.
    rows = {r.label: r for r in hs.item_rows(w.succ, h)}
    assert set(rows) >= {"Ada Rapport", "Tenants"} and "Bo Working" not in rows
    assert rows["Ada Rapport"].task.startswith("Meet Ada Rapport with ")
    assert rows["Ada Rapport"].done is False
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "handover.transfer"))


def test_introduction_closes_when_the_successor_logs_a_contact(world, make, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today - timedelta(days=1))
    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    row = next(r for r in hs.item_rows(w.succ, h) if r.label == "Ada Rapport")
    assert row.task.startswith("Introduce yourself to Ada Rapport") and row.done is False
    make.contact(w.succ, stakeholders=[w.p1], occurred_at=datetime.utcnow() + timedelta(seconds=1))
    row = next(r for r in hs.item_rows(w.succ, h) if r.label == "Ada Rapport")
    assert row.done is True


def test_successor_sees_what_the_plan_grants_and_the_leaver_loses_it(world, today):
    w = world

    def sees(user, model, ident):
        scope = {Stakeholder: stakeholder_scope, CommunityGroup: group_scope, Contact: contact_scope}
        return db.session.scalar(sa.select(model.id).where(model.id == ident, scope[model](user))) is not None

    assert not sees(w.succ, Stakeholder, w.p1.id) and not sees(w.succ, CommunityGroup, w.group.id)
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today - timedelta(days=1))
    hs.assign_successor(w.sup, h, w.succ)
    assert not sees(w.succ, Stakeholder, w.p1.id)  # nothing before the transfer
    hs.transfer(w.sup, h)
    assert sees(w.succ, Stakeholder, w.p1.id) and sees(w.succ, CommunityGroup, w.group.id)
    assert sees(w.succ, Contact, w.fu.id)
    assert not sees(w.succ, CommunityGroup, w.quiet.id)  # not in the plan, not their beat
    assert not sees(w.succ, Stakeholder, w.p3.id)
    assert not sees(w.succ2, Stakeholder, w.p1.id)
    # The leaver's assignment ends: the people they met and handed over go with the beat.
    assert sees(w.leaver, Stakeholder, w.p2.id)
    a = w.leaver.assignments[0]
    a.starts_on, a.ends_on = today - timedelta(days=30), today - timedelta(days=1)
    db.session.flush()
    assert not sees(w.leaver, Stakeholder, w.p2.id) and not sees(w.leaver, Stakeholder, w.p1.id)
    assert sees(w.leaver, Stakeholder, w.p3.id)  # met, not handed over: unchanged rule


def test_ending_an_assignment_drafts_the_plan(world, make, today):
    from crm.users.services import UserChanges, update_user
    w = world
    admin = make.user("admin1", role="admin")
    a = w.leaver.assignments[0]
    a.starts_on = today - timedelta(days=100)
    db.session.flush()
    update_user(admin, w.leaver, UserChanges(role="officer", beat_ids={w.other.id}),
                version_id=w.leaver.version_id)
    h = hs.open_handover(w.leaver.id, w.beat.id)
    assert h is not None and h.reason == "assignment_ended" and h.leaves_on == today - timedelta(days=1)
    assert len(h.items) == 6
    # An idle officer leaving a beat gets no empty plan.
    idle = make.user("idle", beats=[w.beat])
    idle.assignments[0].starts_on = today - timedelta(days=5)
    db.session.flush()
    update_user(admin, idle, UserChanges(role="officer", beat_ids=set()), version_id=idle.version_id)
    assert hs.open_handover(idle.id, w.beat.id) is None


def test_note_is_the_leaving_officers_and_bounded(world, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    item = next(i for i in h.items if i.stakeholder_id == w.p1.id)
    with pytest.raises(ForbiddenError):
        hs.set_note(w.sup, item, "hello")
    with pytest.raises(ValidationError) as e:
        hs.set_note(w.leaver, item, "x" * 301)
    assert "note" in e.value.errors and item.note == ""
    hs.set_note(w.leaver, item, "Prefers mornings; ask about the garden project")
    assert item.note.startswith("Prefers")
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "handover.note"))
    assert "Prefers" not in str(ev.detail)


def test_retention_counts_successor_contacts_within_windows(world, make, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    h.transferred_at = datetime.utcnow() - timedelta(days=50)
    db.session.flush()
    # p1 met by the successor on day 40; p2 met only by someone else.
    make.contact(w.succ, stakeholders=[w.p1], occurred_at=h.transferred_at + timedelta(days=40))
    make.contact(w.succ2, stakeholders=[w.p2], occurred_at=h.transferred_at + timedelta(days=5))
    [row] = hs.retention(None, today - timedelta(days=90), today)
    assert row.beat_code == w.beat.code
    assert row.retention.relationships == 2
    assert row.retention.within == {30: 0, 60: 1, 90: 1}
    assert hs.retention(None, today - timedelta(days=10), today) == []


def test_a_visit_logged_in_the_minute_of_the_transfer_counts(world, make, today):
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    h.transferred_at = datetime.utcnow().replace(second=40, microsecond=0) - timedelta(days=3)
    db.session.flush()
    # The form takes minutes: the successor's visit right after the transfer reads hh:mm:00.
    make.contact(w.succ, stakeholders=[w.p1], occurred_at=h.transferred_at.replace(second=0))
    make.contact(w.succ, stakeholders=[w.p2],
                 occurred_at=h.transferred_at.replace(second=0) - timedelta(minutes=1))
    [row] = hs.retention(None, today - timedelta(days=10), today)
    assert row.retention.within == {30: 1, 60: 1, 90: 1}
