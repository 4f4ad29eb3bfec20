"""In a real browser: do the shared scripts (static/confirm.js, static/search.js) work on a
group page? Skips like the other browser tests when Chromium or Playwright is missing."""

from __future__ import annotations

import threading

import pytest

from crm import create_app
from crm.extensions import db
from tests.conftest import PASSWORD, make_config
from tests.test_browser_unit import CHROMIUM, sync_api  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def group_server(tmp_path):
    from werkzeug.serving import make_server

    from crm.groups import services
    from crm.models import Beat, District, Membership, Stakeholder
    from crm.users.services import create_user

    app = create_app(make_config(
        "sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'scripts.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        district = District(code="D1", name="District 1")
        db.session.add(district)
        db.session.flush()
        db.session.add(Beat(code="0111", name="Beat 0111", district_id=district.id))
        db.session.flush()
        unit = create_user(None, "unit1", "unit", PASSWORD, display_name="Una Unit")
        bars = services.create_group(unit, {"name": "Bar Owners", "beats": "0111"})
        residents = services.create_group(unit, {"name": "Main St Residents", "beats": "0111"})
        rel = services.declare_relation(unit, bars, residents, "allied", "parking")
        ana = Stakeholder(name="Ana Lopez")
        db.session.add(ana)
        db.session.flush()
        db.session.add(Membership(stakeholder_id=ana.id, group_id=residents.id, role="member"))
        db.session.commit()
        ids = {"group": bars.id, "relation": rel.id, "ana": ana.id}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", **ids}
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_member_search_and_end_confirmation_on_a_group_page(sync_api, group_server):  # noqa: F811
    base, gid = group_server["url"], group_server["group"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", "unit1")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/groups/{gid}")

            # search.js under picker.js: typing (with a typo) offers the person in the list.
            page.click("#add-member summary")
            page.fill("#stakeholder_id", "Ana Lopz")
            option = page.locator("#add-member [role=option]", has_text="Ana Lopez")
            sync_api.expect(option).to_have_count(1)
            sync_api.expect(page.locator("#add-member .picker-status")).to_contain_text("found")

            # confirm.js: saying no keeps the relation; saying yes ends it.
            row = page.locator(f"#relation-{group_server['relation']}")
            page.once("dialog", lambda d: d.dismiss())
            row.get_by_role("button", name="End today").click()
            page.wait_for_timeout(300)
            sync_api.expect(row).to_contain_text("current")
            page.once("dialog", lambda d: d.accept())
            row.get_by_role("button", name="End today").click()
            page.wait_for_url(f"{base}/groups/{gid}*")
            sync_api.expect(page.locator(".flash")).to_contain_text("ended")
        finally:
            browser.close()
