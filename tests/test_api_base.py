"""API basics: who may call it, how errors look, and the OpenAPI document."""

from __future__ import annotations

import sqlalchemy as sa

from crm.api.auth import issue_token, revoke_token
from crm.extensions import db
from crm.models import ApiToken, AuditEvent


def test_api_refuses_anonymous_callers(client):
    r = client.get("/api/v1/beats/")
    assert r.status_code == 401
    assert r.get_json()["message"].startswith("Authentication required")


def test_bearer_token_works_and_is_stored_hashed(make, client):
    make.beat("0111")
    user = make.user("jdoe")
    _, plain = issue_token(user, user, "phone")
    make.commit()
    r = client.get("/api/v1/beats/", headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 200
    assert [b["code"] for b in r.get_json()] == ["0111"]
    assert "X-Pagination" in r.headers
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert plain not in stored and len(stored[0]) == 64
    # The token never reaches the audit trail.
    details = " ".join(str(e.detail) for e in db.session.scalars(sa.select(AuditEvent)))
    assert plain not in details


def test_revoked_token_is_refused(make, client):
    user = make.user("jdoe")
    tok, plain = issue_token(user, user, "phone")
    revoke_token(user, tok)
    make.commit()
    assert client.get("/api/v1/beats/", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_bearer_token_does_not_open_web_pages(make, client):
    user = make.user("jdoe")
    _, plain = issue_token(user, user, "phone")
    make.commit()
    assert client.get("/", headers={"Authorization": f"Bearer {plain}"}).status_code == 302


def test_browser_session_can_read_the_api(make, auth, client):
    make.beat("0111")
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    assert client.get("/api/v1/beats/").status_code == 200


def test_unknown_id_is_404_json(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    r = client.get("/api/v1/beats/999999")
    assert r.status_code == 404 and r.get_json()["code"] == 404


def test_openapi_document_describes_the_endpoints(make, auth, client):
    assert client.get("/api/v1/openapi.json").status_code == 401
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/beats/" in doc["paths"]
    assert "bearerAuth" in doc["components"]["securitySchemes"]


def test_interactive_docs_page_loads_local_assets(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    html = client.get("/api/v1/docs/").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_openapi_document_states_the_id_bounds(openapi_doc):
    """Clients (and fuzzers) learn from the document that an id is 1 to 2**31 - 1."""
    params = openapi_doc["paths"]["/api/v1/groups/{group_id}"]["parameters"]
    group_id = next(p for p in params if p["name"] == "group_id")
    assert group_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_openapi_document_states_the_number_and_list_bounds(openapi_doc):
    body = openapi_doc["components"]["schemas"]["ContactCreate"]["properties"]
    assert body["group_ids"]["maxItems"] == 1000
    assert body["group_ids"]["items"] == {"type": "integer", "minimum": -(2**31),
                                          "maximum": 2**31 - 1}
    groups = openapi_doc["components"]["schemas"]["GroupCreate"]["properties"]
    assert groups["contact_interval_days"]["maximum"] == 3650  # the schema's own, tighter
