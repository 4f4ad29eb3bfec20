"""Problem-solving cases (SARA): stage guards, the timeline, competing groups, co-production."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace as NS  # noqa: N814

import pytest
import sqlalchemy as sa
import time_machine

from crm.cases import figures
from crm.cases import services as svc
from crm.errors import ConflictError, ForbiddenError, ValidationError
from crm.extensions import db
from crm.models import AuditEvent, CaseEvent, GroupAssignment, GroupRelation


@pytest.fixture
def world(make):
    beat = make.beat("0111")
    unit = make.user("unit1", role="unit")
    officer = make.user("jdoe", beats=[beat])
    club = make.group("Block Club", beats=[beat])
    bars = make.group("Bar Owners", beats=[beat])
    youth = make.group("Youth Centre", beats=[beat])
    ana = make.stakeholder("Ana")
    make.membership(ana, club)
    # The unit member looks after the beat's groups: the case's beat and groups are theirs.
    db.session.add_all([GroupAssignment(user_id=unit.id, group_id=g.id) for g in (club, bars, youth)])
    db.session.flush()
    return NS(beat=beat, unit=unit, officer=officer, club=club, bars=bars, youth=youth, ana=ana)


def _case(w, **kw):
    return svc.create_case(w.unit, title=kw.pop("title", "Noise on Elm St"), beat_ids=[w.beat.id],
                           **kw)


def _move(w, case, to, reason=None):
    return svc.move_case(w.unit, case, to, reason=reason, version_id=case.version_id)


def _refused(w, case, to, reason=None) -> dict:
    with pytest.raises(ValidationError) as e:
        _move(w, case, to, reason)
    return e.value.errors


def _write_analysis(w, case):
    svc.update_case(w.unit, case, {"analysis": "Calls cluster on Fridays.", "place": "Elm St corner",
                                   "victim_target": "residents", "offender": "late patrons"},
                    version_id=case.version_id)


def _ready_to_close(w, case):
    svc.update_case(w.unit, case, {"assessment": "Calls halved.", "community_verdict": "Quieter"},
                    version_id=case.version_id)
    m = svc.add_measure(w.unit, case, name="Noise calls", unit="per month", baseline_value=20,
                        baseline_on=date.today() - timedelta(days=60))
    svc.add_measure_value(w.unit, m, measured_on=date.today() - timedelta(days=5), value=9)


# ---- stages ------------------------------------------------------------------------------

def test_a_new_case_starts_in_scanning_led_by_its_creator(world):
    case = _case(world)
    assert case.stage == "scanning" and case.lead_id == world.unit.id
    assert [b.code for b in case.beats] == ["0111"]


def test_officers_cannot_open_cases(world):
    with pytest.raises(ForbiddenError):
        svc.create_case(world.officer, title="x", beat_ids=[world.beat.id])


def test_can_only_move_forward_one_stage_at_a_time(world):
    case = _case(world)
    errors = _refused(world, case, "response")
    assert "to" in errors and "analysis" in errors["to"][0]
    _move(world, case, "analysis")
    assert case.stage == "analysis"


def test_no_response_without_a_written_analysis_and_triangle(world):
    case = _case(world)
    _move(world, case, "analysis")
    errors = _refused(world, case, "response")
    assert set(errors) == {"analysis", "place", "victim_target", "offender"}
    svc.update_case(world.unit, case, {"analysis": "Calls cluster on Fridays."},
                    version_id=case.version_id)
    assert set(_refused(world, case, "response")) == {"place", "victim_target", "offender"}
    _write_analysis(world, case)
    _move(world, case, "response")
    assert case.stage == "response"


def test_no_closing_without_assessment_measure_and_verdict(world):
    case = _case(world)
    _move(world, case, "analysis")
    _write_analysis(world, case)
    _move(world, case, "response")
    _move(world, case, "assessment")
    assert set(_refused(world, case, "closed")) == {"assessment", "measures", "community_verdict"}
    # A measure with only its baseline does not count: a value must come after it.
    m = svc.add_measure(world.unit, case, name="Noise calls", baseline_value=20,
                        baseline_on=date.today() - timedelta(days=30))
    svc.update_case(world.unit, case, {"assessment": "Calls halved."}, version_id=case.version_id)
    assert set(_refused(world, case, "closed")) == {"measures", "community_verdict"}
    svc.add_measure_value(world.unit, m, measured_on=date.today(), value=10)
    assert set(_refused(world, case, "closed")) == {"community_verdict"}
    svc.update_case(world.unit, case, {"community_verdict": "The block feels quieter."},
                    version_id=case.version_id)
    _move(world, case, "closed")
    assert case.stage == "closed" and case.closed_at is not None


def test_going_back_needs_a_reason(world):
    case = _case(world)
    _move(world, case, "analysis")
    assert "reason" in _refused(world, case, "scanning")
    _move(world, case, "scanning", reason="The problem was misread")
    assert case.stage == "scanning"


def test_reopening_a_closed_case_needs_a_reason_and_goes_to_assessment_or_analysis(world):
    case = _case(world)
    _move(world, case, "analysis")
    _write_analysis(world, case)
    _move(world, case, "response")
    _move(world, case, "assessment")
    _ready_to_close(world, case)
    _move(world, case, "closed")
    assert "reason" in _refused(world, case, "assessment")
    assert "to" in _refused(world, case, "response", reason="x")
    assert "to" in _refused(world, case, "scanning", reason="x")
    _move(world, case, "assessment", reason="Calls came back in spring")
    assert case.stage == "assessment" and case.closed_at is None


def test_a_stale_move_is_refused_as_a_conflict(world):
    case = _case(world)
    old = case.version_id
    svc.update_case(world.unit, case, {"title": "Noise on Elm Street"}, version_id=old)
    with pytest.raises(ConflictError):
        svc.move_case(world.unit, case, "analysis", version_id=old)


# ---- the timeline ------------------------------------------------------------------------

def _events(case):
    return db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)
                              .order_by(CaseEvent.id)).all()


def _audits():
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("case.%")))


def test_every_change_writes_exactly_one_timeline_entry_and_one_audit_event(world):
    w = world
    steps = []

    def step(name, fn):
        before_events, before_audit = len(_events(case)) if steps else 0, _audits()
        result = fn()
        steps.append(name)
        assert len(_events(case)) == before_events + 1, name
        assert _audits() == before_audit + 1, name
        return result

    case = None
    before = _audits()
    case = svc.create_case(w.unit, title="Noise", beat_ids=[w.beat.id])
    steps.append("create")
    assert len(_events(case)) == 1 and _audits() == before + 1
    step("edit", lambda: svc.update_case(w.unit, case, {"title": "Noise on Elm", "place": "Elm"},
                                         version_id=case.version_id))
    step("move", lambda: _move(w, case, "analysis"))
    p = step("participant", lambda: svc.add_participant(w.unit, case, kind="group",
                                                        role="co_producer", group_id=w.club.id))
    step("remove participant", lambda: svc.remove_participant(w.unit, case, p))
    idea = step("idea", lambda: svc.add_idea(w.unit, case, text="Lights",
                                             proposed_by_group_id=w.club.id))
    step("decline", lambda: svc.update_idea(w.unit, idea, status="declined", decline_reason="Cost",
                                            version_id=idea.version_id))
    a = step("action", lambda: svc.add_action(w.unit, case, description="Walk", owner_kind="officer",
                                              owner_user_id=w.officer.id))
    step("action update", lambda: svc.update_action(w.unit, a, {"status": "done"},
                                                     version_id=a.version_id))
    m = step("measure", lambda: svc.add_measure(w.unit, case, name="Calls"))
    step("value", lambda: svc.add_measure_value(w.unit, m, measured_on=date.today(), value=3))
    events = _events(case)
    assert [e.action for e in events] == [
        "case.create", "case.update", "case.stage", "participant.add", "participant.remove",
        "idea.add", "idea.update", "action.add", "action.update", "measure.add", "measure.value"]
    assert all(e.actor_id == w.unit.id and e.at is not None for e in events)
    edit = events[1].detail["changes"]
    assert edit["title"] == {"before": "Noise", "after": "Noise on Elm"}
    assert edit["place"] == {"before": "", "after": "Elm"}
    assert events[2].detail == {"from": "scanning", "to": "analysis", "reason": ""}
    assert events[6].detail.get("proposer_to_be_told") is True


def test_an_edit_that_changes_nothing_writes_nothing(world):
    case = _case(world)
    svc.update_case(world.unit, case, {"title": case.title}, version_id=case.version_id)
    assert len(_events(case)) == 1


def test_a_refused_move_writes_no_timeline_entry(world):
    case = _case(world)
    _refused(world, case, "response")
    assert [e.action for e in _events(case)] == ["case.create"]


def test_linking_what_we_heard_is_on_the_timeline(world, make):
    case = _case(world)
    contact = make.contact(world.unit, groups=[world.club], beat=world.beat, purpose="Block meeting")
    svc.link_contact(world.unit, case, contact.id)
    svc.unlink_contact(world.unit, case, contact.id)
    assert [e.action for e in _events(case)][-2:] == ["contact.link", "contact.unlink"]


# ---- ideas and actions ------------------------------------------------------------------

def test_declining_an_idea_needs_a_reason_and_the_proposer_is_to_be_told(world):
    case = _case(world)
    # Ana becomes visible to the unit member once her group takes part in the case.
    svc.add_participant(world.unit, case, kind="group", role="co_producer", group_id=world.club.id)
    idea = svc.add_idea(world.unit, case, text="Close the bar early",
                        proposed_by_stakeholder_id=world.ana.id)
    with pytest.raises(ValidationError) as e:
        svc.update_idea(world.unit, idea, status="declined", version_id=idea.version_id)
    assert "decline_reason" in e.value.errors
    svc.update_idea(world.unit, idea, status="declined", decline_reason="Not in our power",
                    version_id=idea.version_id)
    assert "proposer to be told" in _events(case)[-1].summary
    svc.update_idea(world.unit, idea, proposer_told_on=date.today(), version_id=idea.version_id)
    assert idea.proposer_told_on == date.today()


def test_an_idea_must_be_credited(world):
    case = _case(world)
    with pytest.raises(ValidationError) as e:
        svc.add_idea(world.unit, case, text="Anonymous idea")
    assert "proposed_by" in e.value.errors


def test_community_owned_actions_get_the_lead_as_liaison(world):
    case = _case(world)
    a = svc.add_action(world.unit, case, description="Run a youth night", owner_kind="group",
                       owner_group_id=world.youth.id)
    assert a.liaison_user_id == world.unit.id
    with pytest.raises(ValidationError) as e:
        svc.add_action(world.unit, case, description="x", owner_kind="stakeholder")
    assert "owner_stakeholder_id" in e.value.errors


def test_overdue_means_past_due_and_still_open(world):
    today = date.today()
    assert svc.is_overdue(NS(due_on=today - timedelta(days=1), status="open"), today)
    assert svc.is_overdue(NS(due_on=today - timedelta(days=1), status="in_progress"), today)
    assert not svc.is_overdue(NS(due_on=today - timedelta(days=1), status="done"), today)
    assert not svc.is_overdue(NS(due_on=today, status="open"), today)
    assert not svc.is_overdue(NS(due_on=None, status="open"), today)


# ---- competing groups -------------------------------------------------------------------

def test_warns_when_the_response_touches_a_group_competing_with_a_co_producer(world):
    w = world
    case = _case(w)
    db.session.add(GroupRelation(group_a_id=w.bars.id, group_b_id=w.club.id, type="competing",
                                 issue="late-night noise"))
    db.session.add(GroupRelation(group_a_id=w.youth.id, group_b_id=w.club.id, type="allied"))
    db.session.flush()
    svc.add_participant(w.unit, case, kind="group", role="co_producer", group_id=w.club.id)
    assert svc.competing_warnings(case) == []
    svc.add_action(w.unit, case, description="Agree closing routine", owner_kind="group",
                   owner_group_id=w.bars.id)
    warnings = svc.competing_warnings(case)
    assert len(warnings) == 1
    msg = warnings[0]["message"]
    assert "Bar Owners" in msg and "Block Club" in msg and "late-night noise" in msg
    # The allied youth centre taking part raises nothing.
    svc.add_participant(w.unit, case, kind="group", role="resource", group_id=w.youth.id)
    assert len(svc.competing_warnings(case)) == 1


def test_an_ended_competition_raises_no_warning(world):
    w = world
    case = _case(w)
    db.session.add(GroupRelation(group_a_id=w.club.id, group_b_id=w.bars.id, type="competing",
                                 issue="parking", starts_on=date(2020, 1, 1),
                                 ends_on=date(2021, 1, 1)))
    svc.add_participant(w.unit, case, kind="group", role="co_producer", group_id=w.club.id)
    svc.add_participant(w.unit, case, kind="group", role="affected_party", group_id=w.bars.id)
    assert svc.competing_warnings(case) == []


# ---- co-production figures --------------------------------------------------------------

def _action(kind, **ids):
    base = {"owner_stakeholder_id": None, "owner_group_id": None}
    return NS(owner_kind=kind, **{**base, **ids})


def _idea(status, s=None, g=None):
    return NS(status=status, proposed_by_stakeholder_id=s, proposed_by_group_id=g)


def test_community_share_of_actions_on_a_hand_computed_case():
    actions = [_action("stakeholder", owner_stakeholder_id=1), _action("group", owner_group_id=1),
               _action("group", owner_group_id=2), _action("officer")]
    assert figures.community_action_share(actions) == (3, 4, 0.75)
    assert figures.community_action_share([]) == (0, 0, None)


def test_contributors_are_counted_once_each_and_typed():
    ideas = [_idea("adopted", s=1), _idea("declined", s=1), _idea("proposed", g=1)]
    actions = [_action("stakeholder", owner_stakeholder_id=1), _action("group", owner_group_id=2),
               _action("officer"), _action("agency")]
    # stakeholder 1 (idea + action), group 1 (same id as the person: still distinct), group 2
    assert figures.community_contributors(ideas, actions) == {
        ("stakeholder", 1), ("group", 1), ("group", 2)}
    assert figures.ideas_adopted(ideas) == (1, 3, 0.3333)


def test_days_in_each_stage_with_a_frozen_clock(world):
    w = world
    start = datetime(2024, 3, 1, 9, 0)
    with time_machine.travel(start, tick=False):
        case = _case(w)
        svc.add_participant(w.unit, case, kind="group", role="co_producer", group_id=w.club.id)
        for kind, gid in (("group", w.club.id), ("group", w.youth.id)):
            svc.add_action(w.unit, case, description="x", owner_kind=kind, owner_group_id=gid)
        svc.add_action(w.unit, case, description="x", owner_kind="stakeholder",
                       owner_stakeholder_id=w.ana.id)
        svc.add_action(w.unit, case, description="x", owner_kind="officer",
                       owner_user_id=w.officer.id)
        svc.add_idea(w.unit, case, text="a", proposed_by_stakeholder_id=w.ana.id)
        i2 = svc.add_idea(w.unit, case, text="b", proposed_by_group_id=w.club.id)
        svc.update_idea(w.unit, i2, status="adopted", version_id=i2.version_id)
    with time_machine.travel(start + timedelta(days=10), tick=False):
        _move(w, case, "analysis")
    with time_machine.travel(start + timedelta(days=12, hours=12), tick=False):
        _move(w, case, "scanning", reason="Wrong problem")
    with time_machine.travel(start + timedelta(days=14, hours=12), tick=False):
        _move(w, case, "analysis")
    with time_machine.travel(start + timedelta(days=20, hours=12), tick=False):
        db.session.expire(case)
        f = figures.case_figures(case, now=datetime.utcnow())
    assert f["actions_total"] == 4 and f["community_action_share"] == 0.75
    assert f["contributors"] == 3  # Ana, Block Club, Youth Centre
    assert (f["ideas_adopted"], f["ideas_total"], f["ideas_adopted_share"]) == (1, 2, 0.5)
    # scanning 10 + 2 days, analysis 2.5 + 6 days (the current stage counts until now)
    assert f["days_in_stage"] == {"scanning": 12.0, "analysis": 8.5, "response": 0.0,
                                  "assessment": 0.0}


def test_closed_time_is_not_counted():
    t0 = datetime(2024, 1, 1)
    events = [NS(at=t0, action="case.create", detail={}),
              NS(at=t0 + timedelta(days=3), action="case.stage", detail={"to": "analysis"}),
              NS(at=t0 + timedelta(days=4), action="case.stage", detail={"to": "closed"})]
    days = figures.days_in_stages(events, opened_at=t0, now=t0 + timedelta(days=100))
    assert days == {"scanning": 3.0, "analysis": 1.0, "response": 0.0, "assessment": 0.0}


def test_unit_figures_pool_the_cases():
    t0 = datetime(2024, 1, 1)
    c1 = NS(stage="analysis", created_at=t0, actions=[_action("group", owner_group_id=1)],
            ideas=[_idea("adopted", g=1)],
            events=[NS(at=t0 + timedelta(days=2), action="case.stage", detail={"to": "analysis"})])
    c2 = NS(stage="scanning", created_at=t0, actions=[_action("officer")],
            ideas=[_idea("proposed", s=5)], events=[])
    f = figures.unit_figures([c1, c2], now=t0 + timedelta(days=4))
    assert f["cases"] == 2 and f["community_action_share"] == 0.5
    assert f["contributors"] == 2 and f["ideas_adopted_share"] == 0.5
    assert f["mean_days_in_stage"]["scanning"] == 3.0  # (2 + 4) / 2
    assert f["mean_days_in_stage"]["analysis"] == 2.0
    assert f["mean_days_in_stage"]["response"] is None


def test_measure_chart_marks_the_baseline():
    vals = [NS(measured_on=date(2024, 2, 1), value=10.0), NS(measured_on=date(2024, 3, 1), value=5.0)]
    ch = figures.measure_chart(20.0, date(2024, 1, 1), vals)
    assert len(ch["dots"]) == 3 and ch["baseline_y"] == ch["dots"][0][1]
    assert ch["dots"][0][0] < ch["dots"][1][0] < ch["dots"][2][0]
    assert figures.measure_chart(None, None, []) is None
