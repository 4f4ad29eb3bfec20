"""Geometry for the evaluation's inline SVG charts (no script, no CDN): the trust trend of a
group or beat (mean with its 95 % band and n per wave) and an outcome's means by arm across
the trial's periods. Templates only place what is computed here
(`templates/_trust_trend.html`, `templates/evaluation/trial.html`)."""

from __future__ import annotations

from datetime import date

WIDTH, HEIGHT = 340, 190
LEFT, RIGHT, TOP, BOTTOM = 34, 30, 14, 46
SCALE_LOW, SCALE_HIGH = 1, 5  # the Likert scale
ARM_COLOURS = {"treatment": "#1b6ca8", "control": "#b35c00"}


def _x_positions(days: list[date]) -> list[float]:
    inner = WIDTH - LEFT - RIGHT
    if len(days) == 1:
        return [LEFT + inner / 2]
    first, last = days[0], days[-1]
    span = (last - first).days
    if span <= 0:
        return [LEFT + inner * i / (len(days) - 1) for i in range(len(days))]
    return [LEFT + inner * (d - first).days / span for d in days]


def _coord(v: float) -> float | int:
    """A coordinate to one decimal, whole numbers without ".0" (so a page never shows a
    stray figure such as "4.0" that a reader, or a test, could take for a result)."""
    v = round(v, 1)
    return int(v) if v == int(v) else v


def _y(value: float, low: float, high: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return _coord(TOP + inner * (high - value) / (high - low))


def trust_chart(trend: list[dict]) -> dict | None:
    """Chart geometry for `crm.evaluation.services.trust_trend` (oldest wave first).

    Every wave gets an x position by its opening date; a wave with numbers gets its mean, its
    95 % band and "n = N"; a wave below k answers gets an open marker and no numbers at all.
    None when there is no wave.
    """
    if not trend:
        return None
    days = [date.fromisoformat(p["opens_on"]) for p in trend]
    xs = _x_positions(days)
    low, high = SCALE_LOW, SCALE_HIGH
    points = []
    for p, x in zip(trend, xs, strict=True):
        shown = p.get("mean") is not None
        point = {"x": _coord(x), "shown": shown, "label": p["campaign"],
                 "date": days[len(points)].strftime("%b %Y"), "n": p.get("n")}
        if shown:
            point.update(y=_y(p["mean"], low, high), mean=p["mean"],
                         y_low=_y(max(low, p["ci_low"]), low, high),
                         y_high=_y(min(high, p["ci_high"]), low, high),
                         ci_low=p["ci_low"], ci_high=p["ci_high"])
        else:
            point["y"] = _y(low, low, high)
        points.append(point)
    lines, bands = [], []
    run = [p for p in points if p["shown"]]  # a suppressed wave is skipped, not drawn as a value
    if run:
        lines.append(" ".join(f"{p['x']},{p['y']}" for p in run))
        if len(run) > 1:
            upper = [f"{p['x']},{p['y_high']}" for p in run]
            lower = [f"{p['x']},{p['y_low']}" for p in reversed(run)]
            bands.append(" ".join(upper + lower))
    grid = [{"value": v, "y": _y(v, low, high)} for v in range(low, high + 1)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "axis_y": HEIGHT - BOTTOM, "points": points, "lines": lines, "bands": bands,
            "grid": grid, "shown": sum(p["shown"] for p in points)}


def means_chart(means: dict) -> dict | None:
    """Means by arm across the trial's two periods (`analyse_trial`'s "means").

    The y axis runs from 0 to a little above the largest mean (every outcome is a share, a
    count or a rate, never negative). None when no arm has a mean in both periods.
    """
    periods = ("baseline", "follow_up")
    values = [m for arm in means.values() for m in (arm.get(p) for p in periods) if m is not None]
    if not values:
        return None
    high = max(values) * 1.15 or 1.0
    xs = _x_positions([date(2000, 1, 1), date(2000, 1, 2)])
    xs = [xs[0] + 40, xs[1] - 40]
    series = []
    for arm in ("treatment", "control"):
        got = means.get(arm) or {}
        pts = [{"x": _coord(x), "y": _y(got[p], 0, high), "value": got[p], "period": p}
               for x, p in zip(xs, periods, strict=True) if got.get(p) is not None]
        if pts:
            series.append({"arm": arm, "colour": ARM_COLOURS[arm], "points": pts,
                           "line": " ".join(f"{p['x']},{p['y']}" for p in pts)})
    ticks = [{"value": round(high * i / 4, 3), "y": _y(high * i / 4, 0, high)} for i in range(5)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "axis_y": HEIGHT - BOTTOM, "series": series, "ticks": ticks,
            "periods": [{"x": _coord(x), "label": p.replace("_", "-")} for x, p in zip(xs, periods, strict=True)]}
