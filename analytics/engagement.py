"""Engagement: groups nobody engages, and how officers spread their contacts.

Both functions work on pre-aggregated facts (one row per group, or per officer /
beat / group / initiation), so their cost is linear in groups and aggregate rows,
never in contacts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .types import (
    GroupContactFacts,
    GroupInfo,
    OfficerContactCount,
    Relation,
    _check_window,
    _not_after,
    in_window,
    stage_rank,
)

__all__ = [
    "STANCE_WEIGHT",
    "EngagementFlag",
    "HardToEngageResult",
    "hard_to_engage",
    "BeatCoverage",
    "OfficerCoverage",
    "CoverageResult",
    "coverage",
]

# How much a stance adds to priority: the less willing a group is, the more a
# deliberate proactive visit is needed (and the less likely one happens by itself).
STANCE_WEIGHT = {"hostile": 3.0, "wary": 2.0, "unknown": 1.0, "neutral": 0.5, "receptive": 0.0}
_STALENESS_CAP = 4.0  # four intervals without engagement is as bad as never
_NEVER_CONTACTED_BONUS = 1.0
_PER_COMPETITOR, _COMPETITOR_CAP = 0.5, 2.0
_PER_CASE, _CASE_CAP = 0.5, 2.0
_WARY = frozenset({"wary", "hostile"})


@dataclass(frozen=True)
class EngagementFlag:
    """A group with no proactive or requested contact in the window."""

    group_id: int
    days_since_contact: int | None
    reasons: tuple[str, ...]
    reason_codes: tuple[str, ...]
    priority: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "days_since_contact": self.days_since_contact,
            "reasons": list(self.reasons),
            "reason_codes": list(self.reason_codes),
            "priority": self.priority,
        }


@dataclass(frozen=True)
class HardToEngageResult:
    """Flagged groups, highest priority first."""

    as_of: date
    window_days: int
    groups: tuple[EngagementFlag, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "window_days": self.window_days,
            "groups": [g.to_dict() for g in self.groups],
        }


def _day(x: date | datetime) -> date:
    return x.date() if isinstance(x, datetime) else x


def hard_to_engage(
    groups: Iterable[GroupInfo],
    facts: Mapping[int, GroupContactFacts],
    relations: Iterable[Relation] = (),
    *,
    as_of: date,
    days: int = 90,
) -> HardToEngageResult:
    """Flag groups with no proactive or requested contact in the window, with reasons.

    Parameters
    ----------
    groups : iterable of GroupInfo
        The groups to check (the population; facts for other groups are ignored).
    facts : mapping group_id -> GroupContactFacts
        Contact aggregates up to ``as_of``; a group missing here was never contacted.
    relations : iterable of Relation, optional
        Used to count each group's competing relations.
    as_of : date or datetime
        End of the window (see :mod:`analytics.types` for the window rule).
    days : int, optional
        Window length in days (default 90).

    Returns
    -------
    HardToEngageResult
        One :class:`EngagementFlag` per flagged group, sorted by priority desc, then
        group id. ``days_since_contact`` counts whole calendar days from the last
        contact of any kind to ``as_of`` (None when never contacted).

    Notes
    -----
    A group is flagged when its last proactive or requested contact is missing or not
    inside the window; reactive calls for service are not engagement.

    Reasons (code: text), each included when it applies:
    ``never_contacted``: "never contacted"; ``last_contact``: "last contact N days
    ago"; ``only_reactive``: "only reactive contacts in the window";
    ``never_engaged``: "no proactive or requested contact ever" (contacted, but only
    reactively); ``stance_wary``/``stance_hostile``; ``stage_falling``: "stage
    falling: rapport → initial contact"; ``overdue``: "overdue: N days past its
    30-day contact interval" (counted from the last engaging contact);
    ``competing``: "competes with N groups"; ``open_cases``: "N open cases".

    Priority (higher = visit first) is a sum of interpretable parts::

        STANCE_WEIGHT[stance]          hostile 3, wary 2, unknown 1, neutral 0.5, receptive 0
      + log10(1 + size_estimate)       0 when unknown; 10 people ~ 1, 1,000 ~ 3
      + 0.5 per competing group        capped at 2
      + 0.5 per open case              capped at 2
      + staleness                      days since last engaging contact / interval,
                                       interval = contact_interval_days or the window;
                                       capped at 4, and 4 when never engaged
      + 1 if never contacted at all

    Facts dated after ``as_of`` raise ``ValueError``: the adapter must not look ahead.

    Examples
    --------
    >>> from datetime import date
    >>> r = hard_to_engage([GroupInfo(1, "Youth club", stance="wary")], {}, as_of=date(2024, 6, 30))
    >>> r.groups[0].days_since_contact, r.groups[0].reason_codes
    (None, ('never_contacted', 'stance_wary'))
    """
    _check_window(as_of, days)
    today = _day(as_of)
    competitors: dict[int, set[int]] = defaultdict(set)
    for r in relations:
        if not isinstance(r, Relation):
            raise ValueError(f"expected Relation, got {type(r).__name__}")
        if r.type == "competing":
            competitors[r.group_a].add(r.group_b)
            competitors[r.group_b].add(r.group_a)

    flags = []
    seen: set[int] = set()
    for g in groups:
        if not isinstance(g, GroupInfo):
            raise ValueError(f"expected GroupInfo, got {type(g).__name__}")
        if g.id in seen:
            raise ValueError(f"group {g.id} listed twice")
        seen.add(g.id)
        f = facts.get(g.id)
        if f is not None:
            if not isinstance(f, GroupContactFacts) or f.group_id != g.id:
                raise ValueError(f"facts[{g.id}] must be GroupContactFacts for group {g.id}")
            for moment in (f.last_contact_at, f.last_engaging_at):
                if moment is not None and not _not_after(moment, as_of):
                    raise ValueError(f"facts for group {g.id} are dated after as_of")
        flag = _flag(g, f, len(competitors.get(g.id, ())), as_of, today, days)
        if flag is not None:
            flags.append(flag)
    flags.sort(key=lambda x: (-x.priority, x.group_id))
    return HardToEngageResult(as_of=as_of, window_days=days, groups=tuple(flags))


def _flag(g: GroupInfo, f: GroupContactFacts | None, n_comp: int, as_of, today: date, days: int):
    last = f.last_contact_at if f else None
    engaged = f.last_engaging_at if f else None
    if engaged is not None and in_window(engaged, as_of, days):
        return None

    reasons: list[tuple[str, str]] = []
    since = (today - last.date()).days if last is not None else None
    if last is None:
        reasons.append(("never_contacted", "never contacted"))
    else:
        reasons.append(("last_contact", f"last contact {since} day{'s' * (since != 1)} ago"))
        if f.contacts_in_window > 0:
            # No engaging contact in the window, so every contact in it was reactive.
            reasons.append(("only_reactive", "only reactive contacts in the window"))
        if engaged is None:
            reasons.append(("never_engaged", "no proactive or requested contact ever"))
    if g.stance in _WARY:
        reasons.append((f"stance_{g.stance}", f"{g.stance} stance"))
    if f and f.last_stage and f.previous_stage and stage_rank(f.last_stage) < stage_rank(f.previous_stage):
        before, after = (s.replace("_", " ") for s in (f.previous_stage, f.last_stage))
        reasons.append(("stage_falling", f"stage falling: {before} → {after}"))
    interval = g.contact_interval_days or days
    since_engaged = (today - engaged.date()).days if engaged is not None else None
    if g.contact_interval_days and since_engaged is not None and since_engaged > interval:
        reasons.append(("overdue", f"overdue: {since_engaged - interval} days past its "
                                   f"{interval}-day contact interval"))
    if n_comp:
        reasons.append(("competing", f"competes with {n_comp} group{'s' * (n_comp != 1)}"))
    if g.open_cases:
        reasons.append(("open_cases", f"{g.open_cases} open case{'s' * (g.open_cases != 1)}"))

    staleness = _STALENESS_CAP if since_engaged is None else min(since_engaged / interval, _STALENESS_CAP)
    priority = (
        STANCE_WEIGHT[g.stance]
        + (math.log10(1 + g.size_estimate) if g.size_estimate else 0.0)
        + min(_PER_COMPETITOR * n_comp, _COMPETITOR_CAP)
        + min(_PER_CASE * g.open_cases, _CASE_CAP)
        + staleness
        + (_NEVER_CONTACTED_BONUS if last is None else 0.0)
    )
    return EngagementFlag(
        group_id=g.id,
        days_since_contact=since,
        reasons=tuple(r[1] for r in reasons),
        reason_codes=tuple(r[0] for r in reasons),
        priority=round(priority, 6),
    )


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class BeatCoverage:
    """Coverage of one beat in the window (``beat_id`` None: contacts with no beat).

    Contact counts are group-contacts: a contact with two groups counts twice.
    ``groups`` and ``groups_reached`` count the beat's groups (by ``GroupInfo.beat_ids``)
    and those with any contact in the window, wherever it was logged.
    """

    beat_id: int | None
    groups: int
    groups_reached: int
    share_reached: float | None
    contacts: int
    proactive_share: float | None
    contacts_receptive: int
    contacts_wary_hostile: int
    contacts_other: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class OfficerCoverage:
    """One officer's contacts in the window and their comfort-zone index."""

    officer_id: int
    contacts: int
    groups_reached: int
    proactive_share: float | None
    contacts_receptive: int
    contacts_wary_hostile: int
    comfort_zone_index: float | None
    comfort_zone: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CoverageResult:
    """Per-beat and per-officer coverage, sorted by beat id (None last) and officer id."""

    as_of: date
    window_days: int
    beats: tuple[BeatCoverage, ...]
    officers: tuple[OfficerCoverage, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "window_days": self.window_days,
            "beats": [b.to_dict() for b in self.beats],
            "officers": [o.to_dict() for o in self.officers],
        }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _index_groups(groups: Iterable[GroupInfo]
                  ) -> tuple[dict[int, GroupInfo], dict[int | None, set[int]]]:
    """Groups by id (each listed once), and the ids of the groups in each beat."""
    info: dict[int, GroupInfo] = {}
    for g in groups:
        if not isinstance(g, GroupInfo):
            raise ValueError(f"expected GroupInfo, got {type(g).__name__}")
        if g.id in info:
            raise ValueError(f"group {g.id} listed twice")
        info[g.id] = g
    beat_groups: dict[int | None, set[int]] = defaultdict(set)
    for g in info.values():
        for b in g.beat_ids:
            beat_groups[b].add(g.id)
    return info, beat_groups


