"""On a phone-sized Chromium, the field-ready workflows of issue 12 (items 2, 4 and 5) and the
follow-ups a phone keeps (issue 16):

- the contact form shows the beat the contact will be filed on, taken from the groups chosen,
  and asks when they disagree;
- a supervisor assigns a visit from the coverage page, the officer finds it on their home
  page, and it closes when the officer logs a contact with the group;
- an officer taps "Ask for this introduction" on a warm-introduction chain and the follow-up
  appears, its people by first name only (the follow-ups are kept on the phone);
- "Done" on a follow-up whose request fails is kept on the phone and sent once later.

Needs Debian's chromium and pip's playwright (skipped otherwise, see test_browser_officer).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.browser import PHONE, chromium, serve, sign_in, wait_until

pytestmark = pytest.mark.browser



@pytest.fixture
def field_server(tmp_path):
    """District 16: officer J. Doe works beats 1613 (Park Seniors) and 1622 (Maple Tenants,
    wary and never reached; Quiet Mosque, wary). He knows Sam Bridge, who sits in the
    Allotment Society (elsewhere) with Pat Link, a member of Quiet Mosque: a warm introduction.
    Sergeant Ray supervises the district."""


    from crm import create_app
    from crm.extensions import db
    from tests.conftest import Factory, make_config

    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'field.db'}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        make = Factory()
        d16, far = make.district("16", "16th District"), make.district("99", "Elsewhere")
        b1613, b1622, b9901 = make.beat("1613", d16), make.beat("1622", d16), make.beat("9901", far)
        officer = make.user("jdoe", beats=[b1613, b1622])
        officer.display_name = "J. Doe"
        sarge = make.user("ray", role="supervisor", district=d16)
        sarge.display_name = "Sgt. Ray"
        seniors = make.group("Park Seniors", beats=[b1613], stance="receptive")
        maple = make.group("Maple Tenants", beats=[b1622], stance="wary")
        mosque = make.group("Quiet Mosque", beats=[b1622], stance="wary")
        allot = make.group("Allotment Society", beats=[b9901])
        ana = make.stakeholder("Ana Lopez")
        make.membership(ana, maple, role="leader")
        sam = make.stakeholder("Sam Bridge", stage="working_relationship")
        pat = make.stakeholder("Pat Link")
        make.membership(sam, allot)
        make.membership(pat, allot)
        make.membership(pat, mosque)
        make.contact(officer, stakeholders=[sam], groups=[seniors], beat=b1613,
                     occurred_at=datetime.utcnow() - timedelta(days=5))
        db.session.commit()
        ids = {"officer": officer.id, "maple": maple.id, "seniors": seniors.id,
               "mosque": mosque.id, "b1613": b1613.id, "b1622": b1622.id, "sam": sam.id}
        db.session.remove()
    with serve(app) as base:
        yield app, base, ids


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def phone(browser):
    """New phone-sized contexts (one per user), each with the page errors it saw."""
    made = []

    def open_phone(**options):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)
        context.set_default_timeout(20000)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        made.append(context)
        return page

    yield open_phone
    for c in made:
        c.close()


def clear_draft(page) -> None:
    page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('crm.contact-draft'))"
                  ".forEach(k => localStorage.removeItem(k))")


def preview(page) -> tuple[str, str]:
    return page.inner_text("#beat-preview-code").strip(), page.inner_text("#beat-preview-why").strip()


def group_box(gid: int) -> str:
    return f'input[name="group_ids"][value="{gid}"]'


def tick(page, gid: int, on: bool = True) -> None:
    """Tap a group's label, as a thumb would (the box itself may be small)."""
    box = page.locator(group_box(gid))
    if box.is_checked() != on:
        page.click(f'label:has({group_box(gid)})')
    assert box.is_checked() == on


def contacts_of(app, officer_id: int):
    from crm.extensions import db
    from crm.models import Contact, ContactOfficer
    with app.app_context():
        try:
            return db.session.execute(
                sa.select(Contact.id, Contact.beat_id).join(ContactOfficer)
                .where(ContactOfficer.user_id == officer_id).order_by(Contact.id)).all()
        finally:
            db.session.remove()


# ---- item 2: the right beat, shown before sending ---------------------------------------------


