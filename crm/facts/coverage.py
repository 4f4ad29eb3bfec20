"""Coverage from window totals: the same result as `analytics.coverage`, from the facts.

`analytics.coverage` takes one count per (officer, beat, group, initiated_by) in the window,
as many rows as a department's contacts. The facts already hold the sums it makes of them
(per beat, per officer, the groups each officer reached, the beats they logged in), so this
pure function finishes the job from those sums. It follows `analytics.coverage` line by
line; tests/test_facts_coverage.py checks on random inputs that both give the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from analytics.engagement import BeatCoverage, CoverageResult, OfficerCoverage
from analytics.types import GroupInfo, _check_window

_WARY = ("wary", "hostile")


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def coverage_from_totals(
    groups: Iterable[GroupInfo],  # or anything with id, stance and beat_ids
    beat_totals: Mapping[int | None, list[int]],
    officer_totals: Mapping[int, list[int]],
    officer_groups: Mapping[int, int],
    reached: set[int],
    officer_seen_beats: Mapping[int, set[int]],
    *,
    as_of: date,
    days: int = 90,
    officer_beats: Mapping[int, Iterable[int]] | None = None,
    comfort_threshold: float = 0.25,
    min_proactive: int = 5,
) -> CoverageResult:
    """Coverage by beat and by officer from window sums.

    beat_totals: beat (None: no beat) -> [group-contacts, proactive, with receptive groups,
    with wary or hostile groups]; officer_totals: officer -> the same plus proactive with
    receptive groups; officer_groups: officer -> groups reached; reached: groups with a
    contact in the window; officer_seen_beats: officer -> beats they logged contacts in.
    """
    _check_window(as_of, days)
    info: dict[int, GroupInfo] = {}
    for g in groups:
        if g.id in info:
            raise ValueError(f"group {g.id} listed twice")
        info[g.id] = g
    beat_groups: dict[int | None, set[int]] = {}
    for g in info.values():
        for b in g.beat_ids:
            beat_groups.setdefault(b, set()).add(g.id)
    # Reduce the groups to the sums the database makes for a district, and share one rule.
    sums = {b: (len(ids), len(ids & reached)) for b, ids in beat_groups.items()}
    stance = {g: i.stance for g, i in info.items()}
    pools = {}
    for o, t in officer_totals.items():
        if not t[0]:
            continue
        their_beats = (set(officer_beats[o]) if officer_beats and o in officer_beats
                       else set(officer_seen_beats.get(o, ())))
        pools[o] = officer_pool(their_beats, beat_groups, stance)
    return coverage_from_sums(sums, beat_totals, officer_totals, officer_groups, pools,
                              as_of=as_of, days=days, comfort_threshold=comfort_threshold,
                              min_proactive=min_proactive)


def totals_from_counts(counts, stance: Mapping[int, str]):
    """The window sums `coverage_from_totals` takes, made from `analytics.coverage`'s input
    (the reference the tests compare against; the app reads them from the facts)."""
    beats: dict[int | None, list[int]] = {}
    officers: dict[int, list[int]] = {}
    groups: dict[int, set[int]] = {}
    seen: dict[int, set[int]] = {}
    reached: set[int] = set()
    for c in counts:
        if c.count == 0:
            continue
        pro = c.initiated_by == "proactive"
        rec, wh = stance[c.group_id] == "receptive", stance[c.group_id] in _WARY
        row = (c.count, c.count * pro, c.count * rec, c.count * wh)
        b = beats.setdefault(c.beat_id, [0, 0, 0, 0])
        o = officers.setdefault(c.officer_id, [0, 0, 0, 0, 0])
        for i, v in enumerate(row):
            b[i] += v
            o[i] += v
        o[4] += c.count * (pro and rec)
        groups.setdefault(c.officer_id, set()).add(c.group_id)
        reached.add(c.group_id)
        if c.beat_id is not None:
            seen.setdefault(c.officer_id, set()).add(c.beat_id)
    return beats, officers, {o: len(g) for o, g in groups.items()}, reached, seen


def coverage_from_sums(
    beat_groups: Mapping[int, tuple[int, int]],
    beat_totals: Mapping[int | None, list[int]],
    officer_totals: Mapping[int, list[int]],
    officer_groups: Mapping[int, int],
    officer_pools: Mapping[int, tuple[int, int]],
    *,
    as_of: date,
    days: int = 90,
    comfort_threshold: float = 0.25,
    min_proactive: int = 5,
) -> CoverageResult:
    """Coverage of some beats and officers from sums the database makes (GROUP BY), so a
    district's page reads a few hundred numbers instead of every group of the city.

    beat_groups: beat -> (its groups, those reached in the window); beat_totals and
    officer_totals as for `coverage_from_totals`; officer_groups: officer -> groups reached;
    officer_pools: officer -> (groups in the officer's beats, the receptive ones among them),
    the comfort-zone baseline. Beats and officers are those the inputs name: the caller
    scopes them. Same rules as `coverage_from_totals` (tests/test_facts_coverage.py).
    """
    _check_window(as_of, days)
    beat_tot = {b: t for b, t in beat_totals.items() if t[0]}
    beats = []
    for b in sorted(set(beat_groups) | set(beat_tot), key=lambda b: (b is None, b or 0)):
        n_groups, n_reached = beat_groups.get(b, (0, 0))
        tot, pro, rec, wh = beat_tot.get(b, [0, 0, 0, 0])
        beats.append(BeatCoverage(
            beat_id=b, groups=n_groups, groups_reached=n_reached,
            share_reached=_share(n_reached, n_groups), contacts=tot,
            proactive_share=_share(pro, tot), contacts_receptive=rec,
            contacts_wary_hostile=wh, contacts_other=tot - rec - wh,
        ))
    officers = []
    for o in sorted(o for o, t in officer_totals.items() if t[0]):
        tot, pro, rec, wh, pro_rec = officer_totals[o]
        pool, receptive = officer_pools.get(o, (0, 0))
        base = _share(receptive, pool)
        index = round(pro_rec / pro - base, 6) if pro and base is not None else None
        officers.append(OfficerCoverage(
            officer_id=o, contacts=tot, groups_reached=officer_groups.get(o, 0),
            proactive_share=_share(pro, tot), contacts_receptive=rec, contacts_wary_hostile=wh,
            comfort_zone_index=index,
            comfort_zone=bool(index is not None and pro >= min_proactive
                              and index >= comfort_threshold),
        ))
    return CoverageResult(as_of=as_of, window_days=days, beats=tuple(beats),
                          officers=tuple(officers))


def officer_pool(beat_ids: Iterable[int], beat_groups: Mapping[int, Iterable[int]],
                 stance: Mapping[int, str]) -> tuple[int, int]:
    """(groups in these beats, the receptive ones): a group in two of them counts once."""
    pool = set().union(*(beat_groups.get(b, ()) for b in beat_ids))
    return len(pool), sum(stance[g] == "receptive" for g in pool)


def sums_from_counts(groups, counts, officer_beats: Mapping[int, Iterable[int]] | None):
    """`coverage_from_sums`' inputs for every beat and officer, made from
    `analytics.coverage`'s input (the reference the tests compare against)."""
    info = {g.id: g for g in groups}
    stance = {g.id: g.stance for g in info.values()}
    beat_totals, officer_totals, officer_groups, reached, seen = totals_from_counts(counts, stance)
    members: dict[int, set[int]] = {}
    for g in info.values():
        for b in g.beat_ids:
            members.setdefault(b, set()).add(g.id)
    beat_groups = {b: (len(m), len(m & reached)) for b, m in members.items()}
    pools = {}
    for o in officer_totals:
        their = (officer_beats[o] if officer_beats and o in officer_beats else seen.get(o, ()))
        pools[o] = officer_pool(their, members, stance)
    return beat_groups, beat_totals, officer_totals, officer_groups, pools
