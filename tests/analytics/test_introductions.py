"""Who could introduce an officer to a group nobody reaches?"""

import random
from datetime import datetime

import pytest

from analytics import OfficerLink, introductions, stage_rank

T1, T2, T3 = datetime(2024, 1, 1), datetime(2024, 2, 1), datetime(2024, 3, 1)


def test_known_stakeholder_inside_the_target_is_the_shortest_chain():
    links = [OfficerLink(7, 1, "working_relationship", T1)]
    chains = introductions(30, [(1, 30), (1, 20)], links)
    assert [c.steps for c in chains] == [(("officer", 7), ("stakeholder", 1), ("group", 30))]
    assert chains[0].hops == 2


def test_chain_through_a_shared_group():
    # officer 7 knows 1; 1 and 2 share group 20; 2 is in target 30
    links = [OfficerLink(7, 1, "collaborating_partner", T2)]
    chains = introductions(30, [(1, 20), (2, 20), (2, 30)], links)
    assert len(chains) == 1
    c = chains[0]
    assert c.steps == (("officer", 7), ("stakeholder", 1), ("group", 20), ("stakeholder", 2), ("group", 30))
    assert (c.hops, c.stage, c.last_contact_at) == (4, "collaborating_partner", T2)
    assert c.to_dict()["steps"][0] == ["officer", 7]


def test_chains_ranked_by_hops_then_stage_then_recency():
    memberships = [(1, 30), (2, 30), (3, 30), (4, 20), (5, 20), (5, 30)]
    links = [
        OfficerLink(7, 4, "collaborating_partner", T3),  # 4 hops
        OfficerLink(8, 1, "working_relationship", T3),  # 2 hops, weaker stage
        OfficerLink(9, 2, "collaborating_partner", T1),  # 2 hops, strong, older
        OfficerLink(6, 3, "collaborating_partner", T2),  # 2 hops, strong, recent
    ]
    chains = introductions(30, memberships, links)
    assert [(c.officer_id, c.steps[1][1], c.hops) for c in chains] == [(6, 3, 2), (9, 2, 2), (8, 1, 2), (7, 4, 4)]


def test_weak_relationships_do_not_start_a_chain():
    links = [OfficerLink(7, 1, "rapport", T1)]
    assert introductions(30, [(1, 30)], links) == []
    assert len(introductions(30, [(1, 30)], links, min_stage="rapport")) == 1


def test_max_hops_cuts_long_chains():
    # 7 -> 1 -> 20 -> 2 -> 21 -> 3 -> 30 is 6 hops
    memberships = [(1, 20), (2, 20), (2, 21), (3, 21), (3, 30)]
    links = [OfficerLink(7, 1, "working_relationship", T1)]
    assert introductions(30, memberships, links) == []
    chains = introductions(30, memberships, links, max_hops=6)
    assert chains[0].hops == 6


def test_officer_filter_and_limit():
    memberships = [(1, 30), (2, 30)]
    links = [OfficerLink(7, 1, "working_relationship", T1), OfficerLink(8, 2, "working_relationship", T1)]
    assert [c.officer_id for c in introductions(30, memberships, links, officer_id=8)] == [8]
    assert len(introductions(30, memberships, links, limit=1)) == 1


def test_unknown_target_or_no_links_gives_no_chains():
    links = [OfficerLink(7, 1, "working_relationship", T1)]
    assert introductions(99, [(1, 30)], links) == []
    assert introductions(30, [(1, 30)], []) == []


def test_equal_routes_pick_the_smallest_ids():
    memberships = [(1, 21), (1, 20), (2, 20), (3, 21), (2, 30), (3, 30)]
    links = [OfficerLink(7, 1, "working_relationship", T1)]
    c = introductions(30, memberships, links)[0]
    assert c.steps[2:4] == (("group", 20), ("stakeholder", 2))


@pytest.mark.parametrize("seed", range(10))
def test_the_best_chains_are_the_first_of_all_chains_in_rank_order(seed):
    """Only the best `limit` chains are built; they are the head of the full ranking."""
    rnd = random.Random(seed)
    memberships = [(rnd.randint(1, 40), rnd.randint(1, 12)) for _ in range(90)]
    stages = ["working_relationship", "collaborating_partner"]
    links = [OfficerLink(rnd.randint(1, 5), rnd.randint(1, 40), rnd.choice(stages),
                         datetime(2024, rnd.randint(1, 3), rnd.randint(1, 28)))
             for _ in range(60)]
    everything = introductions(1, memberships, links, limit=10_000)
    key = [(c.hops, -stage_rank(c.stage), -c.last_contact_at.toordinal(), c.officer_id,
            c.steps[1][1]) for c in everything]
    assert key == sorted(key)
    assert all(c.hops == len(c.steps) - 1 for c in everything)
    assert introductions(1, memberships, links, limit=3) == everything[:3]


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        introductions(30, [(1, 30)], [], min_stage="friends")
    with pytest.raises(ValueError):
        introductions(30, [(1, 30)], [], max_hops=1)
    with pytest.raises(ValueError):
        introductions(30, [(1, 30, 5)], [])
