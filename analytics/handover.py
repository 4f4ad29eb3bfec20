"""Hand-over retention: how many relationships a successor re-established after a rotation.

A relationship counts as re-established within ``d`` days when the person's successor
logged a contact with them on a day from the hand-over up to ``d`` days after it. People
handed to nobody (the successor was never named) stay in the count and are never
re-established: a late successor is a loss this measure should show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

WINDOWS = (30, 60, 90)


@dataclass(frozen=True)
class Retention:
    """Relationships handed over, and how many the successor re-established per window."""

    relationships: int
    within: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"relationships": self.relationships,
                "within": {str(d): n for d, n in sorted(self.within.items())}}


def reestablished(handed_over_on: date, successors: Mapping[int, int | None],
                  contacts: Iterable[tuple[int, int, date]],
                  windows: tuple[int, ...] = WINDOWS) -> Retention:
    """Count the people whose successor met them within each window after the hand-over.

    Parameters
    ----------
    handed_over_on : date
        The day the plan was transferred (day 0 of every window).
    successors : mapping of int to int or None
        Stakeholder id -> the officer who took them over (None: nobody yet).
    contacts : iterable of (stakeholder_id, officer_id, day)
        Contacts with the handed-over people; other officers' and earlier ones are ignored.
    windows : tuple of int
        Window lengths in days, inclusive of the last day.

    Returns
    -------
    Retention
        ``relationships`` = ``len(successors)``; ``within[d]`` = people re-established by
        day ``d``.

    Examples
    --------
    >>> day0 = date(2026, 1, 1)
    >>> r = reestablished(day0, {1: 10, 2: 10, 3: None},
    ...                   [(1, 10, date(2026, 1, 20)), (2, 99, date(2026, 1, 2)),
    ...                    (2, 10, date(2026, 3, 1))])
    >>> r.relationships, r.within
    (3, {30: 1, 60: 2, 90: 2})
    """
    first: dict[int, date] = {}
    for person, officer, day in contacts:
        if successors.get(person) is None or successors[person] != officer or day < handed_over_on:
            continue
        if person not in first or day < first[person]:
            first[person] = day
    within = {d: sum(1 for day in first.values() if day <= handed_over_on + timedelta(days=d))
              for d in windows}
    return Retention(relationships=len(successors), within=within)
