"""On a phone in Chicago (Chromium at 390x844, the browser's zone America/Chicago, the
department's too): the contact form's "When" opens with the time the phone shows, not UTC,
and the saved contact shows that same local time on its page (issue 12 item 1).

Needs Debian's chromium and pip's playwright (skipped otherwise).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.browser import PHONE, chromium, serve, sign_in

pytestmark = pytest.mark.browser
CHICAGO = "America/Chicago"


@pytest.fixture
def chicago_server(tmp_path):
    from crm import create_app
    from crm.extensions import db
    from tests.conftest import Factory, make_config

    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'tz.db'}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}, TIME_ZONE=CHICAGO))
    with app.app_context():
        db.create_all()
        make = Factory()
        beat = make.beat("1622")
        officer = make.user("jdoe", beats=[beat])
        group = make.group("Pilsen Tenants", beats=[beat])
        db.session.commit()
        ids = {"officer": officer.id, "group": group.id}
        db.session.remove()
    with serve(app) as base:
        yield app, base, ids


def test_the_form_opens_with_the_phones_local_time_and_the_contact_keeps_it(chicago_server):
    app, base, ids = chicago_server
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                      timezone_id=CHICAGO)
        context.set_default_timeout(20000)
        page = context.new_page()
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in(page, base, "jdoe")
        page.goto(f"{base}/contacts/new")
        page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('crm.contact-draft'))"
                      ".forEach(k => localStorage.removeItem(k))")
        page.reload()

        prefilled = datetime.strptime(page.input_value("#occurred_at")[:16], "%Y-%m-%dT%H:%M")
        # The clock the officer sees on the phone (the browser's zone is Chicago).
        phone = datetime(*page.evaluate(
            "(() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, "
            "d.getDate(), d.getHours(), d.getMinutes()]; })()"))
        utc_wall = datetime.now(UTC).replace(tzinfo=None)
        assert abs(prefilled - phone) <= timedelta(minutes=2), (prefilled, phone)
        assert abs(prefilled - utc_wall) >= timedelta(hours=4), "the form opened with UTC"
        label = page.inner_text("label[for=occurred_at]")
        assert re.search(r"\bC[SD]T\b", label), label

        page.click(f'label:has(input[name="group_ids"][value="{ids["group"]}"])')
        page.click("#send")
        page.wait_for_url(re.compile(r".*/contacts/\d+$"))
        shown = page.inner_text("h1 time")
        assert shown == prefilled.strftime("%Y-%m-%d %H:%M")
        assert problems == []
        context.close()

    from crm.extensions import db
    from crm.models import Contact
    with app.app_context():
        stored = db.session.scalar(sa.select(Contact.occurred_at))
        db.session.remove()
    # Stored in UTC: the local time typed, five or six hours later.
    assert stored == prefilled.replace(tzinfo=ZoneInfo(CHICAGO)).astimezone(UTC).replace(tzinfo=None)
