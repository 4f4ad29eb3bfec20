"""Evaluation pages and API: roster, trial page and allocation, surveys and the public link."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crm.evaluation import services as svc
from crm.extensions import db
from crm.models import AuditEvent, SurveyResponse
from tests.conftest import csrf_token_from

BASE = (date(2026, 1, 1), date(2026, 3, 31))
FOLLOW = (date(2026, 4, 1), date(2026, 6, 30))


def test_the_unit_records_training_on_the_roster_page(app, make, auth, client):
    make.user("unit1", role="unit")
    make.user("ofc")
    make.commit()
    auth.login("unit1")
    page = client.get("/evaluation/training")
    assert page.status_code == 200 and "ofc" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    bad = client.post("/evaluation/training", data={"csrf_token": token, "one-csrf_token": token,
                                                    "one-officer": "ghost", "one-module": "foundations",
                                                    "one-completed_on": "2026-01-02"})
    assert bad.status_code == 422 and "ghost" in bad.get_data(as_text=True)
    page = client.get("/evaluation/training")
    token = csrf_token_from(page.get_data(as_text=True))
    r = client.post("/evaluation/training", data={"one-csrf_token": token, "one-officer": "ofc",
                                                  "one-module": "foundations",
                                                  "one-completed_on": "2026-01-02", "one-trainer": "Ann"})
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    assert "2026-01-02" in client.get("/evaluation/training").get_data(as_text=True)


def test_officers_and_analysts_do_not_open_the_roster(app, make, auth, client):
    make.user("ofc")
    make.user("ana", role="analyst")
    make.commit()
    for who in ("ofc", "ana"):
        auth.login(who)
        assert client.get("/evaluation/training").status_code == 403
        auth.logout()


def _trial(make, unit="officer"):
    admin = make.user("adm", role="admin")
    officers = [make.user(f"officer-name-{i}") for i in range(4)]
    for o in officers:
        make.contact(o, occurred_at=datetime(2026, 2, 1))
        make.contact(o, occurred_at=datetime(2026, 5, 1), initiated_by="reactive")
    t = svc.create_trial(admin, name="Web trial", unit=unit, baseline=BASE, follow_up=FOLLOW,
                         outcomes=["proactive_share"], seed=4)
    make.commit()
    return t


def test_trial_page_allocates_once_and_analysts_see_pseudonyms(app, make, auth, client):
    t = _trial(make)
    make.user("ana", role="analyst")
    make.commit()
    auth.login("adm")
    page = client.get(f"/evaluation/trials/{t.id}")
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post(f"/evaluation/trials/{t.id}/allocate", data={"csrf_token": token}).status_code == 303
    again = client.post(f"/evaluation/trials/{t.id}/allocate", data={"csrf_token": token})
    assert again.status_code == 422 and "once" in again.get_data(as_text=True)
    body = client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)
    assert "officer-name-0" in body and "Analysis" in body
    auth.logout()
    auth.login("ana")
    for url in (f"/evaluation/trials/{t.id}", f"/api/v1/trials/{t.id}",
                f"/evaluation/trials/{t.id}/panel.csv?outcome=proactive_share",
                f"/api/v1/trials/{t.id}/analysis?outcome=proactive_share"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "officer-name" not in r.get_data(as_text=True), url
    assert client.get(f"/api/v1/trials/{t.id}/analysis?outcome=bogus").status_code == 422


def test_supervisors_see_arms_only_when_the_trial_says_so(app, make, auth, client):
    t = _trial(make, unit="beat") if False else _trial(make)
    svc.allocate_trial(None, t)
    make.user("sarge", role="supervisor", district=make.district())
    make.commit()
    auth.login("sarge")
    doc = client.get(f"/api/v1/trials/{t.id}").get_json()
    assert {u["arm"] for u in doc["units"]} == {None}


def _campaign(make, n_answers):
    admin = make.user("adm", role="admin")
    beat = make.beat()
    today = date.today()
    c = svc.create_campaign(admin, name="Wave", beat_id=beat.id, opens_on=today - timedelta(days=1),
                            closes_on=today + timedelta(days=5))
    for _ in range(n_answers):
        svc.submit_response(None, c, {"trust": 4}, source="link")
    make.commit()
    return c


def test_results_below_five_answers_appear_nowhere(app, make, auth, client):
    c = _campaign(make, 4)
    make.user("ana", role="analyst")
    make.commit()
    for who in ("adm", "ana"):
        auth.login(who)
        body = client.get(f"/evaluation/surveys/{c.id}").get_data(as_text=True)
        assert "Fewer than 5 answers" in body and "4.0" not in body
        auth.logout()
    svc.submit_response(None, c, {"trust": 5}, source="link")
    db.session.commit()
    auth.login("ana")
    body = client.get(f"/evaluation/surveys/{c.id}").get_data(as_text=True)
    assert "4.2" in body and c.public_token not in body, "analysts get results, not the link"


def test_the_public_link_takes_answers_only_and_closes(app, make, client):
    c = _campaign(make, 0)
    url = f"/s/{c.public_token}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r'name="(name|email|phone)', html)
    token = csrf_token_from(html)
    r = client.post(url, data={"csrf_token": token, "q_trust": "4", "name": "Ann Example",
                               "email": "ann@example.org"})
    assert r.status_code == 200 and "Thank you" in r.get_data(as_text=True)
    stored = db.session.scalars(sa.select(SurveyResponse.answers)).all()
    assert stored == [{"trust": 4}]
    assert "Ann" not in str(db.session.scalars(sa.select(AuditEvent.detail)).all())
    bad = client.post(url, data={"csrf_token": token, "q_trust": "9"})
    assert bad.status_code == 422
    assert client.get("/s/nope").status_code == 404
    c.closes_on = date.today() - timedelta(days=1)
    db.session.commit()
    closed = client.post(url, data={"csrf_token": token, "q_trust": "4"})
    assert closed.status_code == 422 and "open from" in closed.get_data(as_text=True)


def test_the_public_link_is_rate_limited():
    """Answers through the link are counted per client address (crm.extensions.limiter)."""
    from crm import create_app
    from crm.extensions import limiter
    from crm.models import Beat
    from tests.conftest import make_config
    limited = create_app(make_config("sqlite", RATELIMIT_ENABLED=True, SURVEY_RATE_LIMIT="3 per minute"))
    try:
        with limited.app_context():
            db.create_all()
            beat = Beat(code="R1", name="R1")
            db.session.add(beat)
            db.session.flush()
            c = svc.create_campaign(None, name="Wave", beat_id=beat.id, opens_on=date.today(),
                                    closes_on=date.today())
            db.session.commit()
            client = limited.test_client()
            url = f"/s/{c.public_token}"
            token = csrf_token_from(client.get(url).get_data(as_text=True))
            codes = [client.post(url, data={"csrf_token": token, "q_trust": "4"}).status_code
                     for _ in range(4)]
    finally:
        limiter.enabled = False  # the module-level singleton: give other apps their setting back
    assert codes == [200, 200, 200, 429]


def test_the_api_designs_allocates_and_records_a_crossover(app, make, client):
    from crm.users.services import issue_token
    admin = make.user("adm", role="admin")
    beats = [make.beat(), make.beat()]
    token = issue_token(None, admin, "evaluation")[1]
    make.commit()
    h = {"Authorization": f"Bearer {token}"}
    body = {"name": "API trial", "unit": "beat", "baseline_start": "2026-01-01", "baseline_end": "2026-03-31",
            "follow_up_start": "2026-04-01", "follow_up_end": "2026-06-30", "outcomes": ["proactive_share"],
            "seed": 3, "eligible": [b.code for b in beats]}
    bad = client.post("/api/v1/trials/", json={**body, "follow_up_start": "2026-02-01"}, headers=h)
    assert bad.status_code == 422 and "follow_up" in bad.get_data(as_text=True)
    r = client.post("/api/v1/trials/", json=body, headers=h)
    assert r.status_code == 201, r.get_json()
    tid = r.get_json()["id"]
    assert client.post(f"/api/v1/trials/{tid}/allocate", headers=h).status_code == 200
    assert client.post(f"/api/v1/trials/{tid}/allocate", headers=h).status_code == 422
    x = client.post(f"/api/v1/trials/{tid}/crossovers", headers=h,
                    json={"unit_key": beats[0].code, "kind": "moved_beat", "occurred_on": "2026-04-03"})
    assert x.status_code == 201
    assert "/api/v1/trials/" in client.get("/api/v1/openapi.json", headers=h).get_data(as_text=True)


def test_the_trial_form_keeps_what_was_typed_and_names_the_field(app, make, auth, client):
    make.user("unit1", role="unit")
    beats = [make.beat(), make.beat()]
    make.commit()
    auth.login("unit1")
    token = csrf_token_from(client.get("/evaluation/trials").get_data(as_text=True))
    data = {"csrf_token": token, "name": "Spring trial", "unit": "beat", "strata": "none",
            "baseline_start": "2026-01-01", "baseline_end": "2026-03-31", "follow_up_start": "2026-03-01",
            "follow_up_end": "2026-06-30", "outcomes": ["proactive_share"], "seed": "5",
            "eligible": ",".join(b.code for b in beats)}
    bad = client.post("/evaluation/trials", data=data)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Follow up" in html and 'value="Spring trial"' in html
    ok = client.post("/evaluation/trials", data={**data, "follow_up_start": "2026-04-01"})
    assert ok.status_code == 303
    page = client.get(ok.headers["Location"])
    token = csrf_token_from(page.get_data(as_text=True))
    tid = int(ok.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert client.post(f"/evaluation/trials/{tid}/allocate", data={"csrf_token": token}).status_code == 303
    x = client.post(f"/evaluation/trials/{tid}", data={"csrf_token": token, "unit_key": beats[0].code,
                                                      "kind": "moved_beat", "occurred_on": "2026-04-02"})
    assert x.status_code == 303
    assert "moved beat" in client.get(f"/evaluation/trials/{tid}").get_data(as_text=True)


def test_the_public_link_survives_a_fuzzer(app, make, client):
    """Any form fields, any values: never a 500, and only valid scores of the survey's own
    questions are ever stored."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    c = _campaign(make, 0)
    url = f"/s/{c.public_token}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    keys = [f"q_{i['key']}" for i in c.items] + ["name", "email", "phone", "answers", "csrf_token"]
    values = st.one_of(st.text(max_size=30), st.integers(-10, 10).map(str), st.sampled_from(["1", "5"]))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=10)), values, max_size=8))
    def post(data):
        data = {k: v.replace("\x00", "") for k, v in data.items()}
        r = client.post(url, data={**data, "csrf_token": token})
        assert r.status_code in (200, 400, 422), r.status_code

    post()
    allowed = {i["key"] for i in c.items}
    for answers in db.session.scalars(sa.select(SurveyResponse.answers)):
        assert set(answers) <= allowed and all(1 <= v <= 5 for v in answers.values())


def test_an_officer_sees_their_own_training_status(app, make, auth, client):
    make.user("ofc")
    for m in svc.DEFAULT_MODULES[:-1]:
        svc.record_completion(None, officer="ofc", module=m, completed_on=date(2026, 1, 2))
    make.commit()
    auth.login("ofc")
    body = client.get("/evaluation/training/mine").get_data(as_text=True)
    assert "5 of 6 modules" in body and "Proactive Guardian" not in body
    svc.record_completion(None, officer="ofc", module=svc.DEFAULT_MODULES[-1], completed_on=date(2026, 1, 3))
    db.session.commit()
    assert "Proactive Guardian" in client.get("/evaluation/training/mine").get_data(as_text=True)
