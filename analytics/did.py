"""Difference in differences for a two-period trial, and the baseline balance of its arms.

Pure functions over plain data (no Flask, no database). The estimate is an OLS regression of
the outcome on arm, period and their interaction, with standard errors clustered by unit,
fitted by statsmodels: the interaction's coefficient is the difference in differences.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

ARMS = ("treatment", "control")
PERIODS = ("baseline", "follow_up")


@dataclass(frozen=True)
class DidEstimate:
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n_treatment: int
    n_control: int
    means: dict  # {arm: {"baseline": mean, "follow_up": mean}}
    df: int | None = None  # degrees of freedom of the interval's t distribution (clusters - 1)
    method: str = field(default="OLS outcome ~ treated * post, SE clustered by unit (statsmodels)")

    @property
    def n_units(self) -> int:
        return self.n_treatment + self.n_control


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _sd(xs: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _complete(rows: Iterable[tuple]) -> list[tuple[str, str, float, float]]:
    """(unit, arm, baseline, follow_up) for the units with a value in both periods.

    Rows are (arm, baseline, follow_up) or (unit, arm, baseline, follow_up).
    """
    out = []
    for i, row in enumerate(rows):
        if len(row) == 3:
            unit, (arm, before, after) = f"u{i}", row
        elif len(row) == 4:
            unit, arm, before, after = row
        else:
            raise ValueError("a row is (arm, baseline, follow_up) or (unit, arm, baseline, follow_up)")
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}")
        if before is None or after is None:
            continue
        out.append((str(unit), arm, float(before), float(after)))
    return out


def _fit(data: list[tuple[str, str, float, float]], level: float):
    """The clustered OLS fit: (estimate, se, ci_low, ci_high, df)."""
    frame = pd.DataFrame(
        [{"unit": u, "treated": int(arm == "treatment"), "post": post, "outcome": value}
         for u, arm, before, after in data for post, value in ((0, before), (1, after))])
    clusters = pd.factorize(frame["unit"])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a perfect fit divides by zero
        fit = smf.ols("outcome ~ treated * post", data=frame).fit(
            cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)
        low, high = fit.conf_int(alpha=1 - level).loc["treated:post"]
    estimate, se = float(fit.params["treated:post"]), float(fit.bse["treated:post"])
    df = len(set(clusters)) - 1
    if not np.isfinite(se) or se < 1e-12:  # every unit changed alike: no spread to infer from
        return estimate, 0.0, estimate, estimate, df
    return estimate, se, float(low), float(high), df


def diff_in_diff(rows: Iterable[tuple], level: float = 0.95) -> DidEstimate:
    """The difference in differences between treatment and control, with a confidence interval.

    Parameters
    ----------
    rows : iterable of (arm, baseline, follow_up) or (unit, arm, baseline, follow_up)
        One row per unit: its arm ("treatment" or "control") and its outcome in each period.
        A unit with no value in either period (say a share of zero contacts) is left out.
    level : float
        The confidence level of the interval (0.95 by default).

    Returns
    -------
    DidEstimate
        The estimate, its standard error clustered by unit, the interval, the number of
        units per arm and the means by arm and period. Estimate, SE and interval are None
        with fewer than two units in an arm.

    Notes
    -----
    The panel (one row per unit and period) is regressed by OLS on ``treated``, ``post``
    and ``treated:post`` (statsmodels' formula API); the interaction's coefficient is the
    estimate. Standard errors are cluster-robust by unit (statsmodels' ``cov_type="cluster"``
    with its small-sample correction), and the interval uses Student's t with one degree
    of freedom less than the number of units, so a unit's two periods are never counted as
    independent observations.

    Examples
    --------
    >>> e = diff_in_diff([("treatment", 0.2, 0.6), ("treatment", 0.4, 0.6),
    ...                   ("control", 0.3, 0.4), ("control", 0.5, 0.4)])
    >>> round(e.estimate, 3), round(e.se, 3), e.df
    (0.3, 0.153, 3)
    """
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    data = _complete(rows)
    means = {a: {p: _mean([r[2 + i] for r in data if r[1] == a]) for i, p in enumerate(PERIODS)}
             for a in ARMS}
    n_t = sum(r[1] == "treatment" for r in data)
    n_c = len(data) - n_t
    if n_t < 2 or n_c < 2:
        return DidEstimate(None, None, None, None, n_t, n_c, means)
    estimate, se, low, high, df = _fit(data, level)
    return DidEstimate(estimate, se, low, high, n_t, n_c, means, df)


def balance(rows: Iterable[tuple]) -> dict:
    """The baseline balance of the arms for one outcome.

    Parameters
    ----------
    rows : iterable of (arm, baseline) or (arm, baseline, ...)
        One row per unit; a unit with no baseline value is counted but has no value.

    Returns
    -------
    dict
        ``{"treatment": {"n", "n_values", "mean", "sd"}, "control": {...}, "difference",
        "std_difference"}``: the difference is treatment minus control; the standardised
        difference divides it by the pooled SD (None when that is zero or undefined). An
        absolute standardised difference above 0.1 is the usual sign of imbalance.

    Examples
    --------
    >>> b = balance([("treatment", 1.0), ("treatment", 3.0), ("control", 2.0), ("control", None)])
    >>> b["treatment"]["mean"], b["control"]["n"], b["control"]["n_values"], b["difference"]
    (2.0, 2, 1, 0.0)
    """
    values: dict[str, list[float]] = {a: [] for a in ARMS}
    counts = dict.fromkeys(ARMS, 0)
    for arm, before, *_ in rows:
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}")
        counts[arm] += 1
        if before is not None:
            values[arm].append(float(before))
    out: dict = {a: {"n": counts[a], "n_values": len(values[a]), "mean": _mean(values[a]),
                     "sd": _sd(values[a])} for a in ARMS}
    t, c = out["treatment"], out["control"]
    out["difference"] = None if t["mean"] is None or c["mean"] is None else t["mean"] - c["mean"]
    pooled = None
    if t["sd"] is not None and c["sd"] is not None:
        pooled = math.sqrt((t["sd"] ** 2 + c["sd"] ** 2) / 2)
    out["std_difference"] = (out["difference"] / pooled
                             if pooled and out["difference"] is not None else None)
    return out
