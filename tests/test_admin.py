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


def _edit(client, user, **fields):
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "version_id": user.version_id, "role": user.role,
            "active": "y", **fields}
    return client.post(f"/admin/users/{user.id}", data=data)


def test_unticking_a_beat_ends_the_assignment_and_keeps_its_history(make, auth, client):
    """The officer covered 0111 since last month; moved to 0112 today. Who covered 0111 last
    week must still be answerable."""
    from datetime import date, timedelta

    from crm.models import BeatAssignment
    old, new = make.beat("0111"), make.beat("0112")
    target = make.user("jdoe", beats=[old])
    target.assignments[0].starts_on = date.today() - timedelta(days=30)
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    r = _edit(client, target, beat_ids=[str(new.id)])
    assert r.status_code == 302, r.get_data(as_text=True)
    rows = db.session.scalars(sa.select(BeatAssignment).where(BeatAssignment.user_id == target.id)
                              .order_by(BeatAssignment.beat_id)).all()
    assert [(a.beat_id, a.ends_on) for a in rows] == [
        (old.id, date.today() - timedelta(days=1)), (new.id, None)]
    db.session.refresh(target)
    assert [b.code for b in target.current_beats()] == ["0112"]
    assert [b.code for b in target.current_beats(date.today() - timedelta(days=7))] == ["0111"]
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert ev.detail["before"]["beats"] == ["0111"] and ev.detail["after"]["beats"] == ["0112"]


def test_bad_user_edit_names_the_field_and_saves_nothing(make, auth, client):
    target = make.user("jdoe")
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    for fields, message in [({"beat_ids": ["99999999999999999999"]}, "Beats"),
                            ({"district_id": "not-a-number"}, "District"),
                            ({"role": "sheriff"}, "Role"),
                            ({"groups": "No Such Group"}, "unknown group(s): No Such Group"),
                            ({"new_password": "short"}, "at least 12 characters")]:
        r = _edit(client, target, display_name="Typed Name", **fields)
        html = r.get_data(as_text=True)
        assert r.status_code == 422, (fields, r.status_code)
        assert message in html and 'value="Typed Name"' in html, fields
    db.session.refresh(target)
    assert target.display_name == "jdoe" and target.role == "officer"


def test_update_user_service_refuses_a_stale_version_without_http(make):
    from crm.errors import ConflictError
    from crm.users.services import UserChanges, update_user
    boss, target = make.user("boss", role="admin"), make.user("jdoe")
    try:
        update_user(boss, target, UserChanges(role="unit"), version_id=target.version_id + 1)
    except ConflictError:
        pass
    else:
        raise AssertionError("a stale version must be refused")
    update_user(boss, target, UserChanges(role="unit", active=True), version_id=target.version_id)
    assert target.role == "unit"


def test_admin_assigns_groups_to_a_unit_member_by_name(make, auth, client):
    from crm.models import GroupAssignment
    target = make.user("unit1", role="unit")
    group = make.group("Eastside Tenants")
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    assert _edit(client, target, groups="Eastside Tenants").status_code == 302
    assert db.session.get(GroupAssignment, (target.id, group.id)) is not None
    assert "Eastside Tenants" in client.get(f"/admin/users/{target.id}").get_data(as_text=True)


def test_admin_sees_and_lifts_a_lock(make, auth, client, app):
    """Someone guessed jdoe's password from one address; the admin sees it and unlocks."""
    from tests.conftest import Auth
    target = make.user("jdoe")
    make.user("boss", role="admin")
    make.commit()
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    for _ in range(7):
        Auth(guesser).login("jdoe", "not the password at all")
    assert Auth(guesser).login("jdoe").status_code == 200  # locked out from there
    auth.login("boss")
    assert "locked from an address" in client.get("/admin/users/").get_data(as_text=True)
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "198.51.100.23" in page
    r = client.post(f"/admin/users/{target.id}/unlock", data={"csrf_token": csrf_token_from(page)})
    assert r.status_code == 302
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.unlock"))
    assert Auth(guesser).login("jdoe").status_code == 302
