"""Relations between groups: can the unit declare, edit and end them, and not duplicate them?"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups import services
from crm.models import AuditEvent, GroupAssignment, GroupRelation
from tests.conftest import csrf_token_from


@pytest.fixture
def world(make):
    b1, b2 = make.beat("0111"), make.beat("0222")
    unit = make.user("unit1", role="unit")
    officer = make.user("jdoe", beats=[b1])
    admin = make.user("boss", role="admin")
    bars = make.group("Bar Owners", beats=[b1], kind="business")
    residents = make.group("Main St Residents", beats=[b1], kind="geographic")
    far = make.group("Far Church", beats=[b2], kind="faith")
    for g in (bars, residents):
        db.session.add(GroupAssignment(user_id=unit.id, group_id=g.id))
    tokens = {}
    for u in (unit, officer, admin):
        _, plain = issue_token(u, u, "tests")
        tokens[u.username] = {"Authorization": f"Bearer {plain}"}
    make.commit()
    return {"unit": unit, "officer": officer, "admin": admin, "bars": bars,
            "residents": residents, "far": far, "h": tokens}


# ---- services ---------------------------------------------------------------------------

def test_declare_relation_records_and_audits(world):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"],
                                    "competing", "late-night noise", None)
    assert rel.is_current and rel.starts_on == date.today()
    ev = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "group_relation.create"))
    # The issue is typed text (it may name someone): the trail says one was given.
    assert ev.detail["after"]["issue"] == "[redacted]" and ev.detail["after"]["type"] == "competing"


def test_relation_to_itself_is_refused_on_the_other_group_field(world):
    with pytest.raises(ValidationError) as e:
        services.declare_relation(world["unit"], world["bars"], world["bars"], "allied")
    assert "group_b_id" in e.value.errors


def test_duplicate_current_relation_is_refused_in_either_order(world):
    services.declare_relation(world["unit"], world["bars"], world["residents"], "competing")
    with pytest.raises(ValidationError) as e:
        services.declare_relation(world["unit"], world["residents"], world["bars"], "competing")
    assert "already have a current competing relation" in e.value.errors["group_b_id"][0]
    # A different kind of relation between the same pair is a different fact.
    services.declare_relation(world["unit"], world["residents"], world["bars"], "overlapping")


def test_an_ended_relation_can_be_declared_again(world):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied",
                                    starts_on=date.today() - timedelta(days=30))
    services.end_relation(world["unit"], rel, date.today() - timedelta(days=1), rel.version_id)
    assert not rel.is_current
    again = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied")
    assert again.is_current


def test_end_relation_refuses_a_date_before_the_start_and_a_stale_version(world):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied")
    with pytest.raises(ValidationError) as e:
        services.end_relation(world["unit"], rel, date.today() - timedelta(days=5), rel.version_id)
    assert "ends_on" in e.value.errors
    with pytest.raises(ConflictError):
        services.end_relation(world["unit"], rel, None, rel.version_id + 1)


def test_update_relation_changes_type_and_issue_with_before_and_after(world):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied",
                                    "parking")
    services.update_relation(world["unit"], rel, {"type": "competing", "issue": "noise"},
                             rel.version_id)
    ev = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "group_relation.update"))
    assert ev.detail["before"]["type"] == "allied" and ev.detail["after"]["type"] == "competing"


# ---- pages ------------------------------------------------------------------------------

def _show(client, gid):
    r = client.get(f"/groups/{gid}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_unit_declares_a_relation_from_the_group_page(world, auth, client):
    auth.login("unit1")
    html = _show(client, world["bars"].id)
    assert "Declare a relation" in html
    # The type-ahead picker offers groups the user can see, never hidden ones.
    assert 'data-picker-url="/pick/groups.json"' in html and 'name="group_b_id"' in html
    assert [g["name"] for g in client.get("/pick/groups.json?q=resid").get_json()] == ["Main St Residents"]
    assert client.get("/pick/groups.json?q=Church").get_json() == []  # Far Church is not theirs
    # Without JavaScript the typed name is enough when it names one visible group.
    r = client.post(f"/groups/{world['bars'].id}/relations", data={
        "csrf_token": csrf_token_from(html), "group_b_id": "Main St Residents",
        "type": "competing", "issue": "late-night noise", "starts_on": ""})
    assert r.status_code == 303
    html = _show(client, world["bars"].id)
    assert "late-night noise" in html and "rel-competing" in html
    # And it shows from the other side too.
    assert "late-night noise" in _show(client, world["residents"].id)


def test_duplicate_relation_on_the_page_is_422_with_a_field_message(world, auth, client):
    services.declare_relation(world["unit"], world["bars"], world["residents"], "competing")
    db.session.commit()
    auth.login("unit1")
    html = _show(client, world["residents"].id)
    r = client.post(f"/groups/{world['residents'].id}/relations", data={
        "csrf_token": csrf_token_from(html), "group_b_id": world["bars"].id,
        "type": "competing", "issue": "typed issue"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'class="field-error">Other group: .*already have a current competing', html)
    assert 'value="typed issue"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GroupRelation)) == 1


def test_relation_to_a_hidden_group_is_refused(world, auth, client):
    auth.login("unit1")
    html = _show(client, world["bars"].id)
    r = client.post(f"/groups/{world['bars'].id}/relations", data={
        "csrf_token": csrf_token_from(html), "group_b_id": world["far"].id, "type": "allied"})
    assert r.status_code == 422
    assert "Other group: choose the other group" in r.get_data(as_text=True)


def test_edit_relation_page_saves_type_and_issue(world, auth, client):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied",
                                    "parking")
    db.session.commit()
    auth.login("unit1")
    url = f"/groups/{world['bars'].id}/relations/{rel.id}/edit"
    html = client.get(url).get_data(as_text=True)
    r = client.post(url, data={"csrf_token": csrf_token_from(html), "type": "competing",
                               "issue": "noise after 2am", "starts_on": rel.starts_on.isoformat(),
                               "ends_on": "", "version_id": "1"})
    assert r.status_code == 303
    html = _show(client, world["bars"].id)
    assert "noise after 2am" in html and "rel-competing" in html


def test_stale_relation_edit_shows_both_versions_and_keeps_the_saved_one(world, auth, client):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied",
                                    "parking")
    db.session.commit()
    auth.login("unit1")
    url = f"/groups/{world['bars'].id}/relations/{rel.id}/edit"
    html = client.get(url).get_data(as_text=True)
    rel.issue = "colleague edit"
    db.session.commit()
    r = client.post(url, data={"csrf_token": csrf_token_from(html), "type": "competing",
                               "issue": "my edit", "starts_on": "", "ends_on": "",
                               "version_id": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Someone else saved this first" in html
    assert "my edit" in html and "colleague edit" in html
    rel = db.session.get(GroupRelation, rel.id)
    assert rel.issue == "colleague edit" and rel.type == "allied"


def test_end_relation_from_the_group_page_moves_it_to_ended(world, auth, client):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied",
                                    "parking", date.today() - timedelta(days=10))
    db.session.commit()
    auth.login("unit1")
    html = _show(client, world["bars"].id)
    r = client.post(f"/groups/{world['bars'].id}/relations/{rel.id}/end",
                    data={"csrf_token": csrf_token_from(html), "version_id": "1"})
    assert r.status_code == 303
    rel = db.session.get(GroupRelation, rel.id)
    assert rel.ends_on == date.today()
    # The end date is the last day of the relation: it shows until today, then moves to ended.
    html = _show(client, world["bars"].id)
    row = html[html.index(f'id="relation-{rel.id}"'):]
    row = row[:row.index("</tr>")]
    assert date.today().isoformat() in row and "End today" not in row
    services.update_relation(world["unit"], rel, {"ends_on": date.today() - timedelta(days=1)},
                             rel.version_id)
    db.session.commit()
    html = _show(client, world["bars"].id)
    assert "No current relations declared." in html and "Ended (1)" in html


def test_officer_sees_relations_but_cannot_change_them(world, auth, client):
    rel = services.declare_relation(world["unit"], world["bars"], world["residents"], "allied")
    db.session.commit()
    auth.login("jdoe")
    html = _show(client, world["bars"].id)
    assert "Main St Residents" in html and "Declare a relation" not in html
    assert client.get(f"/groups/{world['bars'].id}/relations/{rel.id}/edit").status_code == 403


def test_relation_of_another_group_is_404_under_this_group(world, auth, client):
    rel = services.declare_relation(world["admin"], world["residents"], world["far"], "allied")
    db.session.commit()
    auth.login("unit1")
    assert client.get(f"/groups/{world['bars'].id}/relations/{rel.id}/edit").status_code == 404


# ---- API --------------------------------------------------------------------------------

def test_api_creates_lists_updates_ends_and_deletes_relations(world, client):
    h = world["h"]["unit1"]
    r = client.post("/api/v1/relations/", headers=h, json={
        "group_a_id": world["bars"].id, "group_b_id": world["residents"].id,
        "type": "competing", "issue": "noise",
        "starts_on": (date.today() - timedelta(days=10)).isoformat()})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    assert r.get_json()["group_b"]["name"] == "Main St Residents"
    listed = client.get(f"/api/v1/relations/?group_id={world['residents'].id}&current=true",
                        headers=h).get_json()
    assert [x["id"] for x in listed] == [rid]
    assert client.get("/api/v1/relations/?type=allied", headers=h).get_json() == []
    r = client.patch(f"/api/v1/relations/{rid}", headers=h,
                     json={"issue": "noise and litter", "version_id": 1})
    assert r.status_code == 200 and r.get_json()["issue"] == "noise and litter"
    r = client.patch(f"/api/v1/relations/{rid}", headers=h, json={"issue": "x", "version_id": 1})
    assert r.status_code == 409 and r.get_json()["current"]["issue"] == "noise and litter"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    r = client.post(f"/api/v1/relations/{rid}/end", headers=h,
                    json={"version_id": 2, "ends_on": yesterday})
    assert r.status_code == 200 and r.get_json()["is_current"] is False
    assert client.get("/api/v1/relations/?current=true", headers=h).get_json() == []
    ended = client.get("/api/v1/relations/?current=false", headers=h).get_json()
    assert [x["ends_on"] for x in ended] == [yesterday]
    assert client.delete(f"/api/v1/relations/{rid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/relations/{rid}", headers=h).status_code == 404


def test_api_refuses_self_duplicate_and_unknown_groups_per_field(world, client):
    h = world["h"]["unit1"]
    body = {"group_a_id": world["bars"].id, "group_b_id": world["bars"].id, "type": "allied"}
    r = client.post("/api/v1/relations/", headers=h, json=body)
    assert r.status_code == 422 and "group_b_id" in r.get_json()["errors"]["json"]
    body["group_b_id"] = world["residents"].id
    assert client.post("/api/v1/relations/", headers=h, json=body).status_code == 201
    body = {**body, "group_a_id": world["residents"].id, "group_b_id": world["bars"].id}
    r = client.post("/api/v1/relations/", headers=h, json=body)
    assert r.status_code == 422 and "group_b_id" in r.get_json()["errors"]["json"]
    body["group_b_id"] = world["far"].id  # not visible to this unit member
    r = client.post("/api/v1/relations/", headers=h, json=body)
    assert r.status_code == 422 and "group_b_id" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/relations/", headers=h, json={**body, "type": "friends"})
    assert r.status_code == 422 and "type" in r.get_json()["errors"]["json"]


def test_api_relations_are_scoped_and_role_checked(world, client):
    rel = services.declare_relation(world["admin"], world["bars"], world["residents"], "allied")
    db.session.commit()
    # An officer reads relations of groups in their beats but may not change them.
    h = world["h"]["jdoe"]
    assert client.get(f"/api/v1/relations/{rel.id}", headers=h).status_code == 200
    assert client.patch(f"/api/v1/relations/{rel.id}", headers=h,
                        json={"issue": "x", "version_id": 1}).status_code == 403
    assert client.delete(f"/api/v1/relations/{rel.id}", headers=h).status_code == 403
    assert client.get("/api/v1/relations/999999", headers=h).status_code == 404
