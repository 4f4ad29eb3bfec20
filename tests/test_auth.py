"""Sign-in: can the right people get in, and are the wrong ones kept out without hints?"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from crm.db import utcnow
from crm.extensions import db
from crm.models import AuditEvent, User
from crm.users.models import LoginThrottle
from tests.conftest import PASSWORD, Auth, csrf_token_from


def _events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_officer_signs_in_and_lands_on_home(make, auth, client):
    beat = make.beat()
    make.user("jdoe", beats=[beat])
    make.commit()
    r = auth.login("jdoe")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    home = client.get("/")
    assert home.status_code == 200 and b"My beats" in home.data
    assert [e.outcome for e in _events("auth.login")] == ["success"]


def test_password_is_stored_as_argon2id(make):
    u = make.user("hashme")
    assert u.password_hash.startswith("$argon2id$")
    assert PASSWORD not in u.password_hash


def test_wrong_password_and_unknown_user_get_the_same_message(make, auth):
    make.user("jdoe")
    make.commit()
    wrong = auth.login("jdoe", "not the password at all").get_data(as_text=True)
    unknown = auth.login("nobody", "not the password at all").get_data(as_text=True)
    msg = "Invalid username or password, or the account is locked."
    assert msg in wrong and msg in unknown
    assert "nobody" not in unknown.split("<main")[1].replace('value="nobody"', "")


def _throttle(username, source="127.0.0.1"):
    return db.session.scalar(sa.select(LoginThrottle).join(User).where(
        User.username == username, LoginThrottle.source == source))


def test_five_failures_from_one_address_lock_that_address_for_fifteen_minutes(make, auth, client):
    make.user("jdoe")
    make.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(5):
            auth.login("jdoe", "wrong password here")
            clock.shift(timedelta(seconds=10))  # slower than the growing delays
        assert _throttle("jdoe").locked_until is not None
        [lock] = _events("auth.lockout")
        assert lock.ip == "127.0.0.1" and lock.detail["scope"] == "source"
        # The right password is refused from there while locked, with the same generic message.
        r = auth.login("jdoe")
        assert r.status_code == 200 and b"Invalid username or password" in r.data
        assert client.get("/").status_code == 302
        # After 15 minutes that address may sign in again.
        clock.shift(timedelta(minutes=16))
        assert auth.login("jdoe").status_code == 302


def test_a_stranger_cannot_lock_an_officer_out_from_another_address(make, app):
    """Five wrong passwords from the attacker's address; the officer's own still signs in."""
    make.user("jdoe")
    make.commit()
    attacker, officer = app.test_client(), app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.66"
    officer.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    for _ in range(8):
        Auth(attacker).login("jdoe", "guessing the password")
    assert _throttle("jdoe", "198.51.100.66").locked_until is not None
    assert Auth(officer).login("jdoe").status_code == 302
    assert officer.get("/").status_code == 200
    assert Auth(attacker).login("jdoe").status_code == 200  # still locked out over there


def test_repeated_failures_wait_growing_delays(make, auth):
    make.user("jdoe")
    make.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        auth.login("jdoe", "typo in the password")
        auth.login("jdoe", "another typo here")  # no wait after a single typo
        assert _throttle("jdoe").failures == 2
        clock.shift(timedelta(milliseconds=500))
        # Within the 1-second delay even the right password is refused, unchecked, and counted.
        assert auth.login("jdoe").status_code == 200
        assert _throttle("jdoe").failures == 3
        assert _events("auth.login")[-1].detail["reason"] == "too soon"
        clock.shift(timedelta(seconds=1))  # the delay doubled to 2 seconds
        assert auth.login("jdoe").status_code == 200
        clock.shift(timedelta(seconds=5))
        assert auth.login("jdoe").status_code == 302
    assert _throttle("jdoe") is None  # a sign-in clears that address's count


def test_logout_revokes_the_session_cookie_server_side(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    stolen = client.get_cookie("session").value
    auth.logout()
    assert client.get("/").status_code == 302
    # Replaying the cookie captured before logout does not get back in.
    client.set_cookie("session", stolen)
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_login_form_without_csrf_token_is_rejected(make, client):
    make.user("jdoe")
    make.commit()
    r = client.post("/login", data={"username": "jdoe", "password": PASSWORD})
    assert r.status_code == 400
    assert b"form expired" in r.data
    assert client.get("/").status_code == 302


def test_logout_needs_csrf_token(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_anonymous_user_is_sent_to_login(client):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_session_cookie_flags(make, auth):
    make.user("jdoe")
    make.commit()
    r = auth.login("jdoe")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_parameter_cannot_redirect_off_site(make, client):
    make.user("jdoe")
    make.commit()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login?next=//evil.example/x",
                    data={"username": "jdoe", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]


def test_create_user_cli_with_prompted_password(runner, app):
    r = runner.invoke(args=["crm", "create-user", "newbie", "--role", "officer"],
                      input="long enough password\nlong enough password\n")
    assert r.exit_code == 0, r.output
    assert db.session.scalar(sa.select(User.role).where(User.username == "newbie")) == "officer"


def test_create_user_cli_refuses_short_password(runner):
    r = runner.invoke(args=["crm", "create-user", "x", "--role", "officer", "--password", "short"])
    assert r.exit_code != 0 and "at least 12 characters" in r.output


def test_an_ipv6_attacker_cannot_dodge_the_lock_by_stepping_through_addresses(make, app):
    make.user("jdoe")
    make.commit()
    attacker = app.test_client()
    for n in range(1, 8):  # seven addresses of one subscriber's /64
        attacker.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{n:x}"
        Auth(attacker).login("jdoe", "guessing the password")
    assert _throttle("jdoe", "2001:db8:1:2::/64").locked_until is not None
    attacker.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::99"
    assert Auth(attacker).login("jdoe").status_code == 200  # right password, still locked out
    lock = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "auth.lockout"))
    assert lock.ip.startswith("2001:db8:1:2::") and "/" not in lock.ip  # the exact address
