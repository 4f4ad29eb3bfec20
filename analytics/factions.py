"""Factions: split groups so that the fewest declared relations are frustrated.

Relations form a signed graph: *allied* is +, *competing* is -, *overlapping* says
nothing about sympathy and is ignored. A relation is frustrated when a competing pair
ends up in one faction or an allied pair in two. Finding the partition with the fewest
frustrated relations, with the number of factions free, is correlation clustering
(NP-hard); the graphs here are small per connected component, so small components are
solved exactly and large ones by local search.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._util import pairs_to_arrays
from .types import Relation

__all__ = ["FrustratedRelation", "Mediator", "FactionsResult", "factions"]

# Branch-and-bound gives up (and keeps the heuristic answer, exact=False) after this
# many search nodes, so a pathological dense component cannot hang a request.
_BB_NODE_BUDGET = 2_000_000


@dataclass(frozen=True)
class FrustratedRelation:
    """A relation the partition cannot honour."""

    group_a: int
    group_b: int
    type: str

    def to_dict(self) -> dict[str, Any]:
        return {"group_a": self.group_a, "group_b": self.group_b, "type": self.type}


@dataclass(frozen=True)
class Mediator:
    """A stakeholder who is a member of two competing groups."""

    stakeholder_id: int
    group_a: int
    group_b: int

    def to_dict(self) -> dict[str, Any]:
        return {"stakeholder_id": self.stakeholder_id, "group_a": self.group_a, "group_b": self.group_b}


@dataclass(frozen=True)
class FactionsResult:
    """Factions, the relations they frustrate, balance and mediators."""

    factions: tuple[tuple[int, ...], ...]
    frustrated: tuple[FrustratedRelation, ...]
    frustration: int
    exact: bool
    triangle_balance: float | None
    mediators: tuple[Mediator, ...]

    def faction_of(self, group_id: int) -> int | None:
        """Index into ``factions`` of the group's faction, or None."""
        for i, f in enumerate(self.factions):
            if group_id in f:
                return i
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "factions": [list(f) for f in self.factions],
            "frustrated": [r.to_dict() for r in self.frustrated],
            "frustration": self.frustration,
            "exact": self.exact,
            "triangle_balance": self.triangle_balance,
            "mediators": [m.to_dict() for m in self.mediators],
        }


