"""Issue 12 items 4 and 5: can a supervisor assign the gap, and an officer ask for an introduction?"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm.assignments import services
from crm.assignments.models import Assignment
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import AuditEvent
from tests.conftest import csrf_token_from
from tests.test_contacts import open_form
from tests.test_contacts_api import bearer
from tests.test_network_pages import intro_world  # noqa: F401  (fixture)


@pytest.fixture
def district(make):
    """Sergeant Ray's district D1 (beat 1622, officers Dee and Eli); district D2 elsewhere."""
    d1, d2 = make.district("D1"), make.district("D2")
    b1, b2 = make.beat("1622", d1), make.beat("0999", d2)
    sarge = make.user("ray", role="supervisor", district=d1)
    dee, eli = make.user("dee", beats=[b1]), make.user("eli", beats=[b1])
    far = make.user("far", beats=[b2])
    wary = make.group("Quiet Tenants", beats=[b1], stance="wary")
    other = make.group("Far Block", beats=[b2])
    make.commit()
    return dict(sarge=sarge, dee=dee, eli=eli, far=far, wary=wary, other=other, b1=b1)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def assign(client, group, officer, due: date, note: str = ""):
    page = client.get(f"/assignments/new?group={group.id}")
    assert page.status_code == 200
    return client.post(f"/assignments/new?group={group.id}", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "group_id": group.id,
        "officer_id": officer.id, "due_on": due.isoformat(), "note": note})


def test_a_supervisor_assigns_a_visit_that_lands_on_the_officers_pages(district, auth, client):
    w = district
    due = date.today() + timedelta(days=10)
    auth.login("ray")
    r = assign(client, w["wary"], w["dee"], due, note="Knock on the chair's door")
    assert r.status_code == 303
    a = db.session.scalar(sa.select(Assignment))
    assert (a.officer_id, a.group_id, a.due_on, a.status, a.kind) == (
        w["dee"].id, w["wary"].id, due, "open", "visit")
    assert [e.detail["officer"] for e in events("assignment.create")] == [w["dee"].id]
    cov = client.get("/analytics/coverage").get_data(as_text=True)
    assert f"assigned to {w['dee'].display_name}, due {due.isoformat()}" in cov
    client.post("/logout", data={"csrf_token": csrf_token_from(cov)})
    auth.login("dee")
    for url in ("/", "/contacts/follow-ups"):
        html = client.get(url).get_data(as_text=True)
        section = html[html.index('id="assigned-visits"'):]
        assert "Quiet Tenants" in section and due.isoformat() in section
        assert "Knock on the chair&#39;s door" in section


def test_a_supervisor_cannot_assign_outside_their_district(district, auth, client):
    w = district
    auth.login("ray")
    assert client.get(f"/assignments/new?group={w['other'].id}").status_code == 404
    r = assign(client, w["wary"], w["far"], date.today() + timedelta(days=3))
    assert r.status_code == 422
    assert "Officer: is not an officer working a beat of your district" in r.get_data(as_text=True)
    with pytest.raises(ValidationError) as e:
        services.assign_visit(w["sarge"], {"group_id": w["other"].id, "officer_id": w["dee"].id,
                                           "due_on": date.today()})
    assert "group_id" in e.value.errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_an_officer_cannot_assign(district, auth, client):
    auth.login("dee")
    assert client.get(f"/assignments/new?group={district['wary'].id}").status_code == 403


def test_a_past_due_date_is_refused_naming_the_field(district):
    w = district
    with pytest.raises(ValidationError) as e:
        services.assign_visit(w["sarge"], {"group_id": w["wary"].id, "officer_id": w["dee"].id,
                                           "due_on": date.today() - timedelta(days=1)})
    assert e.value.errors["due_on"] == ["is in the past"]


def log_contact_with(client, group, officer_ids=()):
    _, fields = open_form(client)
    fields.update({"group_ids": [str(group.id)], "officer_ids": [str(i) for i in officer_ids]})
    assert client.post("/contacts/new", data=fields).status_code == 303


def test_the_assigned_officers_contact_closes_it_a_colleagues_does_not(district, auth, client):
    w = district
    a = services.assign_visit(w["sarge"], {"group_id": w["wary"].id, "officer_id": w["dee"].id,
                                           "due_on": date.today() + timedelta(days=5)},
                              chain=None)
    db.session.commit()
    auth.login("eli")
    log_contact_with(client, w["wary"])
    db.session.refresh(a)
    assert a.status == "open"  # Eli's visit is Eli's: Dee was asked to build the relationship
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    auth.login("dee")
    log_contact_with(client, w["wary"])
    db.session.refresh(a)
    assert a.status == "done" and a.closed_by_id == w["dee"].id and a.contact_id is not None
    assert [e.detail["contact"] for e in events("assignment.close")] == [a.contact_id]


def test_a_co_officer_on_the_contact_counts_as_taking_part(district, auth, client):
    w = district
    a = services.assign_visit(w["sarge"], {"group_id": w["wary"].id, "officer_id": w["dee"].id,
                                           "due_on": date.today() + timedelta(days=5)}, chain=None)
    db.session.commit()
    auth.login("eli")
    log_contact_with(client, w["wary"], officer_ids=[w["dee"].id])
    db.session.refresh(a)
    assert a.status == "done"


