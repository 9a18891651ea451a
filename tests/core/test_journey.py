"""Tests for Stage, Touchpoint and Journey."""

import json

import networkx as nx
import pytest

import touchpoint as tp
from touchpoint.stages import CUSTOMER_LIFECYCLE, LIFECYCLE_TO_PURCHASE_PHASE, PURCHASE_PHASES


def small_journey() -> tp.Journey:
    j = tp.Journey(stages=CUSTOMER_LIFECYCLE, name="shop")
    j.add_touchpoint(tp.Touchpoint("ad", stage="awareness", channel="social"))
    j.add_touchpoint(tp.Touchpoint("site", stage="consideration", channel="web"))
    j.add_touchpoint(
        tp.Touchpoint(
            "store",
            stage="purchase",
            channel="store",
            kind="physical",
            key=True,
            attributes={"city": "Łódź", "open": [9, 18]},
        )
    )
    j.add_transition("ad", "site", count=3)
    j.add_transition("ad", "store", count=1)
    j.add_transition("site", "store", count=2)
    return j


def test_stage_ordering_and_validation():
    assert sorted(CUSTOMER_LIFECYCLE[::-1]) == list(CUSTOMER_LIFECYCLE)
    assert [s.order for s in CUSTOMER_LIFECYCLE] == list(range(7))
    with pytest.raises(tp.ValidationError, match="`name` must be a non-empty string"):
        tp.Stage("", 1)
    assert set(LIFECYCLE_TO_PURCHASE_PHASE.values()) == {s.name for s in PURCHASE_PHASES}


def test_touchpoint_fields_hash_and_validation():
    t = tp.Touchpoint("checkout", stage=tp.Stage("purchase", 3), channel="web")
    assert t.stage == "purchase"
    assert hash(t) == hash(tp.Touchpoint("checkout", stage="purchase", channel="web"))
    assert {t: 1}[tp.Touchpoint("checkout", stage="purchase", channel="web")] == 1
    with pytest.raises(tp.ValidationError, match="`kind` must be one of"):
        tp.Touchpoint("x", kind="virtual")
    with pytest.raises(TypeError):
        t.attributes["a"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        t.name = "other"  # type: ignore[misc]


def test_journey_is_a_graph_with_probabilities():
    j = small_journey()
    assert isinstance(j, nx.DiGraph)
    assert j.nodes["store"]["kind"] == "physical"
    assert j.edges["ad", "site"]["count"] == 3
    assert j.probability("ad", "site") == pytest.approx(0.75)
    assert j.probability("ad", "store") == pytest.approx(0.25)
    assert j.probability("site", "ad") == 0.0
    j.add_transition("ad", "site", count=4)  # counts accumulate, probabilities renormalise
    assert j.edges["ad", "site"]["count"] == 7
    assert j.probability("ad", "site") == pytest.approx(7 / 8)
    assert [t.name for t in j.touchpoints_in("purchase")] == ["store"]
    assert j.stage_of("site") == CUSTOMER_LIFECYCLE[2]
    assert "ad" in j and "nope" not in j and len(j) == 3


def test_unknown_touchpoint_and_stage_errors():
    j = small_journey()
    with pytest.raises(tp.UnknownTouchpointError, match="unknown touchpoint 'email'") as e:
        j.add_transition("ad", "email")
    assert isinstance(e.value, KeyError) and isinstance(e.value, tp.TouchpointError)
    assert "email" not in j  # not silently created
    with pytest.raises(tp.UnknownStageError, match="unknown stage 'retention'"):
        j.add_touchpoint(tp.Touchpoint("x", stage="retention"))
    with pytest.raises(tp.ValidationError, match="non-negative integer"):
        j.add_transition("ad", "site", count=-1)
    with pytest.raises(tp.ValidationError, match="different definition"):
        j.add_touchpoint(tp.Touchpoint("ad", stage="loyalty"))


def test_paths_and_subgraph():
    j = small_journey()
    assert j.paths() == [("ad", "site", "store"), ("ad", "store")]
    assert j.paths(cutoff=1) == [("ad", "store")]
    sub = j.stage_subgraph(["awareness", "consideration"])
    assert [t.name for t in sub.touchpoints] == ["ad", "site"]
    assert sub.edges["ad", "site"]["count"] == 3
    assert sub.probability("ad", "site") == 1.0  # renormalised inside the subgraph


def test_json_round_trip_is_exact(tmp_path):
    j = small_journey()
    text = j.to_json()
    back = tp.Journey.from_json(text)
    assert back == j
    assert back.touchpoint("store").attributes == {"city": "Łódź", "open": [9, 18]}
    path = tmp_path / "j.json"
    j.to_json(str(path))
    assert tp.read_journey(path) == j
    assert json.loads(text)["format"] == "touchpoint.journey/1"


def test_json_loading_rejects_non_documents_and_executes_nothing():
    with pytest.raises(tp.ValidationError, match="not a touchpoint journey document"):
        tp.Journey.from_json('{"format": "pickle", "data": "__import__(\\"os\\")"}')
    with pytest.raises(tp.ValidationError, match="not valid JSON"):
        tp.Journey.from_json("{not json")
    doc = small_journey().to_dict()
    doc["transitions"].append({"source": "ad", "target": "ghost"})
    with pytest.raises(tp.UnknownTouchpointError, match="ghost"):
        tp.Journey.from_dict(doc)
    doc = small_journey().to_dict()
    del doc["touchpoints"][0]["name"]
    with pytest.raises(tp.ValidationError, match="malformed journey document"):
        tp.Journey.from_dict(doc)


def test_graphml_export_reads_back_with_networkx(tmp_path):
    j = small_journey()
    path = tmp_path / "j.graphml"
    j.to_graphml(str(path))
    g = nx.read_graphml(path)
    assert set(g.nodes) == {"ad", "site", "store"}
    assert g.nodes["store"]["channel"] == "store"
    assert g.edges["ad", "site"]["count"] == 3
    assert g.edges["ad", "site"]["probability"] == pytest.approx(0.75)


def test_from_events_counts_match_brute_force():
    recs = [
        {"c": 1, "t": 0, "tp": "ad"},
        {"c": 1, "t": 1, "tp": "site"},
        {"c": 1, "t": 2, "tp": "store"},
        {"c": 2, "t": 5, "tp": "site"},
        {"c": 2, "t": 3, "tp": "ad"},
        {"c": 3, "t": 0, "tp": "ad"},
        {"c": 3, "t": 1, "tp": "store"},
    ]
    log = tp.EventLog.from_records(
        recs, journey="c", touchpoint="tp", time="t", design=small_journey()
    )
    j = tp.Journey.from_events(log)
    # brute force: count consecutive pairs per journey after sorting by time
    expected: dict[tuple[str, str], int] = {}
    for c in {r["c"] for r in recs}:
        seq = [r["tp"] for r in sorted((r for r in recs if r["c"] == c), key=lambda r: r["t"])]
        for a, b in zip(seq, seq[1:]):
            expected[a, b] = expected.get((a, b), 0) + 1
    got = {(a, b): d["count"] for a, b, d in j.edges(data=True)}
    assert got == expected
    assert j.probability("ad", "site") == pytest.approx(2 / 3)
    assert j.touchpoint("store").kind == "physical"  # design carried over
    assert len(j.stages) == 7


def test_repr_and_html_escape():
    j = tp.Journey(touchpoints=[tp.Touchpoint("<script>", channel="a&b")], name="x")
    assert repr(j) == "Journey(name='x', stages=0, touchpoints=1, transitions=0)"
    html = j._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "a&amp;b" in html
