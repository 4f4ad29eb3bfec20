"""Co-production figures: pure functions over a case's records (no database, no Flask).

Every function takes plain objects with the attributes of the case models (the ORM rows
or any stand-in with the same names), so the figures can be tested on hand-made cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

SARA_STAGES = ("scanning", "analysis", "response", "assessment")
COMMUNITY_OWNERS = ("stakeholder", "group")
OPENING_ACTIONS = ("case.create", "case.open")
STAGE_ACTION = "case.stage"


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def community_action_share(actions: Iterable) -> tuple[int, int, float | None]:
    """Actions owned by the community (a stakeholder or a group) among all actions.

    Returns
    -------
    (community, total, share): share is None when the case has no actions.

    Example
    -------
    >>> from types import SimpleNamespace as A
    >>> community_action_share([A(owner_kind="group"), A(owner_kind="officer")])
    (1, 2, 0.5)
    """
    actions = list(actions)
    community = sum(1 for a in actions if a.owner_kind in COMMUNITY_OWNERS)
    return community, len(actions), _ratio(community, len(actions))


def community_contributors(ideas: Iterable, actions: Iterable) -> set[tuple[str, int]]:
    """Distinct stakeholders and groups who proposed an idea or own an action.

    Keys are typed, ``("stakeholder", 7)`` and ``("group", 7)``, so ids never collide.
    """
    out: set[tuple[str, int]] = set()
    for i in ideas:
        if i.proposed_by_stakeholder_id is not None:
            out.add(("stakeholder", i.proposed_by_stakeholder_id))
        if i.proposed_by_group_id is not None:
            out.add(("group", i.proposed_by_group_id))
    for a in actions:
        if a.owner_kind == "stakeholder" and a.owner_stakeholder_id is not None:
            out.add(("stakeholder", a.owner_stakeholder_id))
        elif a.owner_kind == "group" and a.owner_group_id is not None:
            out.add(("group", a.owner_group_id))
    return out


def ideas_adopted(ideas: Iterable) -> tuple[int, int, float | None]:
    """(adopted, total, share) of the community's ideas."""
    ideas = list(ideas)
    adopted = sum(1 for i in ideas if i.status == "adopted")
    return adopted, len(ideas), _ratio(adopted, len(ideas))


def stage_periods(events: Iterable, *, opened_at: datetime, now: datetime
                  ) -> list[tuple[str, datetime, datetime]]:
    """The (stage, start, end) periods of a case, from its stage-move events.

    The case starts in scanning at its opening event (or `opened_at` when there is none);
    every ``case.stage`` event ends one period and starts the next (``detail["to"]``). The
    current stage runs until `now`; a closed case's time after closing is not counted.
    """
    events = sorted(events, key=lambda e: e.at)
    start = next((e.at for e in events if e.action in OPENING_ACTIONS), opened_at)
    stage = "scanning"
    periods: list[tuple[str, datetime, datetime]] = []
    for e in events:
        if e.action != STAGE_ACTION or not (e.detail or {}).get("to"):
            continue
        periods.append((stage, start, max(e.at, start)))
        stage, start = e.detail["to"], max(e.at, start)
    periods.append((stage, start, max(now, start)))
    return [p for p in periods if p[0] in SARA_STAGES]


def days_in_stages(events: Iterable, *, opened_at: datetime, now: datetime) -> dict[str, float]:
    """Days spent in each SARA stage (a stage visited twice adds up), to 0.1 day."""
    out = {s: 0.0 for s in SARA_STAGES}
    for stage, start, end in stage_periods(events, opened_at=opened_at, now=now):
        out[stage] += (end - start).total_seconds() / 86400
    return {s: round(v, 1) for s, v in out.items()}


def _opened_at(case) -> datetime:
    if getattr(case, "created_at", None) is not None:
        return case.created_at
    return datetime.combine(case.opened_on, datetime.min.time())


def case_figures(case, *, now: datetime) -> dict:
    """Every co-production figure of one case (see the functions above)."""
    community, total, share = community_action_share(case.actions)
    adopted, ideas_total, adopted_share = ideas_adopted(case.ideas)
    return {
        "actions_total": total,
        "actions_community": community,
        "community_action_share": share,
        "contributors": len(community_contributors(case.ideas, case.actions)),
        "ideas_total": ideas_total,
        "ideas_adopted": adopted,
        "ideas_adopted_share": adopted_share,
        "days_in_stage": days_in_stages(case.events, opened_at=_opened_at(case), now=now),
    }


def unit_figures(cases: Iterable, *, now: datetime) -> dict:
    """The same figures over many cases: shares over all records, contributors counted once,
    and the mean days per stage over the cases that spent time in that stage."""
    cases = list(cases)
    actions = [a for c in cases for a in c.actions]
    ideas = [i for c in cases for i in c.ideas]
    community, total, share = community_action_share(actions)
    adopted, ideas_total, adopted_share = ideas_adopted(ideas)
    sums = {s: 0.0 for s in SARA_STAGES}
    counts = {s: 0 for s in SARA_STAGES}
    for c in cases:
        for stage, days in days_in_stages(c.events, opened_at=_opened_at(c), now=now).items():
            if days > 0:
                sums[stage] += days
                counts[stage] += 1
    return {
        "cases": len(cases),
        "open_cases": sum(1 for c in cases if c.stage != "closed"),
        "actions_total": total,
        "actions_community": community,
        "community_action_share": share,
        "contributors": len(community_contributors(ideas, actions)),
        "ideas_total": ideas_total,
        "ideas_adopted": adopted,
        "ideas_adopted_share": adopted_share,
        "mean_days_in_stage": {s: (round(sums[s] / counts[s], 1) if counts[s] else None)
                               for s in SARA_STAGES},
    }


def measure_chart(baseline_value: float | None, baseline_on: date | None, values: Iterable, *,
                  width: int = 300, height: int = 120, pad: int = 12) -> dict | None:
    """Geometry of a small line chart for one measure: baseline first, then later values.

    Returns None when there is nothing to draw; otherwise the polyline ``points``, each
    point's ``(x, y, label)``, and ``baseline_y`` (the baseline drawn as a dashed line).
    Dates are spread by day so gaps show; one value alone sits in the middle.
    """
    pts: list[tuple[date | None, float, str]] = []
    if baseline_value is not None:
        pts.append((baseline_on, float(baseline_value), "baseline"))
    pts += [(v.measured_on, float(v.value), v.measured_on.isoformat()) for v in values]
    if not pts:
        return None
    dated = [p[0] for p in pts if p[0] is not None]
    first = min(dated) if dated else None
    span = (max(dated) - first).days if dated else 0
    ys = [p[1] for p in pts]
    lo, hi = min(ys + [0.0]), max(ys)
    if hi == lo:
        hi = lo + 1
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def x_of(i: int, d: date | None) -> float:
        if len(pts) == 1:
            return width / 2
        if span and d is not None:
            return pad + inner_w * (d - first).days / span
        return pad + inner_w * i / (len(pts) - 1)

    def y_of(v: float) -> float:
        return pad + inner_h * (hi - v) / (hi - lo)

    coords = [(round(x_of(i, d), 1), round(y_of(v), 1), f"{lab}: {v:g}")
              for i, (d, v, lab) in enumerate(pts)]
    return {
        "width": width, "height": height,
        "points": " ".join(f"{x},{y}" for x, y, _ in coords),
        "dots": coords,
        "baseline_y": round(y_of(float(baseline_value)), 1) if baseline_value is not None else None,
        "min": lo, "max": hi,
    }
