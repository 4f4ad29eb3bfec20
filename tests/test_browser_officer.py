"""On a phone-sized Chromium: can an officer log a contact, survive a dropped connection,
and tick off the follow-up afterwards?

Needs Debian's chromium (`apt-get install chromium`) and pip's playwright; skipped otherwise.
Screenshots of each final screen go to tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser import chromium, serve

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture
def live_server(tmp_path):
    """The app on a file SQLite database, served by werkzeug in a background thread."""

    from crm import create_app
    from crm.extensions import db
    from crm.models import Beat, CommunityGroup, District, Membership, Stakeholder
    from crm.users.services import create_user
    from tests.conftest import PASSWORD, make_config

    config = make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'browser.db'}",
                         SQLALCHEMY_ENGINE_OPTIONS={})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        district = District(code="01", name="1st District")
        db.session.add(district)
        db.session.flush()
        beat = Beat(code="0111", name="Beat 0111", district_id=district.id)
        db.session.add(beat)
        db.session.flush()
        create_user(None, "jdoe", "officer", PASSWORD, display_name="J. Doe", beat_ids=[beat.id])
        group = CommunityGroup(name="Maple Tenants", kind="tenants", stance="wary")
        group.beats = [beat]
        person = Stakeholder(name="Ana Lopez", phone="555 010 2030")
        db.session.add_all([group, person])
        db.session.flush()
        db.session.add(Membership(stakeholder_id=person.id, group_id=group.id, role="leader"))
        db.session.commit()
        seeded = {"group_id": group.id}
    with serve(app) as base:
        yield app, base, seeded


@pytest.fixture
def browser_page():
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15000)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            yield context, page, problems
        finally:
            context.close()


def test_officer_logs_a_contact_on_a_phone_and_ticks_off_the_follow_up(live_server, browser_page):
    from crm.extensions import db
    from crm.models import Contact, Stakeholder
    from tests.conftest import PASSWORD

    app, base, seeded = live_server
    context, page, problems = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    # Sign in.
    page.goto(f"{base}/login")
    page.fill("#username", "jdoe")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # One screen: find a person with a typo, their group is ticked for us.
    page.goto(f"{base}/contacts/new")
    group_box = f'input[name="group_ids"][value="{seeded["group_id"]}"]'
    assert not page.is_checked(group_box)
    page.fill("#person-search", "Ana Lopz")
    page.click("#person-results button:has-text('Ana Lopez')")
    page.wait_for_selector("#chosen-people li.chip[data-name='Ana Lopez']")
    assert page.is_checked(group_box)

    # Quick-add a person met for the first time, tap a technique, note and follow-up.
    page.click("#quick-add summary")
    page.fill("#new_name", "Bo Chen")
    page.fill("#new_phone", "555 0101")
    page.click("label.toggle:has-text('Active listening')")
    page.click("label.toggle:has-text('Requested')")
    page.select_option("#stage_after", "rapport")
    page.fill("#note", "Agreed to walk the block on Friday.")
    page.click(".quick-dates button[data-days='1']")
    page.fill("#follow_up_note", "Bring the repair ticket")
    assert "not intelligence" in page.inner_text("#note-warning")
    tap = page.locator("label.toggle:has-text('Active listening') span").bounding_box()
    assert tap["height"] >= 44

    # Reloading keeps everything (the draft lives in localStorage).
    page.reload()
    assert page.input_value("#note") == "Agreed to walk the block on Friday."
    assert page.input_value("#new_name") == "Bo Chen"
    assert page.is_visible("#draft-status")
    page.wait_for_selector("#chosen-people li.chip[data-name='Ana Lopez']")

    # The connection drops: nothing is lost, the phone keeps it and the officer is told so
    # (crm.offline: the send queue; tests/test_browser_offline.py has the details).
    context.set_offline(True)
    page.click("#send")
    page.wait_for_selector("#send-status:not([hidden])")
    assert "Saved on this phone, waiting to send" in page.inner_text("#send-status")
    page.wait_for_selector("#offline-count:not([hidden])")
    page.screenshot(path=str(ARTIFACTS / "officer-contact-not-sent.png"), full_page=True)
    context.set_offline(False)

    # Back online the phone sends it by itself: saved once, and the contact links the group.
    page.wait_for_function("() => document.getElementById('offline-count').hidden")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('crm.contact-draft')).length") == 0
    with app.app_context():
        contact = db.session.scalars(sa.select(Contact)).one()
        assert contact.techniques == ["active_listening"] and contact.initiated_by == "requested"
        assert db.session.scalar(sa.select(Stakeholder.phone).where(Stakeholder.name == "Bo Chen")) == "555 0101"
        contact_id = contact.id
    page.goto(f"{base}/contacts/{contact_id}")
    page.screenshot(path=str(ARTIFACTS / "officer-contact.png"), full_page=True)

    # The group page (built elsewhere); until it exists, the link on the contact page is the check.
    link = page.locator(f'#contact-groups a[href="/groups/{seeded["group_id"]}"]')
    assert link.inner_text() == "Maple Tenants"
    response = page.goto(f"{base}/groups/{seeded['group_id']}")
    if response.status == 200:
        assert "Maple Tenants" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "officer-group.png"), full_page=True)
    else:
        page.goto(f"{base}/contacts/{contact_id}")
        assert "Maple Tenants" in page.inner_text("#contact-groups")

    # Tick off the follow-up from "My follow-ups".
    page.goto(f"{base}/contacts/follow-ups")
    item = page.locator("#follow-ups-upcoming li", has_text="Bring the repair ticket")
    item.locator("button", has_text="Done").click()
    page.wait_for_selector("text=marked done")
    assert "Bring the repair ticket" not in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "officer-follow-ups.png"), full_page=True)
    with app.app_context():
        assert db.session.get(Contact, contact_id).follow_up_done_at is not None

    csp = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert csp == []
