"""Allocation and difference in differences on tiny, hand-checked inputs."""

from __future__ import annotations

import pytest

from analytics.did import diff_in_diff
from analytics.trial import allocate


def test_arms_differ_by_at_most_one_in_every_stratum():
    units = [(f"n{i}", "north") for i in range(5)] + [(f"s{i}", "south") for i in range(4)] + [("x", "east")]
    arms = allocate(units, seed=11)
    for stratum in ("north", "south", "east"):
        got = [arms[u] for u, s in units if s == stratum]
        assert abs(got.count("treatment") - got.count("control")) <= 1
    assert sorted(arms) == sorted(u for u, _ in units)


def test_the_same_seed_gives_the_same_allocation_whatever_the_order():
    units = [(f"b{i}", "D1" if i % 2 else "D2") for i in range(10)]
    assert allocate(units, 3) == allocate(list(reversed(units)), 3)


def test_different_seeds_give_different_allocations():
    units = [(f"b{i}", "") for i in range(20)]
    assert len({tuple(sorted(allocate(units, s).items())) for s in range(10)}) > 1


def test_a_unit_listed_twice_or_a_bad_seed_is_refused():
    with pytest.raises(ValueError, match="twice"):
        allocate([("a", ""), ("a", "")], 1)
    with pytest.raises(ValueError, match="seed"):
        allocate([("a", "")], "1")


def test_did_by_hand():
    # Changes: treated +0.4 and +0.2 (mean 0.3), controls +0.1 and -0.1 (mean 0).
    e = diff_in_diff([("treatment", 0.2, 0.6), ("treatment", 0.4, 0.6),
                      ("control", 0.3, 0.4), ("control", 0.5, 0.4)])
    assert e.estimate == pytest.approx(0.3)
    # Welch: sqrt(0.02/2 + 0.02/2) = 0.1414; df = 2; t(0.975, 2) = 4.3027
    assert e.se == pytest.approx(0.141421, abs=1e-6)
    assert e.ci_low == pytest.approx(0.3 - 4.302653 * 0.141421, abs=1e-4)
    assert e.ci_high == pytest.approx(0.3 + 4.302653 * 0.141421, abs=1e-4)
    assert e.means["treatment"] == {"baseline": pytest.approx(0.3), "follow_up": pytest.approx(0.6)}


def test_did_leaves_out_units_without_a_value_and_needs_two_per_arm():
    e = diff_in_diff([("treatment", None, 1), ("treatment", 1, 2), ("control", 1, 1), ("control", 2, 2)])
    assert (e.n_treatment, e.n_control, e.estimate) == (1, 2, None)
    with pytest.raises(ValueError):
        diff_in_diff([("placebo", 1, 2)])