def factions(
    relations: Iterable[Relation],
    memberships: Iterable[tuple[int, int]] | None = None,
    *,
    exact_limit: int = 20,
    restarts: int = 50,
    seed: int = 0,
) -> FactionsResult:
    """Partition groups into factions with the fewest frustrated relations.

    Parameters
    ----------
    relations : iterable of Relation
        Declared relations. Allied and competing ones form the signed graph;
        overlapping ones are ignored. The same (pair, type) given twice counts once.
    memberships : iterable of (stakeholder_id, group_id), or an (n, 2) int array, optional
        Used only to find mediators; an array avoids a Python tuple per membership.
    exact_limit : int, optional
        Connected components with at most this many groups are solved exactly.
    restarts : int, optional
        Local-search restarts for larger components.
    seed : int, optional
        Seed for the local search; the same seed gives the same result.

    Returns
    -------
    FactionsResult
        ``factions``: sorted group-id tuples, largest first (ties by smallest id);
        only groups with at least one allied or competing relation appear.
        ``frustrated``: the relations left frustrated, sorted. ``frustration``: their
        count. ``exact``: True when every component was solved to optimality.
        ``triangle_balance``: share of triangles of the signed graph with an even
        number of competing edges (None without triangles). ``mediators``:
        (stakeholder, group_a, group_b) for each member of both groups of a
        competing pair, sorted.

    Notes
    -----
    Components are independent (no relation crosses them, so joining them could only
    add frustration). Each is solved by:

    * *local search*: a greedy random-order assignment, then single-node moves to
      another faction or a new one while that lowers frustration; ``restarts``
      seeded runs, best kept. It also gives the upper bound for
    * *branch and bound* (components of at most ``exact_limit`` groups): nodes in BFS
      order, each put in an existing faction or a new one (so no partition is seen
      twice); the bound adds, for every unplaced node, the least frustration it must
      cause with the nodes already placed. If the search exceeds its node budget the
      heuristic answer stands and ``exact`` is False.

    *Mediators* are found in numpy: the memberships of groups with a competitor,
    sorted by stakeholder, give each stakeholder's groups side by side, and the pairs
    among them that are competing pairs are kept (no set per group).

    Among partitions with equally few frustrated relations the one with the fewest
    factions is preferred (exactly so in the exact mode). A pair with both an allied
    and a competing relation always frustrates one of them; for triangle balance such a pair counts as competing.

    Examples
    --------
    >>> rels = [Relation(1, 2, "allied"), Relation(2, 3, "allied"), Relation(1, 3, "competing")]
    >>> r = factions(rels)
    >>> r.frustration, r.exact, r.triangle_balance
    (1, True, 0.0)
    """
    if not isinstance(exact_limit, int) or exact_limit < 0:
        raise ValueError(f"exact_limit must be an int >= 0, got {exact_limit!r}")
    if not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an int >= 1, got {restarts!r}")
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")

    pos: dict[int, set[int]] = defaultdict(set)
    neg: dict[int, set[int]] = defaultdict(set)
    for r in relations:
        if not isinstance(r, Relation):
            raise ValueError(f"expected Relation, got {type(r).__name__}")
        if r.type == "allied":
            pos[r.group_a].add(r.group_b)
            pos[r.group_b].add(r.group_a)
        elif r.type == "competing":
            neg[r.group_a].add(r.group_b)
            neg[r.group_b].add(r.group_a)
    nodes = sorted(set(pos) | set(neg))

    rng = random.Random(seed)
    assignment: dict[int, int] = {}
    exact = True
    next_label = 0
    for comp in _components(nodes, pos, neg):
        labels, comp_exact = _solve(comp, pos, neg, exact_limit, restarts, rng)
        exact &= comp_exact
        for g, lab in labels.items():
            assignment[g] = next_label + lab
        next_label += len(comp)

    members: dict[int, list[int]] = defaultdict(list)
    for g, lab in assignment.items():
        members[lab].append(g)
    groups_out = sorted((tuple(sorted(m)) for m in members.values()), key=lambda f: (-len(f), f[0]))

    frustrated = _frustrated(nodes, pos, neg, assignment)
    return FactionsResult(
        factions=tuple(groups_out),
        frustrated=tuple(frustrated),
        frustration=len(frustrated),
        exact=exact,
        triangle_balance=_triangle_balance(nodes, pos, neg),
        mediators=tuple(_mediators(neg, memberships)),
    )


def _frustrated(nodes, pos, neg, assignment) -> list[FrustratedRelation]:
    """Allied pairs split across factions and competing pairs inside one, sorted."""
    out = []
    for a in nodes:
        for b in pos[a]:
            if a < b and assignment[a] != assignment[b]:
                out.append(FrustratedRelation(a, b, "allied"))
        for b in neg[a]:
            if a < b and assignment[a] == assignment[b]:
                out.append(FrustratedRelation(a, b, "competing"))
    out.sort(key=lambda r: (r.group_a, r.group_b, r.type))
    return out


def _components(nodes, pos, neg) -> list[list[int]]:
    seen: set[int] = set()
    out = []
    for start in nodes:
        if start in seen:
            continue
        # BFS order doubles as a good branching order: each node touches placed ones.
        order = [start]
        seen.add(start)
        for v in order:
            for u in sorted(pos[v] | neg[v]):
                if u not in seen:
                    seen.add(u)
                    order.append(u)
        out.append(order)
    return out


