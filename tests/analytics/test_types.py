"""Do the input records and contact aggregates behave as documented?"""

from datetime import UTC, date, datetime

import pytest

from analytics import (
    ContactRecord,
    GroupContactFacts,
    OfficerLink,
    in_window,
    summarize_contacts,
)


def test_summary_tracks_last_contacts_window_counts_and_stage_fall():
    contacts = [
        ContactRecord(1, datetime(2024, 1, 1), (1,), (), (5,), None, "proactive", "rapport"),
        ContactRecord(2, datetime(2024, 6, 1), (1,), (), (5, 5), None, "reactive", "initial_contact"),
        ContactRecord(3, datetime(2024, 6, 2), (1,), (), (5,), None, "reactive"),
    ]
    f = summarize_contacts(contacts, date(2024, 6, 30), 90)[5]
    assert f == GroupContactFacts(
        group_id=5, last_contact_at=datetime(2024, 6, 2), last_engaging_at=datetime(2024, 1, 1),
        contacts_in_window=2, reactive_in_window=2, last_stage="initial_contact", previous_stage="rapport",
    )


def test_datetime_as_of_compares_exact_moments():
    as_of = datetime(2024, 6, 30, 12, 0)
    assert in_window(datetime(2024, 6, 30, 12, 0), as_of, 1)
    assert not in_window(datetime(2024, 6, 30, 12, 1), as_of, 1)
    assert not in_window(datetime(2024, 6, 29, 12, 0), as_of, 1)
    with pytest.raises(ValueError):
        in_window(datetime(2024, 6, 30, tzinfo=UTC), as_of, 1)


def test_records_fail_fast_on_bad_fields():
    with pytest.raises(ValueError):
        ContactRecord(1, datetime(2024, 1, 1), [1], (), (), None, "proactive")  # list, not tuple
    with pytest.raises(ValueError):
        ContactRecord(1, date(2024, 1, 1), (1,), (), (), None, "proactive")
    with pytest.raises(ValueError):
        ContactRecord(1, datetime(2024, 1, 1), (1,), (), (), None, "walk-in")
    with pytest.raises(ValueError):
        OfficerLink(1, 2, "best_friends", datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        GroupContactFacts(1, None, None, contacts_in_window=1, reactive_in_window=2)
    with pytest.raises(ValueError):
        summarize_contacts([], date(2024, 1, 1), 0)
