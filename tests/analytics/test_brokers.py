"""Who holds the membership network together?"""

import networkx as nx
import numpy as np
import pytest

from analytics import brokers, membership_graph, synthetic_memberships


def _ref_betweenness(s, g):
    return nx.betweenness_centrality(membership_graph(s, g), normalized=True)


@pytest.mark.parametrize("seed", range(10))
def test_exact_betweenness_matches_networkx(seed):
    rng = np.random.default_rng(seed)
    n_s, n_g = int(rng.integers(2, 40)), int(rng.integers(2, 12))
    m = int(rng.integers(n_s, 3 * n_s))
    s = rng.integers(0, n_s, m)
    g = rng.integers(0, n_g, m) + 1000
    r = brokers(s, g)
    assert r.exact
    ref = _ref_betweenness(s, g)
    got = r.betweenness
    for node, value in ref.items():
        # single-group stakeholders are dropped from the shrunk graph: always 0
        assert got.get(node, 0.0) == pytest.approx(value, abs=1e-12), node


def test_exact_betweenness_matches_networkx_on_skewed_synthetic_data():
    s, g = synthetic_memberships(30, 200, 500, seed=7)
    r = brokers(s, g)
    ref = _ref_betweenness(s, g)
    assert r.exact
    for node, value in ref.items():
        assert r.betweenness.get(node, 0.0) == pytest.approx(value, abs=1e-12)


def test_articulation_points_match_networkx_on_shrunk_graph():
    s, g = synthetic_memberships(60, 150, 260, seed=2)
    r = brokers(s, g)
    graph = membership_graph(s, g)
    graph.remove_nodes_from([n for n, d in graph.degree() if n[0] == "stakeholder" and d == 1])
    assert set(r.articulation_points) == set(nx.articulation_points(graph))


@pytest.mark.parametrize("seed", range(12))
def test_split_groups_count_the_groups_cut_off_when_the_node_is_removed(seed):
    """Against removing each node in turn: the groups outside the largest piece left."""
    s, g = synthetic_memberships(25, 40, 70 + 5 * seed, seed=seed)
    r = brokers(s, g, top=1000)
    graph = membership_graph(s, g)
    graph.remove_nodes_from([n for n, d in graph.degree() if n[0] == "stakeholder" and d == 1])
    expected = {}
    for node in graph:
        rest = graph.subgraph(set(nx.node_connected_component(graph, node)) - {node})
        pieces = [sum(k == "group" for k, _ in c) for c in nx.connected_components(rest)]
        if len(pieces) >= 2:
            expected[node] = sum(pieces) - max(pieces)
    assert set(r.articulation_points) == set(expected)
    assert {b.node: b.split_groups for b in r.brokers if b.is_articulation_point} == expected


def test_stakeholder_joining_two_separate_groups_is_the_top_stakeholder_broker():
    # Groups 10 = {1, 2, 3} and 20 = {1, 4, 5} meet only through stakeholder 1.
    r = brokers([1, 2, 3, 1, 4, 5], [10, 10, 10, 20, 20, 20])
    people = [b for b in r.brokers if b.kind == "stakeholder"]
    assert len(people) == 1
    top = people[0]
    assert top.node == ("stakeholder", 1)
    # 1 lies on every path between {2, 3, 10} and {4, 5, 20}: 9 pairs, 18 ordered;
    # normalised by (n - 1)(n - 2) = 6 * 5 like networkx
    assert top.betweenness == pytest.approx(18 / 30)
    assert top.is_articulation_point and top.split_groups == 1
    assert "joins 2 groups that share no other member" in top.reasons
    assert "articulation point: removing it splits 1 group from the rest" in top.reasons


def test_group_bridging_two_clusters_reports_how_many_groups_it_cuts_off():
    # 10 - s1 - 20 - s2 - 30 and 20 - s3 - 40: group 20 separates {10} | {30} | {40}.
    r = brokers([1, 1, 2, 2, 3, 3], [10, 20, 20, 30, 20, 40])
    by_node = {b.node: b for b in r.brokers}
    hub = by_node[("group", 20)]
    assert hub.is_articulation_point
    assert hub.split_groups == 2  # pieces {10}, {30}, {40}: one is "the rest"
    assert hub.reasons[0] == "shares members with 3 other groups through 3 members of several groups"
    assert r.brokers[0].node == ("group", 20)


def test_sampled_betweenness_is_repeatable_and_close_to_exact():
    s, g = synthetic_memberships(80, 1500, 3500, seed=5)
    exact = brokers(s, g)
    a = brokers(s, g, k=300, seed=11, exact_below=10)
    b = brokers(s, g, k=300, seed=11, exact_below=10)
    assert exact.exact and not a.exact
    np.testing.assert_array_equal(a.node_betweenness, b.node_betweenness)
    # The biggest broker is found and its estimate is in the right range.
    top = np.argmax(exact.node_betweenness)
    assert np.argmax(a.node_betweenness) == top
    assert a.node_betweenness[top] == pytest.approx(exact.node_betweenness[top], rel=0.25)


def test_result_is_json_ready():
    d = brokers([1, 1, 2], [10, 20, 10]).to_dict()
    assert d["exact"] is True and d["nodes"] == 4 and d["shrunk_nodes"] == 3
    assert d["brokers"][0]["kind"] in ("stakeholder", "group")
    assert isinstance(d["brokers"][0]["betweenness"], float)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        brokers([1], [1], k=0)
    with pytest.raises(ValueError):
        brokers([1, 2], [1])
