"""Warm introductions: who could introduce an officer to a group nobody reaches."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    members: dict[int, set[int]] = defaultdict(set)
    groups_of: dict[int, set[int]] = defaultdict(set)
    for s, g in zip(s_arr.tolist(), g_arr.tolist(), strict=True):
        members[g].add(s)
        groups_of[s].add(g)
    links = _best_links(officer_links, officer_id, stage_rank(min_stage))
    if not links or target_group_id not in members:
        return []
    toward, dist_s = _routes_to(target_group_id, members, groups_of, max_hops)

    # Rank every reachable first link, then build only the best `limit` chains: a stakeholder
    # at distance d from the target makes a chain of d + 1 hops. Time since a fixed moment
    # stands in for the contact time, so that a later contact can rank first (datetimes
    # cannot be negated); (officer, stakeholder) is unique, so the order is total.
    reachable = [(dist_s[sid] + 1, stage_rank(link.stage), oid, sid, link)
                 for (oid, sid), link in links.items() if sid in dist_s]
    if not reachable:
        return []
    ref = reachable[0][4].last_contact_at
    best = heapq.nsmallest(limit, reachable, key=lambda r: (
        r[0], -r[1], ref - r[4].last_contact_at, r[2], r[3]))
    chains = []
    for hops, _, oid, sid, link in best:
        steps: list[Node] = [("officer", oid), ("stakeholder", sid)]
        while steps[-1] != ("group", target_group_id):
            steps.append(toward[steps[-1]])
        chains.append(IntroductionChain(oid, tuple(steps), hops, link.stage, link.last_contact_at))
    return chains


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


def _routes_to(target_group_id: int, members: dict[int, set[int]],
               groups_of: dict[int, set[int]], max_hops: int
               ) -> tuple[dict[Node, Node], dict[int, int]]:
    """BFS from the target: the next step towards it from each node reached, and each
    stakeholder's distance. A stakeholder at distance d (edges) makes a chain of d + 1
    hops, so stakeholders farther than max_hops - 1 are not needed."""
    toward: dict[Node, Node] = {}
    dist_s: dict[int, int] = {}
    seen_g = {target_group_id}
    frontier_g = [target_group_id]
    d = 0
    while frontier_g and d + 1 <= max_hops - 1:
        next_s = []
        for g in frontier_g:  # frontier is sorted: smallest id wins ties
            for s in sorted(members[g]):
                if s not in dist_s:
                    dist_s[s] = d + 1
                    toward[("stakeholder", s)] = ("group", g)
                    next_s.append(s)
        d += 1
        if d + 2 > max_hops - 1:
            break  # the next stakeholders would be too far
        frontier_g = []
        for s in sorted(next_s):
            for g in sorted(groups_of[s]):
                if g not in seen_g:
                    seen_g.add(g)
                    toward[("group", g)] = ("stakeholder", s)
                    frontier_g.append(g)
        frontier_g.sort()
        d += 1
    return toward, dist_s
