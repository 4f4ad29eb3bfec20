"""Which groups does nobody engage, and which officers only visit friendly ones?"""

import math
from datetime import date, datetime

import pytest

from analytics import (
    ContactRecord,
    GroupContactFacts,
    GroupInfo,
    OfficerContactCount,
    Relation,
    count_officer_contacts,
    coverage,
    hard_to_engage,
    summarize_contacts,
)

AS_OF = date(2024, 6, 30)


def _flags(groups, facts, relations=(), **kw):
    r = hard_to_engage(groups, facts, relations, as_of=AS_OF, **kw)
    return {f.group_id: f for f in r.groups}, r


def test_group_never_contacted_is_flagged_with_null_days():
    flags, _ = _flags([GroupInfo(1, "Tenants")], {})
    f = flags[1]
    assert f.days_since_contact is None
    assert "never contacted" in f.reasons
    assert f.reason_codes[0] == "never_contacted"


def test_group_with_only_reactive_contacts_in_window_is_flagged():
    contacts = [
        ContactRecord(1, datetime(2024, 6, 20, 14), (5,), (), (2,), 1, "reactive"),
        ContactRecord(2, datetime(2024, 1, 10, 9), (5,), (), (2,), 1, "proactive"),
    ]
    facts = summarize_contacts(contacts, AS_OF, 90)
    flags, _ = _flags([GroupInfo(2, "Bar owners")], facts)
    f = flags[2]
    assert f.days_since_contact == 10
    assert "only reactive contacts in the window" in f.reasons
    assert "last contact 10 days ago" in f.reasons
    assert "only_reactive" in f.reason_codes


def test_group_with_a_proactive_or_requested_contact_in_window_is_not_flagged():
    for kind in ("proactive", "requested"):
        c = ContactRecord(1, datetime(2024, 5, 1), (5,), (), (3,), None, kind)
        flags, _ = _flags([GroupInfo(3, "Seniors")], summarize_contacts([c], AS_OF, 90))
        assert 3 not in flags


def test_window_edges_follow_as_of_minus_days_exclusive_as_of_inclusive():
    # 90 days before 30 June is 2 April: that day is out, 3 April is in.
    out = ContactRecord(1, datetime(2024, 4, 1, 23, 0), (5,), (), (3,), None, "proactive")
    inside = ContactRecord(2, datetime(2024, 4, 2, 0, 1), (5,), (), (4,), None, "proactive")
    late = ContactRecord(3, datetime(2024, 7, 1, 0, 0), (5,), (), (5,), None, "proactive")
    facts = summarize_contacts([out, inside, late], AS_OF, 90)
    flags, _ = _flags([GroupInfo(3, "a"), GroupInfo(4, "b"), GroupInfo(5, "c")], facts)
    assert 3 in flags and 4 not in flags
    assert flags[5].days_since_contact is None  # the contact after as_of is ignored


def test_reactive_only_ever_says_never_engaged():
    c = ContactRecord(1, datetime(2023, 6, 1), (5,), (), (3,), None, "reactive")
    flags, _ = _flags([GroupInfo(3, "x")], summarize_contacts([c], AS_OF, 90))
    assert flags[3].reason_codes == ("last_contact", "never_engaged")


def test_all_reasons_and_the_priority_formula():
    g = GroupInfo(9, "Youth", stance="hostile", size_estimate=999, contact_interval_days=30, open_cases=2)
    facts = {9: GroupContactFacts(
        group_id=9, last_contact_at=datetime(2024, 6, 1), last_engaging_at=datetime(2024, 3, 1),
        contacts_in_window=2, reactive_in_window=2, last_stage="initial_contact", previous_stage="rapport",
    )}
    rels = [Relation(9, 1, "competing"), Relation(2, 9, "competing"), Relation(9, 3, "allied")]
    flags, _ = _flags([g], facts, rels)
    f = flags[9]
    assert f.reasons == (
        "last contact 29 days ago",
        "only reactive contacts in the window",
        "hostile stance",
        "stage falling: rapport → initial contact",
        "overdue: 91 days past its 30-day contact interval",
        "competes with 2 groups",
        "2 open cases",
    )
    assert f.reason_codes == (
        "last_contact", "only_reactive", "stance_hostile", "stage_falling", "overdue", "competing", "open_cases",
    )
    # hostile 3 + log10(1000) 3 + 2 competitors 1.0 + 2 cases 1.0 + staleness min(121/30, 4) = 4
    assert f.priority == pytest.approx(3 + 3 + 1 + 1 + 4)


def test_sorted_by_priority_then_id():
    groups = [
        GroupInfo(1, "a", stance="receptive"),
        GroupInfo(2, "b", stance="hostile"),
        GroupInfo(3, "c", stance="hostile"),
        GroupInfo(4, "d", stance="wary", size_estimate=99),
    ]
    _, r = _flags(groups, {})
    assert [f.group_id for f in r.groups] == [4, 2, 3, 1]
    # wary 2 + log10(100) 2 + never engaged 4 + never contacted 1; hostile ones score 8
    assert r.groups[0].priority == pytest.approx(9.0)
    assert r.to_dict()["groups"][0]["days_since_contact"] is None
    assert r.to_dict()["as_of"] == "2024-06-30" and r.window_days == 90


