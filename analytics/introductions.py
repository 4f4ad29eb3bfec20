"""Warm introductions: who could introduce an officer to a group nobody reaches."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from ._util import pairs_to_arrays
from .types import STAGES, OfficerLink, stage_rank

__all__ = ["IntroductionChain", "introductions"]

Node = tuple[str, int]


@dataclass(frozen=True)
class IntroductionChain:
    """One chain officer -> stakeholder -> group -> ... -> target group.

    ``hops`` is the number of edges, ``len(steps) - 1`` (officer -> stakeholder in
    the target group is 2). ``stage`` and ``last_contact_at`` describe the first link,
    the officer's own relationship with the first stakeholder.
    """

    officer_id: int
    steps: tuple[Node, ...]
    hops: int
    stage: str
    last_contact_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "officer_id": self.officer_id,
            "steps": [list(s) for s in self.steps],
            "hops": self.hops,
            "stage": self.stage,
            "last_contact_at": self.last_contact_at.isoformat(),
        }


def introductions(
    target_group_id: int,
    memberships: Iterable[tuple[int, int]],
    officer_links: Iterable[OfficerLink],
    *,
    officer_id: int | None = None,
    min_stage: str = "working_relationship",
    max_hops: int = 4,
    limit: int = 10,
) -> list[IntroductionChain]:
    """Shortest chains from officers to a target group through people they know.

    Parameters
    ----------
    target_group_id : int
        The group to reach.
    memberships : iterable of (stakeholder_id, group_id)
        The membership graph.
    officer_links : iterable of OfficerLink
        Officers' relationships with stakeholders. Only links at ``min_stage`` or
        beyond start a chain; if an (officer, stakeholder) pair appears twice, the
        strongest stage, then the latest contact, is used.
    officer_id : int, optional
        Only chains for this officer (default: every officer).
    min_stage : str, optional
        Weakest relationship that counts as a warm first link.
    max_hops : int, optional
        Longest chain in edges (default 4: officer -> stakeholder -> group ->
        stakeholder -> target). At least 2.
    limit : int, optional
        Number of chains returned.

    Returns
    -------
    list of IntroductionChain
        At most one chain per (officer, first stakeholder), best first: fewest hops,
        then strongest first-link stage, then most recent contact, then officer and
        stakeholder id.

    Notes
    -----
    One breadth-first search from the target outward over the bipartite membership
    graph gives every stakeholder's distance to the target and a next step towards
    it, so the cost is one BFS however many officers there are. Among equally short
    routes the next step with the smallest id is taken, so results are repeatable.

    Examples
    --------
    >>> from datetime import datetime
    >>> link = OfficerLink(7, 1, "rapport", datetime(2024, 5, 1))
    >>> [c.steps for c in introductions(30, [(1, 20), (2, 20), (2, 30)], [link], min_stage="rapport")]
    [(('officer', 7), ('stakeholder', 1), ('group', 20), ('stakeholder', 2), ('group', 30))]
    """
    _check_arguments(target_group_id, min_stage, max_hops, limit, officer_id)
    s_arr, g_arr = pairs_to_arrays(memberships)
    links = _best_links(officer_links, officer_id, stage_rank(min_stage))
    if not links or not (g_arr == target_group_id).any():
        return []
    routes = _Routes(s_arr, g_arr, target_group_id, max_hops)
    first = np.fromiter((sid for _, sid in links), np.int64, len(links))

    # Rank every reachable first link, then build only the best `limit` chains: a stakeholder
    # at distance d from the target makes a chain of d + 1 hops. Time since a fixed moment
    # stands in for the contact time, so that a later contact can rank first (datetimes
    # cannot be negated); (officer, stakeholder) is unique, so the order is total.
    reachable = [(d + 1, stage_rank(link.stage), oid, sid, link)
                 for ((oid, sid), link), d in zip(links.items(), routes.distance(first).tolist(),
                                                  strict=True) if d > 0]
    if not reachable:
        return []
    ref = reachable[0][4].last_contact_at
    best = heapq.nsmallest(limit, reachable, key=lambda r: (
        r[0], -r[1], ref - r[4].last_contact_at, r[2], r[3]))
    return [IntroductionChain(oid, (("officer", oid), *routes.path(sid)), hops, link.stage,
                              link.last_contact_at) for hops, _, oid, sid, link in best]


def _check_arguments(target_group_id, min_stage, max_hops, limit, officer_id) -> None:
    if not isinstance(target_group_id, int) or isinstance(target_group_id, bool):
        raise ValueError(f"target_group_id must be an int, got {target_group_id!r}")
    if min_stage not in STAGES:
        raise ValueError(f"min_stage must be one of {STAGES}, got {min_stage!r}")
    if not isinstance(max_hops, int) or max_hops < 2:
        raise ValueError(f"max_hops must be an int >= 2, got {max_hops!r}")
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an int >= 1, got {limit!r}")
    if officer_id is not None and (not isinstance(officer_id, int) or isinstance(officer_id, bool)):
        raise ValueError(f"officer_id must be an int or None, got {officer_id!r}")


def _best_links(officer_links: Iterable[OfficerLink], officer_id: int | None,
                floor: int) -> dict[tuple[int, int], OfficerLink]:
    """The best link per (officer, stakeholder) at stage rank `floor` or beyond: the
    strongest stage, then the latest contact."""
    links: dict[tuple[int, int], OfficerLink] = {}
    for link in officer_links:
        if not isinstance(link, OfficerLink):
            raise ValueError(f"expected OfficerLink, got {type(link).__name__}")
        if officer_id is not None and link.officer_id != officer_id:
            continue
        if stage_rank(link.stage) < floor:
            continue
        key = (link.officer_id, link.stakeholder_id)
        old = links.get(key)
        if old is None or (stage_rank(link.stage), link.last_contact_at) > (
            stage_rank(old.stage), old.last_contact_at
        ):
            links[key] = link
    return links


class _Routes:
    """Breadth-first search from the target outward over the membership arrays.

    Each reached stakeholder gets its distance to the target (in edges) and a next step
    towards it, each reached group its next step back: among equally short routes, the
    step with the smallest id, as a search that visits every frontier in id order would
    take. Stakeholders farther than ``max_hops - 1`` are not needed (a chain adds the
    officer's own link). Layer by layer in numpy: at xlarge a target's neighbourhood holds
    over a million memberships, seconds as dictionaries of sets.
    """

    def __init__(self, s: np.ndarray, g: np.ndarray, target: int, max_hops: int):
        self.skeys, scode = np.unique(s, return_inverse=True)
        self.gkeys, gcode = np.unique(g, return_inverse=True)
        self.target = target
        ns, ng = self.skeys.size, self.gkeys.size
        self.dist = np.zeros(ns, dtype=np.int64)  # 0: not reached
        self.toward_s = np.full(ns, -1, dtype=np.int64)  # group code
        self.toward_g = np.full(ng, -1, dtype=np.int64)  # stakeholder code
        seen_g = np.zeros(ng, dtype=bool)
        frontier = np.searchsorted(self.gkeys, [target])
        seen_g[frontier] = True
        d = 0
        while frontier.size and d + 1 <= max_hops - 1:
            # Members of the frontier groups not reached yet; each by its smallest group.
            rows = np.flatnonzero(np.isin(gcode, frontier) & (self.dist[scode] == 0))
            found, via = _first_per_key(scode[rows], gcode[rows])
            self.dist[found] = d + 1
            self.toward_s[found] = via
            d += 1
            if d + 2 > max_hops - 1:
                break  # the next stakeholders would be too far
            # Their groups not seen yet; each by its smallest new member.
            rows = np.flatnonzero(np.isin(scode, found) & ~seen_g[gcode])
            frontier, via = _first_per_key(gcode[rows], scode[rows])
            seen_g[frontier] = True
            self.toward_g[frontier] = via
            d += 1

    def distance(self, stakeholder_ids: np.ndarray) -> np.ndarray:
        """Distance of each stakeholder to the target in edges; 0 where not reached."""
        i = np.minimum(np.searchsorted(self.skeys, stakeholder_ids), max(self.skeys.size - 1, 0))
        return np.where(self.skeys[i] == stakeholder_ids, self.dist[i], 0)

    def path(self, stakeholder_id: int) -> list[Node]:
        """The route from a reached stakeholder to the target, both included."""
        sc = int(np.searchsorted(self.skeys, stakeholder_id))
        steps: list[Node] = [("stakeholder", stakeholder_id)]
        while True:
            gid = int(self.gkeys[self.toward_s[sc]])
            steps.append(("group", gid))
            if gid == self.target:
                return steps
            sc = int(self.toward_g[self.toward_s[sc]])
            steps.append(("stakeholder", int(self.skeys[sc])))


def _first_per_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys in ascending order and, for each, its smallest value."""
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    first = np.ones(keys.size, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], values[first]