def test_the_coverage_page_lists_overdue_assignments(district, auth, client):
    w = district
    a = services.assign_visit(w["sarge"], {"group_id": w["wary"].id, "officer_id": w["eli"].id,
                                           "due_on": date.today()}, chain=None)
    a.due_on = date.today() - timedelta(days=2)  # two days later, still not visited
    db.session.commit()
    auth.login("ray")
    html = client.get("/analytics/coverage").get_data(as_text=True)
    section = html[html.index('id="overdue-assignments"'):]
    assert "Quiet Tenants" in section and "overdue" in section and w["eli"].display_name in section
    assert "Quiet Tenants" in client.get("/").get_data(as_text=True).split('id="overdue-assignments"')[1]


def test_the_suggested_introduction_is_attached(district, make, monkeypatch):
    w = district
    ana = make.stakeholder("Ana Lopez")
    chain = {"officer": {"id": w["dee"].id, "name": "Dee"}, "hops": 2, "stage": "rapport",
             "steps": [{"kind": "officer", "id": w["dee"].id, "name": "Dee"},
                       {"kind": "stakeholder", "id": ana.id, "name": None},
                       {"kind": "group", "id": w["wary"].id, "name": "Quiet Tenants"}]}
    seen = []
    monkeypatch.setattr(services, "suggested_chain",
                        lambda officer, gid: seen.append((officer.id, gid)) or chain)
    a = services.assign_visit(w["sarge"], {"group_id": w["wary"].id, "officer_id": w["dee"].id,
                                           "due_on": date.today()})
    assert seen == [(w["dee"].id, w["wary"].id)]
    assert a.chain == chain and a.stakeholder_id == ana.id
    assert services.chain_text(a.chain, {}, w["dee"]) == "You → a member → Quiet Tenants"


def test_the_api_assigns_lists_and_cancels_in_scope(district, make, client):
    w = district
    body = {"group_id": w["wary"].id, "officer_id": w["dee"].id,
            "due_on": (date.today() + timedelta(days=4)).isoformat()}
    r = client.post("/api/v1/assignments/", json=body, headers=bearer(make, w["dee"]))
    assert r.status_code == 403
    sarge = bearer(make, w["sarge"])
    r = client.post("/api/v1/assignments/", json=dict(body, group_id=w["other"].id), headers=sarge)
    assert r.status_code == 422 and "group_id" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/assignments/", json=body, headers=sarge)
    assert r.status_code == 201
    ident = r.get_json()["id"]
    mine = client.get("/api/v1/assignments/?mine=true", headers=bearer(make, w["dee"])).get_json()
    assert [x["id"] for x in mine] == [ident] and mine[0]["officer"]["id"] == w["dee"].id
    assert client.get("/api/v1/assignments/", headers=bearer(make, w["far"])).get_json() == []
    assert client.post(f"/api/v1/assignments/{ident}/cancel",
                       headers=bearer(make, w["far"])).status_code == 404
    r = client.post(f"/api/v1/assignments/{ident}/cancel", headers=sarge)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert len(events("assignment.cancel")) == 1


# ---- item 5: ask for an introduction ---------------------------------------------------------


def test_one_tap_on_my_chain_makes_a_follow_up_with_the_chain(intro_world, make, auth, client):  # noqa: F811
    w = intro_world
    make.commit()
    auth.login("jdoe")
    html = client.get("/analytics/my-beat").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/assignments/introduction".*?</form>', html, re.S)
    assert form, "no ask-for-introduction button on the officer's chain"
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)))
    assert fields["stakeholder_id"] == str(w["s"].id) and fields["group_id"] == str(w["t"].id)
    r = client.post("/assignments/introduction", data=fields)
    assert r.status_code == 303 and r.headers["Location"].endswith("/contacts/follow-ups")
    a = db.session.scalar(sa.select(Assignment))
    assert (a.kind, a.officer_id, a.stakeholder_id, a.group_id) == (
        "introduction", w["officer"].id, w["s"].id, w["t"].id)
    assert a.note.startswith("Ask Sam Bridge for an introduction to Quiet Mosque. Chain: "
                             "You → Sam Bridge → Allotment Society → Pat Link → Quiet Mosque")
    assert client.post("/assignments/introduction", data=fields).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1  # no twin
    page = client.get("/contacts/follow-ups").get_data(as_text=True)
    # A page a phone keeps (issue 16): the people in the chain by first name only.
    assigned = page.split('id="assigned-visits"')[1]
    assert "Ask Sam for an introduction" in assigned
    assert "Chain: You → Sam → Allotment Society → Pat → Quiet Mosque" in assigned
    assert "Bridge" not in page and "Pat Link" not in page
    # Talking to Sam closes it.
    _, form_fields = open_form(client)
    form_fields.update({"stakeholder_ids": [str(w["s"].id)], "beat_id": str(w["beat"].id)})
    assert client.post("/contacts/new", data=form_fields).status_code == 303
    db.session.refresh(a)
    assert a.status == "done"


def test_a_chain_that_is_not_mine_is_refused(intro_world, make, auth, client):  # noqa: F811
    w = intro_world
    make.commit()
    auth.login("jdoe")
    html = client.get("/analytics/my-beat").get_data(as_text=True)
    r = client.post("/assignments/introduction", data={
        "csrf_token": csrf_token_from(html), "group_id": w["t"].id, "stakeholder_id": w["p"].id})
    assert r.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