def coverage(
    groups: Iterable[GroupInfo],
    counts: Iterable[OfficerContactCount],
    *,
    as_of: date,
    days: int = 90,
    officer_beats: Mapping[int, Iterable[int]] | None = None,
    comfort_threshold: float = 0.25,
    min_proactive: int = 5,
) -> CoverageResult:
    """Coverage by beat and by officer, and who stays in the comfort zone.

    Parameters
    ----------
    groups : iterable of GroupInfo
        All groups, with stance and beats.
    counts : iterable of OfficerContactCount
        Contacts already restricted to the window (the adapter counts them in SQL;
        :func:`analytics.types.count_officer_contacts` does it in Python).
    as_of : date or datetime
        End of the window; recorded in the result.
    days : int, optional
        Window length (default 90); recorded in the result.
    officer_beats : mapping officer_id -> beat ids, optional
        The officers' assigned beats, for the comfort-zone baseline. Default: the
        beats the officer logged contacts in during the window.
    comfort_threshold : float, optional
        ``comfort_zone`` is set when the index is at least this (default 0.25).
    min_proactive : int, optional
        Fewer proactive group-contacts than this never sets ``comfort_zone``: too
        little evidence (default 5).

    Returns
    -------
    CoverageResult

    Notes
    -----
    Counts are group-contacts (a contact with two groups counts once per group).
    Contacts with a group missing from ``groups`` raise ``ValueError``.

    *Comfort-zone index.* Only proactive contacts reflect the officer's own choice
    of whom to visit (requested and reactive ones come to them), so::

        index = share of the officer's proactive group-contacts with receptive groups
              - share of receptive groups among the groups in the officer's beats

    0 means visiting groups in proportion to what the beat holds; +0.5 means half of
    the visits go to friendly groups beyond their share, the known failure mode of
    community policing. None when the officer made no proactive contact or their
    beats hold no groups.

    Examples
    --------
    >>> from datetime import date
    >>> gs = [GroupInfo(1, "A", stance="receptive", beat_ids=(5,)), GroupInfo(2, "B", stance="hostile", beat_ids=(5,))]
    >>> cs = [OfficerContactCount(9, 5, 1, "proactive", 6)]
    >>> o = coverage(gs, cs, as_of=date(2024, 6, 30)).officers[0]
    >>> o.comfort_zone_index, o.comfort_zone
    (0.5, True)
    """
    _check_window(as_of, days)
    if not isinstance(min_proactive, int) or min_proactive < 0:
        raise ValueError("min_proactive must be an int >= 0")
    info, beat_groups = _index_groups(groups)

    reached: set[int] = set()
    # per beat / officer: [total, proactive, receptive, wary_hostile]
    beat_tot: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    off_tot: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    off_pro_receptive: dict[int, int] = defaultdict(int)
    off_groups: dict[int, set[int]] = defaultdict(set)
    off_seen_beats: dict[int, set[int]] = defaultdict(set)
    for c in counts:
        if not isinstance(c, OfficerContactCount):
            raise ValueError(f"expected OfficerContactCount, got {type(c).__name__}")
        g = info.get(c.group_id)
        if g is None:
            raise ValueError(f"contact count for unknown group {c.group_id}")
        if c.count == 0:
            continue
        proactive = c.initiated_by == "proactive"
        row = (c.count, c.count if proactive else 0,
               c.count if g.stance == "receptive" else 0,
               c.count if g.stance in _WARY else 0)
        for tot in (beat_tot[c.beat_id], off_tot[c.officer_id]):
            for i, v in enumerate(row):
                tot[i] += v
        if proactive and g.stance == "receptive":
            off_pro_receptive[c.officer_id] += c.count
        reached.add(c.group_id)
        off_groups[c.officer_id].add(c.group_id)
        if c.beat_id is not None:
            off_seen_beats[c.officer_id].add(c.beat_id)

    beats = []
    for b in sorted(set(beat_groups) | set(beat_tot), key=lambda b: (b is None, b or 0)):
        in_beat = beat_groups.get(b, set())
        tot, pro, rec, wh = beat_tot.get(b, [0, 0, 0, 0])
        n_reached = len(in_beat & reached)
        beats.append(BeatCoverage(
            beat_id=b, groups=len(in_beat), groups_reached=n_reached,
            share_reached=_share(n_reached, len(in_beat)), contacts=tot,
            proactive_share=_share(pro, tot), contacts_receptive=rec,
            contacts_wary_hostile=wh, contacts_other=tot - rec - wh,
        ))

    officers = []
    for o in sorted(off_tot):
        tot, pro, rec, wh = off_tot[o]
        their_beats = set(officer_beats[o]) if officer_beats and o in officer_beats else off_seen_beats[o]
        pool = set().union(*(beat_groups.get(b, set()) for b in their_beats)) if their_beats else set()
        base = _share(sum(info[x].stance == "receptive" for x in pool), len(pool))
        index = None
        if pro and base is not None:
            index = round(off_pro_receptive[o] / pro - base, 6)
        officers.append(OfficerCoverage(
            officer_id=o, contacts=tot, groups_reached=len(off_groups[o]),
            proactive_share=_share(pro, tot), contacts_receptive=rec, contacts_wary_hostile=wh,
            comfort_zone_index=index,
            comfort_zone=bool(index is not None and pro >= min_proactive and index >= comfort_threshold),
        ))
    return CoverageResult(as_of=as_of, window_days=days, beats=tuple(beats), officers=tuple(officers))
