"""Plain input records for the analytics layer, and helpers that aggregate raw contacts.

The database adapter builds these from rows; tests build them by hand. Every record
validates itself on construction so bad data fails fast with a ``ValueError`` instead
of producing a quietly wrong report.

The contact window
------------------
Everywhere in ``analytics`` a window of ``days`` ending at ``as_of`` holds the contacts
with ``as_of - days < occurred_at <= as_of``; contacts after ``as_of`` are ignored.
When ``as_of`` is a :class:`~datetime.date` (not a datetime) the comparison is made on
calendar days, ``occurred_at.date()``, so the window is the ``days`` whole days ending
with ``as_of`` itself (a contact logged at 23:59 on ``as_of`` is inside). Callers that
count a department's days hand in local wall-clock times (``crm.timezones.local_wall``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "STANCES",
    "STAGES",
    "INITIATED_BY",
    "RELATION_TYPES",
    "ENGAGING",
    "GroupInfo",
    "Relation",
    "ContactRecord",
    "GroupContactFacts",
    "OfficerContactCount",
    "OfficerLink",
    "stage_rank",
    "in_window",
    "summarize_contacts",
    "count_officer_contacts",
]

STANCES = ("receptive", "neutral", "wary", "hostile", "unknown")
STAGES = ("none", "initial_contact", "rapport", "working_relationship", "collaborating_partner")
INITIATED_BY = ("proactive", "requested", "reactive")
RELATION_TYPES = ("allied", "competing", "overlapping")
# Contacts that count as engagement: the officer reached out, or the community asked.
# A reactive call for service is not engagement.
ENGAGING = frozenset({"proactive", "requested"})

_STAGE_RANK = {s: i for i, s in enumerate(STAGES)}


def stage_rank(stage: str) -> int:
    """Return the position of ``stage`` in :data:`STAGES` (0 = ``"none"``).

    Raises ``ValueError`` for an unknown stage.
    """
    try:
        return _STAGE_RANK[stage]
    except (KeyError, TypeError):
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}") from None


def _check_id(value: object, what: str) -> None:
    # bool is an int subclass; an id of True is always a bug upstream.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be an int, got {value!r}")


def _check_choice(value: object, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {choices}, got {value!r}")


def _check_ids(values: object, what: str) -> None:
    if not isinstance(values, tuple):
        raise ValueError(f"{what} must be a tuple of ints, got {type(values).__name__}")
    for v in values:
        _check_id(v, what)


def _check_dt(value: object, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {value!r}")


@dataclass(frozen=True)
class GroupInfo:
    """A community group as the analytics see it (no personal data).

    ``contact_interval_days`` is how often the group should be visited, when the unit
    set one; ``open_cases`` is the number of open problem-solving cases involving it.
    """

    id: int
    name: str
    stance: str = "unknown"
    size_estimate: int | None = None
    beat_ids: tuple[int, ...] = ()
    contact_interval_days: int | None = None
    open_cases: int = 0

    def __post_init__(self) -> None:
        _check_id(self.id, "GroupInfo.id")
        _check_choice(self.stance, STANCES, "GroupInfo.stance")
        if self.size_estimate is not None:
            _check_id(self.size_estimate, "GroupInfo.size_estimate")
            if self.size_estimate < 0:
                raise ValueError(f"GroupInfo.size_estimate must be >= 0, got {self.size_estimate}")
        _check_ids(self.beat_ids, "GroupInfo.beat_ids")
        if self.contact_interval_days is not None:
            _check_id(self.contact_interval_days, "GroupInfo.contact_interval_days")
            if self.contact_interval_days <= 0:
                raise ValueError("GroupInfo.contact_interval_days must be > 0")
        _check_id(self.open_cases, "GroupInfo.open_cases")
        if self.open_cases < 0:
            raise ValueError("GroupInfo.open_cases must be >= 0")


@dataclass(frozen=True)
class Relation:
    """A declared relation between two groups: allied, competing or overlapping."""

    group_a: int
    group_b: int
    type: str
    issue: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.group_a, "Relation.group_a")
        _check_id(self.group_b, "Relation.group_b")
        _check_choice(self.type, RELATION_TYPES, "Relation.type")
        if self.group_a == self.group_b:
            raise ValueError(f"a group cannot be related to itself (group {self.group_a})")


@dataclass(frozen=True)
class ContactRecord:
    """One officer contact, reduced to what the analytics need."""

    id: int
    occurred_at: datetime
    officer_ids: tuple[int, ...]
    stakeholder_ids: tuple[int, ...]
    group_ids: tuple[int, ...]
    beat_id: int | None
    initiated_by: str
    stage_after: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "ContactRecord.id")
        _check_dt(self.occurred_at, "ContactRecord.occurred_at")
        _check_ids(self.officer_ids, "ContactRecord.officer_ids")
        _check_ids(self.stakeholder_ids, "ContactRecord.stakeholder_ids")
        _check_ids(self.group_ids, "ContactRecord.group_ids")
        if self.beat_id is not None:
            _check_id(self.beat_id, "ContactRecord.beat_id")
        _check_choice(self.initiated_by, INITIATED_BY, "ContactRecord.initiated_by")
        if self.stage_after is not None:
            _check_choice(self.stage_after, STAGES, "ContactRecord.stage_after")


@dataclass(frozen=True)
class GroupContactFacts:
    """Per-group contact aggregate up to ``as_of`` (one ``GROUP BY`` in the adapter).

    ``last_engaging_at`` is the last proactive or requested contact. ``last_stage`` and
    ``previous_stage`` are the two most recent non-null ``stage_after`` values, latest
    first, so a fall (``rapport`` then ``initial_contact``) can be reported.
    """

    group_id: int
    last_contact_at: datetime | None
    last_engaging_at: datetime | None
    contacts_in_window: int = 0
    reactive_in_window: int = 0
    last_stage: str | None = None
    previous_stage: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.group_id, "GroupContactFacts.group_id")
        _check_dt(self.last_contact_at, "GroupContactFacts.last_contact_at", optional=True)
        _check_dt(self.last_engaging_at, "GroupContactFacts.last_engaging_at", optional=True)
        if self.last_engaging_at is not None and self.last_contact_at is None:
            raise ValueError("GroupContactFacts: last_engaging_at set but last_contact_at is None")
        if not 0 <= self.reactive_in_window <= self.contacts_in_window:
            raise ValueError(
                "GroupContactFacts: need 0 <= reactive_in_window <= contacts_in_window, got "
                f"{self.reactive_in_window} and {self.contacts_in_window}"
            )
        for st in (self.last_stage, self.previous_stage):
            if st is not None:
                _check_choice(st, STAGES, "GroupContactFacts stage")


@dataclass(frozen=True)
class OfficerContactCount:
    """Number of contacts in the window by one officer, in one beat, with one group."""

    officer_id: int
    beat_id: int | None
    group_id: int
    initiated_by: str
    count: int

    def __post_init__(self) -> None:
        _check_id(self.officer_id, "OfficerContactCount.officer_id")
        if self.beat_id is not None:
            _check_id(self.beat_id, "OfficerContactCount.beat_id")
        _check_id(self.group_id, "OfficerContactCount.group_id")
        _check_choice(self.initiated_by, INITIATED_BY, "OfficerContactCount.initiated_by")
        _check_id(self.count, "OfficerContactCount.count")
        if self.count < 0:
            raise ValueError("OfficerContactCount.count must be >= 0")


@dataclass(frozen=True)
class OfficerLink:
    """An officer's current relationship with a stakeholder, derived from contacts."""

    officer_id: int
    stakeholder_id: int
    stage: str
    last_contact_at: datetime

    def __post_init__(self) -> None:
        _check_id(self.officer_id, "OfficerLink.officer_id")
        _check_id(self.stakeholder_id, "OfficerLink.stakeholder_id")
        _check_choice(self.stage, STAGES, "OfficerLink.stage")
        _check_dt(self.last_contact_at, "OfficerLink.last_contact_at")