def test_the_contact_form_shows_the_beat_of_the_groups_and_asks_when_they_disagree(field_server, phone):
    app, base, ids = field_server
    page = phone()
    sign_in(page, base, "jdoe")
    page.goto(f"{base}/contacts/new")
    clear_draft(page)
    page.reload()

    # Nothing chosen yet: the officer's first beat.
    assert preview(page)[0] == "1613"
    # Maple Tenants sits on 1622: the contact goes there, and the form says so before sending.
    tick(page, ids["maple"])
    code, why = preview(page)
    assert code == "1622" and "groups" in why
    # Park Seniors is on 1613: the groups disagree, so the form asks, with the beats to pick from.
    tick(page, ids["seniors"])
    code, why = preview(page)
    assert code == "choose" and "1613" in why and "1622" in why
    assert page.locator("#beat-choice").get_attribute("open") is not None
    page.screenshot(path=str(_artifacts() / "field-beat-choose.png"), full_page=True)

    # Sent without choosing: refused by name at the top of the form, nothing lost.
    page.click("#send")
    page.wait_for_selector("[data-error-summary]")
    assert "Beat" in page.inner_text("[data-error-summary]")
    assert page.is_checked(group_box(ids["maple"])) and page.is_checked(group_box(ids["seniors"]))
    assert contacts_of(app, ids["officer"])[1:] == []

    # The officer picks where it happened: the preview follows, and that is where it is filed.
    page.select_option("#beat_id", str(ids["b1622"]))
    assert preview(page) == ("1622", "chosen by you")
    page.click("#send")
    page.wait_for_url(re.compile(r".*/contacts/\d+$"))
    saved = contacts_of(app, ids["officer"])
    assert len(saved) == 2 and saved[-1].beat_id == ids["b1622"]

    # One group on 1622 only: filed on 1622 without asking (not on the officer's first beat).
    page.goto(f"{base}/contacts/new")
    tick(page, ids["maple"])
    assert preview(page)[0] == "1622"
    page.click("#send")
    page.wait_for_url(re.compile(r".*/contacts/\d+$"))
    saved = contacts_of(app, ids["officer"])
    assert len(saved) == 3 and saved[-1].beat_id == ids["b1622"]
    assert page.problems == []


# ---- item 4: the supervisor assigns the gap -----------------------------------------------------


def test_a_visit_assigned_from_coverage_reaches_the_officer_and_closes_with_the_contact(field_server,
                                                                                       phone):
    from crm.assignments.models import Assignment
    from crm.extensions import db

    app, base, ids = field_server
    due = (datetime.now() + timedelta(days=10)).date().isoformat()

    sarge = phone()
    sign_in(sarge, base, "ray")
    sarge.goto(f"{base}/analytics/coverage")
    hard = sarge.locator("table.an-hard")
    assert "Maple Tenants" in hard.inner_text()
    sarge.click("a[aria-label='Assign a visit to Maple Tenants']")
    sarge.wait_for_url(re.compile(r".*/assignments/new\?group=\d+.*"))
    sarge.select_option("#officer_id", str(ids["officer"]))
    assert "J. Doe" in sarge.locator("#officer_id option:checked").inner_text()
    sarge.fill("#due_on", due)
    sarge.fill("#note", "Knock at the chair's door")
    sarge.click("button:has-text('Assign')")
    sarge.wait_for_url(re.compile(r".*/analytics/coverage.*"))
    assert f"assigned to J. Doe, due {due}" in sarge.inner_text("table.an-hard")

    officer = phone()
    sign_in(officer, base, "jdoe")
    visit = officer.locator(".assignments li", has_text="Maple Tenants")
    assert visit.count() == 1
    text = visit.inner_text()
    assert "Visit" in text and due in text and "Sgt. Ray" in text and "Knock at the chair's door" in text
    officer.screenshot(path=str(_artifacts() / "field-assigned-visit-home.png"), full_page=True)

    # The officer logs a contact with the group: the assignment closes itself.
    officer.goto(f"{base}/contacts/new")
    clear_draft(officer)
    officer.reload()
    tick(officer, ids["maple"])
    officer.click("#send")
    officer.wait_for_url(re.compile(r".*/contacts/\d+$"))
    officer.goto(f"{base}/")
    assert officer.locator(".assignments li", has_text="Maple Tenants").count() == 0
    with app.app_context():
        assert db.session.scalar(sa.select(Assignment.status)) == "done"
        db.session.remove()
    sarge.reload()
    assert "assigned to J. Doe" not in sarge.inner_text("main")
    assert sarge.problems == [] and officer.problems == []


# ---- item 5: one tap asks for the introduction ------------------------------------------------


