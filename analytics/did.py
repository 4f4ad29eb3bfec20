"""Difference in differences for a two-period trial, from per-unit outcome values."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class DidEstimate:
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n_treatment: int
    n_control: int
    means: dict  # {arm: {"baseline": mean, "follow_up": mean}}

    @property
    def n_units(self) -> int:
        return self.n_treatment + self.n_control


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _var(xs: list[float]) -> float:
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


def diff_in_diff(rows: Iterable[tuple[str, float | None, float | None]],
                 level: float = 0.95) -> DidEstimate:
    """The difference in differences between treatment and control, with a confidence interval.

    Parameters
    ----------
    rows : iterable of (arm, baseline, follow_up)
        One row per unit: its arm ("treatment" or "control") and its outcome in each period.
        A unit with no value in either period (say a share of zero contacts) is left out.
    level : float
        The confidence level of the interval (0.95 by default).

    Returns
    -------
    DidEstimate
        The estimate (mean change of the treated minus mean change of the controls), its
        standard error, the interval, the number of units per arm and the means by arm and
        period. Estimate, SE and interval are None with fewer than two units in an arm.

    Notes
    -----
    With two periods and one value per unit and period, regressing the outcome on arm,
    period and their interaction with standard errors clustered by unit comes down to
    comparing the units' changes between the arms. The SE is Welch's (unequal variances),
    the interval uses Student's t with Welch-Satterthwaite degrees of freedom.

    Examples
    --------
    >>> e = diff_in_diff([("treatment", 0.2, 0.6), ("treatment", 0.4, 0.6),
    ...                   ("control", 0.3, 0.4), ("control", 0.5, 0.4)])
    >>> round(e.estimate, 3), round(e.se, 3)
    (0.3, 0.141)
    """
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    changes: dict[str, list[float]] = {"treatment": [], "control": []}
    levels: dict[str, dict[str, list[float]]] = {a: {"baseline": [], "follow_up": []}
                                                 for a in changes}
    for arm, before, after in rows:
        if arm not in changes:
            raise ValueError(f"unknown arm {arm!r}")
        if before is None or after is None:
            continue
        changes[arm].append(after - before)
        levels[arm]["baseline"].append(before)
        levels[arm]["follow_up"].append(after)
    t, c = changes["treatment"], changes["control"]
    means = {a: {p: _mean(v) for p, v in per.items()} for a, per in levels.items()}
    if len(t) < 2 or len(c) < 2:
        return DidEstimate(None, None, None, None, len(t), len(c), means)
    estimate = _mean(t) - _mean(c)
    vt, vc = _var(t) / len(t), _var(c) / len(c)
    se = math.sqrt(vt + vc)
    if se == 0:
        return DidEstimate(estimate, 0.0, estimate, estimate, len(t), len(c), means)
    df = (vt + vc) ** 2 / (vt ** 2 / (len(t) - 1) + vc ** 2 / (len(c) - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return DidEstimate(estimate, se, estimate - half, estimate + half, len(t), len(c), means)