def _solve(comp, pos, neg, exact_limit, restarts, rng) -> tuple[dict[int, int], bool]:
    """Best labelling of one component (labels 0..m-1) and whether it is optimal."""
    n = len(comp)
    if n == 1:
        return {comp[0]: 0}, True
    index = {g: i for i, g in enumerate(comp)}
    # Bitmasks over component positions: cheap popcounts in the inner loops.
    pmask = [sum(1 << index[u] for u in pos[g]) for g in comp]
    nmask = [sum(1 << index[u] for u in neg[g]) for g in comp]
    best_lab, best_cost = _local_search(n, pmask, nmask, restarts, rng)
    exact = False
    if n <= exact_limit:
        found = _branch_and_bound(n, pmask, nmask, best_cost, len(set(best_lab)))
        if found is not None:
            exact = True
            if found[0]:
                best_lab, best_cost = found
    # Relabel factions by first appearance so labels are canonical.
    canon: dict[int, int] = {}
    return {comp[i]: canon.setdefault(best_lab[i], len(canon)) for i in range(n)}, exact


def _cost(n, pmask, nmask, lab) -> int:
    c = 0
    for i in range(n):
        for j in range(i + 1, n):
            bit = 1 << j
            if pmask[i] & bit and lab[i] != lab[j]:
                c += 1
            if nmask[i] & bit and lab[i] == lab[j]:
                c += 1
    return c


# One search loop over shared bitmasks; split, its hot inner loops would pay calls.
def _local_search(n, pmask, nmask, restarts, rng) -> tuple[list[int], int]:  # noqa: C901
    best: tuple[list[int], int] | None = None
    for _ in range(restarts):
        order = list(range(n))
        rng.shuffle(order)
        lab = [-1] * n
        faction_masks: list[int] = []
        for v in order:  # greedy: best existing faction or a new one
            placed = sum(fm for fm in faction_masks)
            choice, cost = len(faction_masks), (pmask[v] & placed).bit_count()
            for f, fm in enumerate(faction_masks):
                c = (nmask[v] & fm).bit_count() + (pmask[v] & placed & ~fm).bit_count()
                if c < cost:
                    choice, cost = f, c
            if choice == len(faction_masks):
                faction_masks.append(0)
            faction_masks[choice] |= 1 << v
            lab[v] = choice
        improved = True
        while improved:  # single-node moves while they strictly help
            improved = False
            for v in order:
                bit = 1 << v
                cur = lab[v]
                pv, nv = pmask[v], nmask[v]  # v has no self-edge, so its own bit is clear

                def cost_in(fm: int, pv: int = pv, nv: int = nv) -> int:
                    # frustration of v inside faction fm: competitors in, allies out
                    return (nv & fm).bit_count() + (pv & ~fm).bit_count()

                here = cost_in(faction_masks[cur])
                target, target_cost = None, here
                for f, fm in enumerate(faction_masks):
                    if f != cur and fm:
                        c = cost_in(fm)
                        if c < target_cost:
                            target, target_cost = f, c
                alone = faction_masks[cur] == bit
                if target is None and alone:
                    # Same cost but one faction fewer: prefer the simpler partition.
                    for f, fm in enumerate(faction_masks):
                        if f != cur and fm and cost_in(fm) == here:
                            target = f
                            break
                elif not alone and cost_in(0) < target_cost:
                    target, target_cost = len(faction_masks), cost_in(0)
                if target is not None:
                    if target == len(faction_masks):
                        faction_masks.append(0)
                    faction_masks[cur] &= ~bit
                    faction_masks[target] |= bit
                    lab[v] = target
                    improved = True
        total = _cost(n, pmask, nmask, lab)
        if best is None or (total, len(set(lab))) < (best[1], len(set(best[0]))):
            best = (lab[:], total)
    assert best is not None
    return best


