"""Hardening: sessions, second factor, password rules, headers, backups — as an attacker or user sees them."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from crm.audit.services import AppendOnlyError, record_event
from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import AuditEvent, Beat, User
from crm.users.services import check_password_policy
from tests.conftest import PASSWORD, csrf_token_from, make_config


def _user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_idle_session_expires_after_thirty_minutes(make, auth, client):
    make.user("jdoe")
    make.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        auth.login("jdoe")
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity keeps it alive
        clock.shift(timedelta(minutes=31))
        r = client.get("/")
        assert r.status_code == 302 and "/login" in r.headers["Location"]
        assert client.get("/").status_code == 302  # and it stays signed out


def test_session_ends_after_twelve_hours_even_when_active(make, auth, client):
    make.user("jdoe")
    make.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        auth.login("jdoe")
        for _ in range(25):  # active every 29 minutes for 12 h 5 min
            clock.shift(timedelta(minutes=29))
            r = client.get("/")
        assert r.status_code == 302


def test_a_new_session_id_is_issued_at_login(make, auth, client):
    make.user("jdoe")
    make.commit()
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by attacker"
    auth.login("jdoe")
    with client.session_transaction() as s:
        assert "planted" not in s


def test_password_change_revokes_other_sessions(make, auth, client, app):
    make.user("jdoe")
    make.commit()
    other = app.test_client()
    from tests.conftest import Auth
    Auth(other).login("jdoe")
    auth.login("jdoe")
    page = client.get("/account").get_data(as_text=True)
    r = client.post("/account", data={"action": "password", "csrf_token": csrf_token_from(page),
                                      "pw-current_password": PASSWORD,
                                      "pw-new_password": "a brand new long passphrase"})
    assert r.status_code == 302
    assert other.get("/").status_code == 302  # the other device is signed out too
    assert auth.login("jdoe", "a brand new long passphrase").status_code == 302


def test_disabled_account_loses_its_sessions(make, auth, client):
    from crm.users.services import set_active
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    set_active(None, _user("jdoe"), False, reason="left the department")
    make.commit()
    assert client.get("/").status_code == 302
    assert auth.login("jdoe").status_code == 200  # refused, generic message


@pytest.mark.parametrize("password", ["short pass", "password1234", "Qwerty123456",
                                      "aaaaaaaaaaaaaaaa", "jdoe-is-my-password"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError) as e:
        check_password_policy(password, username="jdoe")
    assert "password" in e.value.errors


def test_admin_must_enrol_a_second_factor(make, client, auth):
    make.user("boss", role="admin")
    make.commit()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
    assert r.headers["Location"].endswith("/login/second-factor")
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert "Set up two-factor sign-in" in page
    r = auth.second_factor("boss", code="000000")
    assert r.status_code == 200 and b"not valid" in r.data
    r = auth.second_factor("boss")
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    assert _user("boss").totp_secret


def test_officer_with_totp_needs_the_code(make, client, auth):
    u = make.user("jdoe")
    u.totp_secret = pyotp.random_base32()
    make.commit()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "jdoe", "password": PASSWORD, "csrf_token": token})
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert "Enter your code" in page and u.totp_secret not in page
    assert auth.second_factor("jdoe").status_code == 302


def test_accounts_unused_for_ninety_days_are_disabled(make, auth, runner):
    make.user("sleepy")
    make.commit()
    with time_machine.travel(utcnow() + timedelta(days=91), tick=False):
        r = runner.invoke(args=["crm", "disable-inactive"])
        assert "sleepy" in r.output
    db.session.expire_all()
    assert _user("sleepy").active is False
    assert auth.login("sleepy").status_code == 200


def test_security_headers_on_pages(make, auth, client):
    make.user("jdoe")
    make.commit()
    for r in (client.get("/login"), auth.login("jdoe"), client.get("/"), client.get("/nope")):
        h = r.headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert "unsafe-inline" not in h["Content-Security-Policy"]
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"]
        assert h["Cache-Control"] == "no-store"


def test_hsts_and_secure_cookie_outside_development(tmp_path):
    from config import ProductionConfig
    from crm import create_app
    cfg = type("Prod", (ProductionConfig,), {"SECRET_KEY": "x" * 32,
                                             "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    app = create_app(cfg)
    r = app.test_client().get("/login")
    assert "max-age" in r.headers["Strict-Transport-Security"]
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    from config import ProductionConfig
    from crm import create_app
    cfg = type("Prod", (ProductionConfig,), {"SECRET_KEY": None})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(cfg)


def test_errors_show_a_generic_page_not_a_traceback():
    from crm import create_app
    app = create_app(make_config("sqlite"))

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = app.test_client().get("/boom")
    assert r.status_code == 500
    assert b"secret internals" not in r.data and b"Traceback" not in r.data
    assert b"Something went wrong" in r.data


def test_audit_events_are_append_only(make):
    ev = record_event(None, "test.event")
    make.commit()
    ev.action = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, ev.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_tampered_audit_row_is_detected(make, runner):
    for i in range(3):
        record_event(None, f"test.event{i}")
    make.commit()
    assert runner.invoke(args=["crm", "audit", "verify"]).exit_code == 0
    # An attacker with database access rewrites history behind the ORM's back.
    second = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == second)
                       .values(actor_username="nobody"))
    make.commit()
    r = runner.invoke(args=["crm", "audit", "verify"])
    assert r.exit_code == 1 and f"event {second}" in r.output


def test_deleted_audit_row_is_detected(make, runner):
    for i in range(3):
        record_event(None, f"test.event{i}")
    make.commit()
    first = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).first()
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == first))
    make.commit()
    assert runner.invoke(args=["crm", "audit", "verify"]).exit_code == 1


def test_backup_and_restore_bring_back_the_data(tmp_path):
    from crm import create_app
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={}))
    runner = app.test_cli_runner()
    with app.app_context():
        db.create_all()
        db.session.add(Beat(code="0111", name="Beat 0111"))
        db.session.commit()
        out = tmp_path / "backup.sqlite3"
        r = runner.invoke(args=["crm", "backup", "--output", str(out)])
        assert r.exit_code == 0, r.output
        db.session.execute(sa.delete(Beat))
        db.session.commit()
        r = runner.invoke(args=["crm", "restore", str(out), "--yes"])
        assert r.exit_code == 0, r.output
        db.session.remove()
        assert db.session.scalars(sa.select(Beat.code)).all() == ["0111"]
        db.engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path):
    from crm import create_app
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"
    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379/15"])
def test_login_is_rate_limited_per_ip(storage):
    from crm import create_app
    from tests.conftest import Auth
    if storage.startswith("redis"):
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(storage).flushdb()
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
    from crm.extensions import limiter
    app = create_app(make_config("sqlite", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                                 LOGIN_RATE_LIMIT="3 per minute"))
    try:
        with app.app_context():
            db.create_all()
            client = app.test_client()
            codes = [Auth(client).login("nobody", "wrong password here").status_code
                     for _ in range(4)]
    finally:
        # Flask-Limiter keeps `enabled` on its module-level singleton: give the other
        # tests' apps back the disabled limiter their config asks for.
        limiter.enabled = False
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_audit_trail_never_keeps_secrets_or_personal_values(make):
    ev = record_event(None, "stakeholder.update", detail={
        "before": {"name": "Jane Citizen", "phone": "555-0100", "stage": "rapport"},
        "after": {"name": "Jane Q Citizen", "phone": "555-0199", "stage": "working_relationship"},
        "password": "hunter2hunter2", "items": [{"note": "saw her at church"}]})
    make.commit()
    stored = str(db.session.get(AuditEvent, ev.id).detail)
    for secret in ("Jane", "555-01", "hunter2", "church"):
        assert secret not in stored
    # What changed stays visible, and non-personal values are kept.
    assert ev.detail["after"]["stage"] == "working_relationship"
    assert ev.detail["before"]["name"] == "[redacted]"


@pytest.mark.parametrize("kind", ["sqlite"] + (["postgresql"] if __import__("os").environ.get("TEST_DATABASE_URL") else []))
def test_concurrent_requests_never_fork_the_audit_chain(kind, tmp_path):
    """Four writers at once: every event still links to the one before it."""
    import threading

    from crm import create_app
    from crm.audit.services import verify_chain
    extra = ({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'chain.db'}",
              "SQLALCHEMY_ENGINE_OPTIONS": {}} if kind == "sqlite" else {})
    app = create_app(make_config(kind, **extra))
    with app.app_context():
        if kind == "sqlite":
            db.create_all()
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()

    def writer(n):
        with app.app_context():
            for i in range(10):
                record_event(None, f"test.concurrent.{n}.{i}")
                db.session.commit()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        report = verify_chain()
        assert report.ok and report.checked == 40
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()
        db.engine.dispose()
