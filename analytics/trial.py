"""Stratified, blocked allocation of trial units to treatment and control.

A pure function over plain data, so that the same seed always gives the same allocation and
the allocation can be checked without a database.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

TREATMENT = "treatment"
CONTROL = "control"


def allocate(units: Iterable[tuple[str, str]], seed: int) -> dict[str, str]:
    """Allocate units to treatment and control, stratified and in blocks of two.

    Parameters
    ----------
    units : iterable of (unit, stratum)
        Each unit's key (a beat code or a username) and its stratum ("" when the trial has
        no strata). Keys must be unique.
    seed : int
        The trial's seed: the same units and seed give the same allocation, whatever order
        the units come in.

    Returns
    -------
    dict
        ``{unit: "treatment" | "control"}``.

    Raises
    ------
    ValueError
        A unit appears twice, or the seed is not an integer.

    Notes
    -----
    Within each stratum (in sorted order) the units are sorted, shuffled with one random
    generator seeded by `seed`, and taken in pairs; a coin decides which of each pair is
    treated, and a last unpaired unit of an odd stratum gets a coin of its own. So the arms
    differ by at most one within every stratum (permuted blocks of size two).

    Examples
    --------
    >>> arms = allocate([("a", "N"), ("b", "N"), ("c", "S"), ("d", "S"), ("e", "S")], seed=7)
    >>> sorted(arms) == ["a", "b", "c", "d", "e"]
    True
    >>> sorted(arms[u] for u in "ab")
    ['control', 'treatment']
    >>> allocate([("e", "S"), ("d", "S"), ("c", "S"), ("b", "N"), ("a", "N")], seed=7) == arms
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError("seed must be an integer")
    strata: dict[str, list[str]] = {}
    seen: set[str] = set()
    for unit, stratum in units:
        if unit in seen:
            raise ValueError(f"unit {unit!r} appears twice")
        seen.add(unit)
        strata.setdefault(stratum or "", []).append(unit)
    rng = random.Random(seed)
    arms: dict[str, str] = {}
    for stratum in sorted(strata):
        members = sorted(strata[stratum])
        rng.shuffle(members)
        for i in range(0, len(members) - 1, 2):
            first, second = (TREATMENT, CONTROL) if rng.random() < 0.5 else (CONTROL, TREATMENT)
            arms[members[i]], arms[members[i + 1]] = first, second
        if len(members) % 2:
            arms[members[-1]] = TREATMENT if rng.random() < 0.5 else CONTROL
    return arms