# The recursion and its bound share the incumbent and budget; tested against brute force.
def _branch_and_bound(n, pmask, nmask, upper, upper_k) -> tuple[list[int], int] | None:  # noqa: C901
    """Exact minimum of (frustration, factions) below ``(upper, upper_k)``, nodes in
    the component's BFS order; None if the node budget ran out. Returns
    ``([], upper)`` when nothing beats the bound."""
    best_cost, best_k = upper, upper_k
    best_lab: list[int] = []
    lab = [0] * n
    masks: list[int] = []
    budget = [_BB_NODE_BUDGET]

    def bound(i: int, placed: int) -> int:
        # Each unplaced node must frustrate at least its cheapest option against the
        # placed ones; edges among unplaced nodes are not counted, so this is a valid
        # lower bound.
        extra = 0
        for v in range(i, n):
            pv, nv = pmask[v] & placed, nmask[v] & placed
            if not (pv or nv):
                continue
            m = pv.bit_count()  # a new faction
            for fm in masks:
                c = (nv & fm).bit_count() + (pv & ~fm).bit_count()
                if c < m:
                    m = c
                    if m == 0:
                        break
            extra += m
        return extra

    def worse(cost: int, k: int) -> bool:
        # Factions only ever get added, so (cost, k) so far bounds every completion.
        return cost > best_cost or (cost == best_cost and k >= best_k)

    def rec(i: int, placed: int, cost: int) -> bool:
        nonlocal best_cost, best_k, best_lab
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if i == n:
            if not worse(cost, len(masks)):
                best_cost, best_k, best_lab = cost, len(masks), lab[:]
            return True
        if worse(cost + bound(i, placed), len(masks)):
            return True
        pv, nv = pmask[i] & placed, nmask[i] & placed
        options = []
        for f, fm in enumerate(masks):
            options.append(((nv & fm).bit_count() + (pv & ~fm).bit_count(), f))
        options.append((pv.bit_count(), len(masks)))
        options.sort()
        bit = 1 << i
        for c, f in options:
            new = f == len(masks)
            if worse(cost + c, len(masks) + new):
                continue
            if new:
                masks.append(0)
            masks[f] |= bit
            lab[i] = f
            ok = rec(i + 1, placed | bit, cost + c)
            masks[f] &= ~bit
            if new:
                masks.pop()
            if not ok:
                return False
        return True

    if not rec(0, 0, 0):
        return None
    return (best_lab, best_cost) if best_lab else ([], upper)


def _triangle_balance(nodes, pos, neg) -> float | None:
    adj = {g: pos[g] | neg[g] for g in nodes}
    total = balanced = 0
    for a in nodes:
        for b in adj[a]:
            if b <= a:
                continue
            for c in adj[a] & adj[b]:
                if c <= b:
                    continue
                negatives = (b in neg[a]) + (c in neg[a]) + (c in neg[b])
                total += 1
                balanced += negatives % 2 == 0
    return balanced / total if total else None


def _mediators(neg, memberships) -> list[Mediator]:
    if memberships is None:
        return []
    s, g = pairs_to_arrays(memberships)
    sides = np.array(sorted(a for a, others in neg.items() if others), dtype=np.int64)
    if sides.size == 0 or s.size == 0:
        return []
    n = sides.size
    competing = np.array(sorted(int(np.searchsorted(sides, a)) * n + int(np.searchsorted(sides, b))
                                for a, others in neg.items() for b in others if a < b),
                         dtype=np.int64)
    keep = np.isin(g, sides)
    s, g = s[keep], g[keep]
    order = np.lexsort((g, s))  # by stakeholder, then group
    s, g = s[order], g[order]
    fresh = np.ones(s.size, dtype=bool)  # a membership given twice counts once
    fresh[1:] = (s[1:] != s[:-1]) | (g[1:] != g[:-1])
    s, g = s[fresh], np.searchsorted(sides, g[fresh])
    found_s, found_a, found_b = [], [], []
    # Rows i and i + d of one stakeholder are two of its groups (g[i] < g[i + d]); once no
    # stakeholder has d + 1 such groups, there are no pairs further apart.
    d = 1
    while d < s.size:
        i = np.flatnonzero(s[d:] == s[:-d])
        if i.size == 0:
            break
        a, b = g[i], g[i + d]
        hit = np.isin(a * n + b, competing)
        found_s.append(s[i[hit]])
        found_a.append(a[hit])
        found_b.append(b[hit])
        d += 1
    if not found_s:
        return []
    ms, ma, mb = np.concatenate(found_s), sides[np.concatenate(found_a)], sides[np.concatenate(found_b)]
    order = np.lexsort((mb, ma, ms))
    return [Mediator(x, y, z) for x, y, z in zip(ms[order].tolist(), ma[order].tolist(),
                                                mb[order].tolist(), strict=True)]
