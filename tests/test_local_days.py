"""Do the windows count the department's days, on the DST days too?

America/Chicago: 2027-03-14 is the spring-forward day (23 hours: 06:00 UTC to 05:00 UTC the
next day) and 2026-11-01 the fall-back day (25 hours: 05:00 UTC to 06:00 UTC). A contact at
23:30 on the evening of either day is already the next day in UTC; coverage, the officer
page, the engagement facts, hard-to-engage and the date filters must count it on its local day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import sqlalchemy as sa
import time_machine

from crm import timezones
from crm.api.auth import issue_token
from crm.assignments.models import Assignment
from crm.extensions import db
from crm.facts import services as facts
from crm.facts.models import BeatDay, OfficerDay
from crm.models import BeatAssignment
from crm.network import services as network
from crm.officers import services as officers

SPRING, FALL = date(2027, 3, 14), date(2026, 11, 1)
# 23:30 local on the evening of each DST day, as stored (naive UTC): CDT is -5, CST -6.
LATE = {SPRING: datetime(2027, 3, 15, 4, 30), FALL: datetime(2026, 11, 2, 5, 30)}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def chicago(app, monkeypatch):
    monkeypatch.setitem(app.config, "TIME_ZONE", "America/Chicago")
    # Sign-ins months from now: accounts unused that long would be disabled.
    monkeypatch.setitem(app.config, "ACCOUNT_INACTIVE_DAYS", 3650)


@pytest.fixture
def world(make, chicago):
    beat = make.beat("1622")
    officer = make.user("jdoe", beats=[beat])
    sarge = make.user("sarge", role="supervisor")
    group = make.group("Pilsen Tenants", beats=[beat], stance="receptive")
    for assignment in db.session.scalars(sa.select(BeatAssignment)):
        assignment.starts_on = date(2026, 1, 1)
    tokens = {u.username: issue_token(u, u, "phone")[1] for u in (officer, sarge)}
    make.commit()
    return {"beat": beat, "officer": officer, "sarge": sarge, "group": group,
            "headers": {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}}


def _late_contact(make, world, day: date, **kw):
    c = make.contact(world["officer"], groups=[world["group"]], beat=world["beat"],
                     occurred_at=LATE[day], **kw)
    make.commit()
    return c


def _beat_contacts(doc: dict, beat_id: int) -> int:
    return next(b["contacts"] for b in doc["beats"] if b["beat"] and b["beat"]["id"] == beat_id)


def _both_ways(name: str, **kw) -> list[dict]:
    """The document from the engagement facts and the same one counted from the records."""
    from_facts = network.compute(name, **kw)
    with mock.patch("crm.facts.services.answers_as_of", return_value=False):
        from_records = network.compute(name, **kw)
    return [from_facts, from_records]


def test_local_days_of_the_dst_days_are_23_and_25_hours(chicago):
    start, end = timezones.local_day_bounds(SPRING)
    assert (start, end) == (datetime(2027, 3, 14, 6), datetime(2027, 3, 15, 5))
    start, end = timezones.local_day_bounds(FALL)
    assert end - start == timedelta(hours=25)
    after, through = timezones.window_utc(SPRING, 1)
    assert after < datetime(2027, 3, 14, 6) <= through < datetime(2027, 3, 15, 5)


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_coverage_counts_a_late_evening_contact_on_its_local_day(world, make, client, day):
    _late_contact(make, world, day)
    beat_id = world["beat"].id
    with time_machine.travel(utc(day.year, day.month, day.day + 3, 12), tick=False):
        for doc in _both_ways("coverage", as_of=day, days=1):
            assert _beat_contacts(doc, beat_id) == 1
            officer = next(o for o in doc["officers"] if o["officer"]["id"] == world["officer"].id)
            assert officer["contacts"] == 1 and officer["groups_reached"] == 1
        for doc in _both_ways("coverage", as_of=day + timedelta(days=1), days=1):
            assert _beat_contacts(doc, beat_id) == 0  # not on the next (UTC) day
        # The API's as_of is a local day too.
        r = client.get(f"/api/v1/analytics/coverage?as_of={day}&days=1",
                       headers=world["headers"]["sarge"])
        assert r.status_code == 200 and _beat_contacts(r.get_json(), beat_id) == 1


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_the_facts_keep_a_late_evening_contact_on_its_local_day(world, make, day):
    _late_contact(make, world, day)
    beat_days = db.session.execute(sa.select(BeatDay.day, BeatDay.beat_id, BeatDay.n)).all()
    assert beat_days == [(day, world["beat"].id, 1)]
    officer_days = db.session.execute(
        sa.select(OfficerDay.day, OfficerDay.n, OfficerDay.n_groups_last)).all()
    assert officer_days == [(day, 1, 1)]
    assert facts.differences() == {}  # a rebuild (SQL's local day) agrees


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_the_officer_page_counts_a_late_evening_contact_on_its_local_day(world, make, auth,
                                                                         client, day):
    _late_contact(make, world, day)
    next_day = day + timedelta(days=1)
    with time_machine.travel(utc(day.year, day.month, day.day + 3, 12), tick=False):
        on_day = officers.officer_summary(world["sarge"], world["officer"], days=30, as_of=day)
        assert (on_day.contacts, on_day.group_contacts, on_day.groups_reached) == (1, 1, 1)
        offset = "-05:00" if day == SPRING else "-06:00"  # CDT, CST
        assert on_day.to_dict()["groups"][0]["last_at"] == f"{day}T23:30:00{offset}"
        s = officers.officer_summary(world["sarge"], world["officer"], days=30, as_of=next_day)
        bars = {(w.start, w.end): w.contacts for w in s.weeks}
        # DST days are Sundays: the contact closes its week, the next day opens an empty one.
        assert bars[(day - timedelta(days=6), day)] == 1
        assert bars[(next_day, next_day)] == 0
        assert s.group_contacts == 1  # from the facts' day rows: the same window
        auth.login("jdoe")
        html = client.get(f"/officers/{world['officer'].id}?days=30").get_data(as_text=True)
    chart = html[html.index('id="weeks-chart"'):html.index("</svg>", html.index('id="weeks-chart"'))]
    values = [int(v) for v in re.findall(r'class="of-value">(\d+)<', chart)]
    assert values[-2:] == [1, 0]  # the week ending on the DST day, then this week (Mon-Wed)


def test_hard_to_engage_cuts_off_at_local_midnight(world, make):
    # 23:30 CDT on the spring-forward day; in UTC already March 15.
    _late_contact(make, world, SPRING, initiated_by="proactive")
    gid = world["group"].id
    last_in, first_out = SPRING + timedelta(days=89), SPRING + timedelta(days=90)
    with time_machine.travel(utc(2027, 6, 20, 12), tick=False):
        for doc in _both_ways("hard-to-engage", as_of=last_in, days=90):
            assert gid not in [f["group"]["id"] for f in doc["groups"]]  # day 90 of 90
        for doc in _both_ways("hard-to-engage", as_of=first_out, days=90):
            flag = next(f for f in doc["groups"] if f["group"]["id"] == gid)
            assert flag["days_since_contact"] == 90


def test_a_follow_up_due_today_is_not_overdue_at_22_local(world, make, auth, client):
    # The contact's follow-up and an assigned visit are due on the spring-forward day.
    make.contact(world["officer"], groups=[world["group"]], beat=world["beat"],
                 occurred_at=datetime(2027, 3, 10, 15), follow_up_on=SPRING,
                 follow_up_note="due on the DST day")
    visit = Assignment(group_id=world["group"].id, officer_id=world["officer"].id,
                       assigned_by_id=world["sarge"].id, due_on=SPRING)
    db.session.add(visit)
    make.commit()
    # 22:00 CDT on March 14 is 03:00 UTC on March 15.
    with time_machine.travel(utc(2027, 3, 15, 3, 0), tick=False):
        api = client.get("/api/v1/follow-ups/", headers=world["headers"]["jdoe"]).get_json()
        auth.login("jdoe")
        home = client.get("/").get_data(as_text=True)
        assert not visit.is_overdue()
    assert [f["status"] for f in api] == ["today"]
    item = home[home.index("due on the DST day") - 400:home.index("due on the DST day")]
    assert '<li class="today">' in item and "status-overdue" not in item
    with time_machine.travel(utc(2027, 3, 15, 5, 0), tick=False):  # 00:00 CDT March 15
        assert visit.is_overdue()


def test_a_date_filter_covers_exactly_the_local_day(world, make, auth, client):
    o, g = world["officer"], world["group"]
    times = {"before": datetime(2027, 3, 14, 5, 59),  # 23:59 CST March 13
             "first": datetime(2027, 3, 14, 6, 0),  # 00:00 CST March 14
             "last": datetime(2027, 3, 15, 4, 59),  # 23:59 CDT March 14, 23 hours later
             "after": datetime(2027, 3, 15, 5, 0)}  # 00:00 CDT March 15
    ids = {k: make.contact(o, groups=[g], occurred_at=t).id for k, t in times.items()}
    make.commit()
    with time_machine.travel(utc(2027, 3, 20, 12), tick=False):
        auth.login("jdoe")
        html = client.get("/contacts/mine?date_from=2027-03-14&date_to=2027-03-14"
                          ).get_data(as_text=True)
        api = client.get("/api/v1/contacts/?from=2027-03-14&to=2027-03-14",
                         headers=world["headers"]["jdoe"]).get_json()
    section = html.split('id="my-contacts"', 1)[1]
    listed = {int(i) for i in re.findall(r'href="/contacts/(\d+)"', section)}
    assert listed == {ids["first"], ids["last"]}
    assert {c["id"] for c in api} == {ids["first"], ids["last"]}


def test_the_outcomes_export_counts_months_and_days_locally(world, make):
    from crm.network.outcomes import outcome_rows

    # 23:30 CDT on March 31 is already April 1 in UTC.
    make.contact(world["officer"], groups=[world["group"]], occurred_at=datetime(2027, 4, 1, 4, 30))
    make.commit()
    rows = list(outcome_rows("secret"))
    assert [r[0] for r in rows] == ["2027-03"]
    day = date(2027, 3, 31)
    assert len(list(outcome_rows("secret", date_from=day, date_to=day))) == 1
    assert list(outcome_rows("secret", date_from=day + timedelta(days=1))) == []
