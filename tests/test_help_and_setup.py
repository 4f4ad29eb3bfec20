"""Getting started as a newcomer would (issue 12 item 12): `make run` on another port with
reload, `make install` that says what it does, a demo where every login has something to do,
the README's CSV value sets, a help page per role, a favicon, and refusals in the app's words."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.access import beat_ids_select, case_scope
from crm.demo.services import DEMO_PASSWORD, seed_demo
from crm.extensions import db
from crm.models import ProblemCase, User
from crm.network.services import compute
from crm.vocab import (
    CHANNELS,
    CONSENT_STATUSES,
    GROUP_KINDS,
    INITIATED_BY,
    MEMBERSHIP_ROLES,
    RELATION_TYPES,
    ROLES,
    STANCES,
)

ROOT = Path(__file__).resolve().parent.parent
WERKZEUG_403 = "You don't have the permission to access the requested resource"


# ---- make ----------------------------------------------------------------------------------

def _make(*args: str, env: dict | None = None) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    import os
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "CRM_ENV", "MAKEFLAGS")}
    environ.update(env or {})
    out = subprocess.run(["make", "-n", *args], cwd=ROOT, env=environ, capture_output=True,
                         text=True, timeout=60, check=True)
    return out.stdout


def _serve_line(output: str) -> str:
    return next(line for line in output.splitlines() if "flask run" in line)


def test_make_run_serves_on_port_5000_with_reload_by_default():
    assert _serve_line(_make("run")).endswith("--port 5000 --reload")


def test_make_run_honours_port_from_the_environment_or_the_command_line():
    assert "--port 8123 " in _serve_line(_make("run", env={"PORT": "8123"}))
    assert "--port 8124 " in _serve_line(_make("run", "PORT=8124"))


def test_make_run_does_not_reload_outside_development():
    assert _serve_line(_make("run", env={"CRM_ENV": "production"})).endswith("--no-reload")


def test_make_install_says_what_it_is_doing():
    steps = [line for line in _make("-B", "install").splitlines() if line.startswith("echo")]
    assert len(steps) >= 3
    assert any("virtual environment" in s for s in steps)
    assert any("requirements" in s for s in steps)


# ---- the demo: something to do for every login --------------------------------------------------

@pytest.fixture
def demo(app):
    seed_demo("small", "chicago", seed=1)
    db.session.commit()


def test_every_demo_officer_has_a_hard_to_engage_group_with_an_introduction(demo):
    officers = db.session.scalars(sa.select(User).where(User.role == "officer")
                                  .order_by(User.id)).all()
    assert len(officers) == 10
    for officer in officers:
        beats = list(db.session.scalars(beat_ids_select(officer)))
        hard = compute("hard-to-engage", beat_ids=beats, days=90, use_cache=False)["groups"]
        assert hard, f"{officer.username}: no hard-to-engage group on beats {beats}"
        chains = [c for h in hard for c in compute(
            "introductions", group_id=h["group"]["id"], officer_id=officer.id,
            use_cache=False)["chains"]]
        assert chains, f"{officer.username}: no introduction to any of {hard}"
        first = chains[0]["steps"]
        assert first[0] == {"kind": "officer", "id": officer.id, "name": officer.display_name}
        assert first[-1]["kind"] == "group" and first[-1]["id"] in {h["group"]["id"] for h in hard}


def test_every_demo_unit_member_has_cases_in_scope(demo, client, auth):
    units = db.session.scalars(sa.select(User).where(User.role == "unit")).all()
    assert len(units) == 2
    for unit in units:
        n = db.session.scalar(sa.select(sa.func.count(ProblemCase.id)).where(case_scope(unit)))
        assert n >= 1, unit.username
    auth.login(units[0].username, DEMO_PASSWORD)
    page = client.get("/cases/").get_data(as_text=True)
    assert re.search(r'href="/cases/\d+"', page)


# ---- README --------------------------------------------------------------------------------------

def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("values", [GROUP_KINDS, STANCES, CONSENT_STATUSES, MEMBERSHIP_ROLES,
                                    RELATION_TYPES, INITIATED_BY, CHANNELS])
def test_the_readme_lists_every_csv_value(values):
    section = _readme_section("CSV value sets")
    missing = [v for v in values if f"`{v}`" not in section]
    assert not missing


def test_the_readme_states_the_time_zone_rule_for_csv_times():
    section = " ".join(_readme_section("CSV value sets").split())
    assert "without an offset are read in the department's time zone (`CRM_TIME_ZONE`)" in section


# ---- help ----------------------------------------------------------------------------------------

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.nav: list[tuple[str, str]] = []
        self._section = None
        self._in_nav = False
        self._href = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and (a.get("id") or "").startswith("role-"):
            self._section = a["id"][5:]
            self.sections[self._section] = []
        elif tag == "nav" and "nav" in (a.get("class") or "").split():
            self._in_nav = True
        elif tag == "a":
            self._href = a.get("href")
            if self._section and self._href:
                self.sections[self._section].append(self._href)

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        elif tag == "nav":
            self._in_nav = False
        elif tag == "a":
            self._href = None

    def handle_data(self, data):
        if self._in_nav and self._href and data.strip():
            self.nav.append((data.strip(), self._href))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_finds_help_in_the_nav_and_its_own_links_open(role, make, auth, client):
    beat = make.beat()
    make.user("someone", role=role, beats=[beat] if role == "officer" else (),
              district=beat.district if role == "supervisor" else None)
    make.commit()
    auth.login("someone")
    home = _Links()
    home.feed(client.get("/").get_data(as_text=True))
    assert ("Help", "/help") in home.nav
    r = client.get("/help")
    assert r.status_code == 200
    page = _Links()
    page.feed(r.get_data(as_text=True))
    assert set(page.sections) == set(ROLES)
    assert "your role" in r.get_data(as_text=True).split(f'id="role-{role}"')[1].split("</h2>")[0]
    own = page.sections[role]
    assert own, "the reader's own day links to its pages"
    for href in own:
        assert client.get(href).status_code == 200, href
    for other in set(ROLES) - {role}:
        assert page.sections[other] == []  # described, not linked: no link leads to a refusal


def test_help_needs_a_sign_in(client):
    assert client.get("/help").status_code == 302


# ---- favicon ---------------------------------------------------------------------------------------

def test_the_app_has_a_favicon(client):
    page = client.get("/login").get_data(as_text=True)
    m = re.search(r'<link rel="icon" href="([^"]+favicon\.svg)" type="image/svg\+xml">', page)
    assert m
    icon = client.get(m.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data
    r = client.get("/favicon.ico")
    assert r.status_code in (301, 302) and r.headers["Location"].endswith("/static/favicon.svg")


# ---- refusals in the app's words ----------------------------------------------------------------

def test_a_refused_page_says_why_in_the_apps_words(make, auth, client):
    make.user("eva", role="analyst")
    make.commit()
    auth.login("eva")
    r = client.get("/cases/")
    html = r.get_data(as_text=True)
    assert r.status_code == 403
    assert WERKZEUG_403 not in html
    assert "Not allowed" in html and "outside your role or your area" in html
    assert 'href="/help"' in html
    r = client.get("/cases/", headers={"Accept": "application/json"})
    assert r.status_code == 403
    assert r.get_json()["message"].startswith("You may not open this page")


def test_a_refusal_with_its_own_reason_keeps_it(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    r = client.get("/admin/users/")
    assert r.status_code == 403
    assert "Your role (officer) may not do this." in r.get_data(as_text=True)
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "Not found, or not yours to see" in r.get_data(as_text=True)
