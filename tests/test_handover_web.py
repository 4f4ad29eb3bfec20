"""Hand-over pages, API and CLI (issue 15): the supervisor plans and transfers, the leaving
officer notes, the successor reads only what was given to them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.extensions import db
from crm.handovers.models import Handover
from tests.conftest import csrf_token_from
from tests.test_handover import build_world


@pytest.fixture
def world(make, today):
    return build_world(make, today)


def _headers(user):
    _, token = issue_token(user, user, "t")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _post(client, url, data, page):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_supervisor_plans_names_a_successor_and_transfers_on_pages(world, auth, client, today):
    w = world
    db.session.commit()
    auth.login("sup")
    r = _post(client, "/handovers/plan", {"officer_id": w.leaver.id, "beat_id": w.beat.id,
                                          "leaves_on": ""}, "/handovers/plan")
    assert r.status_code == 422 and "Last day on the beat" in r.get_data(as_text=True)
    r = _post(client, "/handovers/plan", {"officer_id": w.leaver.id, "beat_id": w.beat.id,
                                          "leaves_on": (today + timedelta(days=7)).isoformat()},
              "/handovers/plan")
    assert r.status_code == 303
    h = db.session.scalar(sa.select(Handover))
    page = client.get(f"/handovers/{h.id}").get_data(as_text=True)
    assert "Ada Rapport" in page and "in hand-over" in page and "hard to engage" in page
    r = _post(client, f"/handovers/{h.id}/transfer", {}, f"/handovers/{h.id}")
    assert r.status_code == 422 and "no successor yet" in r.get_data(as_text=True)
    r = _post(client, f"/handovers/{h.id}/successor", {"successor_id": w.succ.id}, f"/handovers/{h.id}")
    assert r.status_code == 303
    r = _post(client, f"/handovers/{h.id}/transfer", {}, f"/handovers/{h.id}")
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Handover, h.id).status == "transferred"
    auth.logout()
    auth.login("succ")
    page = client.get(f"/handovers/{h.id}").get_data(as_text=True)
    assert "Meet Ada Rapport with" in page
    assert client.get(f"/stakeholders/{w.p1.id}").status_code == 200
    assert client.get(f"/groups/{w.quiet.id}").status_code == 404


def test_leaving_officer_notes_and_a_stranger_gets_404(world, auth, client, make, today):
    w = world
    from crm.handovers.services import draft_handover
    h = draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    item = next(i for i in h.items if i.stakeholder_id == w.p1.id)
    make.user("stranger", beats=[w.other])
    db.session.commit()
    auth.login("leaver")
    page = client.get(f"/handovers/{h.id}").get_data(as_text=True)
    assert "Engagement record, not intelligence" in page
    long = "y" * 301
    r = _post(client, f"/handovers/items/{item.id}/note", {"note": long}, f"/handovers/{h.id}")
    assert r.status_code == 422 and long in r.get_data(as_text=True)  # nothing typed is lost
    r = _post(client, f"/handovers/items/{item.id}/note", {"note": "Likes the garden project"},
              f"/handovers/{h.id}")
    assert r.status_code == 303
    auth.logout()
    auth.login("stranger")
    assert client.get(f"/handovers/{h.id}").status_code == 404
    assert client.get("/handovers/99999999").status_code == 404


def test_api_plan_split_transfer_and_retention(world, client, make, today):
    w = world
    sup = _headers(w.sup)
    r = client.post("/api/v1/handovers/", json={"officer": "leaver", "beat": w.beat.code,
                                                 "leaves_on": "not a date"}, headers=sup)
    assert r.status_code == 422 and "leaves_on" in r.get_data(as_text=True)
    r = client.post("/api/v1/handovers/", json={"officer": "nobody", "beat": w.beat.code,
                                                 "leaves_on": today.isoformat()}, headers=sup)
    assert r.status_code == 422 and "officer" in r.json["errors"]["json"]
    r = client.post("/api/v1/handovers/", json={"officer": "leaver", "beat": w.beat.code,
                                                 "leaves_on": today.isoformat()}, headers=sup)
    assert r.status_code == 201, r.json
    hid = r.json["id"]
    person = next(i["id"] for i in r.json["items"] if i["label"] == "Bo Working")
    r = client.post(f"/api/v1/handovers/{hid}/successor", json={"successor": "succ2", "items": [person]},
                    headers=sup)
    assert r.status_code == 200
    r = client.post(f"/api/v1/handovers/{hid}/transfer", json={}, headers=sup)
    assert r.status_code == 422
    client.post(f"/api/v1/handovers/{hid}/successor", json={"successor": "succ"}, headers=sup)
    r = client.post(f"/api/v1/handovers/{hid}/transfer", json={}, headers=sup)
    assert r.status_code == 200 and r.json["status"] == "transferred"
    # Each successor reads only their share.
    r = client.get(f"/api/v1/handovers/{hid}", headers=_headers(w.succ2))
    assert [i["label"] for i in r.json["items"]] == ["Bo Working"]
    assert client.get(f"/api/v1/handovers/{hid}", headers=_headers(make.user("x", beats=[w.other]))
                      ).status_code == 404
    # The officer cannot plan.
    assert client.post("/api/v1/handovers/", json={"officer": "leaver", "beat": w.beat.code,
                                                    "leaves_on": today.isoformat()},
                       headers=_headers(w.succ)).status_code == 403
    make.contact(w.succ2, stakeholders=[w.p2], occurred_at=datetime.utcnow() + timedelta(seconds=1))
    db.session.commit()
    r = client.get("/api/v1/handovers/retention?days=30", headers=sup)
    assert r.status_code == 200
    assert r.json == [{"beat": w.beat.code, "handover_id": hid, "transferred_on": today.isoformat(),
                       "relationships": 2, "within": {"30": 1, "60": 1, "90": 1}}]


def test_cli_plan_show_transfer(world, runner, today):
    w = world
    db.session.commit()
    r = runner.invoke(args=["crm", "handover", "plan", "--officer", "leaver", "--beat", w.beat.code])
    assert r.exit_code == 0, r.output
    hid = db.session.scalar(sa.select(Handover.id))
    assert "Ada Rapport" in r.output and "draft" in r.output
    r = runner.invoke(args=["crm", "handover", "transfer", str(hid), "--to", "nobody"])
    assert r.exit_code != 0 and "unknown user nobody" in r.output
    r = runner.invoke(args=["crm", "handover", "transfer", str(hid), "--to", "succ"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["crm", "handover", "show", str(hid)])
    assert "transferred" in r.output and "Introduce yourself to Ada Rapport" not in r.output
    assert "Meet Ada Rapport with" in r.output


def test_coverage_page_shows_the_beat_in_hand_over_then_the_figures(world, auth, client, today):
    from crm.handovers import services as hs
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    db.session.commit()
    auth.login("sup")
    page = client.get("/analytics/coverage").get_data(as_text=True)
    assert "in hand-over" in page and "Re-established in 30 days" not in page
    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    db.session.commit()
    page = client.get("/analytics/coverage").get_data(as_text=True)
    assert "Re-established in 30 days" in page and 'class="pill in-handover"' not in page
