"""Shared fixtures: an app per database (SQLite always, PostgreSQL when TEST_DATABASE_URL is
set), a clean database per test, a client with a login helper, and record factories."""

from __future__ import annotations

import contextvars
import functools
import os
import re
import sys
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.pool import StaticPool

from config import TestingConfig, _normalise_db_url
from crm import create_app
from crm.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")


def clear_analytics_caches() -> None:
    """Empty every per-process cache of computed documents and layouts.

    They are keyed by the data-version counters, which restart at 0 when the next test's
    database is wiped, so without this a document cached by one test answers the next one.
    Found by walking the loaded `crm` modules, so a cache added later is cleared too.
    """
    for name, module in list(sys.modules.items()):
        if not (name == "crm" or name.startswith("crm.")) or module is None:
            continue
        for obj in list(vars(module).values()):
            kind = type(obj)  # never the object itself: modules hold proxies such as `request`
            if kind is _LRU_WRAPPER and obj.__module__ == name:
                obj.cache_clear()
            elif kind.__module__.startswith("crm.") and hasattr(kind, "get_or_compute"):
                obj.clear()  # crm.network.services.LRU wherever it is kept
    from crm.audit.reads import forget_noted_reads

    forget_noted_reads()  # analytics reads audited once a minute per user: ids restart too


_LRU_WRAPPER = type(functools.lru_cache(lambda: None))


@pytest.fixture(autouse=True)
def _fresh_analytics_caches():
    clear_analytics_caches()
    yield
    clear_analytics_caches()


@pytest.fixture
def queued(app):
    """The app with an analytics queue whose jobs wait until the test runs them."""
    from crm.network import jobs, results

    app.config["ANALYTICS_QUEUE"] = "memory"
    jobs.init_app(app)
    results.recent.clear()
    yield app
    app.config["ANALYTICS_QUEUE"] = "immediate"
    jobs.init_app(app)
    results.recent.clear()


DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery staple"


def make_config(kind: str, **overrides) -> type[TestingConfig]:
    attrs = dict(overrides)
    if kind == "sqlite":
        attrs.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
        # One shared in-memory connection, so every session sees the same database.
        attrs.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"poolclass": StaticPool,
                                                       "connect_args": {"check_same_thread": False}})
    else:
        attrs.setdefault("SQLALCHEMY_DATABASE_URI", _normalise_db_url(PG_URL))
    return type(f"Test{kind.title()}Config", (TestingConfig,), attrs)


_apps: dict[str, object] = {}


@pytest.fixture(params=DATABASES)
def app(request):
    """The app on each database; schema built once per database, rows wiped after each test."""
    kind = request.param
    if kind not in _apps:
        application = create_app(make_config(kind))
        with application.app_context():
            if kind == "postgresql":
                db.drop_all()
            db.create_all()
        _apps[kind] = application
    application = _apps[kind]
    ctx = application.app_context()
    ctx.push()
    yield application
    db.session.remove()
    _wipe(kind)
    ctx.pop()


def _wipe(kind: str) -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.begin() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(db.metadata.sorted_tables):
                conn.execute(t.delete())


class IsolatedClient(FlaskClient):
    """Runs each request in an empty context, as a real server would.

    The test itself holds an app context (for factories); without this, requests would
    share its `g` and its database session, hiding bugs such as state leaking across requests.
    Objects the test holds are expired after each request so it reads what was committed.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, follow: bool = False):
        """Sign in; completes the TOTP step (enrolling when needed) for roles that require it."""
        page = self.client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        r = self.client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": token}, follow_redirects=follow)
        if not follow and r.status_code == 302 and "/login/second-factor" in r.headers["Location"]:
            r = self.second_factor(username)
        return r

    def second_factor(self, username: str, code: str | None = None):
        import pyotp

        from crm.models import User
        html = self.client.get("/login/second-factor").get_data(as_text=True)
        m = re.search(r'<code class="secret">([A-Z2-7]{16,})</code>', html)
        secret = m.group(1) if m else db.session.scalar(
            sa.select(User.totp_secret).where(User.username == username))
        return self.client.post("/login/second-factor", data={
            "code": code or pyotp.TOTP(secret).now(), "csrf_token": csrf_token_from(html)})

    def logout(self):
        page = self.client.get("/")
        token = csrf_token_from(page.get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return Auth(client)


# ---- factories: records with sensible defaults, flushed and committed -------------------

class Factory:
    def __init__(self):
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def district(self, code=None, name=None):
        from crm.models import District
        n = self._next()
        d = District(code=code or f"D{n}", name=name or f"District {n}")
        db.session.add(d)
        db.session.flush()
        return d

    def beat(self, code=None, district=None):
        from crm.models import Beat
        n = self._next()
        district = district or self.district()
        b = Beat(code=code or f"B{n:03d}", name=f"Beat {n}", district_id=district.id)
        db.session.add(b)
        db.session.flush()
        return b

    def user(self, username=None, role="officer", beats=(), district=None, password=PASSWORD):
        from crm.users.services import create_user
        n = self._next()
        u = create_user(None, username or f"user{n}", role, password,
                        district_id=district.id if district else None,
                        beat_ids=[b.id for b in beats])
        return u

    def group(self, name=None, beats=(), **kw):
        from crm.models import CommunityGroup
        n = self._next()
        g = CommunityGroup(name=name or f"Group {n}", **kw)
        g.beats = list(beats)
        db.session.add(g)
        db.session.flush()
        return g

    def stakeholder(self, name=None, **kw):
        from crm.models import Stakeholder
        n = self._next()
        s = Stakeholder(name=name or f"Person {n}", **kw)
        db.session.add(s)
        db.session.flush()
        return s

    def membership(self, stakeholder, group, role="member"):
        from crm.models import Membership
        m = Membership(stakeholder_id=stakeholder.id, group_id=group.id, role=role)
        db.session.add(m)
        db.session.flush()
        return m

    def contact(self, officer, groups=(), stakeholders=(), occurred_at=None,
                initiated_by="proactive", channel="foot_patrol", beat=None, **kw):
        from crm.models import Contact, ContactGroup, ContactOfficer, ContactStakeholder
        at = occurred_at or datetime.utcnow() - timedelta(hours=1)
        c = Contact(occurred_at=at, channel=channel, initiated_by=initiated_by,
                    logged_by_id=officer.id, beat_id=beat.id if beat else None, **kw)
        c.officer_links = [ContactOfficer(user_id=officer.id, occurred_at=at)]
        c.group_links = [ContactGroup(group_id=g.id, occurred_at=at, initiated_by=initiated_by)
                         for g in groups]
        c.stakeholder_links = [ContactStakeholder(stakeholder_id=s.id, occurred_at=at)
                               for s in stakeholders]
        db.session.add(c)
        db.session.flush()
        return c


@pytest.fixture
def make(app):
    """Record factory; call `db.session.commit()` (or use `make.commit()`) before HTTP calls."""
    f = Factory()
    f.commit = db.session.commit
    return f


@pytest.fixture
def today():
    return date.today()


@pytest.fixture
def openapi_doc(app, make):
    """The OpenAPI document as a signed-in client sees it (anonymous callers get 401)."""
    from crm.api.auth import issue_token
    user = make.user("openapi-reader")
    _, token = issue_token(user, user, "docs")
    make.commit()
    r = app.test_client().get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    return r.get_json()