def test_one_tap_on_a_chain_asks_for_the_introduction_first_names_only(field_server, phone):
    app, base, ids = field_server
    page = phone()
    sign_in(page, base, "jdoe")
    page.goto(f"{base}/analytics/my-beat")
    chain = page.locator("li.chain.mine", has_text="Quiet Mosque")
    assert chain.count() >= 1
    assert re.sub(r"\s+", " ", chain.first.inner_text()).startswith(
        "You → Sam Bridge → Allotment Society → Pat Link → Quiet Mosque")
    # Let the phone finish keeping its offline copies first: a background fetch still on its
    # way carries the session cookie from before the tap, and would put it back.
    page.wait_for_selector("html[data-offline-ready]", state="attached")
    chain.first.locator("button:has-text('Ask for this introduction')").click()
    page.wait_for_url(f"{base}/contacts/follow-ups")

    assert "Follow-up added: ask Sam about Quiet Mosque" in page.inner_text("main")
    mine = page.locator("#assigned-visits li", has_text="Quiet Mosque")
    assert mine.count() == 1
    text = re.sub(r"\s+", " ", mine.inner_text())
    assert "Ask Sam for an introduction to Quiet Mosque" in text
    assert "Chain: You → Sam → Allotment Society → Pat → Quiet Mosque" in text
    page.screenshot(path=str(_artifacts() / "field-introduction-follow-up.png"), full_page=True)

    # The follow-ups are a page the phone keeps: no surnames in what it keeps.
    response = page.request.get(f"{base}/contacts/follow-ups")
    assert response.headers.get("x-offline-cacheable") == "1"
    body = response.text()
    assert "Sam" in body and "Bridge" not in body and "Pat Link" not in body
    # The home page lists it too.
    page.goto(f"{base}/")
    assert page.locator(".assignments li", has_text="Ask Sam for an introduction").count() == 1
    assert page.problems == []


# ---- issue 16: "Done" is kept when its request fails -----------------------------------------


def test_done_is_kept_on_the_phone_when_the_request_fails_and_sent_once_later(field_server, phone):
    from crm.extensions import db
    from crm.models import AuditEvent, Contact, ContactOfficer

    app, base, ids = field_server
    with app.app_context():
        contact_id = db.session.scalar(sa.select(Contact.id).join(ContactOfficer).where(
            ContactOfficer.user_id == ids["officer"]))
        c = db.session.get(Contact, contact_id)
        c.follow_up_on = datetime.now().date()
        c.follow_up_note = "Bring the bus timetable"
        db.session.commit()
        db.session.remove()

    # Service workers off: the test's network cut must see every request the page makes.
    page = phone(service_workers="block")
    sign_in(page, base, "jdoe")
    page.goto(f"{base}/contacts/follow-ups")
    item = page.locator("#follow-ups-today li", has_text="Bring the bus timetable")
    assert item.count() == 1

    # The phone believes it is online, but the request dies on the way (a dead stairwell).
    def cut(route):
        route.abort("connectionreset")
    page.route("**/follow-up/done", cut)
    page.route("**/offline/send/done/**", cut)
    item.locator("button:has-text('Done')").click()
    page.wait_for_selector("#follow-ups-today .offline-saved")
    assert "Saved on this phone, waiting to send" in item.inner_text()
    page.wait_for_selector("#offline-count:not([hidden])")
    assert page.get_attribute("#offline-count", "data-count") == "1"

    def done_events() -> int:
        with app.app_context():
            try:
                return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "contact.follow_up_done"))
            finally:
                db.session.remove()

    def still_due() -> bool:
        with app.app_context():
            try:
                return db.session.get(Contact, contact_id).follow_up_done_at is None
            finally:
                db.session.remove()

    assert still_due()
    # The signal is back: the next page load sends it, once; reloading again sends nothing more.
    page.unroute("**/follow-up/done")
    page.unroute("**/offline/send/done/**")
    page.reload()
    # The badge starts hidden until the queue is read, so wait on the server and the queue.
    assert wait_until(lambda: not still_due(), page=page), "the queued 'Done' never reached the server"
    assert wait_until(lambda: page.evaluate("() => window.crmOffline.count()") == 0)
    page.reload()
    page.evaluate("() => window.crmOffline.flush()")
    assert done_events() == 1
    assert page.locator("#follow-ups-today li", has_text="Bring the bus timetable").count() == 0
    assert [p for p in page.problems if "connectionreset" not in p.lower()] == []


def _artifacts():
    from tests.test_browser_officer import ARTIFACTS
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
