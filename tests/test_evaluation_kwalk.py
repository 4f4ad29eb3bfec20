"""Survey results below k = 5 answers appear on no page, API answer or export (issue 14):
every GET route is walked by each role that reads surveys, with a wave of four answers whose
figures are distinctive, and none of them may show up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm.evaluation import services as svc
from crm.extensions import db

HIDDEN = ("2.25", "n = 4")  # the four answers' mean, and their count as the trend writes it


@pytest.fixture
def surveyed(make):
    d = make.district("05")
    beat = make.beat("0511", d)
    group = make.group("Harbour Tenants", beats=[beat])
    make.user("ofc", beats=[beat])
    make.user("sarge", role="supervisor", district=d)
    make.user("ana", role="analyst")
    unit = make.user("unit1", role="unit")
    from crm.models import GroupAssignment
    db.session.add(GroupAssignment(user_id=unit.id, group_id=group.id))
    opens = date.today() - timedelta(days=3)
    for target in ({"group_id": group.id}, {"beat_id": beat.id}):
        c = svc.create_campaign(None, name="Small wave", opens_on=opens, closes_on=opens + timedelta(days=30),
                                **target)
        for score in (2, 2, 2, 3):
            svc.submit_response(None, c, {k["key"]: score for k in c.items}, source="link", today=opens)
    make.commit()
    return {"group_id": group.id, "beat_id": beat.id, "campaign_id": c.id, "beat": beat.code}


def _get_urls(app, values):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in ("static", "api_docs.asset"):
            continue
        if not set(rule.arguments) <= set(values):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<id:{arg}>", str(values[arg])).replace(f"<{arg}>", str(values[arg]))
        yield path
    yield f"/api/v1/surveys/trend?group={values['group_id']}"
    yield f"/api/v1/surveys/trend?beat={values['beat']}"


@pytest.mark.parametrize("username", ["ofc", "sarge", "unit1", "ana"])
def test_a_wave_below_five_answers_shows_nowhere(app, surveyed, auth, client, username):
    auth.login(username)
    walked = 0
    for url in _get_urls(app, surveyed):
        r = client.get(url)
        body = r.get_data(as_text=True)
        for secret in HIDDEN:
            assert secret not in body, f"{url} shows {secret!r} to {username}"
        walked += r.status_code == 200
    assert walked > 20


def test_the_fifth_answer_makes_the_wave_show(app, surveyed, auth, client):
    """The control: the same walk would see the figures once there are five answers."""
    from crm.models import SurveyCampaign
    c = db.session.scalar(db.select(SurveyCampaign).where(SurveyCampaign.group_id == surveyed["group_id"]))
    svc.submit_response(None, c, {k["key"]: 2 for k in c.items}, source="link", today=c.opens_on)
    db.session.commit()
    auth.login("ofc")
    assert "n = 5" in client.get(f"/groups/{surveyed['group_id']}").get_data(as_text=True)
    doc = client.get(f"/api/v1/surveys/trend?group={surveyed['group_id']}").get_json()
    assert doc["points"][0]["n"] == 5 and doc["points"][0]["mean"] == 2.2
