"""The process map's counts against pm4py's directly-follows graph (pm4py is in the test extra)."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.journeys._common import CONVERTED, LOST, START


@pytest.fixture(scope="module")
def sample_log():
    return tp.datasets.load_sample().events


def _pm4py_dfg(log):
    pd = pytest.importorskip("pandas")
    pm4py = pytest.importorskip("pm4py")
    # the log's own event order (journey, time, input order for ties), as pm4py reads it
    names = np.array(log.touchpoint_names, dtype=object)
    frame = pd.DataFrame(
        {
            "case:concept:name": log.journey_ids[log.journey].astype(str),
            "concept:name": names[log.touchpoint],
            "time:timestamp": log.timestamp,
        }
    )
    return pm4py.discover_dfg(frame)


def _split(pm):
    inner, starts, ends = {}, {}, {}
    for r in pm.edges.to_records():
        if r["source"] == START:
            starts[r["target"]] = starts.get(r["target"], 0) + r["count"]
        elif r["target"] in (CONVERTED, LOST, "(end)"):
            ends[r["source"]] = ends.get(r["source"], 0) + r["count"]
        else:
            inner[(r["source"], r["target"])] = r["count"]
    return inner, starts, ends


def test_counts_equal_pm4py_dfg(sample_log):
    dfg, start, end = _pm4py_dfg(sample_log)
    pm = tp.process_map(sample_log)
    inner, starts, ends = _split(pm)
    assert inner == {k: int(v) for k, v in dfg.items()}
    assert starts == {k: int(v) for k, v in start.items()}
    assert ends == {k: int(v) for k, v in end.items()}
    assert pm.edges_kept == pm.edges_total and pm.paths_kept == 1.0


def test_event_filter_equals_pm4py_on_the_filtered_log(sample_log):
    pm = tp.process_map(sample_log, events=0.8)
    counts = np.bincount(sample_log.touchpoint, minlength=sample_log.n_touchpoints)
    kept_names = {r["node"] for r in pm.nodes.to_records() if r["kind"] == "touchpoint"}
    kept = np.array([n in kept_names for n in sample_log.touchpoint_names])
    # the fewest most-frequent touchpoints covering 80% of events
    order = np.sort(counts)[::-1]
    need = int(np.searchsorted(np.cumsum(order) / counts.sum(), 0.8) + 1)
    assert kept.sum() == need and counts[kept].sum() / counts.sum() >= 0.8
    assert pm.events_kept == pytest.approx(counts[kept].sum() / counts.sum())
    sub = sample_log.select(kept[sample_log.touchpoint])
    dfg, start, end = _pm4py_dfg(sub)
    inner, starts, ends = _split(pm)
    assert inner == {k: int(v) for k, v in dfg.items()}
    assert starts == {k: int(v) for k, v in start.items()}
    assert ends == {k: int(v) for k, v in end.items()}


def test_path_filter_keeps_the_share_and_no_dangling_node(sample_log):
    full = tp.process_map(sample_log)
    pm = tp.process_map(sample_log, paths=0.6)
    assert pm.edges_kept < full.edges_total
    assert pm.paths_kept >= 0.6
    src = set(pm.edges["source"].tolist())
    dst = set(pm.edges["target"].tolist())
    for r in pm.nodes.to_records():
        if r["kind"] == "touchpoint":
            assert r["node"] in src and r["node"] in dst, r["node"]
    assert f"{pm.edges_kept} of {pm.edges_total} transitions" in pm.caption


def test_nodes_and_end_split_by_conversion():
    log = tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2, 3],
        ["ad", "site", "buy", "ad", "site", "site"],
        [0.0, 1, 2, 0, 1, 0],
        conversions=["buy"],
    )
    pm = tp.process_map(log)
    edges = {(r["source"], r["target"]): (r["count"], r["share"]) for r in pm.edges.to_records()}
    assert edges[("site", "buy")] == (1, pytest.approx(1 / 3))  # site -> buy, -> lost twice
    assert edges[("site", LOST)] == (2, pytest.approx(2 / 3))
    assert edges[("buy", CONVERTED)] == (1, 1.0)
    nodes = {r["node"]: r for r in pm.nodes.to_records()}
    assert nodes["site"]["journeys"] == 3 and nodes["site"]["conversion"] == pytest.approx(1 / 3)
    assert nodes[START]["events"] == 3 and nodes[LOST]["journeys"] == 2


def test_plot_is_layered_with_labels_beside_nodes(sample_log):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    pm = tp.process_map(sample_log, paths=0.8)
    ax = pm.plot()
    xs = sorted({round(c.get_offsets()[0][0], 6) for c in ax.collections})
    assert xs[0] < xs[-1] and len(xs) >= 3  # several layers, left to right
    labels = [t for t in ax.texts if "\n" in t.get_text()]
    assert len(labels) == len(pm.nodes)
    plt.close("all")
