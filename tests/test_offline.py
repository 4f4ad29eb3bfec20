"""Offline mode, server side (issue 16): the service worker and manifest, which pages a phone
may keep, the queue's endpoints (idempotent, JSON refusals, signed-out answer), the field beat
page's minimal personal data, sign-out telling the browser to forget, and the off switch."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def field(make):
    beat = make.beat(code="0111")
    officer = make.user("jdoe", beats=[beat])
    group = make.group("Maple Tenants", beats=[beat], stance="wary")
    other = make.group("Far Away Club", beats=[make.beat(code="0999")])
    ana = make.stakeholder("Ana Maria Lopez", phone="555 010 2030", email="ana@example.org")
    make.membership(ana, group)
    make.membership(make.stakeholder("Zed Outsider"), other)
    make.commit()
    return {"beat": beat, "officer": officer, "group": group, "other": other}


def _token(client) -> str:
    r = client.get("/offline/token")
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["csrf_token"]


def _contact_fields(group_id: int, key: str = "k" * 32, **over) -> dict:
    data = {"idempotency_key": key, "occurred_at": (datetime.utcnow() - timedelta(minutes=5))
            .strftime("%Y-%m-%dT%H:%M"), "channel": "foot_patrol", "initiated_by": "proactive",
            "group_ids": [str(group_id)], "enforcement": "none", "note": "met at the door"}
    data.update(over)
    return data


def test_service_worker_from_the_root_with_its_scope(client):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["Service-Worker-Allowed"] == "/"
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert "X-Offline-Cacheable" in r.get_data(as_text=True)  # the real worker, not the off one


def test_manifest_names_the_app_and_its_icons(client, app):
    r = client.get("/manifest.webmanifest")
    assert r.headers["Content-Type"] == "application/manifest+json"
    doc = json.loads(r.get_data(as_text=True))
    assert doc["name"] == "Alliance CRM" and doc["start_url"] == "/contacts/new"
    assert doc["scope"] == "/" and doc["theme_color"]
    for icon in doc["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_only_field_pages_say_cacheable(client, auth, field):
    auth.login("jdoe")
    for url in ("/contacts/new", "/contacts/follow-ups", "/offline/beat", "/offline/pick.json",
                "/offline/queue"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers.get("X-Offline-Cacheable") == "1", url
        assert r.headers.get("X-Offline-Fetched-At"), url
    person = db.session.scalar(sa.text("select id from stakeholders where name like 'Ana%'"))
    for url in ("/", f"/stakeholders/{person}", "/groups/", "/offline/token"):
        r = client.get(url)
        assert "X-Offline-Cacheable" not in r.headers, url


def test_pages_with_personal_data_are_never_marked(client, auth, field):
    """A contact's page shows its note: never kept, even though the officer may open it."""
    auth.login("jdoe")
    r = client.post("/offline/send/contact", data=_contact_fields(field["group"].id),
                    headers={"X-CSRFToken": _token(client), "Accept": "application/json"})
    r = client.get(r.get_json()["url"])
    assert r.status_code == 200 and "met at the door" in r.get_data(as_text=True)
    assert "X-Offline-Cacheable" not in r.headers


def test_pick_list_is_own_beats_groups_and_first_names_only(client, auth, field):
    auth.login("jdoe")
    doc = client.get("/offline/pick.json").get_json()
    assert [g["name"] for g in doc["groups"]] == ["Maple Tenants"]
    members = doc["groups"][0]["members"]
    assert [m["first_name"] for m in members] == ["Ana"]
    text = json.dumps(doc)
    for secret in ("Lopez", "Maria", "555", "ana@example.org", "Zed", "Far Away"):
        assert secret not in text


def test_field_beat_page_has_groups_stance_and_no_personal_data(client, auth, field):
    auth.login("jdoe")
    html = client.get("/offline/beat").get_data(as_text=True)
    assert "Maple Tenants" in html and "Wary" in html.title() and "never" in html
    for secret in ("Lopez", "555 010", "ana@example.org", "Far Away Club"):
        assert secret not in html


