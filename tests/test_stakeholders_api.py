"""The stakeholders API: names in lists, personal fields on an audited read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.extensions import db
from crm.models import AuditEvent, Membership, Stakeholder


def bearer(make, user):
    _, token = issue_token(user, user, "t")
    make.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(make):
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    group = make.group("Maple Tenants", beats=[beat])
    john = make.stakeholder("John Smith", phone="555 010 2030", email="john@example.org")
    make.membership(john, group)
    mary = make.stakeholder("Mary Jones")
    make.membership(mary, group)
    make.commit()
    return beat, officer, group, john, mary


def test_list_search_and_group_filter(world, make, client):
    beat, officer, group, john, mary = world
    h = bearer(make, officer)
    r = client.get("/api/v1/stakeholders/", headers=h)
    assert [p["name"] for p in r.get_json()] == ["John Smith", "Mary Jones"]
    assert "phone" not in r.get_json()[0]
    assert [p["id"] for p in client.get("/api/v1/stakeholders/?q=Jhon%20Smiht", headers=h).get_json()][:1] == [john.id]
    other = make.group("Chess", beats=[beat])
    make.membership(mary, other)
    make.commit()
    assert [p["name"] for p in client.get(f"/api/v1/stakeholders/?group={other.id}",
                                          headers=h).get_json()] == ["Mary Jones"]


def test_reading_a_person_is_audited(world, make, client):
    _, officer, _, john, _ = world
    r = client.get(f"/api/v1/stakeholders/{john.id}", headers=bearer(make, officer))
    assert r.status_code == 200 and r.get_json()["phone"] == "555 010 2030"
    assert r.get_json()["memberships"] == [{"group_id": john.memberships[0].group_id,
                                            "group": "Maple Tenants", "role": "member"}]
    assert db.session.scalar(sa.select(AuditEvent.object_id)
                             .where(AuditEvent.action == "stakeholder.read")) == str(john.id)


def test_create_reports_duplicates_until_allowed(world, make, client):
    _, officer, group, john, _ = world
    h = bearer(make, officer)
    body = {"name": "Jon Smith", "phone": "555-010-2030", "group_id": group.id}
    r = client.post("/api/v1/stakeholders/", json=body, headers=h)
    assert r.status_code == 422
    assert "John Smith" in r.get_json()["errors"]["json"]["duplicates"][0]
    r = client.post("/api/v1/stakeholders/", json=body | {"allow_duplicate": True}, headers=h)
    assert r.status_code == 201 and r.get_json()["name"] == "Jon Smith"
    r = client.post("/api/v1/stakeholders/", json={"name": "No Group"}, headers=h)
    assert r.status_code == 422 and "group_id" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/stakeholders/", json={"name": "", "email": "nope"}, headers=h)
    assert r.status_code == 422
    assert {"name", "email"} <= set(r.get_json()["errors"]["json"])


def test_a_stale_update_is_409_with_the_current_version(world, make, client):
    _, officer, _, john, _ = world
    h = bearer(make, officer)
    url = f"/api/v1/stakeholders/{john.id}"
    v = client.get(url, headers=h).get_json()["version_id"]
    ok = client.patch(url, json={"version_id": v, "language": "es", "stage": "rapport"}, headers=h)
    assert ok.status_code == 200 and ok.get_json()["stage"] == "rapport"
    stale = client.patch(url, json={"version_id": v, "language": "fr"}, headers=h)
    assert stale.status_code == 409 and stale.get_json()["current"]["language"] == "es"
    assert db.session.get(Stakeholder, john.id).language == "es"


def test_erase_is_admin_only_and_blanks_the_person(world, make, client):
    _, officer, _, john, _ = world
    admin = make.user("root", role="admin")
    make.commit()
    assert client.delete(f"/api/v1/stakeholders/{john.id}", headers=bearer(make, officer)).status_code == 403
    assert client.delete(f"/api/v1/stakeholders/{john.id}", headers=bearer(make, admin)).status_code == 204
    erased = db.session.get(Stakeholder, john.id)
    assert erased.erased_at is not None and erased.phone is None and erased.memberships == []
    assert client.get(f"/api/v1/stakeholders/{john.id}", headers=bearer(make, admin)).status_code == 404


def test_merge_through_the_api(world, make, client):
    _, officer, group, john, mary = world
    dup = make.stakeholder("Jon Smith")
    make.membership(dup, group)
    make.contact(officer, stakeholders=[dup])
    unit = make.user("unit1", role="unit")
    make.commit()
    url = f"/api/v1/stakeholders/{dup.id}/merge"
    assert client.post(url, json={"into_id": john.id}, headers=bearer(make, officer)).status_code == 403
    admin = make.user("root", role="admin")
    make.commit()
    r = client.post(url, json={"into_id": john.id}, headers=bearer(make, admin))
    assert r.status_code == 200
    assert r.get_json()["contacts_moved"] == 1 and r.get_json()["memberships_deduplicated"] == 1
    again = client.post(url, json={"into_id": john.id}, headers=bearer(make, admin))
    assert again.status_code == 422
    assert client.post(f"/api/v1/stakeholders/{mary.id}/merge", json={"into_id": 999999},
                       headers=bearer(make, admin)).status_code == 404
    # A unit member may merge, but only people of their groups.
    assert client.post(f"/api/v1/stakeholders/{mary.id}/merge", json={"into_id": john.id},
                       headers=bearer(make, unit)).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)
                             .where(Membership.stakeholder_id == john.id)) == 1
