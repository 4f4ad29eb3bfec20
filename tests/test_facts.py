"""Engagement facts: kept equal to the records by every write, read by hard-to-engage and
coverage, and rebuilt from the records on demand."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.extensions import db
from crm.facts import services as facts
from crm.facts.models import BeatDay, GroupLastContact, OfficerDay, OfficerGroupLast
from crm.network import services as network
from tests.conftest import csrf_token_from


def _ago(**kw) -> datetime:
    return datetime.utcnow() - timedelta(**kw)


@pytest.fixture
def world(make):
    """One beat, an officer on it, a supervisor; a receptive group visited last week, a wary
    group last seen half a year ago, a hostile group never contacted."""
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    make.user("sarge", role="supervisor", district=beat.district)
    friendly = make.group("Maple Tenants", beats=[beat], stance="receptive")
    wary = make.group("Corner Store Owners", beats=[beat], stance="wary")
    never = make.group("Youth Crew", beats=[beat], stance="hostile")
    make.contact(officer, groups=[friendly], beat=beat, occurred_at=_ago(days=7))
    make.contact(officer, groups=[wary], beat=beat, occurred_at=_ago(days=180))
    make.commit()
    return {"beat": beat, "officer": officer, "friendly": friendly, "wary": wary, "never": never}


def _flagged(doc) -> set[str]:
    return {f["group"]["name"] for f in doc["groups"]}


def test_facts_follow_the_factory_writes(world):
    assert facts.differences() == {}
    rows = {r.group_id: r for r in db.session.scalars(sa.select(GroupLastContact))}
    assert set(rows) == {world["friendly"].id, world["wary"].id}
    assert rows[world["friendly"].id].last_proactive_at is not None
    assert rows[world["friendly"].id].last_requested_at is None


def test_a_visit_logged_on_the_page_takes_the_group_off_the_list_on_the_next_load(
        world, auth, client):
    auth.login("jdoe")
    before = client.get("/analytics/my-beat").get_data(as_text=True)
    assert "Corner Store Owners" in before
    form = client.get("/contacts/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form) or \
        re.search(r'value="([^"]+)"[^>]*name="idempotency_key"', form)
    r = client.post("/contacts/new", data={
        "csrf_token": csrf_token_from(form), "idempotency_key": key.group(1),
        "occurred_at": datetime.utcnow().strftime("%Y-%m-%dT%H:%M"), "beat_id": world["beat"].id, "group_ids": [world["wary"].id], "channel": "visit",
        "initiated_by": "proactive", "enforcement": "none", "note": "Coffee with the owners."})
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:2000]
    after = client.get("/analytics/my-beat").get_data(as_text=True)
    assert "Corner Store Owners" not in after
    assert "Youth Crew" in after
    assert facts.differences() == {}


def test_a_visit_logged_through_the_api_leaves_the_api_answer_at_once(world, make, client):
    officer, sarge = world["officer"], db.session.scalar(
        sa.select(type(world["officer"])).where(type(world["officer"]).username == "sarge"))
    _, officer_token = issue_token(officer, officer, "phone")
    _, sarge_token = issue_token(sarge, sarge, "laptop")
    make.commit()
    sup = {"Authorization": f"Bearer {sarge_token}"}
    url = "/api/v1/analytics/hard-to-engage"
    assert "Corner Store Owners" in _flagged(client.get(url, headers=sup).get_json())
    r = client.post("/api/v1/contacts/", headers={"Authorization": f"Bearer {officer_token}"},
                    json={"channel": "visit", "initiated_by": "requested",
                          "beat_id": world["beat"].id, "group_ids": [world["wary"].id]})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert "Corner Store Owners" not in _flagged(client.get(url, headers=sup).get_json())
    cov = client.get("/api/v1/analytics/coverage", headers=sup).get_json()
    beat_row = next(b for b in cov["beats"] if b["beat"] and b["beat"]["id"] == world["beat"].id)
    assert beat_row["groups_reached"] == 2 and beat_row["contacts"] == 2


def test_answers_are_read_from_the_facts(world):
    """Proof that the pages read the summaries: tamper with them and the answers follow."""
    assert "Corner Store Owners" in _flagged(network.compute("hard-to-engage"))
    db.session.execute(sa.update(GroupLastContact)
                       .where(GroupLastContact.group_id == world["wary"].id)
                       .values(last_proactive_at=_ago(days=1)))
    db.session.execute(sa.update(BeatDay).values(n=BeatDay.n + 100))
    assert "Corner Store Owners" not in _flagged(network.compute("hard-to-engage"))
    beats = network.compute("coverage")["beats"]
    assert sum(b["contacts"] for b in beats) == 101  # one contact in the window, plus the tamper
    db.session.rollback()


def test_live_analytics_do_not_use_the_cache(world):
    network.cache.clear()
    network.compute("coverage")
    network.compute("hard-to-engage")
    assert not network.cache._data


def test_facts_answers_equal_the_answers_from_the_records(world, make):
    # A second officer without a beat, a contact without a beat, two officers on one contact.
    other = make.user("floater", role="unit")
    c = make.contact(other, groups=[world["friendly"], world["never"]], initiated_by="proactive",
                     occurred_at=_ago(days=2))
    from crm.models import ContactOfficer
    db.session.add(ContactOfficer(contact_id=c.id, user_id=world["officer"].id,
                                  occurred_at=c.occurred_at))
    db.session.flush()
    for days in (1, 30, 90, 365):
        live = {n: network.compute(n, days=days) for n in network.LIVE}
        old = _from_records(days)
        assert live == old, days


def _from_records(days):
    """The documents the way they were computed before the facts (the raw loaders)."""
    from unittest import mock
    with mock.patch("crm.facts.services.answers_as_of", return_value=False):
        return {n: network.compute(n, days=days) for n in network.LIVE}


def test_a_past_as_of_is_answered_from_the_records(world):
    as_of = (_ago(days=30)).date()
    doc = network.compute("hard-to-engage", as_of=as_of)
    # Seen 180 days before today = 150 days before as_of; the friendly visit is after as_of.
    flags = {f["group"]["name"]: f for f in doc["groups"]}
    assert flags["Maple Tenants"]["days_since_contact"] is None
    assert flags["Corner Store Owners"]["days_since_contact"] == 150


def test_deleting_a_contact_and_changing_a_stance_keep_the_facts_exact(world, make):
    from crm.contacts.services import delete_contact
    from crm.groups.services import delete_group, update_group
    admin = make.user("root", role="admin")
    extra = make.contact(world["officer"], groups=[world["wary"], world["friendly"]],
                         beat=world["beat"], occurred_at=_ago(days=1))
    assert facts.differences() == {}
    update_group(admin, world["friendly"], {"stance": "hostile"}, version_id=None)
    assert facts.differences() == {}
    assert db.session.scalar(sa.select(sa.func.sum(OfficerDay.n_wary_hostile))) == 4
    delete_contact(admin, extra)
    assert facts.differences() == {}
    last = db.session.get(GroupLastContact, world["wary"].id)
    assert last.last_at < _ago(days=100)  # looked up again after the newest went away
    delete_group(admin, world["wary"])
    assert facts.differences() == {}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficerGroupLast)) == 1


def test_rebuild_command_recomputes_what_was_lost(world, runner):
    db.session.execute(sa.delete(BeatDay))
    db.session.execute(sa.update(GroupLastContact).values(last_proactive_at=None))
    db.session.commit()
    assert set(facts.differences()) == {"fact_beat_days", "fact_group_last"}
    assert runner.invoke(args=["crm", "facts", "check"]).exit_code == 1
    result = runner.invoke(args=["crm", "facts", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "[1/5] fact_group_last" in result.output and "fact_beat_days" in result.output
    db.session.expire_all()
    assert facts.differences() == {}
    assert runner.invoke(args=["crm", "facts", "check"]).exit_code == 0


def test_bulk_writers_track_and_apply(world):
    """Core writes bypass the session events; the tracker applies what they changed."""
    from crm.models import Contact, ContactGroup
    ids = list(db.session.scalars(sa.select(Contact.id)))
    t = facts.track(ids)
    db.session.execute(sa.update(Contact).values(initiated_by="reactive"))
    db.session.execute(sa.update(ContactGroup).values(initiated_by="reactive"))
    assert facts.differences()
    t.apply()
    assert facts.differences() == {}


def test_the_demo_seed_leaves_exact_facts(app, runner):
    result = runner.invoke(args=["crm", "seed-demo", "--size", "small"])
    assert result.exit_code == 0, result.output
    assert facts.differences() == {}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BeatDay)) > 0


@pytest.mark.parametrize("together_rows", [0, 1000])
def test_many_contacts_at_once_keep_the_facts_exact_sent_together_or_table_by_table(
        world, make, monkeypatch, together_rows):
    """A change of many contacts (an import, a stance change) goes table by table past
    TOGETHER_ROWS, and as one statement below it on PostgreSQL: the facts are exact both ways."""
    from crm.groups.services import update_group
    monkeypatch.setattr(facts, "TOGETHER_ROWS", together_rows)
    admin = make.user("root", role="admin")
    others = [make.user(f"o{i}", beats=[world["beat"]]) for i in range(6)]
    for i, officer in enumerate(others):
        for days in (1, 2, 40):
            make.contact(officer, groups=[world["wary"], world["never"]], beat=world["beat"],
                         occurred_at=_ago(days=days + i))
    make.commit()
    assert facts.differences() == {}
    update_group(admin, world["wary"], {"stance": "receptive"}, version_id=None)
    assert facts.differences() == {}
