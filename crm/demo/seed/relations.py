"""Relations between groups: allied, competing or overlapping, mostly between neighbours."""

from __future__ import annotations

import numpy as np

from crm.demo import words
from crm.demo.seed.arrays import choice, pick_from_csr
from crm.demo.seed.base import Demo
from crm.models import GroupRelation


def insert_relations(demo: Demo) -> None:
    """Write the relations; at least three competing pairs (for the factions page)."""
    rng, ng = demo.rng, demo.size.groups
    n_rel = max(6, round(ng * 0.6))
    a = rng.integers(0, ng, size=n_rel * 2)
    # partner: a group in one of a's beats or a neighbouring beat
    gb_starts, gb_vals = demo.group_beats_csr
    beat, _ = pick_from_csr(rng, gb_starts, gb_vals, a)
    near_pick = np.array([demo.near[b][rng.integers(len(demo.near[b]))] if demo.near[b]
                          else b for b in beat.tolist()], dtype=np.int64)
    beat = np.where(rng.random(len(a)) < 0.5, beat, near_pick)
    bg_starts, bg_vals = demo.beat_groups_csr
    b, ok = pick_from_csr(rng, bg_starts, bg_vals, beat)
    ok &= b != a
    lo, hi = np.minimum(a, b)[ok], np.maximum(a, b)[ok]
    key = np.unique(lo * ng + hi)
    key = rng.permutation(key)[:n_rel]
    lo, hi = key // ng, key % ng
    n = len(lo)
    rtype = choice(rng, ("allied", "competing", "overlapping"), (.45, .25, .30), n)
    rtype[:3] = 1  # at least three competing pairs
    types = ("allied", "competing", "overlapping")
    issues = (words.ALLIED_ISSUES, words.COMPETING_ISSUES, words.OVERLAPPING_ISSUES)
    starts = demo.days_ago(rng.integers(30, 5 * 365, size=n))
    ended = rng.random(n) < 0.08
    ends = np.minimum(starts + rng.integers(30, 700, size=n).astype("timedelta64[D]"),
                      np.datetime64(demo.today, "D"))
    starts_l, ends_l = starts.tolist(), ends.tolist()
    rid0 = demo.next_id(GroupRelation.__table__)
    rows = []
    for i in range(n):
        opts = issues[rtype[i]]
        rows.append({"id": rid0 + i, "group_a_id": int(demo.group_ids[lo[i]]),
                     "group_b_id": int(demo.group_ids[hi[i]]), "type": types[rtype[i]],
                     "issue": opts[rng.integers(len(opts))], "starts_on": starts_l[i],
                     "ends_on": ends_l[i] if ended[i] else None, "version_id": 1,
                     "created_at": demo.now, "updated_at": demo.now})
    demo.competing = [(int(lo[i]), int(hi[i])) for i in range(n) if rtype[i] == 1]
    demo.insert(GroupRelation.__table__, rows, "relations")