def test_queue_send_is_idempotent(client, auth, field):
    auth.login("jdoe")
    headers = {"X-CSRFToken": _token(client), "Accept": "application/json"}
    first = client.post("/offline/send/contact", data=_contact_fields(field["group"].id), headers=headers)
    again = client.post("/offline/send/contact", data=_contact_fields(field["group"].id), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 1


def test_queue_refusal_is_json_with_the_servers_message(client, auth, field):
    """A group the officer cannot see (merged, erased, moved) is refused with a message, nothing saved."""
    auth.login("jdoe")
    r = client.post("/offline/send/contact", data=_contact_fields(999999),
                    headers={"X-CSRFToken": _token(client), "Accept": "application/json"})
    assert r.status_code == 422
    body = r.get_json()
    assert "group_ids" in body["errors"] and body["message"].startswith("Not saved")
    bad = client.post("/offline/send/contact", data=_contact_fields(field["group"].id, occurred_at=""),
                      headers={"X-CSRFToken": _token(client), "Accept": "application/json"})
    assert bad.status_code == 422 and "occurred_at" in bad.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0


def test_queue_signed_out_gets_401_not_a_login_page(client, field):
    assert client.get("/offline/token").status_code == 401
    r = client.post("/offline/send/contact", data=_contact_fields(field["group"].id),
                    headers={"Accept": "application/json"})
    assert r.status_code in (400, 401)  # no session: no CSRF token either; never saved
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0


def test_follow_up_done_twice_is_harmless(client, auth, field, make):
    c = make.contact(field["officer"], groups=[field["group"]],
                     follow_up_on=datetime.utcnow().date() + timedelta(days=1))
    make.commit()
    auth.login("jdoe")
    headers = {"X-CSRFToken": _token(client), "Accept": "application/json"}
    assert client.post(f"/offline/send/done/{c.id}", headers=headers).status_code == 200
    assert client.post(f"/offline/send/done/{c.id}", headers=headers).status_code == 200
    assert db.session.get(Contact, c.id).follow_up_done_at is not None
    none = make.contact(field["officer"], groups=[field["group"]])
    make.commit()
    r = client.post(f"/offline/send/done/{none.id}", headers=headers)
    assert r.status_code == 422 and "follow-up" in r.get_json()["message"]


def test_sign_out_tells_the_browser_to_forget(client, auth, field):
    auth.login("jdoe")
    r = auth.logout()
    assert r.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_ended_session_tells_the_browser_to_forget(client, auth, field):
    from crm.users.services import revoke_sessions

    auth.login("jdoe")
    revoke_sessions(None, field["officer"], reason="test")
    db.session.commit()
    r = client.get("/contacts/new")
    assert r.status_code == 302 and r.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_base_page_links_manifest_and_queue_counter(client, auth, field):
    auth.login("jdoe")
    html = client.get("/").get_data(as_text=True)
    assert 'rel="manifest"' in html and 'id="offline-count"' in html
    assert 'id="offline-script"' in html and "/contacts/new" in html


def test_off_switch(app, client, auth, field):
    app.config["OFFLINE_MODE_ENABLED"] = False
    try:
        auth.login("jdoe")
        html = client.get("/contacts/new").get_data(as_text=True)
        assert 'rel="manifest"' not in html and "offline-script" not in html
        assert "X-Offline-Cacheable" not in client.get("/contacts/new").headers
        worker = client.get("/sw.js").get_data(as_text=True)
        assert "unregister" in worker and "X-Offline-Cacheable" not in worker
    finally:
        app.config["OFFLINE_MODE_ENABLED"] = True


def test_about_page_says_what_a_phone_keeps(client, auth, field):
    auth.login("jdoe")
    html = client.get("/offline/about").get_data(as_text=True)
    assert "first names" in html and "sign out" in html and "Never kept" in html


def test_a_background_copy_leaves_the_officers_message_for_their_page(app, make, auth, client):
    """The service worker warms the field pages while the officer is being redirected: its
    copy must not swallow the 'saved' message meant for the page the officer opens."""
    beat = make.beat("0111", make.district("01"))
    make.user("warm1", beats=[beat])
    make.commit()
    auth.login("warm1")
    with client.session_transaction() as s:
        s["_flashes"] = [("success", "Follow-up added: ask Sam")]
    warm = client.get("/contacts/follow-ups", headers={"X-Offline-Warm": "1"})
    assert warm.status_code == 200 and "Follow-up added" not in warm.get_data(as_text=True)
    assert "Follow-up added: ask Sam" in client.get("/contacts/follow-ups").get_data(as_text=True)
