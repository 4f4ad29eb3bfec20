"""Allocation on tiny, hand-checked inputs (the difference in differences: tests/analytics/test_did.py)."""

from __future__ import annotations

import pytest

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
