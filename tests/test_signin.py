"""Sign-in as an attacker tries it: the second factor under lockout, replayed codes, tokens
after a password change, and the rate limit behind a proxy and across workers."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from crm.db import utcnow
from crm.extensions import db
from crm.models import AuditEvent, User
from crm.users.services import issue_token
from tests.conftest import PASSWORD, Auth, IsolatedClient, csrf_token_from, make_config


def _user(username):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def _password_step(client, username, password=PASSWORD):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def _send_code(client, code):
    page = client.get("/login/second-factor")
    if page.status_code != 200:
        return page
    return client.post("/login/second-factor", data={
        "code": code, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def _wrong(code: str) -> str:
    return f"{(int(code) + 500000) % 1000000:06d}"


@pytest.fixture
def officer_with_totp(make):
    u = make.user("jdoe")
    u.totp_secret = pyotp.random_base32()
    make.commit()
    return pyotp.TOTP(u.totp_secret)


# ---- issue 11 item 5: the second factor honours the lockout --------------------------------

def test_a_pending_login_captured_before_the_lock_is_dead_after_it(officer_with_totp, client):
    """The attacker knows the password, keeps the half-done sign-in's cookie, locks the
    account by guessing codes, then replays the cookie with the right code: refused."""
    totp = officer_with_totp
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert "/login/second-factor" in _password_step(client, "jdoe").headers["Location"]
        captured = client.get_cookie("session").value
        for _ in range(5):
            clock.shift(timedelta(seconds=10))
            _send_code(client, _wrong(totp.now()))
        assert _user("jdoe").is_locked
        assert {e.detail["scope"] for e in _events("auth.lockout")} == {"source", "account"}
        client.set_cookie("session", captured)
        r = _send_code(client, totp.now())
        assert r.status_code == 302 and r.headers["Location"].endswith("/login")
        assert client.get("/").status_code == 302  # not signed in


def test_code_failures_are_counted_on_the_server_not_in_the_cookie(officer_with_totp, make, app):
    """Starting the sign-in again (a fresh cookie, even from a new address) does not reset
    the count of wrong codes: only someone with the password makes them."""
    totp = officer_with_totp
    with time_machine.travel(utcnow(), tick=False) as clock:
        for address in ("203.0.113.1", "203.0.113.2"):
            c = app.test_client()
            c.environ_base["REMOTE_ADDR"] = address
            _password_step(c, "jdoe")
            for _ in range(3 if address.endswith("1") else 2):
                clock.shift(timedelta(seconds=10))
                _send_code(c, _wrong(totp.now()))
        assert _user("jdoe").is_locked
        # Locked for everyone, right password and code included.
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = "10.9.9.9"
        r = _password_step(c, "jdoe")
        assert r.status_code == 200 and b"Invalid username or password" in r.data


def test_a_pending_login_is_tied_to_its_address(officer_with_totp, app):
    totp = officer_with_totp
    victim = app.test_client()
    victim.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    _password_step(victim, "jdoe")
    thief = app.test_client()
    thief.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    thief.set_cookie("session", victim.get_cookie("session").value)
    r = _send_code(thief, totp.now())
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert thief.get("/").status_code == 302


def test_disabling_the_account_ends_a_pending_login(officer_with_totp, client):
    from crm.users.services import set_active
    _password_step(client, "jdoe")
    set_active(None, _user("jdoe"), False, reason="left")
    db.session.commit()
    r = _send_code(client, officer_with_totp.now())
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")


def test_a_totp_code_is_accepted_once_only(officer_with_totp, client, auth):
    totp = officer_with_totp
    with time_machine.travel(utcnow(), tick=False):
        code = totp.now()
        _password_step(client, "jdoe")
        assert _send_code(client, code).status_code == 302
        auth.logout()
        _password_step(client, "jdoe")
        r = _send_code(client, code)  # the same code, still inside its 30 seconds
        assert r.status_code == 200 and b"already used" in r.data
        assert client.get("/").status_code == 302
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        assert _send_code(client, totp.now()).status_code == 302


# ---- issue 11 item 8: tokens die with the old password -------------------------------------

def _api_status(app, token):
    return app.test_client().get("/api/v1/beats/", headers={"Authorization": f"Bearer {token}"}).status_code


def test_changing_the_password_revokes_api_tokens(make, auth, client, app):
    u = make.user("jdoe")
    _, token = issue_token(u, u, "phone")
    make.commit()
    assert _api_status(app, token) == 200
    auth.login("jdoe")
    page = client.get("/account").get_data(as_text=True)
    r = client.post("/account", data={"action": "password", "csrf_token": csrf_token_from(page),
                                      "pw-current_password": PASSWORD,
                                      "pw-new_password": "a brand new long passphrase"})
    assert r.status_code == 302
    assert _api_status(app, token) == 401
    assert any(e.detail.get("reason") == "password change" for e in _events("api_token.revoke"))


def test_an_admin_password_reset_revokes_tokens_and_sessions(make, auth, client, app):
    target = make.user("jdoe")
    _, token = issue_token(target, target, "phone")
    make.user("boss", role="admin")
    make.commit()
    victim = app.test_client()
    Auth(victim).login("jdoe")
    auth.login("boss")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    r = client.post(f"/admin/users/{target.id}", data={
        "csrf_token": csrf_token_from(page), "version_id": target.version_id, "role": "officer",
        "active": "y", "new_password": "reset by the admin today"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert _api_status(app, token) == 401
    assert victim.get("/").status_code == 302
    assert Auth(victim).login("jdoe", "reset by the admin today").status_code == 302
    assert _events("user.password_reset")[0].actor_username == "boss"


# ---- issue 11 item 7: the rate limit behind a proxy and across workers ----------------------

def _proxied_app(**overrides):
    from crm import create_app
    app = create_app(make_config("sqlite", **overrides))
    app.test_client_class = IsolatedClient  # each request in its own context, as a server would
    with app.app_context():
        db.create_all()
    return app


def test_behind_a_trusted_proxy_the_client_address_is_audited():
    app = _proxied_app(TRUSTED_PROXIES=1)
    with app.app_context():
        c = app.test_client()
        c.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
        Auth(c).login("nobody", "wrong password here")
        assert _events("auth.login")[-1].ip == "203.0.113.50"


def test_without_a_trusted_proxy_forwarded_headers_are_ignored():
    app = _proxied_app()
    with app.app_context():
        c = app.test_client()
        c.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
        Auth(c).login("nobody", "wrong password here")
        assert _events("auth.login")[-1].ip == "127.0.0.1"


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379/15"])
def test_the_login_limit_is_shared_by_workers_only_through_redis(storage):
    """Two workers = two limiter states; the second sees the first's count only in Redis.
    Behind the proxy each client is counted on its own."""
    from crm.extensions import limiter
    if storage.startswith("redis"):
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(storage).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
    # A fresh client address per run: no keys left over from an earlier run to flush.
    client_ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    settings = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                    LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1)
    try:
        codes = []
        for _worker in range(2):  # each create_app gives the limiter a new storage connection
            app = _proxied_app(**settings)
            with app.app_context():
                c = app.test_client()
                c.environ_base["HTTP_X_FORWARDED_FOR"] = client_ip
                codes += [Auth(c).login("nobody", "wrong password here").status_code
                          for _ in range(2)]
                other = app.test_client()
                other.environ_base["HTTP_X_FORWARDED_FOR"] = client_ip + "1"
                assert Auth(other).login("nobody", "wrong password").status_code == 200
    finally:
        limiter.enabled = False  # the module-level singleton: give other tests' apps theirs back
    if storage.startswith("redis"):
        assert codes == [200, 200, 200, 429]
    else:
        assert codes == [200, 200, 200, 200]  # counted per worker: why production needs Redis


def test_production_with_several_workers_requires_redis():
    from config import ProductionConfig
    from crm import create_app
    base = {"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "ANALYTICS_QUEUE": "memory"}
    several = type("Prod", (ProductionConfig,), {**base, "WORKERS": 4, "REDIS_URL": None})
    with pytest.raises(RuntimeError, match="REDIS_URL must be set when serving with 4 workers"):
        create_app(several)
    create_app(type("Prod", (ProductionConfig,), {**base, "WORKERS": 1, "REDIS_URL": None}))
    create_app(type("Prod", (ProductionConfig,), {**base, "WORKERS": 4,
                                                  "REDIS_URL": "redis://127.0.0.1:6379/0"}))


@pytest.mark.parametrize("env, argv, expected", [
    ({}, ["flask"], 1),
    ({"WEB_CONCURRENCY": "3"}, ["flask"], 3),
    ({"GUNICORN_CMD_ARGS": "--bind 127.0.0.1:8000 --workers 5"}, ["x"], 5),
    ({}, ["/srv/.venv/bin/gunicorn", "-w", "4", "wsgi:app"], 4),
    ({}, ["/srv/.venv/bin/gunicorn", "--workers=2", "wsgi:app"], 2),
])
def test_the_worker_count_is_read_from_gunicorn_settings(monkeypatch, env, argv, expected):
    import config
    for name in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", argv)
    assert config._worker_count() == expected


def test_readme_documents_redis_and_the_proxy():
    from config import BASE_DIR
    production = (BASE_DIR / "README.md").read_text().split("## Production", 1)[1].split("\n## ", 1)[0]
    assert "REDIS_URL" in production and "TRUSTED_PROXIES" in production
    assert re.search(r"WEB_CONCURRENCY|--workers", production)


def test_the_signed_out_message_names_the_configured_idle_limit(make, auth, client, app,
                                                                monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT", timedelta(minutes=10))
    make.user("jdoe")
    make.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        auth.login("jdoe")
        clock.shift(timedelta(minutes=11))
        r = client.get("/")
        page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "signed out after 10 minutes without activity" in page


def test_with_redis_configured_the_login_limit_is_counted_in_redis(tmp_path):
    """The environment a production server starts with: REDIS_URL is where the limiter
    counts, so every worker sees one count (a fresh interpreter reads the environment)."""
    import subprocess
    import sys

    from config import BASE_DIR
    env = {"PATH": "/usr/bin:/bin", "CRM_ENV": "production", "SECRET_KEY": "x" * 32,
           "REDIS_URL": "redis://127.0.0.1:6379/11", "CRM_INSTANCE_DIR": str(tmp_path)}
    code = ("from config import Config; c = Config.from_env(); "
            "print(c.RATELIMIT_STORAGE_URI)")
    out = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == "redis://127.0.0.1:6379/11"