def test_staleness_uses_window_when_no_interval():
    g = GroupInfo(1, "x", stance="neutral")
    facts = {1: GroupContactFacts(1, datetime(2024, 1, 1), datetime(2024, 1, 1))}
    flags, _ = _flags([g], facts)
    days = (AS_OF - date(2024, 1, 1)).days
    assert flags[1].priority == pytest.approx(0.5 + days / 90)
    assert "overdue" not in flags[1].reason_codes


def test_facts_after_as_of_or_for_the_wrong_group_are_rejected():
    late = GroupContactFacts(1, datetime(2024, 7, 2), None)
    with pytest.raises(ValueError):
        hard_to_engage([GroupInfo(1, "x")], {1: late}, as_of=AS_OF)
    with pytest.raises(ValueError):
        hard_to_engage([GroupInfo(1, "x")], {1: GroupContactFacts(2, None, None)}, as_of=AS_OF)
    with pytest.raises(ValueError):
        hard_to_engage([GroupInfo(1, "x")], {}, as_of=AS_OF, days=0)
    with pytest.raises(ValueError):
        GroupInfo(1, "x", stance="friendly")


# --------------------------------------------------------------------------- coverage

GROUPS = [
    GroupInfo(1, "Church", stance="receptive", beat_ids=(10,)),
    GroupInfo(2, "Business", stance="receptive", beat_ids=(10,)),
    GroupInfo(3, "Youth", stance="hostile", beat_ids=(10,)),
    GroupInfo(4, "Tenants", stance="wary", beat_ids=(10, 20)),
    GroupInfo(5, "Seniors", stance="neutral", beat_ids=(20,)),
]


def test_coverage_per_beat_hand_computed():
    counts = [
        OfficerContactCount(7, 10, 1, "proactive", 6),
        OfficerContactCount(7, 10, 2, "reactive", 2),
        OfficerContactCount(8, 20, 4, "proactive", 3),
        OfficerContactCount(8, 20, 5, "requested", 1),
    ]
    r = coverage(GROUPS, counts, as_of=AS_OF)
    b10, b20 = r.beats
    assert (b10.beat_id, b10.groups, b10.groups_reached, b10.share_reached) == (10, 4, 3, 0.75)
    assert (b10.contacts, b10.proactive_share) == (8, 0.75)
    assert (b10.contacts_receptive, b10.contacts_wary_hostile, b10.contacts_other) == (8, 0, 0)
    assert (b20.groups, b20.groups_reached, b20.contacts, b20.proactive_share) == (2, 2, 4, 0.75)
    assert (b20.contacts_receptive, b20.contacts_wary_hostile, b20.contacts_other) == (0, 3, 1)


def test_officer_who_only_visits_friendly_groups_is_in_the_comfort_zone():
    counts = [
        OfficerContactCount(7, 10, 1, "proactive", 6),
        OfficerContactCount(7, 10, 2, "reactive", 2),
        OfficerContactCount(8, 10, 3, "proactive", 3),
        OfficerContactCount(8, 10, 1, "proactive", 3),
    ]
    r = coverage(GROUPS, counts, as_of=AS_OF)
    o7, o8 = r.officers
    # beat 10 holds 4 groups, 2 receptive: baseline 0.5
    assert (o7.contacts, o7.groups_reached, o7.proactive_share) == (8, 2, 0.75)
    assert (o7.contacts_receptive, o7.contacts_wary_hostile) == (8, 0)
    assert o7.comfort_zone_index == pytest.approx(1.0 - 0.5) and o7.comfort_zone
    assert o8.comfort_zone_index == pytest.approx(0.5 - 0.5) and not o8.comfort_zone


def test_comfort_zone_needs_enough_proactive_contacts_and_uses_assigned_beats():
    counts = [OfficerContactCount(7, None, 1, "proactive", 2)]
    r = coverage(GROUPS, counts, as_of=AS_OF, officer_beats={7: [10, 20]})
    o = r.officers[0]
    # beats 10 + 20 hold 5 groups, 2 receptive
    assert o.comfort_zone_index == pytest.approx(1 - 2 / 5)
    assert not o.comfort_zone  # only 2 proactive contacts
    assert r.beats[-1].beat_id is None and r.beats[-1].contacts == 2
    # without assigned beats and no beat on the contact there is no baseline
    assert coverage(GROUPS, counts, as_of=AS_OF).officers[0].comfort_zone_index is None


def test_coverage_from_raw_contacts_and_json():
    contacts = [
        ContactRecord(1, datetime(2024, 6, 1), (7, 8), (), (1, 3), 10, "proactive"),
        ContactRecord(2, datetime(2023, 6, 1), (7,), (), (4,), 10, "proactive"),  # outside
    ]
    counts = count_officer_contacts(contacts, AS_OF, 90)
    assert [(c.officer_id, c.group_id, c.count) for c in counts] == [(7, 1, 1), (7, 3, 1), (8, 1, 1), (8, 3, 1)]
    d = coverage(GROUPS, counts, as_of=AS_OF).to_dict()
    assert d["beats"][0] == {
        "beat_id": 10, "groups": 4, "groups_reached": 2, "share_reached": 0.5, "contacts": 4,
        "proactive_share": 1.0, "contacts_receptive": 2, "contacts_wary_hostile": 2, "contacts_other": 0,
    }
    assert d["officers"][0]["comfort_zone_index"] == 0.0
    assert not math.isnan(d["officers"][0]["proactive_share"])


def test_coverage_rejects_counts_for_unknown_groups():
    with pytest.raises(ValueError):
        coverage(GROUPS, [OfficerContactCount(7, 10, 99, "proactive", 1)], as_of=AS_OF)
