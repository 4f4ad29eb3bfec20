"""Issue 12 item 7: can an officer find their own contacts, newest first, by group, person and
date, one page at a time?"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.contacts.views import MINE_PAGE_SIZE
from crm.extensions import db
from crm.models import AuditEvent


def _at(days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(date.today() - timedelta(days=days_ago), datetime.min.time()) \
        + timedelta(hours=hour)


@pytest.fixture
def shift(make):
    """Dee's contacts: Maple Tenants with Ann (3 days ago), the Corner Shop with Bo (yesterday),
    Maple Tenants again (today); Eli's contact with Maple Tenants on the same beat."""
    beat = make.beat("1611")
    dee = make.user("dee", beats=[beat])
    eli = make.user("eli", beats=[beat])
    tenants = make.group("Maple Tenants", beats=[beat])
    shop = make.group("Corner Shop", beats=[beat])
    ann, bo = make.stakeholder("Ann Lopez"), make.stakeholder("Bo Chen")
    make.membership(ann, tenants)
    c_old = make.contact(dee, groups=[tenants], stakeholders=[ann], occurred_at=_at(3),
                         purpose="Old visit")
    c_mid = make.contact(dee, groups=[shop], stakeholders=[bo], occurred_at=_at(1),
                         purpose="Shop talk")
    c_new = make.contact(dee, groups=[tenants], occurred_at=_at(0, 8), purpose="Newest visit")
    c_eli = make.contact(eli, groups=[tenants], occurred_at=_at(0, 9), purpose="Eli's visit")
    make.commit()
    return dict(dee=dee, tenants=tenants, shop=shop, ann=ann, bo=bo, old=c_old, mid=c_mid,
                new=c_new, eli=c_eli)


def listed(html: str) -> list[int]:
    section = html.split('id="my-contacts"', 1)[1] if 'id="my-contacts"' in html else ""
    return [int(i) for i in re.findall(r'href="/contacts/(\d+)"', section)]


def test_my_contacts_are_mine_only_and_newest_first(shift, auth, client):
    auth.login("dee")
    r = client.get("/contacts/mine")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert listed(html) == [shift["new"].id, shift["mid"].id, shift["old"].id]
    assert "Eli&#39;s visit" not in html and "Eli's visit" not in html
    assert 'href="/contacts/mine"' in client.get("/").get_data(as_text=True)  # in the nav
    assert f'href="/officers/{shift["dee"].id}"' in html  # and her own officer page from here
    assert client.get(f"/officers/{shift['dee'].id}").status_code == 200


def test_filter_by_group(shift, auth, client):
    auth.login("dee")
    html = client.get(f"/contacts/mine?group={shift['tenants'].id}").get_data(as_text=True)
    assert listed(html) == [shift["new"].id, shift["old"].id]
    # The group filter offers the groups Dee had contacts with.
    assert ">Maple Tenants</option>" in html and ">Corner Shop</option>" in html


def test_filter_by_person_with_a_typo(shift, auth, client):
    auth.login("dee")
    html = client.get("/contacts/mine?person=Ana+Lopez").get_data(as_text=True)
    assert listed(html) == [shift["old"].id]
    assert "People matching" in html and "Ann Lopez" in html
    html = client.get("/contacts/mine?person=Nobody+Here").get_data(as_text=True)
    assert listed(html) == [] and "No person you can see matches" in html


def test_filter_by_date_range(shift, auth, client):
    auth.login("dee")
    day = (date.today() - timedelta(days=1)).isoformat()
    html = client.get(f"/contacts/mine?date_from={day}&date_to={day}").get_data(as_text=True)
    assert listed(html) == [shift["mid"].id]
    start = (date.today() - timedelta(days=2)).isoformat()
    html = client.get(f"/contacts/mine?date_from={start}").get_data(as_text=True)
    assert listed(html) == [shift["new"].id, shift["mid"].id]


def test_bad_filters_are_named_and_kept(shift, auth, client):
    auth.login("dee")
    r = client.get("/contacts/mine?date_from=2026-13-01&person=Ann")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "From (date): Not a valid date value." in html
    assert 'value="Ann"' in html
    later, earlier = date.today().isoformat(), (date.today() - timedelta(days=5)).isoformat()
    r = client.get(f"/contacts/mine?date_from={later}&date_to={earlier}")
    assert r.status_code == 422
    assert "To (date): must be on or after the From date" in r.get_data(as_text=True)
    r = client.get("/contacts/mine?group=999999")
    assert r.status_code == 422
    assert "Group: Not a valid choice." in r.get_data(as_text=True)


def test_pages_of_contacts(shift, make, auth, client):
    for i in range(MINE_PAGE_SIZE + 2):
        make.contact(shift["dee"], groups=[shift["shop"]], occurred_at=_at(10 + i))
    make.commit()
    auth.login("dee")
    first = client.get(f"/contacts/mine?group={shift['shop'].id}").get_data(as_text=True)
    assert len(listed(first)) == MINE_PAGE_SIZE
    assert f'href="/contacts/mine?group={shift["shop"].id}&amp;page=2"' in first
    second = client.get(f"/contacts/mine?group={shift['shop'].id}&page=2").get_data(as_text=True)
    assert len(listed(second)) == 3  # 27 contacts of the shop in all
    assert not set(listed(first)) & set(listed(second))


def test_names_shown_are_audited(shift, auth, client):
    auth.login("dee")
    client.get("/contacts/mine")
    ids = [e.detail["ids"] for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "stakeholder.list"))]
    assert ids == [sorted([shift["ann"].id, shift["bo"].id])]


def test_analysts_have_no_contacts_list(shift, make, auth, client):
    make.user("analyst1", role="analyst")
    make.commit()
    auth.login("analyst1")
    assert client.get("/contacts/mine").status_code == 403