# --------------------------------------------------------------------------- window


def _check_window(as_of: object, days: object) -> None:
    if not isinstance(as_of, date):  # datetime is a date subclass
        raise ValueError(f"as_of must be a date or datetime, got {as_of!r}")
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        raise ValueError(f"days must be a positive int, got {days!r}")


def _not_after(moment: datetime, as_of: date | datetime) -> bool:
    """True when ``moment`` is at or before ``as_of`` (calendar-day rule for a date)."""
    if isinstance(as_of, datetime):
        try:
            return moment <= as_of
        except TypeError:
            raise ValueError("cannot compare naive and timezone-aware datetimes") from None
    return moment.date() <= as_of


def in_window(moment: datetime, as_of: date | datetime, days: int) -> bool:
    """Return True when ``as_of - days < moment <= as_of``.

    Parameters
    ----------
    moment : datetime
        When the contact happened.
    as_of : date or datetime
        End of the window (inclusive). A plain date compares calendar days.
    days : int
        Window length, > 0.

    Returns
    -------
    bool

    Examples
    --------
    >>> from datetime import date, datetime
    >>> in_window(datetime(2024, 3, 31, 23, 59), date(2024, 3, 31), 1)
    True
    >>> in_window(datetime(2024, 3, 30, 12, 0), date(2024, 3, 31), 1)
    False
    """
    _check_window(as_of, days)
    if isinstance(as_of, datetime):
        try:
            return as_of - timedelta(days=days) < moment <= as_of
        except TypeError:
            raise ValueError("cannot compare naive and timezone-aware datetimes") from None
    d = moment.date()
    return as_of - timedelta(days=days) < d <= as_of


