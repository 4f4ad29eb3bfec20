"""Difference in differences (statsmodels OLS, SE clustered by unit) and baseline balance."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from analytics.did import balance, diff_in_diff

FOUR = [("treatment", 0.2, 0.6), ("treatment", 0.4, 0.6), ("control", 0.3, 0.4), ("control", 0.5, 0.4)]


def test_did_by_hand():
    """Changes: treated +0.4 and +0.2 (mean 0.3), controls +0.1 and -0.1 (mean 0).

    Clustered by unit, the interaction's sandwich variance is the sum over arms of the
    squared deviations of the units' changes from their arm's mean change over n_arm²:
    (0.01 + 0.01) / 4 + (0.01 + 0.01) / 4 = 0.01, so CR0 SE = 0.1; statsmodels' small-sample
    correction multiplies the variance by G/(G-1) · (N-1)/(N-K) = 4/3 · 7/4, and the
    interval uses t with G - 1 = 3 degrees of freedom.
    """
    e = diff_in_diff(FOUR)
    se = 0.1 * math.sqrt(4 / 3 * 7 / 4)
    t = stats.t.ppf(0.975, 3)
    assert e.estimate == pytest.approx(0.3)
    assert e.se == pytest.approx(se, abs=1e-9)
    assert (e.ci_low, e.ci_high) == (pytest.approx(0.3 - t * se), pytest.approx(0.3 + t * se))
    assert e.df == 3 and e.n_units == 4
    assert e.means["treatment"] == {"baseline": pytest.approx(0.3), "follow_up": pytest.approx(0.6)}
    assert e.means["control"] == {"baseline": pytest.approx(0.4), "follow_up": pytest.approx(0.4)}


def test_unit_keys_give_the_same_answer_and_a_wider_level_a_wider_interval():
    keyed = diff_in_diff([(f"b{i}", *r) for i, r in enumerate(FOUR)])
    assert keyed.estimate == pytest.approx(diff_in_diff(FOUR).estimate)
    narrow, wide = diff_in_diff(FOUR, level=0.8), diff_in_diff(FOUR, level=0.99)
    assert wide.ci_high - wide.ci_low > narrow.ci_high - narrow.ci_low


def test_did_leaves_out_units_without_a_value_and_needs_two_per_arm():
    e = diff_in_diff([("treatment", None, 1), ("treatment", 1, 2), ("control", 1, 1), ("control", 2, 2)])
    assert (e.n_treatment, e.n_control, e.estimate, e.ci_low) == (1, 2, None, None)
    with pytest.raises(ValueError):
        diff_in_diff([("placebo", 1, 2)])
    with pytest.raises(ValueError):
        diff_in_diff(FOUR, level=1.5)


def test_identical_changes_give_a_zero_width_interval_not_an_error():
    e = diff_in_diff([("treatment", 1, 3), ("treatment", 2, 4), ("control", 1, 1), ("control", 5, 5)])
    assert (e.estimate, e.se, e.ci_low, e.ci_high) == (pytest.approx(2), 0.0, pytest.approx(2), pytest.approx(2))


def _simulate(effect: float, seed: int, n: int = 40):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        arm = "treatment" if i % 2 else "control"
        level = rng.uniform(0.2, 0.6)
        rows.append((arm, level + rng.gauss(0, 0.05),
                     level + 0.05 + (effect if arm == "treatment" else 0) + rng.gauss(0, 0.05)))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_known_effect_is_covered_and_a_null_covers_zero(seed):
    e = diff_in_diff(_simulate(0.3, seed))
    assert e.ci_low <= 0.3 <= e.ci_high and e.ci_low > 0
    null = diff_in_diff(_simulate(0.0, seed))
    assert null.ci_low <= 0 <= null.ci_high


def test_the_interval_covers_the_truth_about_95_times_in_100():
    fits = [diff_in_diff(_simulate(0.1, seed, n=20)) for seed in range(100)]
    covered = sum(e.ci_low <= 0.1 <= e.ci_high for e in fits)
    assert 88 <= covered <= 100


def test_balance_by_hand():
    b = balance([("treatment", 1.0), ("treatment", 3.0), ("control", 2.0), ("control", 4.0),
                 ("control", None)])
    assert b["treatment"] == {"n": 2, "n_values": 2, "mean": 2.0, "sd": pytest.approx(math.sqrt(2))}
    assert b["control"]["n"] == 3 and b["control"]["mean"] == 3.0
    assert b["difference"] == -1.0
    assert b["std_difference"] == pytest.approx(-1 / math.sqrt(2))
    with pytest.raises(ValueError):
        balance([("placebo", 1.0)])
