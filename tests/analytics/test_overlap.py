"""Which groups share members, and how much?"""

import networkx as nx
import numpy as np
import pytest
from networkx.algorithms import bipartite

from analytics import overlap, synthetic_memberships


def _reference(s, g):
    """Shared counts and Jaccard from networkx's bipartite projection."""
    graph = nx.Graph()
    groups = {("g", x) for x in g}
    graph.add_nodes_from(groups)
    graph.add_edges_from((("s", a), ("g", b)) for a, b in zip(s, g, strict=True))
    shared = bipartite.weighted_projected_graph(graph, groups)
    jac = bipartite.overlap_weighted_projected_graph(graph, groups, jaccard=True)
    out = {}
    for u, v, d in shared.edges(data=True):
        a, b = sorted((u[1], v[1]))
        out[(a, b)] = (d["weight"], jac[u][v]["weight"])
    return out


def test_tiny_hand_computed_overlap():
    # group 10 = {1, 2, 3}, group 20 = {2, 3, 4}, group 30 = {4}, group 40 = {5}
    s = [1, 2, 3, 2, 3, 4, 4, 5]
    g = [10, 10, 10, 20, 20, 20, 30, 40]
    r = overlap(s, g)
    assert [(p.group_a, p.group_b, p.shared) for p in r.pairs] == [(10, 20, 2), (20, 30, 1)]
    assert r.pairs[0].jaccard == pytest.approx(2 / 4)
    assert r.pairs[1].jaccard == pytest.approx(1 / 3)
    assert dict(zip(r.group_ids.tolist(), r.group_sizes.tolist(), strict=True)) == {10: 3, 20: 3, 30: 1, 40: 1}


def test_duplicate_memberships_count_once():
    r = overlap([1, 1, 1, 2, 2], [10, 10, 20, 10, 20])
    assert [(p.group_a, p.group_b, p.shared, p.jaccard) for p in r.pairs] == [(10, 20, 2, 1.0)]


@pytest.mark.parametrize("seed", range(8))
def test_overlap_matches_networkx_bipartite_projection(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 80))
    s = rng.integers(0, 25, m).tolist()
    g = (rng.integers(0, 12, m) * 7 + 100).tolist()  # non-contiguous ids
    r = overlap(s, g)
    got = {(p.group_a, p.group_b): (p.shared, p.jaccard) for p in r.pairs}
    ref = _reference(s, g)
    assert got.keys() == ref.keys()
    for key, (shared, jac) in ref.items():
        assert got[key][0] == shared
        assert got[key][1] == pytest.approx(jac)


def test_pairs_sorted_by_shared_then_ids():
    s, g = synthetic_memberships(40, 300, 900, seed=3)
    r = overlap(s, g)
    keys = list(zip((-r.shared).tolist(), r.group_a.tolist(), r.group_b.tolist(), strict=True))
    assert keys == sorted(keys)
    assert (r.group_a < r.group_b).all()


def test_large_sparse_ids_take_the_sorting_path():
    s = [10**12, 10**12 + 5, 10**12]
    g = [2**40, 2**40, 3]
    r = overlap(s, g)
    assert [(p.group_a, p.group_b, p.shared) for p in r.pairs] == [(3, 2**40, 1)]


def test_min_shared_filters_weak_overlaps():
    r = overlap([1, 2, 2, 3, 3], [10, 10, 20, 10, 20], min_shared=2)
    assert [(p.group_a, p.group_b) for p in r.pairs] == [(10, 20)]
    assert len(overlap([1, 1, 2], [10, 20, 30], min_shared=2)) == 0


def test_to_graph_and_to_dict_are_plain_data():
    r = overlap([1, 1, 2], [10, 20, 30])
    graph = r.to_graph()
    assert graph[10][20] == {"weight": 1, "jaccard": 1.0}
    assert 30 in graph and graph.degree(30) == 0
    d = r.to_dict()
    assert d == {"pair_count": 1, "pairs": [{"group_a": 10, "group_b": 20, "shared": 1, "jaccard": 1.0}]}
    assert type(d["pairs"][0]["group_a"]) is int


def test_empty_input_gives_no_pairs():
    r = overlap([], [])
    assert len(r) == 0 and r.to_dict() == {"pair_count": 0, "pairs": []}


@pytest.mark.parametrize(
    ("s", "g"),
    [([1, 2], [1]), ([1.5], [2]), ([[1]], [[2]]), (["a"], [1]), ([True], [1])],
)
def test_bad_membership_input_is_rejected(s, g):
    with pytest.raises(ValueError):
        overlap(s, g)
