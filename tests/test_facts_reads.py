"""Coverage and hard-to-engage of some beats, summed by the database (crm.facts.reads): the
figures a supervisor checks by hand on a small district, and the same documents as the
answer counted from the records, for every scope and window."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest

from crm.extensions import db
from crm.models import ContactOfficer, GroupRelation
from crm.network import services as network


def _ago(days: float) -> datetime:
    return datetime.utcnow() - timedelta(days=days)


@pytest.fixture
def city(make):
    """District 1: beats A and B; district 2: beat C. Groups g1 (receptive, A), g2 (wary, A
    and B), g3 (hostile, B), g4 (neutral, C); g3 competes with g4 across the district line.
    Officers o1 on A, o2 on B, o3 on C, and a unit member with no beat."""
    d1, d2 = make.district("D1"), make.district("D2")
    a, b, c = make.beat("A01", d1), make.beat("B01", d1), make.beat("C01", d2)
    o1, o2, o3 = (make.user("o1", beats=[a]), make.user("o2", beats=[b]),
                  make.user("o3", beats=[c]))
    floater = make.user("floater", role="unit")
    g1 = make.group("G1", beats=[a], stance="receptive")
    g2 = make.group("G2", beats=[a, b], stance="wary")
    g3 = make.group("G3", beats=[b], stance="hostile")
    g4 = make.group("G4", beats=[c], stance="neutral")
    db.session.add(GroupRelation(group_a_id=g3.id, group_b_id=g4.id, type="competing"))
    make.contact(o1, groups=[g1], beat=a, occurred_at=_ago(10))
    both = make.contact(o1, groups=[g2], beat=a, occurred_at=_ago(5))
    db.session.add(ContactOfficer(contact_id=both.id, user_id=o2.id, occurred_at=both.occurred_at))
    make.contact(o2, groups=[g3], beat=b, initiated_by="reactive", occurred_at=_ago(3))
    make.contact(o3, groups=[g4], beat=c, occurred_at=_ago(1))
    make.contact(o1, groups=[g3], beat=b, occurred_at=_ago(200))  # outside a 90-day window
    make.contact(floater, groups=[g1], occurred_at=_ago(2))  # no beat
    db.session.flush()
    return {"A": a, "B": b, "C": c, "o1": o1, "o2": o2, "o3": o3, "floater": floater,
            "g3": g3}


def _rows(doc):
    beats = {r["beat"]["code"] if r["beat"] else None: r for r in doc["beats"]}
    officers = {o["officer"]["name"]: o for o in doc["officers"]}
    return beats, officers


def test_a_districts_coverage_by_hand(city):
    doc = network.compute("coverage", beat_ids=[city["A"].id, city["B"].id], days=90)
    beats, officers = _rows(doc)
    assert set(beats) == {"A01", "B01"}  # not C, not the no-beat row
    # A: g1 and g2 reached; the shared visit counts once per officer (2), g2 is wary.
    assert {k: beats["A01"][k] for k in ("groups", "groups_reached", "contacts",
                                         "contacts_receptive", "contacts_wary_hostile",
                                         "contacts_other", "proactive_share")} == {
        "groups": 2, "groups_reached": 2, "contacts": 3, "contacts_receptive": 1,
        "contacts_wary_hostile": 2, "contacts_other": 0, "proactive_share": 1.0}
    # B: g2 reached in A counts (reached wherever logged); g3 had only a reactive call.
    assert {k: beats["B01"][k] for k in ("groups", "groups_reached", "contacts",
                                         "proactive_share", "contacts_wary_hostile")} == {
        "groups": 2, "groups_reached": 2, "contacts": 1, "proactive_share": 0.0,
        "contacts_wary_hostile": 1}
    # The district's officers only: o1 (A) and o2 (B); not o3 (C), not the unit member.
    assert set(officers) == {"o1", "o2"}
    o1, o2 = officers["o1"], officers["o2"]
    assert (o1["contacts"], o1["groups_reached"], o1["contacts_receptive"]) == (2, 2, 1)
    # o1's proactive share with receptive groups (1/2) minus beat A's receptive share (1/2).
    assert o1["comfort_zone_index"] == 0.0
    assert (o2["contacts"], o2["groups_reached"], o2["proactive_share"]) == (2, 2, 0.5)
    assert o2["comfort_zone_index"] == 0.0  # no proactive visit to a receptive group; B has none


def test_every_beat_lists_the_contacts_without_a_beat_and_the_officer_without_one(city):
    beats, officers = _rows(network.compute("coverage", days=90))
    assert beats[None]["contacts"] == 1 and set(beats) == {"A01", "B01", "C01", None}
    assert set(officers) == {"o1", "o2", "o3", "floater"}
    # The unit member has no beat and logged none: no baseline, no index.
    assert officers["floater"]["comfort_zone_index"] is None


def _from_records(name, **kw):
    with mock.patch("crm.facts.services.answers_as_of", return_value=False):
        return network.compute(name, **kw)


@pytest.mark.parametrize("days", [1, 4, 30, 365])
def test_each_scope_equals_the_answer_counted_from_the_records(city, days):
    a, b, c = city["A"].id, city["B"].id, city["C"].id
    for scope in (None, [a, b], [a], [b], [c], [a, c]):
        for name in network.LIVE:
            assert network.compute(name, beat_ids=scope, days=days) == \
                _from_records(name, beat_ids=scope, days=days), (name, scope)


def test_a_competitor_outside_the_district_still_weighs(city):
    doc = network.compute("hard-to-engage", beat_ids=[city["B"].id], days=90)
    g3 = next(f for f in doc["groups"] if f["group"]["id"] == city["g3"].id)
    assert "competing" in g3["reason_codes"]
