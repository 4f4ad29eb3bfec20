"""A rotation played end to end on phones (issue 15): the sergeant plans the hand-over of beat
1611, names the successor and transfers it; the successor finds the people on their hand-over
page and logs a contact with two of them; the coverage page's retention figures move from 0 to 2.

Needs Debian's chromium and pip's playwright (skipped otherwise, see test_browser_officer).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.browser import serve, sign_in
from tests.test_browser_field import browser, clear_draft, phone  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def rotation_server(tmp_path):
    """District 16: Lee works beat 1611 and is moving on; Sue works 1612 and takes over.
    Lee reached Ada (rapport) and Bo (working relationship) of the Elm Tenants, and met Cy
    once (initial contact: not a relationship to hand over). Sergeant Ray runs the district."""


    from crm import create_app
    from crm.extensions import db
    from tests.conftest import Factory, make_config

    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'rotation.db'}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        make = Factory()
        d16 = make.district("16", "16th District")
        b1611, b1612 = make.beat("1611", d16), make.beat("1612", d16)
        lee = make.user("lee", beats=[b1611])
        lee.display_name = "Lee Leaving"
        sue = make.user("sue", beats=[b1612])
        sue.display_name = "Sue Successor"
        ray = make.user("ray", role="supervisor", district=d16)
        ray.display_name = "Sgt. Ray"
        tenants = make.group("Elm Tenants", beats=[b1611], stance="receptive", stage="rapport")
        ada = make.stakeholder("Ada Rapport", stage="rapport")
        bo = make.stakeholder("Bo Working", stage="working_relationship")
        cy = make.stakeholder("Cy New", stage="initial_contact")
        for p in (ada, bo, cy):
            make.membership(p, tenants)
        make.contact(lee, groups=[tenants], stakeholders=[ada, bo, cy], beat=b1611,
                     occurred_at=datetime.utcnow() - timedelta(days=10), channel="meeting")
        db.session.commit()
        ids = {"lee": lee.id, "sue": sue.id, "b1611": b1611.id, "ada": ada.id, "bo": bo.id}
        db.session.remove()
    with serve(app) as base:
        yield app, base, ids


def retention_row(page, base: str) -> list[str]:
    """The coverage page's hand-over row for beat 1611: [beat, handed over, relationships,
    re-established in 30, 60, 90 days]."""
    page.goto(f"{base}/analytics/coverage")
    row = page.locator("table.an-handover tbody tr", has_text="1611")
    assert row.count() == 1, "no hand-over figures for beat 1611 on the coverage page"
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def log_contact_with(page, base: str, first_name: str, full_name: str) -> None:
    page.goto(f"{base}/contacts/new")
    clear_draft(page)
    page.reload()
    page.fill("#person-search", first_name)
    page.click(f"#person-results button:has-text('{full_name}')")
    page.wait_for_selector(f"#chosen-people li.chip[data-name='{full_name}']")
    page.fill("#purpose", "Introduced myself as the new beat officer")
    # The form takes minutes; the transfer was stamped seconds into this minute, and a contact
    # counts from the transfer on (crm.handovers.services.met_since): say it was a minute later.
    when = datetime.strptime(page.input_value("#occurred_at")[:16], "%Y-%m-%dT%H:%M")
    page.fill("#occurred_at", (when + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#send")
    page.wait_for_url(re.compile(r".*/contacts/\d+$"))


def test_a_rotation_on_phones_moves_the_retention_figures(rotation_server, phone):  # noqa: F811
    from tests.test_browser_officer import ARTIFACTS

    app, base, ids = rotation_server
    ARTIFACTS.mkdir(exist_ok=True)
    today = datetime.now().date()

    # The sergeant plans Lee's move off 1611.
    sarge = phone()
    sign_in(sarge, base, "ray")
    sarge.goto(f"{base}/handovers/plan")
    sarge.select_option("#officer_id", str(ids["lee"]))
    sarge.select_option("#beat_id", str(ids["b1611"]))
    sarge.fill("#leaves_on", today.isoformat())
    sarge.click("button:has-text('Draft the hand-over')")
    sarge.wait_for_url(re.compile(r".*/handovers/\d+$"))
    handover_url = sarge.url
    items = sarge.inner_text("ul.handover-items")
    assert "Ada Rapport" in items and "Bo Working" in items and "Cy New" not in items
    assert "in hand-over" in sarge.inner_text(".handover-status")
    sarge.goto(f"{base}/analytics/coverage")
    assert sarge.locator("a.pill.in-handover").count() == 1  # the beat shows as in hand-over

    # ... names Sue and transfers.
    sarge.goto(handover_url)
    sarge.select_option("#successor_id", str(ids["sue"]))
    sarge.click("button:has-text('Give to this successor')")
    sarge.wait_for_url(handover_url)
    assert "Successor: Sue Successor" in sarge.inner_text("ul.handover-items")
    sarge.click("button:has-text('Transfer the hand-over')")
    sarge.wait_for_load_state()
    sarge.goto(handover_url)
    assert "transferred" in sarge.inner_text(".handover-status")
    before = retention_row(sarge, base)
    assert before[0].startswith("1611") and before[2] == "2" and before[3:] == ["0", "0", "0"], before
    sarge.screenshot(path=str(ARTIFACTS / "rotation-coverage-before.png"), full_page=True)

    # Sue reads her hand-over: the introductions to make, and meets two of the people.
    sue = phone()
    sign_in(sue, base, "sue")
    sue.goto(handover_url)
    tasks = sue.inner_text("ul.handover-items")
    assert "Ada Rapport" in tasks and "Bo Working" in tasks
    assert sue.locator("p.task", has_text="Ada Rapport").count() == 1
    log_contact_with(sue, base, "Ada", "Ada Rapport")
    log_contact_with(sue, base, "Bo", "Bo Working")
    sue.goto(handover_url)
    assert sue.locator("p.task", has_text="✓ done").count() >= 2
    sue.screenshot(path=str(ARTIFACTS / "rotation-successor-tasks-done.png"), full_page=True)

    # The figures move: both relationships re-established within 30 days.
    after = retention_row(sarge, base)
    assert after[2] == "2" and after[3:] == ["2", "2", "2"], after
    sarge.screenshot(path=str(ARTIFACTS / "rotation-coverage-after.png"), full_page=True)
    assert sarge.problems == [] and sue.problems == []
