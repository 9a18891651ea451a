"""A Journey *is* a networkx.DiGraph: algorithms, copies, views, relabelling, round trips.

Expected values come from hand computation on the small journey below, or from the
same algorithm run on a plain ``networkx.DiGraph`` built from the edge list (so a
Journey answers exactly like the graph it is), or from a numpy power iteration.
"""

import copy
import pickle

import networkx as nx
import numpy as np
import pytest

import touchpoint as tp
from touchpoint.stages import CUSTOMER_LIFECYCLE

EDGES = {("ad", "site"): 3, ("ad", "store"): 1, ("site", "store"): 2, ("site", "mail"): 2}


def small_journey() -> tp.Journey:
    j = tp.Journey(stages=CUSTOMER_LIFECYCLE, name="shop")
    j.add_touchpoint(tp.Touchpoint("ad", stage="awareness", channel="social"))
    j.add_touchpoint(tp.Touchpoint("site", stage="consideration", channel="web"))
    j.add_touchpoint(tp.Touchpoint("mail", stage="consideration", channel="email"))
    j.add_touchpoint(
        tp.Touchpoint(
            "store", stage="purchase", kind="physical", key=True, attributes={"city": "Łódź"}
        )
    )
    for (a, b), c in EDGES.items():
        j.add_transition(a, b, count=c)
    return j


def plain() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(["ad", "site", "mail", "store"])
    g.add_edges_from((a, b, {"count": c}) for (a, b), c in EDGES.items())
    return g


def test_networkx_algorithms_take_a_journey_directly():
    j, g = small_journey(), plain()
    assert isinstance(j, nx.DiGraph)
    # hand-computed on the 4-node DAG
    assert nx.shortest_path(j, "ad", "store") == ["ad", "store"]
    assert nx.shortest_path(j, "ad", "mail") == ["ad", "site", "mail"]
    assert nx.shortest_path_length(j, "ad", "store", weight="count") == 1  # 1 < 3 + 2
    assert nx.descendants(j, "ad") == {"site", "store", "mail"}
    assert nx.ancestors(j, "store") == {"ad", "site"}
    assert nx.is_directed_acyclic_graph(j)
    assert next(iter(nx.topological_sort(j))) == "ad"
    assert nx.dag_longest_path(j) == ["ad", "site", "store"]
    assert sorted(map(tuple, nx.all_simple_paths(j, "ad", "store"))) == [
        ("ad", "site", "store"),
        ("ad", "store"),
    ]
    assert nx.number_strongly_connected_components(j) == 4
    assert nx.has_path(j, "site", "ad") is False
    # the same answers as the plain DiGraph it is
    assert nx.pagerank(j, weight="count") == pytest.approx(nx.pagerank(g, weight="count"))
    assert nx.betweenness_centrality(j) == nx.betweenness_centrality(g)
    assert dict(nx.in_degree_centrality(j)) == dict(nx.in_degree_centrality(g))


def test_pagerank_on_a_journey_matches_a_numpy_power_iteration():
    j = small_journey()
    names = list(j)
    n, alpha = len(names), 0.85
    w = np.zeros((n, n))
    for (a, b), c in EDGES.items():
        w[names.index(a), names.index(b)] = c
    out = w.sum(axis=1)
    p = np.divide(w, out[:, None], out=np.zeros_like(w), where=out[:, None] > 0)
    dangling = out == 0
    r = np.full(n, 1 / n)
    for _ in range(500):
        r = alpha * (r @ p) + alpha * r[dangling].sum() / n + (1 - alpha) / n
    got = nx.pagerank(j, weight="count", tol=1e-12)
    assert [got[k] for k in names] == pytest.approx(r, abs=1e-9)


def test_constructors_networkx_relies_on():
    empty = tp.Journey()
    assert len(empty) == 0 and empty.stages == () and empty.name == ""
    j = tp.Journey(plain(), name="from nx")
    assert set(j.edges) == set(EDGES) and j.name == "from nx"
    assert j.probability("ad", "site") == pytest.approx(3 / 4)  # no stored probability
    assert isinstance(nx.empty_graph(0, create_using=tp.Journey), tp.Journey)
    again = tp.Journey(small_journey())  # incoming graph data keeps stages and fields
    assert again == small_journey()
    back = nx.DiGraph(small_journey())
    assert type(back) is nx.DiGraph and back.edges["ad", "site"]["count"] == 3


def test_copies_views_and_reverse_are_journeys_with_their_stages():
    j = small_journey()
    c = j.copy()
    assert type(c) is tp.Journey and c == j and c.stages == j.stages
    c.add_stage(tp.Stage("extra", 9))
    c.add_transition("store", "ad")
    assert "extra" not in {s.name for s in j.stages} and not j.has_edge("store", "ad")

    view = j.subgraph(["ad", "site", "store"])
    assert type(view) is tp.Journey and nx.is_frozen(view)
    assert [t.name for t in view.touchpoints] == ["ad", "site", "store"]
    assert view.stages == j.stages and view.touchpoint("store").key is True
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        view.add_touchpoint("x")
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        view.add_stage("x")
    # a view keeps the whole journey's shares; its copy round-trips as it is
    sub = view.copy()
    assert sub.probability("site", "store") == pytest.approx(2 / 4)
    assert tp.Journey.from_json(sub.to_json()) == sub

    edges = j.edge_subgraph([("ad", "site")])
    assert type(edges) is tp.Journey and list(edges.edges) == [("ad", "site")]

    rev = j.reverse()
    assert type(rev) is tp.Journey and set(rev.edges) == {(b, a) for a, b in EDGES}
    # store's outgoing counts after reversal: store->ad 1, store->site 2
    assert rev.probability("store", "ad") == pytest.approx(1 / 3)
    assert rev.edges["store", "site"]["count"] == 2
    assert tp.Journey.from_json(rev.to_json()) == rev
    assert type(j.to_directed()) is tp.Journey
    assert type(j.to_undirected()) is nx.Graph


