"""Trust trends (group page, coverage page, API), the trial page's balance and means chart,
and the pseudonymised panel as Parquet (issue 14 items 4-5)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
import sqlalchemy as sa

from crm.evaluation import services as svc
from crm.extensions import db

BASE = (date(2026, 1, 1), date(2026, 3, 31))
FOLLOW = (date(2026, 4, 1), date(2026, 6, 30))


def _wave(campaign_kw, name, opens, answers):
    c = svc.create_campaign(None, name=name, opens_on=opens, closes_on=opens + timedelta(days=30),
                            **campaign_kw)
    for a in answers:
        svc.submit_response(None, c, {"trust": a}, source="paper", today=opens)
    return c


def _surveyed_group(make):
    d = make.district("07")
    beat = make.beat("0711", d)
    group = make.group("Maple Tenants", beats=[beat])
    _wave({"group_id": group.id}, "Spring wave", date(2026, 3, 1), [3, 3, 4, 2, 3, 4])   # n 6, mean 3.17
    _wave({"group_id": group.id}, "Summer wave", date(2026, 6, 1), [5, 5, 4])            # n 3: hidden
    _wave({"group_id": group.id}, "Autumn wave", date(2026, 9, 1), [4, 4, 5, 4, 5, 4, 4])  # n 7, mean 4.29
    return d, beat, group


def test_the_group_page_shows_the_trust_trend_with_n_and_a_band_never_below_five(app, make, auth, client):
    d, beat, group = _surveyed_group(make)
    make.user("ofc", beats=[beat])
    make.commit()
    auth.login("ofc")
    body = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert 'id="trust-trend"' in body and "<svg" in body
    assert "n = 6" in body and "n = 7" in body and "3.17" in body and "4.29" in body
    assert "class=\"trust-band\"" in body, "the 95 % band joins the waves with numbers"
    # The three-answer summer wave is there as a wave, without a single number of its own.
    assert "Summer wave: fewer than 5 answers" in body
    assert "n = 3" not in body and "4.67" not in body


def test_a_group_without_survey_waves_shows_no_trend(app, make, auth, client):
    beat = make.beat()
    group = make.group("Quiet Street", beats=[beat])
    make.user("ofc", beats=[beat])
    make.commit()
    auth.login("ofc")
    assert 'id="trust-trend"' not in client.get(f"/groups/{group.id}").get_data(as_text=True)


def test_the_supervisors_coverage_page_shows_beat_and_group_trends(app, make, auth, client):
    d, beat, group = _surveyed_group(make)
    _wave({"beat_id": beat.id}, "Beat wave", date(2026, 5, 1), [2, 3, 3, 2, 3])
    make.user("sarge", role="supervisor", district=d)
    make.commit()
    auth.login("sarge")
    r = client.get("/analytics/coverage")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="trust-trend"' in body
    assert "Beat 0711" in body and "Maple Tenants" in body
    assert "n = 5" in body and "n = 3" not in body


def test_the_trend_api_answers_in_scope_and_refuses_elsewhere(app, make, client):
    from crm.users.services import issue_token
    d, beat, group = _surveyed_group(make)
    other = make.group("Elsewhere", beats=[make.beat("0911", make.district("09"))])
    officer = make.user("ofc", beats=[beat])
    analyst = make.user("ana", role="analyst")
    tokens = {u.username: issue_token(None, u, "t")[1] for u in (officer, analyst)}
    make.commit()

    def get(who, url):
        return client.get(url, headers={"Authorization": f"Bearer {tokens[who]}"})

    doc = get("ofc", f"/api/v1/surveys/trend?group={group.id}").get_json()
    assert doc["kind"] == "group" and doc["k"] == 5
    assert [(p["campaign"], p["n"]) for p in doc["points"]] == [
        ("Spring wave", 6), ("Summer wave", None), ("Autumn wave", 7)]
    hidden = doc["points"][1]
    assert hidden["mean"] is None and hidden["ci_low"] is None
    assert doc["points"][0]["ci_low"] < doc["points"][0]["mean"] < doc["points"][0]["ci_high"]
    assert get("ofc", f"/api/v1/surveys/trend?group={other.id}").status_code == 404
    assert get("ofc", "/api/v1/surveys/trend?beat=0911").status_code == 404
    assert get("ofc", "/api/v1/surveys/trend").status_code == 422
    assert get("ofc", f"/api/v1/surveys/trend?group={group.id}&beat=0711").status_code == 422
    assert get("ana", "/api/v1/surveys/trend?beat=0711").get_json()["points"] == []
    assert get("ana", f"/api/v1/surveys/trend?group={other.id}").status_code == 200


def _allocated_trial(make, unit="beat"):
    admin = make.user("adm", role="admin")
    d1, d2 = make.district("01"), make.district("02")
    beats = [make.beat(f"1{i:02d}", d1) for i in range(3)] + [make.beat(f"2{i:02d}", d2) for i in range(3)]
    for i, b in enumerate(beats):
        o = make.user(f"officer-name-{i}", beats=[b])
        for k in range(4):
            make.contact(o, beat=b, occurred_at=datetime(2026, 2, 1 + k),
                         initiated_by="proactive" if k < 1 + i % 3 else "reactive")
            make.contact(o, beat=b, occurred_at=datetime(2026, 5, 1 + k),
                         initiated_by="proactive" if k < 2 + i % 2 else "reactive")
    t = svc.create_trial(admin, name="Panel trial", unit=unit, strata="district" if unit == "beat" else "none",
                         baseline=BASE, follow_up=FOLLOW, outcomes=["proactive_share", "groups_reached"], seed=3)
    svc.allocate_trial(admin, t)
    make.commit()
    return t


def test_the_trial_page_shows_balance_means_chart_and_both_panel_formats(app, make, auth, client):
    t = _allocated_trial(make)
    auth.login("adm")
    body = client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)
    assert "Baseline balance" in body and "Standardised difference" in body
    assert 'id="means-proactive_share"' in body and "<polyline" in body
    assert f"/evaluation/trials/{t.id}/panel.parquet" in body and f"/evaluation/trials/{t.id}/panel.csv" in body
    doc = svc.trial_report(None, t)
    contacts = doc["balance"][0]
    assert contacts["label"] == "contacts" and contacts["treatment"]["mean"] == 4.0
    assert {s["stratum"]: s["treatment"] + s["control"] for s in doc["strata"]} == {"01": 3, "02": 3}


def test_the_parquet_panel_loads_with_one_row_per_unit_and_period_and_no_names(app, make, auth, client):
    t = _allocated_trial(make, unit="officer")
    make.user("ana", role="analyst")
    make.commit()
    auth.login("ana")
    r = client.get(f"/evaluation/trials/{t.id}/panel.parquet")
    assert r.status_code == 200 and r.mimetype == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.data))
    assert table.column_names == ["unit", "arm", "stratum", "period", "period_start", "period_end",
                                  "contacts", "proactive_share", "groups_reached"]
    rows = table.to_pylist()
    assert len(rows) == 2 * len(t.units) == 12
    assert {r["period"] for r in rows} == {"baseline", "follow_up"}
    assert {r["arm"] for r in rows} == {"treatment", "control"}
    assert all(r["unit"].startswith("O-") for r in rows)
    assert table.schema.metadata[b"design_hash"].decode() == t.design_hash
    assert b"officer-name" not in r.data
    csv_text = client.get(f"/evaluation/trials/{t.id}/panel.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == ("unit,arm,stratum,period,period_start,period_end,contacts,"
                                        "proactive_share,groups_reached")
    assert len(csv_text.splitlines()) == 13 and "officer-name" not in csv_text
    api = client.get(f"/api/v1/trials/{t.id}/panel?format=parquet&outcome=proactive_share")
    assert api.status_code == 200
    assert pq.read_table(io.BytesIO(api.data)).column_names[-1] == "proactive_share"
    assert client.get(f"/api/v1/trials/{t.id}/panel?format=xlsx").status_code == 422
    assert client.get(f"/evaluation/trials/{t.id}/panel.csv?outcome=bogus").status_code == 422


def test_each_export_is_audited(app, make):
    from crm.models import AuditEvent
    t = _allocated_trial(make)
    svc.export_panel(None, t, fmt="parquet")
    ev = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "trial.export")).all()
    assert ev[-1].detail["format"] == "parquet" and ev[-1].detail["rows"] == 12


def test_a_supervisor_gets_no_arms_in_the_panel_unless_the_trial_shows_them(app, make, auth, client):
    t = _allocated_trial(make)
    make.user("sarge", role="supervisor", district=make.district("03"))
    make.commit()
    auth.login("sarge")
    rows = pq.read_table(io.BytesIO(client.get(f"/evaluation/trials/{t.id}/panel.parquet").data)).to_pylist()
    assert rows and {r["arm"] for r in rows} == {None}
    t.arms_visible_to_supervisors = True
    db.session.commit()
    rows = pq.read_table(io.BytesIO(client.get(f"/evaluation/trials/{t.id}/panel.parquet").data)).to_pylist()
    assert {r["arm"] for r in rows} == {"treatment", "control"}


def test_a_surveys_page_charts_its_group_trend(app, make, auth, client):
    d, beat, group = _surveyed_group(make)
    make.user("sarge", role="supervisor", district=d)
    make.commit()
    from crm.models import SurveyCampaign
    c = db.session.scalar(sa.select(SurveyCampaign).where(SurveyCampaign.name == "Autumn wave"))
    auth.login("sarge")
    body = client.get(f"/evaluation/surveys/{c.id}").get_data(as_text=True)
    assert 'id="trust-trend"' in body and "n = 7" in body and "n = 3" not in body