# --------------------------------------------------------------------------- aggregates


def summarize_contacts(
    contacts: Iterable[ContactRecord], as_of: date | datetime, days: int
) -> dict[int, GroupContactFacts]:
    """Aggregate raw contacts into per-group :class:`GroupContactFacts`.

    This is the pure-Python twin of the adapter's ``GROUP BY`` query, for tests and
    small callers.

    Parameters
    ----------
    contacts : iterable of ContactRecord
        Any order. Contacts after ``as_of`` are ignored.
    as_of : date or datetime
        End of the window; see the module docstring for the window rule.
    days : int
        Window length in days (> 0).

    Returns
    -------
    dict
        ``group_id -> GroupContactFacts`` for every group named by at least one contact
        at or before ``as_of``.

    Notes
    -----
    ``last_stage``/``previous_stage`` are the two latest non-null ``stage_after``
    values among the group's contacts, ties on time broken by contact id.

    Examples
    --------
    >>> from datetime import date, datetime
    >>> c = ContactRecord(1, datetime(2024, 1, 5), (7,), (), (3,), None, "reactive")
    >>> f = summarize_contacts([c], date(2024, 1, 31), 90)[3]
    >>> (f.contacts_in_window, f.reactive_in_window, f.last_engaging_at)
    (1, 1, None)
    """
    _check_window(as_of, days)
    per_group: dict[int, list[ContactRecord]] = defaultdict(list)
    for c in contacts:
        if not isinstance(c, ContactRecord):
            raise ValueError(f"expected ContactRecord, got {type(c).__name__}")
        if not _not_after(c.occurred_at, as_of):
            continue
        for g in set(c.group_ids):
            per_group[g].append(c)

    out: dict[int, GroupContactFacts] = {}
    for g, cs in per_group.items():
        cs.sort(key=lambda c: (c.occurred_at, c.id))
        engaging = [c for c in cs if c.initiated_by in ENGAGING]
        window = [c for c in cs if in_window(c.occurred_at, as_of, days)]
        stages = [c.stage_after for c in cs if c.stage_after is not None]
        out[g] = GroupContactFacts(
            group_id=g,
            last_contact_at=cs[-1].occurred_at,
            last_engaging_at=engaging[-1].occurred_at if engaging else None,
            contacts_in_window=len(window),
            reactive_in_window=sum(c.initiated_by == "reactive" for c in window),
            last_stage=stages[-1] if stages else None,
            previous_stage=stages[-2] if len(stages) > 1 else None,
        )
    return out


def count_officer_contacts(
    contacts: Iterable[ContactRecord], as_of: date | datetime, days: int
) -> list[OfficerContactCount]:
    """Count contacts in the window per (officer, beat, group, initiated_by).

    Parameters
    ----------
    contacts : iterable of ContactRecord
    as_of : date or datetime
        End of the window (see module docstring).
    days : int
        Window length in days (> 0).

    Returns
    -------
    list of OfficerContactCount
        Sorted by officer, beat (None first), group, initiated_by. A contact with two
        officers and three groups adds one to each of the six (officer, group) cells.

    Examples
    --------
    >>> from datetime import date, datetime
    >>> c = ContactRecord(1, datetime(2024, 1, 5), (7,), (), (3, 4), 2, "proactive")
    >>> [(x.officer_id, x.group_id, x.count) for x in count_officer_contacts([c], date(2024, 1, 31), 90)]
    [(7, 3, 1), (7, 4, 1)]
    """
    _check_window(as_of, days)
    counts: dict[tuple[int, int | None, int, str], int] = defaultdict(int)
    for c in contacts:
        if not isinstance(c, ContactRecord):
            raise ValueError(f"expected ContactRecord, got {type(c).__name__}")
        if not in_window(c.occurred_at, as_of, days):
            continue
        for o in set(c.officer_ids):
            for g in set(c.group_ids):
                counts[(o, c.beat_id, g, c.initiated_by)] += 1
    keys = sorted(counts, key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2], k[3]))
    return [OfficerContactCount(o, b, g, i, counts[(o, b, g, i)]) for (o, b, g, i) in keys]
