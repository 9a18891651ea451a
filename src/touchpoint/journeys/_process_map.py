"""The process map: the directly-follows graph of the journeys (pm4py's DFG, Disco's map).

Nodes are touchpoints plus a start node and two end nodes, ``(converted)`` and
``(lost)`` (or one ``(end)`` node when the log has no conversions); an edge
``a -> b`` counts how often ``b`` directly follows ``a`` within a journey,
repeats (``a -> a``) included. Unfiltered, the touchpoint-to-touchpoint counts,
the start counts and the end counts equal pm4py's ``discover_dfg``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.core._results import TableResult
from touchpoint.journeys._common import CONVERTED, LOST, START
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = ["END", "ProcessMap", "process_map"]

#: The one end node when the log has no conversions.
END = "(end)"


@attrs.frozen(kw_only=True)
class ProcessMap(TableResult):
    """The directly-follows graph of a log (see :func:`process_map`).

    Attributes
    ----------
    nodes : Table
        ``node``, ``kind`` (``"start"``, ``"touchpoint"``, ``"end"``), ``events``
        (for touchpoints: their events; start and end nodes: journeys), ``journeys``
        (journeys with at least one), ``share`` (of journeys), ``conversion`` (of
        the journeys through it; NaN without conversions), most frequent first.
    edges : Table
        ``source``, ``target``, ``count`` (times ``target`` directly follows
        ``source``), ``share`` (of ``source``'s outgoing transitions, ends
        included) and ``journeys`` (journeys with this transition).
    table : Table
        :attr:`edges`.
    n_journeys, n_events : int
        Of the whole log.
    events_kept, paths_kept : float
        Share of the events (of touchpoints kept) and of the transitions kept.
    touchpoints_kept, touchpoints_total, edges_kept, edges_total : int
        What the filters kept.
    """

    nodes: Table
    edges: Table
    n_journeys: int
    n_events: int
    events_kept: float
    paths_kept: float
    touchpoints_kept: int
    touchpoints_total: int
    edges_kept: int
    edges_total: int
    converts: bool

    @property
    def table(self) -> Table:
        """:attr:`edges`, the main table."""
        return self.edges

    @property
    def caption(self) -> str:
        """What the map shows, with both filters, in words."""
        return (
            f"{self.touchpoints_kept} of {self.touchpoints_total} touchpoints "
            f"({self.events_kept:.0%} of events) and {self.edges_kept} of {self.edges_total} "
            f"transitions ({self.paths_kept:.0%} of the transitions between them); "
            f"{self.n_journeys:,} journeys."
        )

    def __repr__(self) -> str:
        return (
            f"ProcessMap({self.touchpoints_kept} of {self.touchpoints_total} touchpoints, "
            f"{self.edges_kept} of {self.edges_total} edges, {self.n_journeys:,} journeys)"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><strong>{html.escape(repr(self))}</strong><p>{html.escape(self.caption)}</p>"
            f"{self.edges.to_html(max_rows=30)}</div>"
        )

    def to_networkx(self) -> Any:
        """The map as a ``networkx.DiGraph`` (node and edge attributes from the tables)."""
        import networkx as nx

        g: Any = nx.DiGraph()
        for r in self.nodes.to_records():
            g.add_node(r["node"], **{k: v for k, v in r.items() if k != "node"})
        for r in self.edges.to_records():
            g.add_edge(
                r["source"],
                r["target"],
                **{k: v for k, v in r.items() if k not in ("source", "target")},
            )
        return g

    def plot(
        self, ax: Axes | None = None, *, title: str | None = None, vertical: bool = False
    ) -> Axes:
        """The map, layered left to right (start, touchpoints by typical step, ends), or
        top to bottom with ``vertical=True`` (narrower when journeys have many steps).

        Node area and edge width follow frequency, labels beside the nodes carry
        counts and shares; edges that skip layers are routed between the nodes of
        the layers they cross. Needs matplotlib.
        """
        from touchpoint.journeys._draw import process_map_graph

        return process_map_graph(self, ax=ax, title=title, vertical=vertical)


def _keep_touchpoints(log: EventLog, events: float) -> NDArray[np.bool_]:
    """The most frequent touchpoints covering at least ``events`` of the events."""
    counts = np.bincount(log.touchpoint, minlength=log.n_touchpoints)
    order = np.argsort(-counts, kind="stable")
    cum = np.cumsum(counts[order]) / max(log.n_events, 1)
    n_keep = int(np.searchsorted(cum, events - 1e-12) + 1)
    keep = np.zeros(log.n_touchpoints, dtype=bool)
    keep[order[: min(n_keep, log.n_touchpoints)]] = True
    keep &= counts > 0
    return keep


def _edge_arrays(
    log: EventLog, converted: NDArray[np.bool_] | None
) -> tuple[NDArray[np.int64], ...]:
    """Per transition (start and end edges included): source, target, journey codes.

    Codes: touchpoints ``0..k-1``, start ``k``, converted (or end) ``k+1``, lost ``k+2``.
    """
    k = log.n_touchpoints
    off = log.offsets
    nonempty = np.flatnonzero(np.diff(off) > 0)
    same = log.journey[1:] == log.journey[:-1]
    src = [log.touchpoint[:-1][same].astype(np.int64), np.full(len(nonempty), k, dtype=np.int64)]
    dst = [
        log.touchpoint[1:][same].astype(np.int64),
        log.touchpoint[off[nonempty]].astype(np.int64),
    ]
    jour = [log.journey[1:][same].astype(np.int64), nonempty.astype(np.int64)]
    last = log.touchpoint[off[nonempty + 1] - 1].astype(np.int64)
    end = np.full(len(nonempty), k + 1, dtype=np.int64)
    if converted is not None:
        end = np.where(converted[nonempty], k + 1, k + 2)
    src.append(last)
    dst.append(end)
    jour.append(nonempty.astype(np.int64))
    return np.concatenate(src), np.concatenate(dst), np.concatenate(jour)


def _filter_edges(
    pair: NDArray[np.int64], counts: NDArray[np.int64], n_nodes: int, paths: float
) -> NDArray[np.bool_]:
    """The most frequent edges covering ``paths`` of the transitions, plus each node's
    most frequent incoming and outgoing edge (so no kept node dangles)."""
    order = np.argsort(-counts, kind="stable")
    cum = np.cumsum(counts[order]) / max(int(counts.sum()), 1)
    n_keep = int(np.searchsorted(cum, paths - 1e-12) + 1)
    keep = np.zeros(len(pair), dtype=bool)
    keep[order[:n_keep]] = True
    src, dst = pair // n_nodes, pair % n_nodes
    for ends in (src, dst):
        best: dict[int, int] = {}
        for i in order.tolist():  # most frequent first: the first edge seen per node wins
            if src[i] != dst[i]:
                best.setdefault(int(ends[i]), i)
        keep[list(best.values())] = True
    return keep


@ck.validate_params(
    {"events": ck.Number(0.0, 1.0, closed="right"), "paths": ck.Number(0.0, 1.0, closed="right")}
)
def process_map(log: EventLog, *, events: float = 1.0, paths: float = 1.0) -> ProcessMap:
    """The directly-follows graph with start and end nodes, filtered like Disco's map.

    Parameters
    ----------
    log : EventLog
        The events.
    events : float
        Keep the most frequent touchpoints covering this share of the events; the
        events of the others are dropped, so their journeys go straight from the
        touchpoint before to the one after (Disco's activity filter).
    paths : float
        Then keep the most frequent transitions covering this share of all
        transitions (start and end edges included), plus each node's most frequent
        incoming and outgoing transition so none is cut off (Disco's path filter).

    Returns
    -------
    ProcessMap
        Unfiltered, its touchpoint-to-touchpoint edge counts, start counts (edges
        from ``(start)``) and end counts (edges into the end nodes, summed) equal
        pm4py's ``discover_dfg(log)``.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 1, 2, 2], ["ad", "site", "buy", "ad", "site"],
    ...                               [0.0, 1, 2, 0, 1], conversions=["buy"])
    >>> pm = tp.process_map(log)
    >>> pm
    ProcessMap(3 of 3 touchpoints, 5 of 5 edges, 2 journeys)
    >>> sorted((r["source"], r["target"], r["count"]) for r in pm.edges.to_records())[:3]
    [('(start)', 'ad', 2), ('ad', 'site', 2), ('buy', '(converted)', 1)]
    """
    conv = log.converted() if (log.outcome is not None or log.conversions) else None
    keep_tp = _keep_touchpoints(log, events)
    sub = log if keep_tp.all() else log.select(keep_tp[log.touchpoint])
    events_kept = sub.n_events / max(log.n_events, 1)
    if conv is not None and sub is not log:
        # journeys keep their outcome: a journey whose events were all dropped is left out
        present = np.zeros(log.n_journeys, dtype=bool)
        present[log.journey[keep_tp[log.touchpoint]]] = True
        conv = conv[present]
    k = log.n_touchpoints
    n_nodes = k + 3
    src, dst, jour = _edge_arrays(sub, conv)
    pair = src * n_nodes + dst
    uniq, counts = np.unique(pair, return_counts=True)
    jpair = np.unique(jour * (n_nodes * n_nodes) + pair)
    journeys_per = np.bincount(
        np.searchsorted(uniq, jpair % (n_nodes * n_nodes)), minlength=len(uniq)
    )
    keep = _filter_edges(uniq, counts, n_nodes, paths)
    paths_kept = float(counts[keep].sum()) / max(int(counts.sum()), 1)
    names = [*log.touchpoint_names, START, CONVERTED if conv is not None else END, LOST]
    out_total = np.bincount(uniq // n_nodes, weights=counts, minlength=n_nodes)
    s, d = uniq[keep] // n_nodes, uniq[keep] % n_nodes
    order = np.argsort(-counts[keep], kind="stable")
    edges = Table(
        {
            "source": [names[i] for i in s[order].tolist()],
            "target": [names[i] for i in d[order].tolist()],
            "count": counts[keep][order].astype(np.int64),
            "share": (counts[keep] / np.maximum(out_total[s], 1))[order],
            "journeys": journeys_per[keep][order].astype(np.int64),
        },
        title="process map edges",
    )
    nodes = _nodes_table(sub, conv, names, s, d)
    return ProcessMap(
        nodes=nodes,
        edges=edges,
        n_journeys=log.n_journeys,
        n_events=log.n_events,
        events_kept=events_kept,
        paths_kept=paths_kept,
        touchpoints_kept=int(keep_tp.sum()),
        touchpoints_total=int((np.bincount(log.touchpoint, minlength=k) > 0).sum()),
        edges_kept=int(keep.sum()),
        edges_total=len(uniq),
        converts=conv is not None,
    )


def _nodes_table(
    sub: EventLog,
    conv: NDArray[np.bool_] | None,
    names: list[str],
    s: NDArray[np.int64],
    d: NDArray[np.int64],
) -> Table:
    """One row per node on a kept edge."""
    k = sub.n_touchpoints
    shown = np.unique(np.concatenate([s, d]))
    ev = np.bincount(sub.touchpoint, minlength=k)
    pairs = np.unique(sub.journey.astype(np.int64) * k + sub.touchpoint)
    jr = np.bincount(pairs % k, minlength=k)
    n = max(sub.n_journeys, 1)
    conv_j: NDArray[np.float64] = np.zeros(k)
    if conv is not None:
        conv_j = np.bincount(
            pairs % k, weights=conv[pairs // k].astype(np.float64), minlength=k
        ).astype(np.float64)
    n_conv = int(conv.sum()) if conv is not None else 0
    position = _typical_position(sub, pairs)
    rows: list[tuple[str, str, int, int, float, float]] = []
    for i in shown.tolist():
        if i < k:
            rate = conv_j[i] / jr[i] if conv is not None and jr[i] else float("nan")
            rows.append((names[i], "touchpoint", int(ev[i]), int(jr[i]), rate, position[i]))
        elif i == k:
            rate = n_conv / n if conv is not None else float("nan")
            rows.append((names[i], "start", sub.n_journeys, sub.n_journeys, rate, 0.0))
        else:
            m = (
                (n_conv if i == k + 1 else sub.n_journeys - n_conv)
                if conv is not None
                else sub.n_journeys
            )
            rate = (1.0 if i == k + 1 else 0.0) if conv is not None else float("nan")
            rows.append((names[i], "end", m, m, rate, float("inf")))
    rows.sort(key=lambda r: (r[1] != "start", r[1] == "end", -r[2]))
    return Table(
        {
            "node": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "events": np.array([r[2] for r in rows], dtype=np.int64),
            "journeys": np.array([r[3] for r in rows], dtype=np.int64),
            "share": np.array([r[3] / n for r in rows]),
            "conversion": np.array([r[4] for r in rows]),
            "position": np.array([r[5] for r in rows]),
        },
        title="process map nodes",
    )


def _typical_position(sub: EventLog, pairs: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per touchpoint, the mean step (1-based) of its first event in the journeys it is in."""
    k = sub.n_touchpoints
    key = sub.journey.astype(np.int64) * k + sub.touchpoint
    _, first = np.unique(key, return_index=True)  # sorted like ``pairs``
    rank = first - sub.offsets[:-1][pairs // k] + 1
    tp_of = pairs % k
    order = np.lexsort((rank, tp_of))
    bounds = np.searchsorted(tp_of[order], np.arange(k + 1))
    out = np.full(k, np.inf)
    for t in range(k):
        a, b = bounds[t], bounds[t + 1]
        if b > a:
            out[t] = float(np.mean(rank[order][a:b]))
    return out