def test_relabel_nodes_copy_and_in_place():
    j = small_journey()
    mapping = {"ad": "banner", "store": "shop"}
    r = nx.relabel_nodes(j, mapping)
    assert type(r) is tp.Journey and r.stages == j.stages
    assert r.touchpoint("shop").attributes == {"city": "Łódź"}
    assert r.edges["banner", "site"] == j.edges["ad", "site"]
    assert tp.Journey.from_json(r.to_json()) == r
    nx.relabel_nodes(j, mapping, copy=False)
    assert set(j) == {"banner", "site", "mail", "shop"} and j.touchpoint("shop").kind == "physical"


def test_plain_networkx_methods_keep_networkx_semantics():
    j = small_journey()
    j.add_edge("mail", "newsletter")  # networkx creates the node, no validation
    assert "newsletter" in j and j.touchpoint("newsletter").stage is None
    assert j.probability("mail", "newsletter") == 1.0  # a plain edge counts once
    with pytest.raises(tp.UnknownTouchpointError):
        j.add_transition("mail", "ghost")
    assert list(iter(j))[:2] == ["ad", "site"]  # iterating gives node names, as in networkx
    j.remove_node("newsletter")
    assert j.out_degree("mail") == 0


def test_json_and_graphml_keep_attributes_added_with_networkx(tmp_path):
    j = small_journey()
    nx.set_node_attributes(j, nx.pagerank(j, weight="count"), "pagerank")
    nx.set_edge_attributes(j, {("ad", "site"): "organic"}, "source")
    j.graph["owner"] = "cx team"
    back = tp.Journey.from_json(j.to_json())
    assert back == j and back.nodes["store"]["pagerank"] == j.nodes["store"]["pagerank"]
    path = tmp_path / "j.graphml"
    j.to_graphml(path)
    g = tp.Journey.from_graphml(path)
    assert g == j
    assert g.touchpoint("store").attributes == {"city": "Łódź"}
    assert tp.read_journey(path) == j
    j.graph["bad"] = {"nested": 1}
    with pytest.raises(tp.ValidationError, match="graph attribute 'bad'"):
        j.to_graphml(tmp_path / "bad.graphml")
    j.graph["bad"] = object()
    with pytest.raises(tp.ValidationError, match="cannot write object value"):
        j.to_json()


def test_graphml_from_elsewhere_reads_as_a_journey(tmp_path):
    g = nx.DiGraph()
    g.add_node("a", stage="awareness", channel="web")
    g.add_node("b")
    g.add_edge("a", "b", count=4)
    path = tmp_path / "other.graphml"
    nx.write_graphml(g, path)
    j = tp.Journey.from_graphml(path)
    assert [s.name for s in j.stages] == ["awareness"]
    assert j.touchpoint("a").channel == "web" and j.probability("a", "b") == 1.0


def test_drawing_takes_a_journey():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    j = small_journey()
    fig, ax = plt.subplots()
    nx.draw_networkx(j, pos=nx.multipartite_layout(j, subset_key="stage"), ax=ax)
    assert len(ax.collections[0].get_offsets()) == len(j)
    assert {t.get_text() for t in ax.texts} == set(j)
    plt.close(fig)


def test_deepcopy_and_pickle_keep_everything():
    j = small_journey()
    for other in (copy.deepcopy(j), pickle.loads(pickle.dumps(j))):
        assert other == j and other is not j
        other.add_transition("mail", "store")
        assert not j.has_edge("mail", "store")


def test_old_wrapper_spellings_warn_and_still_work():
    j = small_journey()
    with pytest.warns(DeprecationWarning, match="journey.edges"):
        edges = j.graph.edges
    assert edges["ad", "site"]["count"] == 3
    with pytest.warns(DeprecationWarning, match="stage_subgraph"):
        sub = j.subgraph("consideration")
    assert set(sub) == {"site", "mail"} and not nx.is_frozen(sub)
    assert sub.probability("site", "mail") == 1.0
    assert list(j.subgraph("ad")) == ["ad"]  # a touchpoint name: networkx semantics
    with pytest.raises(AttributeError):
        _ = j.graph.not_a_graph_method


def test_paths_of_a_journey_without_start_or_end_say_so():
    import pytest

    from touchpoint.exceptions import ValidationError

    j = tp.Journey(touchpoints=["a", "b", "c"])
    for x, y in [("a", "b"), ("b", "c"), ("c", "a")]:
        j.add_transition(x, y)
    with pytest.raises(ValidationError, match="pass source= and target="):
        j.paths()
    assert j.paths("a", "c") == [("a", "b", "c")]
    assert tp.Journey().paths() == []
