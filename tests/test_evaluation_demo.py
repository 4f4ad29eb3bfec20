"""The demo shows a newcomer the evaluation at once (issue 14): a trial in its follow-up
period with its analysis, two survey waves and the trust trend on the pages they open first."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.demo.services import DEMO_PASSWORD, seed_demo
from crm.evaluation import services as svc
from crm.extensions import db
from crm.models import CommunityGroup, SurveyCampaign, SurveyResponse, User


@pytest.fixture
def demo(app):
    report = seed_demo("small", "chicago", seed=1)
    db.session.commit()
    return report


def test_the_demo_trial_is_in_its_follow_up_and_its_analysis_has_numbers(demo, auth, client):
    from datetime import date
    t = svc.get_trial("Demo beat trial")
    assert t.allocated_at is not None and t.design_hash
    assert t.follow_up_start <= date.today() <= t.follow_up_end
    arms = [u.arm for u in t.units]
    assert arms.count("treatment") >= 2 and arms.count("control") >= 2
    doc = svc.analyse_trial(None, t, "proactive_share")
    assert doc["estimate"] is not None and doc["ci_low"] <= doc["estimate"] <= doc["ci_high"]
    assert demo.counts["trials"] == 1 and demo.counts["training"] > 0
    auth.login("admin", DEMO_PASSWORD)
    page = client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)
    assert "Baseline balance" in page and 'id="means-proactive_share"' in page


def test_the_demo_has_two_survey_waves_and_the_trend_shows(demo, auth, client):
    campaigns = db.session.scalars(sa.select(SurveyCampaign)).all()
    by_target = {}
    for c in campaigns:
        by_target.setdefault((c.group_id, c.beat_id), []).append(c.name)
    assert by_target and all(sorted(names) == ["Wave 1", "Wave 2"] for names in by_target.values())
    answers = dict(db.session.execute(sa.select(SurveyResponse.campaign_id, sa.func.count())
                                      .group_by(SurveyResponse.campaign_id)).all())
    assert all(answers[c.id] >= svc.K_MIN for c in campaigns), "every demo wave shows its numbers"
    group_id = next(g for g, b in by_target if g)
    group = db.session.get(CommunityGroup, group_id)
    # The supervisor of the group's district sees the trend on the group page and on coverage.
    beat = group.beats[0]
    supervisor = db.session.scalar(sa.select(User).where(User.role == "supervisor",
                                                         User.district_id == beat.district_id))
    auth.login(supervisor.username, DEMO_PASSWORD)
    body = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert 'id="trust-trend"' in body and "trust-band" in body and "n = " in body
    coverage = client.get("/analytics/coverage").get_data(as_text=True)
    assert 'id="trust-trend"' in coverage
