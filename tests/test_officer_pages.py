"""Issue 12 item 6: can a supervisor open an officer's page from the coverage page and read
why the officer is (or is not) flagged "comfort zone", in the officer's own figures?"""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, datetime, timedelta

import pytest

from crm.assignments.models import Assignment
from crm.extensions import db
from crm.network.services import compute
from crm.officers import services
from tests.test_contacts_api import bearer


def _at(days_ago: int) -> datetime:
    return datetime.combine(services.analytics_today() - timedelta(days=days_ago),
                            datetime.min.time()) \
        + timedelta(hours=10)


def _text(html: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def beat_world(make):
    """District D1, beat 1622 with four groups (two receptive: a 50 % baseline); Dee made six
    proactive contacts, all with a receptive group, and one reactive with a hostile group.
    Eli works the same beat with two proactive contacts only. District D2 has Far."""
    d1, d2 = make.district("D1"), make.district("D2")
    b1, b2 = make.beat("1622", d1), make.beat("0999", d2)
    sarge = make.user("ray", role="supervisor", district=d1)
    far_sarge = make.user("sue", role="supervisor", district=d2)
    dee = make.user("dee", beats=[b1])
    eli = make.user("eli", beats=[b1])
    far = make.user("far", beats=[b2])
    friends = make.group("Park Friends", beats=[b1], stance="receptive")
    make.group("Garden Club", beats=[b1], stance="receptive")
    hostile = make.group("Corner Crew", beats=[b1], stance="hostile")
    make.group("Quiet Block", beats=[b1], stance="neutral")
    elsewhere = make.group("Far Tenants", beats=[b2], stance="neutral")
    for days_ago in (0, 1, 2, 8, 9, 30):
        make.contact(dee, groups=[friends], occurred_at=_at(days_ago), beat=b1)
    make.contact(dee, groups=[hostile], occurred_at=_at(1), beat=b1, initiated_by="reactive")
    make.contact(dee, groups=[elsewhere], occurred_at=_at(3), beat=b2, initiated_by="requested")
    make.contact(dee, occurred_at=_at(200), beat=b1)  # outside a 90-day window
    make.contact(eli, groups=[friends], occurred_at=_at(4), beat=b1)
    make.contact(eli, groups=[hostile], occurred_at=_at(5), beat=b1)
    make.user("unit1", role="unit")
    make.user("analyst1", role="analyst")
    make.user("admin1", role="admin")
    make.commit()
    return dict(sarge=sarge, far_sarge=far_sarge, dee=dee, eli=eli, far=far, friends=friends,
                hostile=hostile, elsewhere=elsewhere, b1=b1)


def test_officer_names_on_the_coverage_page_link_to_their_pages(beat_world, auth, client):
    w = beat_world
    auth.login("ray")
    html = client.get("/analytics/coverage").get_data(as_text=True)
    assert f'href="/officers/{w["dee"].id}?days=90"' in html
    assert f'href="/officers/{w["eli"].id}?days=90"' in html
    page = client.get(f"/officers/{w['dee'].id}?days=90")
    assert page.status_code == 200
    assert "dee" in page.get_data(as_text=True)


def test_the_comfort_zone_flag_states_its_rule_and_the_officers_own_figures(beat_world, auth,
                                                                            client):
    w = beat_world
    auth.login("ray")
    html = client.get(f"/officers/{w['dee'].id}").get_data(as_text=True)
    text = _text(html)
    assert "at least 5 of their group-contacts in the window were proactive" in text
    assert "at least 25 percentage points above the share of receptive groups" in text
    # Six proactive contacts, all with Park Friends (receptive); 2 of the beat's 4 groups are.
    assert ("6 of dee's 6 proactive group-contacts (100%) were with receptive groups; "
            "2 of the 4 groups on their beats (1622) are receptive (50%): a difference of "
            "+50 points, at least 25: flagged.") in text
    assert "comfort-pill" in html and "flagged" in text

    # Eli: two proactive contacts, one with a receptive group: too little to judge anyway.
    text = _text(client.get(f"/officers/{w['eli'].id}").get_data(as_text=True))
    assert ("1 of eli's 2 proactive group-contacts (50%) were with receptive groups; 2 of the "
            "4 groups on their beats (1622) are receptive (50%): a difference of +0 points, "
            "below 25; with fewer than 5 proactive group-contacts that is too little to judge: "
            "not flagged.") in text


def test_the_page_agrees_with_the_coverage_figures_for_the_same_officer(beat_world, app):
    w = beat_world
    doc = compute("coverage", days=90)
    row = next(o for o in doc["officers"] if o["officer"]["id"] == w["dee"].id)
    s = services.officer_summary(w["sarge"], w["dee"], days=90)
    assert s.group_contacts == row["contacts"] == 8
    assert s.groups_reached == row["groups_reached"] == 3
    assert s.proactive_share == pytest.approx(row["proactive_share"])
    assert s.comfort.index == pytest.approx(row["comfort_zone_index"]) == pytest.approx(0.5)
    assert s.comfort.flagged is row["comfort_zone"] is True
    assert s.stance_mix["receptive"] == row["contacts_receptive"] == 6
    assert s.stance_mix["hostile"] + s.stance_mix["wary"] == row["contacts_wary_hostile"] == 1


def test_weekly_bars_carry_their_numbers(beat_world, auth, client):
    w = beat_world
    auth.login("dee")
    html = client.get(f"/officers/{w['dee'].id}?days=30").get_data(as_text=True)
    chart = html[html.index('id="weeks-chart"'):html.index("</svg>", html.index('id="weeks-chart"'))]
    values = [int(v) for v in re.findall(r'class="of-value">(\d+)<', chart)]
    labels = re.findall(r'class="of-label">([^<]+)<', chart)
    # Days 0..29 back: the contacts of days 0, 1, 1, 2, 3, 8 and 9 (day 30 is outside).
    assert sum(values) == 7
    assert len(values) == len(labels) >= 5
    s = services.officer_summary(w["dee"], w["dee"], days=30)
    assert values == [wk.contacts for wk in s.weeks]
    today = services.analytics_today()
    this_week = next(wk for wk in s.weeks if wk.start <= today <= wk.end)
    expected = sum(1 for d in (0, 1, 1, 2, 3, 8, 9)
                   if this_week.start <= today - timedelta(days=d) <= this_week.end)
    assert this_week.contacts == expected
    assert s.weeks[0].start == today - timedelta(days=29) and s.weeks[-1].end == today


def test_who_may_open_an_officer_page(beat_world, auth, client):
    w = beat_world
    url = f"/officers/{w['dee'].id}"
    for username, status in (("ray", 200), ("dee", 200), ("admin1", 200), ("sue", 404),
                             ("eli", 404), ("far", 404), ("unit1", 404), ("analyst1", 404)):
        auth.login(username)
        r = client.get(url)
        assert r.status_code == status, username
        if status == 404:
            assert "Corner Crew" not in r.get_data(as_text=True)
        auth.logout()
    auth.login("sue")
    assert client.get(f"/officers/{w['far'].id}").status_code == 200
    assert client.get(f"/officers/{w['sarge'].id}").status_code == 404


def test_groups_outside_the_viewers_scope_are_counted_but_not_named(beat_world, auth, client):
    w = beat_world
    auth.login("ray")
    html = client.get(f"/officers/{w['dee'].id}").get_data(as_text=True)
    assert "Park Friends" in html and "Corner Crew" in html
    assert "Far Tenants" not in html and "a group outside your scope" in html
    auth.logout()
    auth.login("admin1")
    assert "Far Tenants" in client.get(f"/officers/{w['dee'].id}").get_data(as_text=True)


def test_open_assignments_are_listed(beat_world, auth, client):
    w = beat_world
    db.session.add(Assignment(group_id=w["hostile"].id, officer_id=w["dee"].id,
                              assigned_by_id=w["sarge"].id, due_on=date.today() - timedelta(days=2)))
    db.session.add(Assignment(group_id=w["friends"].id, officer_id=w["dee"].id, status="done",
                              assigned_by_id=w["sarge"].id, due_on=date.today()))
    db.session.commit()
    auth.login("ray")
    html = client.get(f"/officers/{w['dee'].id}").get_data(as_text=True)
    section = html[html.index('id="assign-h"'):]
    assert "Corner Crew" in section and "overdue" in section
    assert "Park Friends" not in section  # done, not open


def test_a_window_that_is_not_offered_is_refused_naming_the_field(beat_world, auth, client):
    auth.login("ray")
    r = client.get(f"/officers/{beat_world['dee'].id}?days=7")
    assert r.status_code == 400
    assert "days: choose a window of 30, 60, 90, 180 or 365 days" in r.get_data(as_text=True)


def test_the_api_summary_has_the_same_figures(beat_world, make, client):
    w = beat_world
    headers = bearer(make, w["sarge"])
    r = client.get(f"/api/v1/officers/{w['dee'].id}/summary?days=90", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["officer"] == {"id": w["dee"].id, "name": "dee", "role": "officer"}
    assert body["contacts"] == 8 and body["group_contacts"] == 8
    assert sum(wk["contacts"] for wk in body["weeks"]) == 8
    assert body["groups_reached"] == 3
    assert body["stance_mix"] == {"receptive": 6, "neutral": 1, "wary": 0, "hostile": 1,
                                  "unknown": 0}
    cz = body["comfort_zone"]
    assert (cz["proactive"], cz["proactive_receptive"], cz["beat_groups"], cz["beat_receptive"],
            cz["flagged"], cz["threshold"], cz["min_proactive"]) == (6, 6, 4, 2, True, 0.25, 5)
    hidden = [g for g in body["groups"] if g["name"] is None]
    assert hidden == [{"id": None, "name": None, "stance": "neutral", "contacts": 1,
                       "proactive": 0, "last_at": hidden[0]["last_at"]}]
    assert client.get(f"/api/v1/officers/{w['dee'].id}/summary?days=7",
                      headers=headers).status_code == 422
    far = bearer(make, w["far_sarge"])
    assert client.get(f"/api/v1/officers/{w['dee'].id}/summary", headers=far).status_code == 404
