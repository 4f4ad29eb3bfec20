"""Groups API: can a client list, read, create, update and delete groups it may see?"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.extensions import db
from crm.models import AuditEvent, CommunityGroup, GroupAssignment


def _ago(days: int) -> datetime:
    return datetime.utcnow() - timedelta(days=days)


@pytest.fixture
def api(make):
    """Bearer-token headers per user, and a small world of two beats."""
    b1, b2 = make.beat("0111"), make.beat("0222")
    users = {"officer": make.user("jdoe", beats=[b1]), "unit": make.user("unit1", role="unit"),
             "admin": make.user("boss", role="admin"), "analyst": make.user("eval", role="analyst")}
    headers = {}
    for role, u in users.items():
        _, plain = issue_token(u, u, "tests")
        headers[role] = {"Authorization": f"Bearer {plain}"}
    near = make.group("Near Tenants", beats=[b1], kind="tenants", stance="receptive",
                      size_estimate=50)
    quiet = make.group("Quiet Church", beats=[b1], kind="faith", stance="wary",
                       size_estimate=200, contact_interval_days=10)
    far = make.group("Far Shop", beats=[b2], kind="business")
    make.contact(users["officer"], groups=[near], occurred_at=_ago(3))
    make.contact(users["officer"], groups=[quiet], occurred_at=_ago(9))
    make.commit()
    return {"h": headers, "users": users, "near": near, "quiet": quiet, "far": far}


def test_officer_lists_only_groups_in_their_beats_with_last_contact(api, client):
    r = client.get("/api/v1/groups/", headers=api["h"]["officer"])
    assert r.status_code == 200
    body = r.get_json()
    assert [g["name"] for g in body] == ["Near Tenants", "Quiet Church"]
    near = body[0]
    assert near["days_since_contact"] == 3 and near["stay_in_touch"] == "ok"
    assert near["beats"] == ["0111"] and near["version_id"] == 1
    assert body[1]["stay_in_touch"] == "due"  # 9 of 10 days
    assert '"total": 2' in r.headers["X-Pagination"]


def test_api_filters_sorts_and_paginates(api, client):
    h = api["h"]["admin"]
    names = lambda r: [g["name"] for g in r.get_json()]  # noqa: E731
    assert names(client.get("/api/v1/groups/?kind=faith", headers=h)) == ["Quiet Church"]
    assert names(client.get("/api/v1/groups/?beat=0222", headers=h)) == ["Far Shop"]
    assert names(client.get("/api/v1/groups/?stance=receptive", headers=h)) == ["Near Tenants"]
    assert names(client.get("/api/v1/groups/?never=true", headers=h)) == ["Far Shop"]
    assert names(client.get("/api/v1/groups/?min_days=5", headers=h)) == ["Far Shop", "Quiet Church"]
    assert names(client.get("/api/v1/groups/?sort=days&order=desc", headers=h)) == [
        "Far Shop", "Quiet Church", "Near Tenants"]
    assert names(client.get("/api/v1/groups/?sort=size&order=desc", headers=h)) == [
        "Quiet Church", "Near Tenants", "Far Shop"]
    r = client.get("/api/v1/groups/?page=2&page_size=2", headers=h)
    assert names(r) == ["Quiet Church"] and '"total": 3' in r.headers["X-Pagination"]


def test_bad_query_parameter_is_422_naming_it(api, client):
    r = client.get("/api/v1/groups/?sort=colour", headers=api["h"]["admin"])
    assert r.status_code == 422 and "sort" in r.get_json()["errors"]["query"]


def test_read_one_group_and_unknown_or_out_of_scope_is_404(api, client):
    h = api["h"]["officer"]
    r = client.get(f"/api/v1/groups/{api['near'].id}", headers=h)
    assert r.status_code == 200 and r.get_json()["name"] == "Near Tenants"
    assert client.get(f"/api/v1/groups/{api['far'].id}", headers=h).status_code == 404
    assert client.get("/api/v1/groups/999999", headers=h).status_code == 404


def test_analyst_is_refused_group_records(api, client):
    h = api["h"]["analyst"]
    assert client.get("/api/v1/groups/", headers=h).status_code == 403
    assert client.get(f"/api/v1/groups/{api['near'].id}", headers=h).status_code == 403


def test_unit_member_creates_a_group_and_sees_it(api, client):
    r = client.post("/api/v1/groups/", headers=api["h"]["unit"], json={
        "name": "Harbour Seniors", "kind": "demographic", "beats": ["0111"],
        "languages": ["Cantonese", "English"], "channels": ["phone"], "size_estimate": 30})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["languages"] == ["Cantonese", "English"] and body["stay_in_touch"] == "overdue"
    assert body["last_contact_at"] is None
    unit = api["users"]["unit"]
    assert db.session.get(GroupAssignment, (unit.id, body["id"])) is not None
    assert client.get(f"/api/v1/groups/{body['id']}", headers=api["h"]["unit"]).status_code == 200


def test_officer_may_not_create_or_update(api, client):
    h = api["h"]["officer"]
    assert client.post("/api/v1/groups/", headers=h, json={"name": "X"}).status_code == 403
    r = client.patch(f"/api/v1/groups/{api['near'].id}", headers=h,
                     json={"stance": "wary", "version_id": 1})
    assert r.status_code == 403


def test_invalid_group_is_422_per_field_never_500(api, client):
    h = api["h"]["admin"]
    r = client.post("/api/v1/groups/", headers=h, json={"name": "Near Tenants"})
    assert r.status_code == 422
    assert "name" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/groups/", headers=h, json={"name": "near tenants"})
    assert r.status_code == 422  # names differ only by case: still a clash
    r = client.post("/api/v1/groups/", headers=h, json={"name": "New", "kind": "club",
                                                        "size_estimate": -1})
    errors = r.get_json()["errors"]["json"]
    assert r.status_code == 422 and {"kind", "size_estimate"} <= set(errors)
    r = client.post("/api/v1/groups/", headers=h, json={"name": "New", "beats": ["nope"]})
    assert r.status_code == 422 and "beats" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/groups/", headers=h, json={})
    assert r.status_code == 422 and "name" in r.get_json()["errors"]["json"]


def test_update_with_current_version_saves_and_audits(api, client):
    g = api["near"]
    r = client.patch(f"/api/v1/groups/{g.id}", headers=api["h"]["admin"],
                     json={"stance": "neutral", "channels": ["email"], "version_id": 1})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["stance"] == "neutral" and r.get_json()["version_id"] == 2
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "group.update"))
    assert ev.detail["before"] == {"stance": "receptive", "channels": []}
    assert ev.detail["after"] == {"stance": "neutral", "channels": ["email"]}


def test_stale_update_is_409_with_the_current_version(api, client):
    g = api["near"]
    h = api["h"]["admin"]
    assert client.patch(f"/api/v1/groups/{g.id}", headers=h,
                        json={"description": "first", "version_id": 1}).status_code == 200
    r = client.patch(f"/api/v1/groups/{g.id}", headers=h,
                     json={"description": "second", "version_id": 1})
    assert r.status_code == 409
    body = r.get_json()
    assert body["current"]["description"] == "first" and body["current"]["version_id"] == 2
    assert db.session.get(CommunityGroup, g.id).description == "first"


def test_update_without_version_is_422(api, client):
    r = client.patch(f"/api/v1/groups/{api['near'].id}", headers=api["h"]["admin"],
                     json={"stance": "neutral"})
    assert r.status_code == 422 and "version_id" in r.get_json()["errors"]["json"]


def test_rename_to_an_existing_name_is_422_on_name(api, client):
    r = client.patch(f"/api/v1/groups/{api['near'].id}", headers=api["h"]["admin"],
                     json={"name": "Far Shop", "version_id": 1})
    assert r.status_code == 422 and "name" in r.get_json()["errors"]["json"]


def test_only_admins_delete_groups(api, client):
    gid = api["near"].id
    assert client.delete(f"/api/v1/groups/{gid}", headers=api["h"]["unit"]).status_code == 403
    assert client.delete(f"/api/v1/groups/{gid}", headers=api["h"]["admin"]).status_code == 204
    assert db.session.get(CommunityGroup, gid) is None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "group.delete"))
    assert client.delete(f"/api/v1/groups/{gid}", headers=api["h"]["admin"]).status_code == 404


def test_openapi_documents_the_group_endpoints(openapi_doc):
    doc = openapi_doc
    for path in ("/api/v1/groups/", "/api/v1/groups/{group_id}", "/api/v1/relations/",
                 "/api/v1/relations/{relation_id}", "/api/v1/relations/{relation_id}/end",
                 "/api/v1/memberships/", "/api/v1/memberships/{membership_id}"):
        assert path in doc["paths"], path
    assert "409" in doc["paths"]["/api/v1/groups/{group_id}"]["patch"]["responses"]
