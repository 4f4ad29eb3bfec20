"""Who introduced them (issue 15 item 1): a hand-over item names the person the leaving
officer asked for an introduction, when the records say so."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.assignments.models import Assignment
from crm.extensions import db
from crm.handovers import services as hs
from tests.test_handover import build_world


@pytest.fixture
def world(make, today):
    return build_world(make, today)


def _asked(w, *, days_ago: int, status: str = "done", group=None, person=None) -> Assignment:
    """The leaver asked `person` (default Bo Working) for an introduction to `group`."""
    at = datetime.utcnow() - timedelta(days=days_ago)
    a = Assignment(kind="introduction", group_id=(group or w.group).id,
                   stakeholder_id=(person or w.p2).id, officer_id=w.leaver.id,
                   assigned_by_id=w.leaver.id, due_on=at.date() + timedelta(days=14), status=status,
                   created_at=at, closed_at=at + timedelta(days=2) if status == "done" else None)
    db.session.add(a)
    db.session.flush()
    return a


def _rows(w, h):
    return {r.label: r for r in hs.item_rows(w.sup, h)}


def test_the_person_asked_for_an_introduction_introduced_the_group_and_its_members(world, today):
    """The leaver asked Bo for an introduction to the Tenants 20 days ago, then met Ada (a
    Tenants member) 10 days ago: Bo introduced both the group and Ada, not Bo themself."""
    w = world
    a = _asked(w, days_ago=20)
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today + timedelta(days=14))
    rows = _rows(w, h)
    assert rows["Ada Rapport"].introduced_by == "Bo Working"
    assert rows["Tenants"].introduced_by == "Bo Working"
    assert rows["Bo Working"].introduced_by is None
    assert rows["Corner youth"].introduced_by is None
    item = next(i for i in h.items if i.stakeholder_id == w.p1.id)
    assert (item.introduced_by_id, item.introduction_id) == (w.p2.id, a.id)
    doc = hs.to_dict(w.sup, h)
    assert {i["label"]: i["introduced_by"] for i in doc["items"] if i["kind"] == "person"} == {
        "Ada Rapport": "Bo Working", "Bo Working": None}


def test_no_introducer_when_met_before_asking_or_never_introduced(world, today):
    w = world
    _asked(w, days_ago=5)  # asked after the leaver had already met Ada (10 days ago)
    _asked(w, days_ago=30, status="open", group=w.wary)  # never happened
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    rows = _rows(w, h)
    assert rows["Ada Rapport"].introduced_by is None
    assert rows["Corner youth"].introduced_by is None
    assert rows["Tenants"].introduced_by == "Bo Working", "the group itself was still introduced by Bo"


def test_the_plan_page_says_who_introduced_them(world, auth, client, today):
    w = world
    _asked(w, days_ago=20)
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today + timedelta(days=14))
    db.session.commit()
    auth.login("sup")
    body = client.get(f"/handovers/{h.id}").get_data(as_text=True)
    assert "Introduced by Bo Working." in body
    assert "Met without an introduction on record." in body


def test_an_erased_introducer_is_not_named(world, today):
    w = world
    _asked(w, days_ago=20)
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    w.p2.erased_at = datetime.utcnow()
    db.session.flush()
    assert _rows(w, h)["Ada Rapport"].introduced_by is None


def test_a_successor_outside_the_introducers_scope_reads_a_community_member(world, today):
    """Bo goes to another successor: the one who takes Ada over reads who introduced her only
    as "a community member" (Bo is not theirs to see)."""
    w = world
    _asked(w, days_ago=20)
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    ada = next(i for i in h.items if i.stakeholder_id == w.p1.id)
    bo = next(i for i in h.items if i.stakeholder_id == w.p2.id)
    hs.assign_successor(w.sup, h, w.succ2, item_ids=[bo.id])
    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    rows = {r.item.id: r for r in hs.item_rows(w.succ, h)}
    assert ada.id in rows and bo.id not in rows
    assert rows[ada.id].introduced_by == "a community member"
    assert {r.item.id: r for r in hs.item_rows(w.sup, h)}[ada.id].introduced_by == "Bo Working"


def test_the_cli_shows_who_introduced_them(world, runner, today):
    w = world
    _asked(w, days_ago=20)
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    db.session.commit()
    out = runner.invoke(args=["crm", "handover", "show", str(h.id)]).output
    assert "Ada Rapport" in out and "(introduced by Bo Working)" in out
