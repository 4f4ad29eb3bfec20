"""Memberships: can the unit add people to groups, change their role and record that they left?"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups import services
from crm.models import AuditEvent, GroupAssignment, Membership
from tests.conftest import csrf_token_from


@pytest.fixture
def world(make):
    b1, b2 = make.beat("0111"), make.beat("0222")
    unit = make.user("unit1", role="unit")
    officer = make.user("jdoe", beats=[b1])
    admin = make.user("boss", role="admin")
    club = make.group("Block Club", beats=[b1])
    church = make.group("Corner Church", beats=[b1])
    far = make.group("Far Shop", beats=[b2])
    for g in (club, church):
        db.session.add(GroupAssignment(user_id=unit.id, group_id=g.id))
    ana = make.stakeholder("Ana Leader")
    make.membership(ana, church)          # visible to the unit through the church
    stranger = make.stakeholder("Sam Stranger")
    make.membership(stranger, far)        # not visible to the unit
    tokens = {}
    for u in (unit, officer, admin):
        _, plain = issue_token(u, u, "tests")
        tokens[u.username] = {"Authorization": f"Bearer {plain}"}
    make.commit()
    return {"unit": unit, "officer": officer, "admin": admin, "club": club, "church": church,
            "far": far, "ana": ana, "stranger": stranger, "h": tokens}


# ---- services ---------------------------------------------------------------------------

def test_add_membership_audits_and_refuses_a_second_row(world):
    m = services.add_membership(world["unit"], world["ana"], world["club"], "leader", None)
    assert m.starts_on == date.today()
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "membership.create"))
    assert ev.detail["after"]["role"] == "leader"
    with pytest.raises(ValidationError) as e:
        services.add_membership(world["unit"], world["ana"], world["club"], "member")
    assert e.value.errors["stakeholder_id"] == ["is already a member of this group"]


def test_bad_role_and_missing_person_name_their_fields(world):
    with pytest.raises(ValidationError) as e:
        services.add_membership(world["unit"], None, world["club"], "boss")
    assert set(e.value.errors) == {"stakeholder_id", "role"}


def test_end_and_reopen_membership_with_version_check(world):
    m = services.add_membership(world["unit"], world["ana"], world["club"], "member",
                                date.today() - timedelta(days=30))
    services.end_membership(world["unit"], m, date.today(), m.version_id)
    assert m.ends_on == date.today()
    with pytest.raises(ConflictError):
        services.update_membership(world["unit"], m, {"role": "leader"}, 1)
    with pytest.raises(ValidationError) as e:
        services.update_membership(world["unit"], m, {"ends_on": date.today() - timedelta(days=60)},
                                   m.version_id)
    assert "ends_on" in e.value.errors
    services.update_membership(world["unit"], m, {"ends_on": None}, m.version_id)
    assert m.ends_on is None


# ---- pages ------------------------------------------------------------------------------

def _show(client, gid):
    r = client.get(f"/groups/{gid}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_unit_adds_a_visible_person_from_the_group_page(world, auth, client):
    auth.login("unit1")
    html = _show(client, world["club"].id)
    # The person picker suggests people the user may see (the people search), never others.
    assert 'data-picker-url="/stakeholders/search"' in html and 'id="stakeholder_id"' in html
    offered = [p["name"] for p in client.get("/stakeholders/search?q=Ana").get_json()]
    assert "Ana Leader" in offered
    assert "Sam Stranger" not in [p["name"] for p in client.get("/stakeholders/search?q=Sam").get_json()]
    r = client.post(f"/groups/{world['club'].id}/memberships", data={
        "csrf_token": csrf_token_from(html), "stakeholder_id": f"Ana Leader (#{world['ana'].id})",
        "role": "spokesperson", "starts_on": "2024-05-01"})
    assert r.status_code == 303
    html = _show(client, world["club"].id)
    members = html[html.index('id="members"'):html.index('id="add-member"')]
    assert "Ana Leader" in members and "Spokesperson" in members and "2024-05-01" in members


def test_adding_a_person_the_user_cannot_see_is_refused(world, auth, client):
    auth.login("unit1")
    html = _show(client, world["club"].id)
    r = client.post(f"/groups/{world['club'].id}/memberships", data={
        "csrf_token": csrf_token_from(html), "stakeholder_id": world["stranger"].id,
        "role": "member"})
    assert r.status_code == 422
    assert 'class="field-error">Person: choose a person you can see' in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership).where(
        Membership.group_id == world["club"].id)) == 0


def test_change_role_and_end_membership_from_the_pages(world, auth, client):
    m = services.add_membership(world["unit"], world["ana"], world["club"], "member",
                                date.today() - timedelta(days=30))
    db.session.commit()
    auth.login("unit1")
    url = f"/groups/{world['club'].id}/memberships/{m.id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert "Ana Leader in Block Club" in html
    r = client.post(url, data={"csrf_token": csrf_token_from(html), "role": "leader",
                               "starts_on": m.starts_on.isoformat(), "ends_on": "",
                               "version_id": "1"})
    assert r.status_code == 303
    assert db.session.get(Membership, m.id).role == "leader"
    html = _show(client, world["club"].id)
    r = client.post(f"/groups/{world['club'].id}/memberships/{m.id}/end",
                    data={"csrf_token": csrf_token_from(html), "version_id": "2"})
    assert r.status_code == 303
    assert db.session.get(Membership, m.id).ends_on == date.today()


def test_stale_membership_edit_is_409_with_both_versions(world, auth, client):
    m = services.add_membership(world["unit"], world["ana"], world["club"], "member")
    db.session.commit()
    auth.login("unit1")
    url = f"/groups/{world['club'].id}/memberships/{m.id}/edit"
    html = client.get(url).get_data(as_text=True)
    m.role = "liaison"
    db.session.commit()
    r = client.post(url, data={"csrf_token": csrf_token_from(html), "role": "leader",
                               "starts_on": "", "ends_on": "", "version_id": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "Someone else saved this first" in html
    assert "leader" in html and "liaison" in html
    assert db.session.get(Membership, m.id).role == "liaison"


def test_officer_reads_members_but_cannot_change_them(world, auth, client):
    m = services.add_membership(world["unit"], world["ana"], world["club"], "leader")
    db.session.commit()
    auth.login("jdoe")
    html = _show(client, world["club"].id)
    assert "Ana Leader" in html and "Add a member" not in html
    assert client.get(f"/groups/{world['club'].id}/memberships/{m.id}/edit").status_code == 403


# ---- API --------------------------------------------------------------------------------

def test_api_membership_lifecycle(world, client):
    h = world["h"]["unit1"]
    r = client.post("/api/v1/memberships/", headers=h, json={
        "stakeholder_id": world["ana"].id, "group_id": world["club"].id, "role": "liaison",
        "starts_on": (date.today() - timedelta(days=5)).isoformat()})
    assert r.status_code == 201, r.get_json()
    mid = r.get_json()["id"]
    assert r.get_json()["stakeholder_name"] == "Ana Leader"
    assert r.get_json()["group"]["name"] == "Block Club"
    by_group = client.get(f"/api/v1/memberships/?group_id={world['club'].id}", headers=h)
    assert [x["id"] for x in by_group.get_json()] == [mid]
    by_person = client.get(f"/api/v1/memberships/?stakeholder_id={world['ana'].id}", headers=h)
    assert len(by_person.get_json()) == 2  # the church and the club
    r = client.patch(f"/api/v1/memberships/{mid}", headers=h, json={"role": "leader",
                                                                     "version_id": 1})
    assert r.status_code == 200 and r.get_json()["role"] == "leader"
    r = client.patch(f"/api/v1/memberships/{mid}", headers=h, json={"role": "member",
                                                                     "version_id": 1})
    assert r.status_code == 409 and r.get_json()["current"]["role"] == "leader"
    r = client.patch(f"/api/v1/memberships/{mid}", headers=h, json={
        "ends_on": (date.today() - timedelta(days=1)).isoformat(), "version_id": 2})
    assert r.status_code == 200
    current = client.get(f"/api/v1/memberships/?group_id={world['club'].id}&current=true",
                         headers=h).get_json()
    assert current == []
    assert client.delete(f"/api/v1/memberships/{mid}", headers=h).status_code == 204
    assert client.get(f"/api/v1/memberships/{mid}", headers=h).status_code == 404


def test_api_refuses_hidden_people_groups_and_bad_roles(world, client):
    h = world["h"]["unit1"]
    r = client.post("/api/v1/memberships/", headers=h, json={
        "stakeholder_id": world["stranger"].id, "group_id": world["club"].id})
    assert r.status_code == 422 and "stakeholder_id" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/memberships/", headers=h, json={
        "stakeholder_id": world["ana"].id, "group_id": world["far"].id})
    assert r.status_code == 422 and "group_id" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/memberships/", headers=h, json={
        "stakeholder_id": world["ana"].id, "group_id": world["club"].id, "role": "boss"})
    assert r.status_code == 422 and "role" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/memberships/", headers=h, json={
        "stakeholder_id": world["ana"].id, "group_id": world["church"].id})
    assert r.status_code == 422 and "stakeholder_id" in r.get_json()["errors"]["json"]


def test_api_memberships_are_scoped_and_role_checked(world, client):
    hidden = db.session.scalar(sa.select(Membership).where(
        Membership.group_id == world["far"].id))
    assert client.get(f"/api/v1/memberships/{hidden.id}",
                      headers=world["h"]["unit1"]).status_code == 404
    listed = client.get("/api/v1/memberships/", headers=world["h"]["unit1"]).get_json()
    assert [x["group"]["name"] for x in listed] == ["Corner Church"]
    mine = listed[0]["id"]
    officer = world["h"]["jdoe"]
    assert client.get(f"/api/v1/memberships/{mine}", headers=officer).status_code == 200
    assert client.patch(f"/api/v1/memberships/{mine}", headers=officer,
                        json={"role": "leader", "version_id": 1}).status_code == 403
    assert client.delete(f"/api/v1/memberships/{mine}", headers=officer).status_code == 403
