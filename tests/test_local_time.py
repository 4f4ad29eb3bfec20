"""Does an officer in Chicago enter and read Chicago time, on the DST days too?

Times are stored as naive UTC; the department's zone (TIME_ZONE) is America/Chicago here.
2026-03-08 is the spring-forward day (02:00 CST -> 03:00 CDT, 02:xx never happens) and
2026-11-01 the fall-back day (02:00 CDT -> 01:00 CST, 01:xx happens twice).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from config import TestingConfig
from crm import create_app, timezones
from crm.api.auth import issue_token
from crm.assignments.models import Assignment
from crm.csvio.services import export_csv, import_csv
from crm.extensions import db
from crm.models import BeatAssignment, Contact
from tests.conftest import csrf_token_from

CHICAGO = "America/Chicago"


def utc(*args) -> datetime:
    """An aware UTC moment for time_machine (naive would be read as the machine's zone)."""
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def chicago(app):
    before = app.config["TIME_ZONE"]
    app.config["TIME_ZONE"] = CHICAGO
    yield
    app.config["TIME_ZONE"] = before


@pytest.fixture
def world(make, chicago):
    beat = make.beat("1622")
    officer = make.user("jdoe", beats=[beat])
    group = make.group("Pilsen Tenants", beats=[beat])
    person = make.stakeholder("Ana Lopez", external_id="S-1")
    make.membership(person, group)
    for assignment in db.session.scalars(sa.select(BeatAssignment)):
        assignment.starts_on = date(2026, 1, 1)  # on the beat on both DST days of 2026
    _, token = issue_token(officer, officer, "phone")
    make.commit()
    return {"beat": beat, "officer": officer, "group": group, "person": person,
            "headers": {"Authorization": f"Bearer {token}"}}


def only_contact() -> Contact:
    return db.session.scalars(sa.select(Contact)).one()


# ---- the rules, on the DST days -----------------------------------------------------------


def test_local_days_have_23_and_25_hours_on_the_dst_days(chicago):
    spring_start, spring_end = timezones.days_utc(date(2026, 3, 8), date(2026, 3, 8))
    assert spring_start == datetime(2026, 3, 8, 6, 0)  # midnight CST
    assert spring_end - spring_start == timedelta(hours=23)
    fall_start, fall_end = timezones.days_utc(date(2026, 11, 1), date(2026, 11, 1))
    assert fall_start == datetime(2026, 11, 1, 5, 0)  # midnight CDT
    assert fall_end - fall_start == timedelta(hours=25)


def test_a_repeated_local_time_is_the_first_and_a_skipped_one_is_refused(chicago):
    # 01:30 on the fall-back day happens twice: without an offset it is the first (CDT).
    assert timezones.is_ambiguous(datetime(2026, 11, 1, 1, 30))
    assert timezones.from_local(datetime(2026, 11, 1, 1, 30)) == datetime(2026, 11, 1, 6, 30)
    assert timezones.parse_to_utc("2026-11-01T01:30-06:00") == datetime(2026, 11, 1, 7, 30)
    assert timezones.iso_local(datetime(2026, 11, 1, 6, 30)) == "2026-11-01T01:30:00-05:00"
    assert timezones.iso_local(datetime(2026, 11, 1, 7, 30)) == "2026-11-01T01:30:00-06:00"
    with pytest.raises(timezones.LocalTimeError) as e:
        timezones.from_local(datetime(2026, 3, 8, 2, 30))
    assert str(e.value) == ("02:30 on 2026-03-08 did not happen in America/Chicago: the clocks "
                            "went forward that night; did you mean 03:30 CDT?")


def test_a_zone_that_does_not_exist_stops_the_app_at_start_up():
    config = type("BadZone", (TestingConfig,), {"TIME_ZONE": "Chicago"})
    with pytest.raises(RuntimeError, match="IANA time zone such as America/Chicago, not 'Chicago'"):
        create_app(config)


def test_the_demo_keeps_its_citys_zone(tmp_path):
    assert "America/New_York" in timezones.keep_demo_zone("charlottesville", tmp_path)
    assert (tmp_path / "time_zone").read_text().strip() == "America/New_York"
    # A zone kept already is not replaced by seeding another city.
    assert "not America/Chicago" in timezones.keep_demo_zone("chicago", tmp_path)
    assert (tmp_path / "time_zone").read_text().strip() == "America/New_York"


# ---- the contact form ---------------------------------------------------------------------


def test_the_form_opens_with_local_now_labelled_with_the_zone(world, auth, client):
    with time_machine.travel(utc(2026, 12, 5, 8, 48), tick=False):  # 02:48 in Chicago
        auth.login("jdoe")
        html = client.get("/contacts/new").get_data(as_text=True)
    assert 'value="2026-12-05T02:48"' in html
    assert re.search(r'<label for="occurred_at">When \(<abbr title="local time, America/Chicago">'
                     r'CST</abbr>\)</label>', html)
    assert "When (UTC)" not in html


def _form(client, when: str, group_id: int) -> dict:
    html = client.get("/contacts/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="idempotency_key"', html)
    return {"csrf_token": csrf_token_from(html), "idempotency_key": key.group(1),
            "occurred_at": when, "channel": "foot_patrol", "initiated_by": "proactive",
            "enforcement": "none", "group_ids": [str(group_id)]}


def test_a_contact_at_0130_on_the_fall_back_day_is_stored_in_utc_and_shown_local(
        world, auth, client):
    with time_machine.travel(utc(2026, 11, 1, 15, 0), tick=False):
        auth.login("jdoe")
        r = client.post("/contacts/new", data=_form(client, "2026-11-01T01:30", world["group"].id))
        assert r.status_code == 303
        c = only_contact()
        assert c.occurred_at == datetime(2026, 11, 1, 6, 30)  # the first 01:30, CDT
        html = client.get(f"/contacts/{c.id}").get_data(as_text=True)
    assert '<time datetime="2026-11-01T01:30:00-05:00">2026-11-01 01:30</time>' in html
    assert '<small class="muted">CDT</small>' in html


def test_a_time_the_clocks_skipped_is_refused_by_name_and_kept(world, auth, client):
    with time_machine.travel(utc(2026, 3, 8, 15, 0), tick=False):
        auth.login("jdoe")
        r = client.post("/contacts/new", data=_form(client, "2026-03-08T02:30", world["group"].id))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "did not happen in America/Chicago" in html and "03:30 CDT" in html
    assert 'value="2026-03-08T02:30"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_an_evening_contact_takes_a_follow_up_on_its_local_day(world, auth, client):
    # 20:00 CST on Dec 5 is 02:00 UTC on Dec 6: a follow-up on Dec 5 is not "before" it.
    with time_machine.travel(utc(2026, 12, 6, 2, 30), tick=False):
        auth.login("jdoe")
        fields = _form(client, "2026-12-05T20:00", world["group"].id)
        fields["follow_up_on"] = "2026-12-05"
        assert client.post("/contacts/new", data=fields).status_code == 303
    assert only_contact().occurred_at == datetime(2026, 12, 6, 2, 0)


# ---- "today" and "overdue" follow the local day -------------------------------------------


def _follow_ups(make, world) -> dict[str, Contact]:
    due = {"dec5": date(2026, 12, 5), "dec6": date(2026, 12, 6)}
    out = {k: make.contact(world["officer"], groups=[world["group"]], beat=world["beat"],
                           occurred_at=datetime(2026, 12, 1, 15), follow_up_on=d,
                           follow_up_note=f"due {k}") for k, d in due.items()}
    make.commit()
    return out


def _section(html: str, key: str) -> str:
    start = html.index(f'id="follow-ups-{key}"')
    return html[start:html.find("</section>", start)]


@pytest.mark.parametrize(("moment", "today", "overdue", "upcoming"), [
    # 23:30 CST on Dec 5, already Dec 6 in UTC: Dec 5 is still today, Dec 6 still ahead.
    (utc(2026, 12, 6, 5, 30), "due dec5", None, "due dec6"),
    # 00:10 CST on Dec 6, just after local midnight: Dec 6 is today, Dec 5 overdue.
    (utc(2026, 12, 6, 6, 10), "due dec6", "due dec5", None),
])
def test_follow_ups_due_today_follow_the_local_midnight(world, make, auth, client, moment, today,
                                                        overdue, upcoming):
    _follow_ups(make, world)
    with time_machine.travel(moment, tick=False):
        auth.login("jdoe")
        html = client.get("/contacts/follow-ups").get_data(as_text=True)
        api = client.get("/api/v1/follow-ups/", headers=world["headers"]).get_json()
    assert today in _section(html, "today")
    if overdue:
        assert overdue in _section(html, "overdue")
    if upcoming:
        assert upcoming in _section(html, "upcoming")
    status = {f["follow_up_note"]: f["status"] for f in api}
    assert status[today] == "today"
    assert status.get(overdue, "overdue") == "overdue"
    assert status.get(upcoming, "upcoming") == "upcoming"


def test_follow_ups_on_the_fall_back_day_change_at_local_midnight(world, make, auth, client):
    # Nov 1 has 25 hours: local midnight after it is 06:00 UTC on Nov 2 (CST), not 05:00.
    make.contact(world["officer"], groups=[world["group"]], occurred_at=datetime(2026, 10, 30),
                 follow_up_on=date(2026, 11, 1), follow_up_note="fall-back visit")
    make.commit()
    for moment, expected in ((utc(2026, 11, 2, 5, 30), "today"), (utc(2026, 11, 2, 6, 0), "overdue")):
        with time_machine.travel(moment, tick=False):
            api = client.get("/api/v1/follow-ups/", headers=world["headers"]).get_json()
        assert [f["status"] for f in api] == [expected], moment


def test_an_assignment_due_today_is_not_overdue_before_local_midnight(world, make):
    a = Assignment(group_id=world["group"].id, officer_id=world["officer"].id,
                   assigned_by_id=world["officer"].id, due_on=date(2026, 12, 5))
    db.session.add(a)
    make.commit()
    with time_machine.travel(utc(2026, 12, 6, 5, 30), tick=False):  # 23:30 CST Dec 5
        assert not a.is_overdue()
    with time_machine.travel(utc(2026, 12, 6, 6, 1), tick=False):  # 00:01 CST Dec 6
        assert a.is_overdue()


def test_days_since_contact_counts_local_days(world, app):
    days_ago = app.jinja_env.filters["days_ago"]
    with time_machine.travel(utc(2026, 12, 6, 5, 30), tick=False):  # 23:30 CST Dec 5
        assert days_ago(datetime(2026, 12, 5, 23, 0)) == "today"  # 17:00 CST: UTC said "1 day"
        assert days_ago(datetime(2026, 12, 5, 5, 0)) == "1 day ago"  # 23:00 CST Dec 4


# ---- the API -------------------------------------------------------------------------------


def _post(client, world, when):
    return client.post("/api/v1/contacts/", headers=world["headers"], json={
        "occurred_at": when, "channel": "meeting", "initiated_by": "proactive",
        "group_ids": [world["group"].id]})


def test_the_api_reads_local_or_offset_times_and_answers_with_the_local_offset(world, client):
    with time_machine.travel(utc(2026, 11, 2, 12, 0), tick=False):
        first = _post(client, world, "2026-11-01T01:30:00")  # no offset: local, the first 01:30
        second = _post(client, world, "2026-11-01T01:30:00-06:00")  # the second one, honoured
        utc_z = _post(client, world, "2026-11-01T12:00:00Z")
        skipped = _post(client, world, "2026-03-08T02:30:00")
    assert first.status_code == second.status_code == utc_z.status_code == 201
    assert first.get_json()["occurred_at"] == "2026-11-01T01:30:00-05:00"
    assert second.get_json()["occurred_at"] == "2026-11-01T01:30:00-06:00"
    assert utc_z.get_json()["occurred_at"] == "2026-11-01T06:00:00-06:00"
    stored = sorted(db.session.scalars(sa.select(Contact.occurred_at)))
    assert stored == [datetime(2026, 11, 1, 6, 30), datetime(2026, 11, 1, 7, 30),
                      datetime(2026, 11, 1, 12, 0)]
    assert skipped.status_code == 422
    assert "did not happen in America/Chicago" in str(skipped.get_json()["errors"])


def test_the_api_date_filter_takes_local_days(world, make, client):
    officer, group = world["officer"], world["group"]
    late_oct31 = make.contact(officer, groups=[group], occurred_at=datetime(2026, 11, 1, 4, 30))
    late_nov1 = make.contact(officer, groups=[group], occurred_at=datetime(2026, 11, 2, 5, 30))
    early_nov2 = make.contact(officer, groups=[group], occurred_at=datetime(2026, 11, 2, 6, 30))
    make.commit()
    r = client.get("/api/v1/contacts/?from=2026-11-01&to=2026-11-01", headers=world["headers"])
    ids = [c["id"] for c in r.get_json()]
    assert ids == [late_nov1.id]  # 23:30 CST on Nov 1; 23:30 CDT Oct 31 and 00:30 CST Nov 2 out
    assert late_oct31.id not in ids and early_nov2.id not in ids


# ---- CSV -----------------------------------------------------------------------------------


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_writes_local_time_with_its_offset_and_imports_back(world, make):
    officer, group = world["officer"], world["group"]
    make.contact(officer, groups=[group], occurred_at=datetime(2026, 11, 1, 6, 30), note="first")
    make.contact(officer, groups=[group], occurred_at=datetime(2026, 11, 1, 7, 30), note="second")
    make.commit()
    text = export_csv(None, "contacts")
    text = text if isinstance(text, str) else text.decode("utf-8-sig")
    when = {r["note"]: r["occurred_at"] for r in _rows(text)}
    assert when == {"first": "2026-11-01T01:30:00-05:00", "second": "2026-11-01T01:30:00-06:00"}
    with time_machine.travel(utc(2026, 11, 2, 12, 0), tick=False):
        report = import_csv(None, "contacts", text)
    assert report.errors == [] and (report.created, report.updated) == (0, 0)


def test_csv_import_reads_times_without_offset_as_local(world, make):
    header = "occurred_at,officer,stakeholders,groups,initiated_by,channel,note"
    lines = [header,
             "2026-11-01T01:30,jdoe,,Pilsen Tenants,proactive,meeting,local first 01:30",
             "2026-11-01T01:30-06:00,jdoe,,Pilsen Tenants,proactive,meeting,offset honoured",
             "2026-12-05,jdoe,,Pilsen Tenants,proactive,meeting,a date is local noon"]
    with time_machine.travel(utc(2026, 12, 6, 12, 0), tick=False):
        report = import_csv(None, "contacts", "\n".join(lines) + "\n")
    assert report.errors == [] and report.created == 3
    stored = dict(db.session.execute(sa.select(Contact.note, Contact.occurred_at)).all())
    assert stored == {"local first 01:30": datetime(2026, 11, 1, 6, 30),
                      "offset honoured": datetime(2026, 11, 1, 7, 30),
                      "a date is local noon": datetime(2026, 12, 5, 18, 0)}


def test_csv_import_names_a_skipped_local_time(world):
    text = ("occurred_at,officer,stakeholders,groups,initiated_by,channel,note\n"
            "2026-03-08T02:30,jdoe,,Pilsen Tenants,proactive,meeting,lost hour\n")
    with time_machine.travel(utc(2026, 3, 9, 12, 0), tick=False):
        report = import_csv(None, "contacts", text)
    assert report.created == 0
    messages = " ".join(str(e) for e in report.errors)
    assert "occurred_at" in messages and "did not happen in America/Chicago" in messages
