"""Two app servers, one answer: do two gunicorn instances on one PostgreSQL and one Redis
serve the same new network document after a membership changes, computed once?

Starts two gunicorn processes (one worker each, different ports) and two `flask crm worker`
processes against a database of its own next to TEST_DATABASE_URL's (`<name>_two_servers`)
and the Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/5). Skipped with a message
when PostgreSQL or Redis cannot be reached.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestingConfig, _normalise_db_url

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
SECRET = "two-servers-test-secret"  # noqa: S105 - tests only


def _database_url() -> str:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: the two-server test needs PostgreSQL")
    url = sa.engine.make_url(_normalise_db_url(PG_URL))
    if not url.get_backend_name().startswith("postgresql"):
        pytest.skip("the two-server test needs PostgreSQL")
    name = f"{url.database}_two_servers"
    try:
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except sa.exc.OperationalError as e:
        pytest.skip(f"PostgreSQL not reachable: {e.__class__.__name__}")
    return url.set(database=name).render_as_string(hide_password=False)


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - local test server
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _wait_until(fn, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path):
    db_url = _database_url()
    redis_client = _redis()

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = db_url
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        REDIS_URL = REDIS_URL
        ANALYTICS_QUEUE = "redis"
        INSTANCE_DIR = tmp_path

    from crm import create_app
    from crm.extensions import db

    app = create_app(Config)
    ctx = app.app_context()
    ctx.push()
    db.drop_all()
    db.create_all()
    app.extensions["crm_queue"]["huey"].flush()  # nothing left over from an earlier run

    env = {**os.environ, "CRM_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": db_url,
           "REDIS_URL": REDIS_URL, "CRM_INSTANCE_DIR": str(tmp_path), "TRUSTED_PROXIES": "0",
           "WEB_CONCURRENCY": "1", "FLASK_APP": "wsgi", "PYTHONPATH": str(ROOT)}
    env.pop("GUNICORN_CMD_ARGS", None)
    bin_dir = Path(sys.executable).parent
    procs, ports = [], [_free_port(), _free_port()]
    logs = []
    try:
        for port in ports:
            log = open(tmp_path / f"gunicorn-{port}.log", "w")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(subprocess.Popen(
                [str(bin_dir / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
                 "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        for i in range(2):
            log = open(tmp_path / f"worker-{i}.log", "w")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(subprocess.Popen(
                [str(bin_dir / "flask"), "crm", "worker", "--workers", "2"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT))
        yield {"app": app, "db": db, "ports": ports, "tmp": tmp_path}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
        ctx.pop()
        redis_client.close()


def test_two_servers_serve_the_same_new_document_computed_once(stack):
    from crm.network.models import AnalyticsResult
    from crm.users.services import issue_token
    from tests.conftest import Factory

    db, make = stack["db"], Factory()  # records in this test's own database
    beat = make.beat("0111")
    a, b, c = (make.group(n, beats=[beat]) for n in ("Alpha", "Bravo", "Charlie"))
    people = [make.stakeholder(f"P{i}") for i in range(3)]
    for p in people:
        make.membership(p, a)
    make.membership(people[0], b)
    user = make.user("unit1", role="unit")
    _tok, token = issue_token(None, user, "two servers")
    db.session.commit()

    def wait_up(port):
        def ok():
            try:
                return _get(port, "/api/v1/analytics/overlap", token)[0] in (200, 202)
            except OSError:
                return False
        _wait_until(ok, f"gunicorn on port {port}")

    for port in stack["ports"]:
        wait_up(port)

    def fresh_docs(pairs: int):
        docs = [_get(port, "/api/v1/analytics/overlap", token) for port in stack["ports"]]
        if all(status == 200 and d["computed"]["status"] == "fresh" and d["pair_count"] == pairs
               for status, d in docs):
            return [d for _s, d in docs]
        return None

    first = _wait_until(lambda: fresh_docs(1), "the first overlap on both servers")
    assert first[0] == first[1]

    # A membership changes (on a third process: this one): Charlie shares P1 with Alpha.
    make.membership(people[1], c)
    db.session.commit()
    # Both servers are asked many times while the new version is on its way.
    for _ in range(5):
        for port in stack["ports"]:
            status, doc = _get(port, "/api/v1/analytics/overlap", token)
            assert status == 200  # never a wait: the last document, marked refreshing
    new = _wait_until(lambda: fresh_docs(2), "the new overlap on both servers")
    assert new[0] == new[1]
    assert new[0]["computed"]["data_versions"]["memberships"] > \
        first[0]["computed"]["data_versions"]["memberships"]

    db.session.expire_all()
    rows = db.session.scalars(sa.select(AnalyticsResult).where(
        AnalyticsResult.analytic == "overlap")).all()
    (row,) = [r for r in rows if r.versions == new[0]["computed"]["data_versions"]]
    assert row.status == "done" and row.attempts == 1, "computed more than once"
