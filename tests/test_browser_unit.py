"""In a real browser: can a community policing unit member correct a relation between two groups?

Needs Chromium and Playwright: `apt-get install chromium` (or any chromium on PATH) and
`.venv/bin/pip install playwright` (the system Chromium is used; `playwright install` is not
needed). Run with `.venv/bin/pytest -m browser tests/test_browser_unit.py`.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from crm import create_app
from crm.extensions import db
from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium")


@pytest.fixture
def sync_api():
    if CHROMIUM is None:
        pytest.skip("no browser: install Chromium so that `chromium` is on PATH "
                    "(Debian/Ubuntu: apt-get install chromium)")
    return pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: run `.venv/bin/pip install playwright` "
               "(the system Chromium is used, no `playwright install` needed)")


@pytest.fixture
def live_server(tmp_path):
    """The app on a file SQLite database, served by werkzeug on a free local port."""
    from werkzeug.serving import make_server

    from crm.groups import services
    from crm.models import Beat, District
    from crm.users.services import create_user

    app = create_app(make_config(
        "sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'browser.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        district = District(code="D1", name="District 1")
        db.session.add(district)
        db.session.flush()
        beat = Beat(code="0111", name="Beat 0111", district_id=district.id)
        db.session.add(beat)
        db.session.flush()
        unit = create_user(None, "unit1", "unit", PASSWORD, display_name="Una Unit")
        # A unit member is assigned to the groups they create, so both are theirs to see.
        bars = services.create_group(unit, {"name": "Bar Owners", "kind": "business",
                                            "beats": "0111"})
        residents = services.create_group(unit, {"name": "Main St Residents",
                                                 "kind": "geographic", "beats": "0111"})
        rel = services.declare_relation(unit, bars, residents, "allied", "parking")
        db.session.commit()
        ids = {"group": bars.id, "relation": rel.id}
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", **ids}
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_unit_member_edits_a_relation_in_the_browser(sync_api, live_server):
    base = live_server["url"]
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("console", lambda m: problems.append(m.text)
                    if m.type == "error" and "Content Security Policy" in m.text else None)

            page.goto(f"{base}/login")
            page.fill("#username", "unit1")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

            page.click("nav >> text=Groups")
            page.wait_for_url(f"{base}/groups/")
            page.click("text=Bar Owners")
            page.wait_for_url(f"{base}/groups/{live_server['group']}")

            row = page.locator(f"#relation-{live_server['relation']}")
            sync_api.expect(row).to_contain_text("Main St Residents")
            sync_api.expect(row).to_contain_text("parking")
            row.get_by_role("link", name="Edit").click()

            page.select_option("#type", "competing")
            page.fill("#issue", "late-night noise after closing")
            page.click("button:has-text('Save relation')")
            page.wait_for_url(f"{base}/groups/{live_server['group']}*")

            row = page.locator(f"#relation-{live_server['relation']}")
            sync_api.expect(row).to_contain_text("Competing")
            sync_api.expect(row).to_contain_text("late-night noise after closing")
            sync_api.expect(page.locator(".flash")).to_contain_text("saved")

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "unit_relation_edited.png"), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
