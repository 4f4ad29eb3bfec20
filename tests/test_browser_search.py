"""On a phone-sized Chromium: an officer types in the header's search box and finds a group of
their own beat first, opens it, and finds their contacts under "My contacts".

Needs Debian's chromium and pip's playwright (skipped otherwise, see test_browser_officer).
The final screens go to tests/artifacts/.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.browser import serve
from tests.test_browser_officer import ARTIFACTS, browser_page  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def search_server(tmp_path):
    """Officer Dee works beat 1611; a better-matching group on another beat of the district is
    outside her scope, and a person she met elsewhere matches the whole word."""

    from crm import create_app
    from crm.extensions import db
    from crm.models import (
        Beat,
        CommunityGroup,
        Contact,
        ContactOfficer,
        ContactStakeholder,
        District,
        Membership,
        Stakeholder,
    )
    from crm.users.services import create_user
    from tests.conftest import make_config

    config = make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'search.db'}",
                         SQLALCHEMY_ENGINE_OPTIONS={})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        district = District(code="01", name="1st District")
        db.session.add(district)
        db.session.flush()
        mine, other = Beat(code="1611", name="Beat 1611", district_id=district.id), \
            Beat(code="1622", name="Beat 1622", district_id=district.id)
        db.session.add_all([mine, other])
        db.session.flush()
        dee = create_user(None, "dee", "officer", _password(), display_name="Dee Officer",
                          beat_ids=[mine.id])
        own = CommunityGroup(name="Maple Street Tenants", kind="tenants", stance="wary")
        own.beats = [mine]
        away = CommunityGroup(name="Maple", kind="business")
        away.beats = [other]
        member = Stakeholder(name="Bob Maplewood")
        met = Stakeholder(name="Ann Maple")
        db.session.add_all([own, away, member, met])
        db.session.flush()
        db.session.add(Membership(stakeholder_id=member.id, group_id=own.id, role="leader"))
        db.session.add(Membership(stakeholder_id=met.id, group_id=away.id, role="member"))
        at = datetime.utcnow() - timedelta(days=1)
        c = Contact(occurred_at=at, channel="visit", initiated_by="proactive",
                    logged_by_id=dee.id, beat_id=other.id, purpose="Met at the market")
        c.officer_links = [ContactOfficer(user_id=dee.id, occurred_at=at)]
        c.stakeholder_links = [ContactStakeholder(stakeholder_id=met.id, occurred_at=at)]
        db.session.add(c)
        db.session.commit()
        seeded = {"own": own.id}
    with serve(app) as base:
        yield app, base, seeded


def _password() -> str:
    from tests.conftest import PASSWORD
    return PASSWORD


def test_an_officer_finds_a_group_of_their_beat_first_from_the_header(search_server,
                                                                      browser_page):  # noqa: F811
    app, base, seeded = search_server
    context, page, problems = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{base}/login")
    page.fill("#username", "dee")
    page.fill("#password", _password())
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # The box is in the header of every page, visible and big enough to tap on a phone.
    box = page.locator("#header-q")
    assert box.is_visible()
    assert box.bounding_box()["height"] >= 44
    assert page.locator("label[for=header-q]").inner_text() == "Search people, groups and cases"
    assert box.bounding_box()["width"] >= 200

    box.fill("maple")
    box.press("Enter")
    page.wait_for_url(f"{base}/search?q=maple")
    hits = page.locator("#search-results li.search-hit")
    first = hits.nth(0)
    assert first.get_attribute("data-kind") == "group"
    assert first.locator("a").inner_text() == "Maple Street Tenants"
    assert "your beat" in first.inner_text()
    titles = [hits.nth(i).locator("a").inner_text() for i in range(hits.count())]
    # Her beat's member next; the person she met elsewhere after, though her name fits best;
    # the group on a colleague's beat is not hers to see.
    assert titles == ["Maple Street Tenants", "Bob Maplewood", "Ann Maple"]
    assert page.input_value("#header-q") == "maple"  # the query stays in the box
    page.screenshot(path=str(ARTIFACTS / "search-phone.png"), full_page=True)

    first.locator("a").click()
    page.wait_for_url(f"{base}/groups/{seeded['own']}")
    assert "Maple Street Tenants" in page.inner_text("h1")

    page.goto(f"{base}/contacts/mine")
    assert "Met at the market" in page.inner_text("#my-contacts")
    page.screenshot(path=str(ARTIFACTS / "my-contacts-phone.png"), full_page=True)
    assert not problems, problems
