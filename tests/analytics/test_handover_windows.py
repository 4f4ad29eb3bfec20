from datetime import date

from analytics.handover import reestablished

DAY0 = date(2026, 1, 1)


def test_window_edges_are_inclusive_and_first_contact_counts():
    r = reestablished(DAY0, {1: 7}, [(1, 7, date(2026, 3, 2)), (1, 7, date(2026, 1, 31))])
    assert r.within == {30: 1, 60: 1, 90: 1}  # day 30 is inside the 30-day window


def test_other_officers_earlier_contacts_and_unnamed_successors_never_count():
    r = reestablished(DAY0, {1: 7, 2: None}, [(1, 8, date(2026, 1, 2)), (1, 7, date(2025, 12, 31)),
                                              (2, 7, date(2026, 1, 2)), (3, 7, date(2026, 1, 2))])
    assert r.relationships == 2 and r.within == {30: 0, 60: 0, 90: 0}


def test_to_dict_names_windows_as_strings():
    assert reestablished(DAY0, {}, []).to_dict() == {"relationships": 0,
                                                     "within": {"30": 0, "60": 0, "90": 0}}
