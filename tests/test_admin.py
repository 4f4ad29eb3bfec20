"""Administration: users and the audit trail, for admins only."""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, User
from tests.conftest import PASSWORD, csrf_token_from


def test_admin_searches_the_audit_trail_by_user_and_date(make, auth, client, today):
    make.user("boss", role="admin")
    make.user("jdoe")
    make.commit()
    auth.login("jdoe", "wrong password entirely")
    auth.login("boss")
    html = client.get(f"/admin/audit/?user=jdoe&date_from={today}&date_to={today}").get_data(as_text=True)
    assert "auth.login" in html and "failure" in html
    assert "boss" not in html.split("<tbody>")[1]  # only jdoe's events listed
    bad = client.get("/admin/audit/?date_from=yesterday")
    assert bad.status_code == 422 and b"Date from: use the form YYYY-MM-DD" in bad.data


def test_only_admins_reach_administration(make, auth, client):
    make.user("sarge", role="supervisor")
    make.commit()
    auth.login("sarge")
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/users/").status_code == 403


def test_admin_creates_a_user_and_the_action_is_audited(make, auth, client):
    beat = make.beat("0111")
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    page = client.get("/admin/users/").get_data(as_text=True)
    r = client.post("/admin/users/", data={"csrf_token": csrf_token_from(page), "username": "newcop",
                                           "role": "officer", "beats": "0111",
                                           "password": "a perfectly long password"})
    assert r.status_code == 302
    u = db.session.scalar(sa.select(User).where(User.username == "newcop"))
    assert [b.code for b in u.current_beats()] == [beat.code]
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.create",
                                                         AuditEvent.actor_username == "boss"))


def test_bad_new_user_keeps_what_was_typed_and_names_the_field(make, auth, client):
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    page = client.get("/admin/users/").get_data(as_text=True)
    r = client.post("/admin/users/", data={"csrf_token": csrf_token_from(page), "username": "newcop",
                                           "role": "officer", "beats": "9999", "password": "short"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="newcop"' in html and "unknown beat(s): 9999" in html


def test_admin_disables_an_account_and_its_sessions_end(make, auth, client, app):
    target = make.user("jdoe")
    make.user("boss", role="admin")
    make.commit()
    from tests.conftest import Auth
    victim = app.test_client()
    Auth(victim).login("jdoe")
    auth.login("boss")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    r = client.post(f"/admin/users/{target.id}", data={
        "csrf_token": csrf_token_from(page), "version_id": target.version_id, "role": "officer",
        "display_name": "J Doe"})  # no "active": unchecked
    assert r.status_code == 302
    assert victim.get("/").status_code == 302
    assert Auth(victim).login("jdoe", PASSWORD).status_code == 200  # refused


def test_stale_user_edit_is_refused(make, auth, client):
    target = make.user("jdoe")
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    r = client.post(f"/admin/users/{target.id}", data={
        "csrf_token": csrf_token_from(page), "version_id": target.version_id - 1, "role": "unit",
        "active": "on"})
    assert r.status_code == 409 and b"Someone else changed this user" in r.data
    db.session.refresh(target)
    assert target.role == "officer"
