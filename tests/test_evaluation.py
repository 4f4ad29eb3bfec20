"""Evaluation (issue 14): training roster, trial allocation, outcomes and DiD, surveys."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.errors import ForbiddenError, ValidationError
from crm.evaluation import services as svc
from crm.extensions import db
from crm.models import AuditEvent, SurveyResponse

BASE = (date(2026, 1, 1), date(2026, 3, 31))
FOLLOW = (date(2026, 4, 1), date(2026, 6, 30))


def _events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


# ---- training roster ----------------------------------------------------------------------

def test_an_officer_becomes_a_proactive_guardian_when_every_module_is_done(app, make):
    unit = make.user("unit1", role="unit")
    officer = make.user("ofc")
    for m in svc.DEFAULT_MODULES[:-1]:
        svc.record_completion(unit, officer="ofc", module=m, completed_on="2026-02-01", trainer="T. Ray")
    assert not svc.is_guardian(officer.id)
    svc.record_completion(unit, officer="ofc", module=svc.DEFAULT_MODULES[-1], completed_on=date(2026, 2, 3))
    assert svc.is_guardian(officer.id)
    row = [r for r in svc.roster(unit) if r["officer"].id == officer.id][0]
    assert row["guardian"] and row["done"]["foundations"].trainer == "T. Ray"
    assert len(_events("training.record")) == len(svc.DEFAULT_MODULES)


def test_training_entry_refuses_officers_and_names_bad_fields(app, make):
    officer = make.user("ofc")
    with pytest.raises(ForbiddenError):
        svc.record_completion(officer, officer="ofc", module="foundations", completed_on="2026-01-01")
    admin = make.user("adm", role="admin")
    with pytest.raises(ValidationError) as e:
        svc.record_completion(admin, officer="nobody", module="yoga", completed_on="2026-13-01")
    assert set(e.value.errors) == {"officer", "module", "completed_on"}


def test_csv_import_is_all_or_nothing_and_reports_lines(app, make):
    admin = make.user("adm", role="admin")
    make.user("ofc")
    bad = "officer,module,completed_on\nofc,foundations,2026-01-02\nghost,reframing,2026-01-03\n"
    with pytest.raises(ValidationError) as e:
        svc.import_training_csv(admin, bad)
    assert list(e.value.errors) == ["line 3: officer"]
    assert svc.roster(admin)[0]["done"] == {}
    good = "officer,module,completed_on,trainer\nofc,foundations,2026-01-02,Ann\nofc,reframing,2026-01-03,\n"
    assert svc.import_training_csv(admin, good) == 2


def test_cli_imports_training(app, make, runner, tmp_path):
    make.user("ofc")
    make.commit()
    f = tmp_path / "t.csv"
    f.write_text("officer,module,completed_on\nofc,foundations,2026-01-02\n")
    r = runner.invoke(args=["crm", "training", "import", str(f)])
    assert r.exit_code == 0, r.output
    assert "imported 1" in r.output
    f.write_text("officer,module\nofc,foundations\n")
    r = runner.invoke(args=["crm", "training", "import", str(f)])
    assert r.exit_code != 0 and "completed_on" in r.output


# ---- trial design and allocation -------------------------------------------------------------

def _beats(make, n_per_district=(4, 3)):
    beats = []
    for d_i, n in enumerate(n_per_district):
        d = make.district(f"0{d_i + 1}")
        beats += [make.beat(f"{d_i + 1}{i:02d}", d) for i in range(n)]
    return beats


def test_allocation_is_stratified_balanced_reproducible_once_and_audited(app, make):
    admin = make.user("adm", role="admin")
    beats = _beats(make)
    kw = dict(unit="beat", strata="district", baseline=BASE, follow_up=FOLLOW,
              outcomes=["proactive_share"], seed=42, eligible=[b.code for b in beats])
    t1 = svc.allocate_trial(admin, svc.create_trial(admin, name="A", **kw))
    t2 = svc.allocate_trial(admin, svc.create_trial(admin, name="B", **kw))
    arms1 = {u.unit_key: (u.arm, u.stratum) for u in t1.units}
    assert arms1 == {u.unit_key: (u.arm, u.stratum) for u in t2.units}
    for stratum in ("01", "02"):
        got = [a for a, s in arms1.values() if s == stratum]
        assert abs(got.count("treatment") - got.count("control")) <= 1
    with pytest.raises(ValidationError, match="allocation happens once"):
        svc.allocate_trial(admin, t1)
    assert len(_events("trial.allocate")) == 2
    assert len(t1.design_hash) == 64 and not svc.design_changed(t1)
    svc.edit_trial(admin, t1, outcomes=["proactive_share", "groups_reached"])
    assert svc.design_changed(t1), "an edit after allocation shows against the frozen hash"


def test_trial_design_errors_name_the_field(app, make):
    admin = make.user("adm", role="admin")
    with pytest.raises(ValidationError) as e:
        svc.create_trial(admin, name="", unit="street", baseline=FOLLOW, follow_up=BASE,
                         outcomes=["happiness"], seed=-1)
    assert {"name", "unit", "outcomes", "seed", "follow_up"} <= set(e.value.errors)


def test_crossovers_are_recorded(app, make):
    admin = make.user("adm", role="admin")
    beats = _beats(make, (2,))
    t = svc.allocate_trial(admin, svc.create_trial(
        admin, name="X", unit="beat", baseline=BASE, follow_up=FOLLOW, outcomes=["proactive_share"],
        seed=1, eligible=[b.code for b in beats]))
    svc.record_crossover(admin, t, unit_key=beats[0].code, kind="moved_beat", occurred_on=date(2026, 4, 5))
    assert [c.kind for c in t.crossovers] == ["moved_beat"]
    with pytest.raises(ValidationError):
        svc.record_crossover(admin, t, unit_key="nope", kind="moved_beat", occurred_on=date(2026, 4, 5))


# ---- outcomes and the estimate: a simulated trial -------------------------------------------

def _simulate(make, effect: float, seed: int, n_beats=24, per_period=30):
    """Beats with a true proactive share each; the treated gain `effect` in the follow-up."""
    admin = make.user("adm", role="admin")
    officer = make.user("ofc")
    beats = _beats(make, (n_beats // 2, n_beats // 2))
    rng = random.Random(seed)
    base_p = {b.code: rng.uniform(0.2, 0.6) for b in beats}
    for b in beats:
        for i in range(per_period):
            at = datetime(2026, 1, 2) + timedelta(days=i * 2)
            make.contact(officer, beat=b, occurred_at=at,
                         initiated_by="proactive" if rng.random() < base_p[b.code] else "reactive")
    t = svc.create_trial(admin, name=f"Sim {effect}", unit="beat", strata="district", baseline=BASE,
                         follow_up=FOLLOW, outcomes=["proactive_share"], seed=seed)
    assert sorted(t.eligible) == sorted(b.code for b in beats)  # default: beats with baseline contacts
    svc.allocate_trial(admin, t)
    arm = {u.unit_key: u.arm for u in t.units}
    for b in beats:
        p = base_p[b.code] + (effect if arm[b.code] == "treatment" else 0.0)
        for i in range(per_period):
            at = datetime(2026, 4, 2) + timedelta(days=i * 2)
            make.contact(officer, beat=b, occurred_at=at,
                         initiated_by="proactive" if rng.random() < p else "reactive")
    return admin, t


def test_a_true_effect_on_proactive_share_is_covered_by_the_interval(app, make):
    admin, t = _simulate(make, effect=0.3, seed=5)
    doc = svc.analyse_trial(admin, t, "proactive_share")
    assert doc["n_units"] == 24 and doc["n_treatment"] == 12
    assert doc["ci_low"] <= 0.3 <= doc["ci_high"], doc
    assert doc["ci_low"] > 0, "a 0.3 effect on 24 beats is detected"


def test_a_null_trial_covers_zero(app, make):
    admin, t = _simulate(make, effect=0.0, seed=9)
    doc = svc.analyse_trial(admin, t, "proactive_share")
    assert doc["ci_low"] <= 0 <= doc["ci_high"], doc


def test_cli_create_allocate_show_analyse(app, make, runner):
    officer = make.user("ofc")
    beats = _beats(make, (2, 2))
    for b in beats:
        make.contact(officer, beat=b, occurred_at=datetime(2026, 2, 1))
    make.commit()
    r = runner.invoke(args=["crm", "trial", "create", "T1", "--unit", "beat", "--strata", "district",
                            "--baseline", "2026-01-01:2026-03-31", "--follow-up", "2026-04-01:2026-06-30",
                            "--outcome", "proactive_share", "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert runner.invoke(args=["crm", "trial", "allocate", "T1"]).exit_code == 0
    again = runner.invoke(args=["crm", "trial", "allocate", "T1"])
    assert again.exit_code != 0 and "once" in again.output
    doc = json.loads(runner.invoke(args=["crm", "trial", "show", "T1", "--json"]).output)
    assert set(doc) == {"name", "unit", "seed", "design_hash", "units"}
    assert sorted(u["unit"] for u in doc["units"]) == sorted(b.code for b in beats)
    assert {u["arm"] for u in doc["units"]} == {"treatment", "control"}
    out = json.loads(runner.invoke(args=["crm", "trial", "analyse", "T1", "--outcome",
                                         "proactive_share", "--json"]).output)
    assert set(out) == {"outcome", "estimate", "ci_low", "ci_high", "se", "n_units", "n_treatment",
                        "n_control", "periods"}


def test_analysts_see_officer_units_only_as_pseudonyms(app, make):
    admin = make.user("adm", role="admin")
    analyst = make.user("ana", role="analyst")
    for i in range(4):
        o = make.user(f"officer-name-{i}")
        make.contact(o, occurred_at=datetime(2026, 2, 1))
    t = svc.allocate_trial(admin, svc.create_trial(admin, name="O", unit="officer", baseline=BASE,
                                                   follow_up=FOLLOW, outcomes=["groups_reached"], seed=2))
    assert len(t.units) == 4
    shown = json.dumps(svc.show_trial(analyst, t)) + svc.export_panel(analyst, t, "groups_reached")
    assert "officer-name" not in shown and "O-" in shown


# ---- surveys ---------------------------------------------------------------------------------

def test_survey_results_hidden_below_five_answers_and_no_personal_data(app, make):
    unit = make.user("unit1", role="unit")
    beat = make.beat()
    admin = make.user("adm", role="admin")
    c = svc.create_campaign(admin, name="Wave 1", beat_id=beat.id, opens_on=date(2026, 1, 1),
                            closes_on=date(2026, 1, 31))
    day = date(2026, 1, 10)
    for _ in range(4):
        svc.submit_response(None, c, {"trust": 4, "satisfaction": 3}, source="link", today=day)
    assert svc.campaign_results(c) == {"shown": False, "items": [],
                                       "message": "Fewer than 5 answers: nothing is shown yet."}
    svc.submit_response(admin, c, {"trust": "5"}, source="paper", today=day)
    res = svc.campaign_results(c)
    trust = next(i for i in res["items"] if i["key"] == "trust")
    assert res["shown"] and trust["n"] == 5 and trust["mean"] == pytest.approx(4.2)
    sat = next(i for i in res["items"] if i["key"] == "satisfaction")
    assert sat["n"] is None, "an item with fewer than 5 answers stays hidden"
    with pytest.raises(ValidationError, match="nothing else is stored"):
        svc.submit_response(None, c, {"trust": 4, "name": "Ann"}, source="link", today=day)
    with pytest.raises(ValidationError, match="open from"):
        svc.submit_response(None, c, {"trust": 4}, source="link", today=date(2026, 2, 1))
    with pytest.raises(ForbiddenError):
        svc.submit_response(make.user("ofc"), c, {"trust": 4}, source="paper", today=day)
    with pytest.raises(ValidationError):
        svc.create_campaign(unit, name="x", beat_id=beat.id, opens_on=day, closes_on=day)
    assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 5


def test_each_outcome_per_unit_and_period_by_hand(app, make):
    """Beat A's baseline: a proactive contact with a wary group (two techniques, a warning,
    a step up the ladder) and a reactive one with a receptive group contacted a week before
    the period (so not hard to engage). Beat B: nothing in the baseline."""
    from crm.groups.models import RelationshipStageChange
    admin = make.user("adm", role="admin")
    officer = make.user("ofc")
    a, b = _beats(make, (2,))
    wary = make.group("Wary", beats=[a], stance="wary")
    friendly = make.group("Friendly", beats=[a], stance="receptive")
    make.contact(officer, groups=[friendly], beat=b, occurred_at=datetime(2025, 12, 25))
    c1 = make.contact(officer, groups=[wary], beat=a, occurred_at=datetime(2026, 1, 5),
                      techniques=["active_listening", "reframing"], enforcement="warning")
    make.contact(officer, groups=[friendly], beat=a, occurred_at=datetime(2026, 1, 6),
                 initiated_by="reactive")
    db.session.add(RelationshipStageChange(group_id=wary.id, contact_id=c1.id, from_stage="none",
                                           to_stage="rapport", changed_at=datetime(2026, 1, 5)))
    t = svc.allocate_trial(admin, svc.create_trial(admin, name="H", unit="beat", baseline=BASE,
                                                   follow_up=FOLLOW, outcomes=list(svc.OUTCOMES), seed=1,
                                                   eligible=[a.code, b.code]))
    expected = {"proactive_share": 0.5, "groups_reached": 2.0, "hard_to_engage_reached": 1.0,
                "wary_hostile_share": 0.5, "techniques_per_contact": 1.0,
                "enforcement_per_contact": 0.5, "stage_progressions": 1.0}
    for outcome, value in expected.items():
        rows = {(r["unit"], r["period"]): r for r in svc.outcome_panel(t, outcome)}
        assert rows[(a.code, "baseline")]["value"] == pytest.approx(value), outcome
        assert rows[(a.code, "baseline")]["contacts"] == 2
        empty = rows[(b.code, "baseline")]["value"]
        assert empty in (None, 0.0), outcome


def test_officer_outcomes_count_a_shared_contact_for_each_officer(app, make):
    """Officer A's baseline: a proactive contact with a wary group, taken together with officer
    B (one technique), and a reactive one with no techniques recorded (JSON null). The
    shared contact counts for both officers; officer C has none."""
    from crm.models import ContactOfficer
    admin = make.user("adm", role="admin")
    a, b, c = make.user("ofc-a"), make.user("ofc-b"), make.user("ofc-c")
    beat = make.beat("0111")
    wary = make.group("Wary", beats=[beat], stance="wary")
    shared = make.contact(a, groups=[wary], beat=beat, occurred_at=datetime(2026, 1, 5), techniques=["reframing"])
    db.session.add(ContactOfficer(contact_id=shared.id, user_id=b.id, occurred_at=shared.occurred_at))
    make.contact(a, beat=beat, occurred_at=datetime(2026, 1, 6), initiated_by="reactive", techniques=None)
    make.contact(c, beat=beat, occurred_at=datetime(2026, 5, 6))
    t = svc.allocate_trial(admin, svc.create_trial(admin, name="Officers", unit="officer", baseline=BASE,
                                                   follow_up=FOLLOW, outcomes=list(svc.OUTCOMES), seed=1,
                                                   eligible=["ofc-a", "ofc-b", "ofc-c"]))
    expected = {"proactive_share": (0.5, 1.0), "techniques_per_contact": (0.5, 1.0),
                "wary_hostile_share": (0.5, 1.0), "groups_reached": (1.0, 1.0),
                "hard_to_engage_reached": (1.0, 1.0), "enforcement_per_contact": (0.0, 0.0)}
    for outcome, (for_a, for_b) in expected.items():
        rows = {(r["unit"], r["period"]): r for r in svc.outcome_panel(t, outcome)}
        assert (rows[("ofc-a", "baseline")]["contacts"], rows[("ofc-b", "baseline")]["contacts"]) == (2, 1)
        assert rows[("ofc-a", "baseline")]["value"] == pytest.approx(for_a), outcome
        assert rows[("ofc-b", "baseline")]["value"] == pytest.approx(for_b), outcome
        assert rows[("ofc-c", "baseline")]["contacts"] == 0
        assert rows[("ofc-c", "baseline")]["value"] in (None, 0.0), outcome


def test_the_demo_has_a_trial_in_follow_up_and_two_survey_waves(app, make):
    from crm.evaluation.demo import seed_evaluation_demo
    from crm.models import SurveyCampaign
    officer = make.user("ofc")
    beats = _beats(make, (3, 3))
    group = make.group("Demo group", beats=[beats[0]])
    today = date(2026, 12, 5)
    for i, b in enumerate(beats):
        for d in (170, 120, 60, 10):
            make.contact(officer, groups=[group], beat=b, occurred_at=datetime(2026, 12, 5) - timedelta(days=d + i))
    counts = seed_evaluation_demo(today=today, groups=1)
    assert counts["trials"] == 1 and counts["survey_answers"] >= 16
    t = svc.get_trial("Demo beat trial")
    assert t.follow_up_start <= today <= t.follow_up_end
    assert svc.analyse_trial(None, t, "proactive_share")["n_units"] == 6
    trend = svc.trust_trend(group_id=group.id)
    assert [p["campaign"] for p in trend] == ["Wave 1", "Wave 2"] and all(p["n"] for p in trend)
    # Two waves for the group and two for the busiest beat.
    assert db.session.scalar(sa.select(sa.func.count(SurveyCampaign.id))) == 4
    assert db.session.scalar(sa.select(sa.func.count(SurveyCampaign.id))
                             .where(SurveyCampaign.beat_id.is_not(None))) == 2


def test_cli_seed_demo_refuses_twice_without_a_traceback(app, make, runner):
    officer = make.user("ofc")
    for b in _beats(make, (2,)):
        make.contact(officer, beat=b, occurred_at=datetime.utcnow() - timedelta(days=150))
    make.commit()
    first = runner.invoke(args=["crm", "trial", "seed-demo"])
    assert first.exit_code == 0 and "trials: 1" in first.output, first.output
    again = runner.invoke(args=["crm", "trial", "seed-demo"])
    assert again.exit_code == 1 and "exists" in again.output


def test_trial_periods_are_the_departments_days(app, make, monkeypatch):
    """In Chicago a contact at 23:30 on the baseline's last day (already 1 April in UTC) is in
    the baseline, and one at 00:30 on 1 April local (still 31 March in UTC) in the follow-up."""
    monkeypatch.setitem(app.config, "TIME_ZONE", "America/Chicago")
    admin = make.user("adm", role="admin")
    officer = make.user("ofc")
    a, b = _beats(make, (2,))
    group = make.group("Block club", beats=[a], stance="receptive")
    make.contact(officer, groups=[group], beat=a, occurred_at=datetime(2026, 4, 1, 4, 30))  # 23:30 CDT
    make.contact(officer, groups=[group], beat=a, occurred_at=datetime(2026, 4, 1, 5, 30),  # 00:30 CDT
                 initiated_by="reactive")
    t = svc.allocate_trial(admin, svc.create_trial(admin, name="L", unit="beat", baseline=BASE,
                                                   follow_up=FOLLOW, outcomes=["proactive_share"],
                                                   seed=1, eligible=[a.code, b.code]))
    rows = {(r["unit"], r["period"]): r for r in svc.outcome_panel(t, "proactive_share")}
    assert rows[(a.code, "baseline")]["contacts"] == 1
    assert rows[(a.code, "baseline")]["value"] == pytest.approx(1.0)
    assert rows[(a.code, "follow_up")]["contacts"] == 1
    assert rows[(a.code, "follow_up")]["value"] == pytest.approx(0.0)
