"""Optional matplotlib figures (install ``touchpoint-journeys[plot]``).

matplotlib is imported inside each function, never at ``import touchpoint``.
Every function draws into ``ax`` when given (else a new figure) and returns
the :class:`matplotlib.axes.Axes`, so figures compose with your own.

Functions accept touchpoint's own result objects (a :class:`~touchpoint.Journey`,
an :class:`~touchpoint.EventLog`, a fitted Markov model, a funnel, a
:class:`~touchpoint.Table`) and read them through their public attributes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.charts import errorbars as _charts_errorbars, plain_text as _plain_text
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey
    from touchpoint.core._results import TableResult
    from touchpoint.funnels import DropOffs, Funnel
    from touchpoint.markov import Attribution, MarkovModel, RemovalEffects
    from touchpoint.table import Table

__all__ = [
    "attribution_bars",
    "breakdown",
    "dropoff_lines",
    "figure_svg",
    "funnel_bars",
    "journey_graph",
    "journey_size",
    "step_positions",
    "transition_heatmap",
]

_UNSTAGED = "(no stage)"
_EDGE = "#3b5ba5"
_KEY = "#e07b39"
_BAR = "#5b7bc0"


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _words(name: str) -> str:
    """A column name as axis-label words: ``removal_effect`` -> ``removal effect``."""
    from touchpoint._lib.format import human_label

    return human_label(name)


def _journey_of(obj: Any) -> Journey:
    """A Journey from a Journey, an EventLog or anything with ``to_journey``/``journey``."""
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey

    if isinstance(obj, Journey):
        return obj
    if isinstance(obj, EventLog):
        return Journey.from_events(obj)
    for name in ("to_journey", "journey"):
        attr = getattr(obj, name, None)
        if attr is not None:
            j = attr() if callable(attr) else attr
            if isinstance(j, Journey):
                return j
    msg = f"'journey' must be a Journey or an EventLog (got {type(obj).__name__})."
    raise ValidationError(msg)


def step_positions(log: EventLog) -> dict[str, float]:
    """Typical step of each touchpoint: the median position (0 = first) of its events.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2, 2], ["ad", "buy", "ad", "site", "buy"],
    ...                               [0, 1, 0, 1, 2])
    >>> step_positions(log)
    {'ad': 0.0, 'buy': 1.5, 'site': 1.0}
    """
    j = np.asarray(log.journey)
    n = len(j)
    if n == 0:
        return {}
    start = np.r_[0, np.flatnonzero(j[1:] != j[:-1]) + 1]
    pos = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
    tp_codes = np.asarray(log.touchpoint)
    order = np.argsort(tp_codes, kind="stable")
    bounds = np.searchsorted(tp_codes[order], np.arange(len(log.touchpoint_names) + 1))
    out: dict[str, float] = {}
    for code, name in enumerate(log.touchpoint_names):
        sel = pos[order[bounds[code] : bounds[code + 1]]]
        if len(sel):
            out[name] = float(np.median(sel))
    return out


def _columns(j: Journey, steps: Mapping[str, float] | None) -> tuple[dict[str, int], list[str]]:
    """Column of each node and the column headers: stages, else typical steps."""
    import networkx as nx

    g = _graph_of(j)
    stage_order = {s.name: i for i, s in enumerate(j.stages)}
    stage = {n: g.nodes[n].get("stage") for n in g.nodes}
    if stage_order and any(s in stage_order for s in stage.values()):
        big = len(stage_order)
        rank_of = {n: stage_order.get(s, big) if s else big for n, s in stage.items()}
        used = sorted(set(rank_of.values()))
        col = {n: used.index(r) for n, r in rank_of.items()}
        names = [s.name for s in j.stages]
        return col, [names[r] if r < big else _UNSTAGED for r in used]
    if steps is None:
        steps = {n: float(d["step"]) for n, d in g.nodes(data=True) if "step" in d} or None
    if steps is None:  # breadth-first layers from the touchpoints journeys enter by
        sources = [n for n in g.nodes if all(p == n for p in g.predecessors(n))]
        if not sources and len(g):
            sources = [
                max(
                    g.nodes,
                    key=lambda n: g.out_degree(n, weight="count") - g.in_degree(n, weight="count"),
                )
            ]
        steps = {}
        for depth, layer in enumerate(nx.bfs_layers(g, sources) if sources else []):
            steps |= dict.fromkeys(layer, float(depth))
    last = max(steps.values(), default=-1.0) + 1
    layer_of = {n: round(float(steps.get(n, last))) for n in g.nodes}
    used = sorted(set(layer_of.values()))
    heads = [f"step {v + 1}" for v in used]
    if len(used) > _MAX_STEP_COLUMNS:  # the late steps share the last column (readable width)
        cut = used[_MAX_STEP_COLUMNS - 1]
        heads = [*heads[: _MAX_STEP_COLUMNS - 1], f"step {cut + 1}+"]
        used = used[:_MAX_STEP_COLUMNS]
        layer_of = {n: min(v, cut) for n, v in layer_of.items()}
    return {n: used.index(v) for n, v in layer_of.items()}, heads


#: Without stages, at most this many typical-step columns; later steps share the last.
_MAX_STEP_COLUMNS = 8


def _graph_of(j: Any) -> Any:
    """The networkx graph of a Journey (a Journey is a networkx.DiGraph)."""
    import networkx as nx

    return j if isinstance(j, nx.Graph) else j.graph


def _journey_layout(
    j: Journey, steps: Mapping[str, float] | None = None
) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Node positions and column headers.

    Columns are the stages (or typical steps), placed with
    :func:`networkx.multipartite_layout`; within a column, touchpoints are ordered
    by the mean row of where their traffic comes from (one barycentre pass, fewer
    crossings) and spaced one unit apart, so nodes never overlap.
    """
    import networkx as nx

    g = _graph_of(j)
    col, headers = _columns(j, steps)
    by_col: dict[int, list[str]] = {}
    for n in g.nodes:
        by_col.setdefault(col[n], []).append(n)
    row: dict[str, float] = {}
    for c in sorted(by_col):
        names = by_col[c]

        def weight(n: str) -> float:
            return float(g.in_degree(n, weight="count") + g.out_degree(n, weight="count"))

        def barycentre(n: str) -> float:
            w = [
                (row[p], float(g.edges[p, n].get("count", 1)))
                for p in g.predecessors(n)
                if p in row
            ]
            total = sum(x for _, x in w)
            return sum(y * x for y, x in w) / total if total else float("inf")

        names.sort(key=(lambda n: -weight(n)) if not row else barycentre)
        span = (len(names) - 1) / 2
        for i, n in enumerate(names):
            row[n] = span - i
    layered: nx.DiGraph[str] = nx.DiGraph()
    for c in sorted(by_col):
        layered.add_nodes_from(by_col[c], layer=c)
    raw = nx.multipartite_layout(layered, subset_key="layer")
    xs = sorted({round(float(p[0]), 9) for p in raw.values()})
    pos = {n: (float(xs.index(round(float(raw[n][0]), 9))), row[n]) for n in layered}
    return pos, headers


def _journey_size(
    pos: Mapping[str, tuple[float, float]], headers: Sequence[str]
) -> tuple[float, float]:
    """A readable figure size: 1.1 in per column, 0.9 in per row, within 8 x 12 in.

    At most 8 in wide, the figure is shown at about its natural size in an 800 px
    page (report, docs), so its 10 pt labels stay over 12 px high.
    """
    rows = max((sum(1 for x, _ in pos.values() if x == c) for c in range(len(headers))), default=1)
    return (
        min(8.0, max(5.5, 1.1 * len(headers) + 0.6)),
        min(12.0, max(4.0, 0.9 * rows + 2.3)),
    )


def journey_size(journey: Journey, steps: Mapping[str, float] | None = None) -> tuple[float, float]:
    """The figure size :func:`journey_graph` uses by default for ``journey`` (inches).

    Examples
    --------
    >>> import touchpoint as tp
    >>> j = tp.Journey(stages=["awareness", "purchase"])
    >>> j.add_touchpoint(tp.Touchpoint("ad", stage="awareness"))
    >>> j.add_touchpoint(tp.Touchpoint("checkout", stage="purchase"))
    >>> j.add_transition("ad", "checkout", count=4)
    >>> journey_size(j)
    (5.5, 4.0)
    """
    return _journey_size(*_journey_layout(journey, steps))


def _wrap(name: str, width: int, max_lines: int = 3, *, cut: bool = True) -> str:
    """A touchpoint name on lines of at most ``width`` characters, broken after ``_ - `` or spaces."""
    if len(name) <= width:
        return name
    lines: list[str] = []
    for token in re.split(r"(?<=[_\- ])", name):
        if lines and len(lines[-1]) + len(token) <= width:
            lines[-1] += token
        else:
            lines.append(token)
    lines = [ln.rstrip() for ln in lines if ln.strip()]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], "".join(lines[max_lines - 1 :])]
    if not cut:
        return "\n".join(lines)
    return "\n".join(ln if len(ln) <= width + 2 else ln[: width + 1] + "…" for ln in lines)


def _overlaps(box: Any, placed: Sequence[Any]) -> bool:
    return any(box.overlaps(other) for other in placed)


@_plain_text
def journey_graph(
    journey: Journey | EventLog,
    *,
    ax: Axes | None = None,
    min_probability: float = 0.0,
    max_width: float = 6.0,
    labels: bool = True,
    edge_labels: bool = False,
    legend: bool = True,
    steps: Mapping[str, float] | EventLog | None = None,
    title: str | None = None,
    highlight: Collection[str] | None = None,
    highlight_label: str = "key touchpoint",
) -> Axes:
    """Draw a journey: one column per stage (or typical step), edge width by probability.

    Drawn in steps, networkx ``draw_networkx`` style: a layout
    (:func:`_journey_layout`), then columns, nodes (area by traffic), labels
    beside the nodes, the legend, edges routed around nodes and labels, and
    last the repeat marks and edge labels where they cover nothing.

    Parameters
    ----------
    journey : Journey or EventLog
        The journey graph (edges carry ``probability``); an event log is turned
        into its observed journey with :meth:`Journey.from_events`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure sized to the graph when omitted.
    min_probability : float
        Hide edges with a smaller transition probability (declutters big graphs).
    max_width : float
        Line width of an edge with probability 1.
    labels, edge_labels : bool
        Write touchpoint names beside nodes (long names wrapped to the column's
        width) / probabilities on the edges (at the middle of each curve; a label
        that would cover other text or a node is left out, likeliest edges first).
    legend : bool
        Explain node colours and sizes, edge widths and the repeat marker below the graph.
    steps : mapping or EventLog, optional
        Without stages, the column of each touchpoint: its typical step (a
        mapping of touchpoint to step, or an event log to take the median
        position of each touchpoint's events from). By default an event log
        passed as ``journey`` is used, else breadth-first layers from the
        touchpoints journeys start at. At most 8 step columns: later steps
        share the last one (``step 8+``).
    title : str, optional
        Axes title (default: the journey's name, or "Journey").
    highlight : collection of str, optional
        Touchpoints to colour (the report passes its key touchpoints, the largest
        removal effects). By default the touchpoints the design marks ``key``.
    highlight_label : str
        The legend's name for the coloured touchpoints (default "key touchpoint";
        for the design's own flags "key in the design").

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Node area follows traffic (the transitions into or out of the touchpoint,
    whichever is larger). Self-loops (a touchpoint followed by itself) are not
    drawn as edges: the share that repeats is written next to the node
    (``↻ 40%``). An edge bends away from nodes and labels it would cross. Text
    sizes follow the space a node has (10 pt at the default size, at least
    6.5 pt); the default size is at most 8 inches wide, so an 800 px page shows
    the figure at about its natural size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import touchpoint as tp
    >>> j = tp.Journey(stages=["awareness", "purchase"])
    >>> j.add_touchpoint(tp.Touchpoint("ad", stage="awareness"))
    >>> j.add_touchpoint(tp.Touchpoint("checkout", stage="purchase"))
    >>> j.add_transition("ad", "checkout", count=4)
    >>> ax = journey_graph(j, edge_labels=True)
    >>> ax.get_title(), [t.get_text() for t in ax.texts if t.get_text().endswith("%")]
    ('Journey', ['100%'])
    """
    from touchpoint.core._eventlog import EventLog

    if steps is None and isinstance(journey, EventLog):
        steps = journey
    if isinstance(steps, EventLog):
        steps = step_positions(steps)
    j = _journey_of(journey)
    g = _graph_of(j)
    pos, headers = _journey_layout(j, steps)
    ax = _axes(ax, _journey_size(pos, headers))
    ax.set_title(title if title is not None else (j.name or "Journey"))
    ax.set_axis_off()
    if not pos:
        return ax
    geo = _map_geometry(ax, pos, headers)
    heads = _draw_columns(ax, headers, geo)
    if highlight is None:
        highlight = [n for n in pos if g.nodes[n].get("key", False)]
        highlight_label = (
            "key in the design" if highlight_label == "key touchpoint" else highlight_label
        )
    nodes = _draw_nodes(ax, g, pos, geo, set(highlight))
    loops = {
        a: float(d.get("probability", 0.0))
        for a, b, d in g.edges(data=True)
        if a == b and float(d.get("probability", 0.0)) >= max(min_probability, 1e-12)
    }
    if labels:  # the share that repeats is the label's last line
        _draw_node_labels(ax, nodes, geo, loops)
    if legend:
        _draw_legend(
            ax,
            nodes,
            geo=geo,
            max_width=max_width,
            loops=bool(loops),
            highlight_label=highlight_label,
        )
    geo.root.draw_without_rendering()
    _fit_headers(ax, heads)
    # texts measured with a margin: a browser draws the SVG's text in its own font
    placed = [t.get_window_extent().expanded(1.12, 1.1) for t in ax.texts]
    placed += _node_boxes(ax, nodes)
    edges = _draw_edges(ax, g, nodes, placed, min_probability=min_probability, max_width=max_width)
    if not labels:
        _place_loop_marks(ax, loops, nodes, geo, placed)
    if edge_labels:
        _place_edge_labels(ax, edges, geo, placed)
    return ax


@attrs.frozen
class _MapGeometry:
    """Sizes of one journey map, in data units and points (after the axes are placed)."""

    root: Any
    n_cols: int
    top: float
    unit: float  # points per data unit
    col_pt: float
    diameter: float  # the largest node, points
    fs: float
    small: float


@attrs.frozen
class _Node:
    name: str
    x: float
    y: float
    diameter: float  # points
    key: bool


#: Nodes sit left of their column's centre; the label takes the space to their right.
_NODE_DX = -0.22


def _map_geometry(
    ax: Axes, pos: Mapping[str, tuple[float, float]], headers: Sequence[str]
) -> _MapGeometry:
    """Axis limits, then sizes from the axes' real box: nodes 0.4 units across at most,
    text relative to a unit (10 pt at the report's size, never below 6.5 pt)."""
    n_cols = len(headers)
    half = max(abs(y) for _, y in pos.values())
    top, bottom = half + 0.75, -half - 0.75
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(bottom, top + 0.5)
    root: Any = ax.figure
    root = getattr(root, "figure", root)  # a subfigure's root figure holds the size
    if root.get_layout_engine() is not None:
        root.draw_without_rendering()  # place the axes first: sizes follow their real box
    box = ax.get_position()
    width_pt = float(root.get_figwidth()) * box.width * 72
    height_pt = float(root.get_figheight()) * box.height * 72
    col_pt = width_pt / n_cols
    unit = min(col_pt, height_pt / (top + 0.5 - bottom))
    fs = float(np.clip(0.2 * unit, 6.5, 10.0))
    return _MapGeometry(
        root=root,
        n_cols=n_cols,
        top=top,
        unit=unit,
        col_pt=col_pt,
        diameter=float(np.clip(0.34 * unit, 7.0, 24.0)),
        fs=fs,
        small=max(6.0, fs - 1.0),
    )


def _draw_columns(ax: Axes, headers: Sequence[str], geo: _MapGeometry) -> list[Any]:
    """A shaded band per column with its header on top."""
    chars = max(6, int(0.9 * geo.col_pt / (0.6 * geo.fs)))
    heads = []
    for x, head in enumerate(headers):
        ax.axvspan(x - 0.45, x + 0.45, color="#eef0f6" if x % 2 == 0 else "#f7f7fb", zorder=0)
        heads.append(
            ax.text(
                x,
                geo.top,
                _wrap(head, chars, 2, cut=False),
                ha="center",
                va="bottom",
                fontsize=geo.fs + 0.5,
                fontweight="bold",
                color="#334",
            )
        )
    return heads


def _traffic(g: Any, n: str) -> float:
    """Transitions into or out of ``n`` (the larger), repeats included."""
    return float(max(g.in_degree(n, weight="count"), g.out_degree(n, weight="count"), 0))


def _draw_nodes(
    ax: Axes, g: Any, pos: Mapping[str, tuple[float, float]], geo: _MapGeometry, key: set[str]
) -> list[_Node]:
    """Circles with area proportional to traffic (the busiest ``geo.diameter`` across)."""
    traffic = {n: _traffic(g, n) for n in pos}
    most = max(traffic.values(), default=0.0) or 1.0
    low = max(6.0, 0.3 * geo.diameter)
    nodes = [
        _Node(
            name=n,
            x=x + _NODE_DX,
            y=y,
            diameter=float(low + (geo.diameter - low) * np.sqrt(traffic[n] / most)),
            key=n in key,
        )
        for n, (x, y) in pos.items()
    ]
    ax.scatter(
        [n.x for n in nodes],
        [n.y for n in nodes],
        s=[n.diameter**2 for n in nodes],
        c=[_KEY if n.key else "#ffffff" for n in nodes],
        edgecolors="#223",
        linewidths=1.1,
        zorder=2,
    )
    return nodes


def _draw_node_labels(
    ax: Axes, nodes: Sequence[_Node], geo: _MapGeometry, loops: Mapping[str, float]
) -> None:
    """Names beside their nodes, wrapped to the room left in the column; a repeating
    touchpoint's share of repeats (``↻ 40%``) on the label's last line."""
    for n in nodes:
        room = (0.45 - _NODE_DX) * geo.col_pt - n.diameter / 2 - 3
        chars = max(5, int(room / (0.6 * geo.fs)))
        text = _wrap(n.name, chars)
        if n.name in loops:
            text += f"\n↻ {100 * loops[n.name]:.0f}%"
        ax.annotate(
            text,
            (n.x, n.y),
            xytext=(n.diameter / 2 + 3.5, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=geo.fs,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
        )


def _draw_legend(
    ax: Axes,
    nodes: Sequence[_Node],
    *,
    geo: _MapGeometry,
    max_width: float,
    loops: bool,
    highlight_label: str,
) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            mfc="#ffffff",
            mec="#223",
            ms=8,
            label="touchpoint (area: traffic)",
        )
    ]
    if any(n.key for n in nodes):
        handles.append(
            Line2D([], [], marker="o", ls="", mfc=_KEY, mec="#223", ms=8, label=highlight_label)
        )
    handles += [
        Line2D(
            [],
            [],
            color=_EDGE,
            lw=max(0.4, max_width * p),
            alpha=0.3 + 0.55 * p,
            label=f"{100 * p:.0f}% of next steps",
        )
        for p in (0.25, 0.5, 1.0)
    ]
    if loops:
        handles.append(Line2D([], [], ls="", label="↻ share that repeats"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(handles), 3 if float(geo.root.get_figwidth()) >= 7 else 2),
        fontsize=geo.small + 0.5,
        frameon=False,
    )


def _fit_headers(ax: Axes, heads: Sequence[Any]) -> None:
    """A header wider than its band ("consideration") gets smaller type."""
    trans = ax.transData
    band = abs(trans.transform((0.88, 0))[0] - trans.transform((0, 0))[0])
    for t in heads:
        wide = t.get_window_extent().width / band
        if wide > 1:
            t.set_fontsize(max(6.5, t.get_fontsize() / wide))


def _node_boxes(ax: Axes, nodes: Sequence[_Node]) -> list[Any]:
    from matplotlib.transforms import Bbox

    px = ax.figure.dpi / 72
    out = []
    for n in nodes:
        X, Y = ax.transData.transform((n.x, n.y))
        r = n.diameter / 2 * px
        out.append(Bbox.from_extents(X - r, Y - r, X + r, Y + r))
    return out


def _bezier(p0: Any, p1: Any, rad: float, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points of matplotlib's ``arc3,rad=`` curve (display space) at parameters ``t``."""
    (x0, y0), (x1, y1) = p0, p1
    cx = (x0 + x1) / 2 + rad * (y1 - y0)
    cy = (y0 + y1) / 2 - rad * (x1 - x0)
    a, b, c = (1 - t) ** 2, 2 * t * (1 - t), t**2
    out: NDArray[np.float64] = np.c_[a * x0 + b * cx + c * x1, a * y0 + b * cy + c * y1]
    return out


def _route(p0: Any, p1: Any, first: float, obstacles: Sequence[Any]) -> float:
    """The bend (``arc3`` rad) closest to ``first`` whose curve crosses the fewest obstacles."""
    t = np.linspace(0.06, 0.94, 40)
    best, best_hits = first, None
    for step in (0.0, 0.15, -0.15, 0.3, -0.3, 0.45, -0.45, 0.6, -0.6):
        rad = first + step
        pts = _bezier(p0, p1, rad, t)
        hits = 0
        for box in obstacles:
            inside = (
                (pts[:, 0] > box.x0 - 2)
                & (pts[:, 0] < box.x1 + 2)
                & (pts[:, 1] > box.y0 - 2)
                & (pts[:, 1] < box.y1 + 2)
            )
            hits += int(inside.any())
        if best_hits is None or hits < best_hits:
            best, best_hits = rad, hits
        if hits == 0:
            break
    return best


def _draw_edges(
    ax: Axes,
    g: Any,
    nodes: Sequence[_Node],
    placed: Sequence[Any],
    *,
    min_probability: float,
    max_width: float,
) -> list[tuple[float, float, float, float, float, float]]:
    """Arrows between nodes, width and opacity by probability, bent around what they cross."""
    from matplotlib.patches import FancyArrowPatch

    at = {n.name: n for n in nodes}
    boxes = dict(zip([n.name for n in nodes], _node_boxes(ax, nodes), strict=True))
    labels = list(placed[: len(placed) - len(nodes)])
    trans = ax.transData
    edges = []
    for a, b, d in sorted(g.edges(data=True), key=lambda e: -float(e[2].get("probability", 0))):
        p = float(d.get("probability", 0.0))
        if p <= 0 or p < min_probability or a == b:
            continue
        na, nb = at[a], at[b]
        if nb.x == na.x:  # within a column: bulge at most 0.4 units, staying in the column
            first = min(0.5, 0.4 / max(abs(nb.y - na.y), 1e-9))
        else:
            first = 0.3 if nb.x < na.x else (0.12 if nb.x - na.x > 1 else 0.05)
        p0, p1 = trans.transform([(na.x, na.y), (nb.x, nb.y)])
        others = [box for n, box in boxes.items() if n not in (a, b)] + labels
        rad = _route(p0, p1, first, others)
        edges.append((na.x, na.y, nb.x, nb.y, rad, p))
        ax.add_patch(
            FancyArrowPatch(
                (na.x, na.y),
                (nb.x, nb.y),
                arrowstyle="-|>",
                mutation_scale=7 + 6 * p,
                connectionstyle=f"arc3,rad={rad}",
                linewidth=max(0.4, max_width * p),
                color=_EDGE,
                alpha=0.3 + 0.55 * p,
                shrinkA=na.diameter / 2 + 1,
                shrinkB=nb.diameter / 2 + 1,
                zorder=1,
            )
        )
    return edges


def _place_loop_marks(
    ax: Axes,
    loops: Mapping[str, float],
    nodes: Sequence[_Node],
    geo: _MapGeometry,
    placed: list[Any],
) -> None:
    """``↻ 40%`` beside each repeating node, where it covers no other text or node."""
    at = {n.name: n for n in nodes}
    for name, share in sorted(loops.items(), key=lambda kv: -kv[1]):
        if name not in at:
            continue
        n = at[name]
        r = n.diameter / 2
        spots = [
            (r + 1, r - 2, "left", "bottom"),
            (-r - 1, r - 2, "right", "bottom"),
            (r + 1, -r - 2, "left", "top"),
            (-r - 2, 0, "right", "center"),
            (0, -r - 2, "center", "top"),
            (0, r + 2, "center", "bottom"),
            (-r - 1, -r - 2, "right", "top"),
        ]
        for i, (dx, dy, ha, va) in enumerate(spots):
            t = ax.annotate(
                f"↻ {100 * share:.0f}%",
                (n.x, n.y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=geo.small,
                color=_EDGE,
                zorder=5,
            )
            extent = t.get_window_extent().expanded(1.15, 1.2)  # a browser's font is wider
            if not _overlaps(extent, placed) or i == len(spots) - 1:
                break  # nowhere free: keep the last place (the share matters more)
            t.remove()
        placed.append(extent)


def _place_edge_labels(
    ax: Axes,
    edges: Sequence[tuple[float, float, float, float, float, float]],
    geo: _MapGeometry,
    placed: list[Any],
) -> None:
    """Probabilities at the middle of each curve, likeliest first, skipped where they'd collide."""
    trans = ax.transData
    inside = ax.get_window_extent()
    for x0, y0, x1, y1, rad, p in sorted(edges, key=lambda e: -e[-1]):
        p0, p1 = trans.transform([(x0, y0), (x1, y1)])
        mid = _bezier(p0, p1, rad, np.array([0.5]))[0]
        lx, ly = trans.inverted().transform(mid)
        t = ax.text(
            lx,
            ly,
            f"{100 * p:.0f}%",
            fontsize=geo.small,
            ha="center",
            va="center",
            color=_EDGE,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        )
        extent = t.get_window_extent().expanded(1.1, 1.2)
        if (
            _overlaps(extent, placed)
            or not inside.contains(*extent.min)
            or not inside.contains(*extent.max)
        ):
            t.remove()  # the edge's width still shows its share
        else:
            placed.append(extent)


@_plain_text
def transition_heatmap(
    source: EventLog | Journey | MarkovModel,
    *,
    ax: Axes | None = None,
    normalize: bool = True,
    annotate: bool | None = None,
    cmap: str = "Blues",
    title: str | None = None,
) -> Axes:
    """Heatmap of transition counts or probabilities (rows: from, columns: to).

    Parameters
    ----------
    source : EventLog, Journey or Markov model
        Where the transitions come from: consecutive events of an event log,
        a journey's edges, or a fitted model with ``states`` and
        ``transition_matrix`` (or ``counts``).
    ax : matplotlib.axes.Axes, optional
    normalize : bool
        Show row shares (transition probabilities) instead of counts.
    annotate : bool, optional
        Print values in the cells (default: when there are at most 15 states).
    cmap : str
        Colormap name.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 2], ["ad", "buy", "ad", "site"], [0, 1, 0, 1])
    >>> transition_heatmap(log).get_ylabel()
    'touchpoint (from)'
    """
    names, matrix = _transition_matrix(source, normalize=normalize)
    from touchpoint._lib.charts import heatmap

    return heatmap(
        names,
        matrix,
        ax=ax,
        normalize=normalize,
        annotate=annotate,
        cmap=cmap,
        title=title if title is not None else "Transitions",
    )


def _dense(m: Any) -> NDArray[np.float64]:
    if hasattr(m, "toarray"):
        m = m.toarray()
    return np.asarray(m, dtype=np.float64)


def _transition_matrix(
    source: Any, *, normalize: bool
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey

    if isinstance(source, EventLog):
        names = source.touchpoint_names
        k = len(names)
        a, b = source.transition_pairs()
        m = np.bincount(a.astype(np.int64) * k + b, minlength=k * k).reshape(k, k)
        counts = m.astype(np.float64)
    elif isinstance(source, Journey):
        names = tuple(source.nodes)
        idx = {n: i for i, n in enumerate(names)}
        counts = np.zeros((len(names), len(names)))
        for a2, b2, d in source.edges(data=True):
            counts[idx[a2], idx[b2]] = float(d.get("count", 0))
    elif hasattr(source, "states") and (
        hasattr(source, "counts") or hasattr(source, "transition_matrix")
    ):
        names = tuple(str(s) for s in source.states)
        raw = getattr(source, "counts", None)
        if raw is not None and not callable(raw) and not normalize:
            counts = _dense(getattr(raw, "matrix", raw))
        else:
            counts = _dense(source.transition_matrix)
        counts = counts[: len(names), : len(names)]
    else:
        msg = (
            "'source' must be an EventLog, a Journey or a fitted Markov model "
            f"(got {type(source).__name__})."
        )
        raise ValidationError(msg)
    design = source if isinstance(source, Journey) else getattr(source, "design", None)
    if isinstance(design, Journey) and len(names) > 1:  # stage order reads top-down
        order = _stage_order(design, names)
        names = tuple(names[i] for i in order)
        counts = counts[np.ix_(order, order)]
    if normalize:
        tot = counts.sum(axis=1, keepdims=True)
        counts = np.divide(counts, tot, out=np.zeros_like(counts), where=tot > 0)
    return names, counts


def _stage_order(design: Journey, names: Sequence[str]) -> NDArray[np.int64]:
    """Positions of ``names`` sorted by stage order, then by position in the design."""
    stage_rank = {st.name: i for i, st in enumerate(design.stages)}
    node_rank = {n: i for i, n in enumerate(design.nodes)}
    big = len(stage_rank) + 1

    def key(i: int) -> tuple[int, int, int]:
        n = names[i]
        stage = design.nodes[n].get("stage") if n in design else None
        return (stage_rank.get(stage, big) if stage else big, node_rank.get(n, len(node_rank)), i)

    return np.array(sorted(range(len(names)), key=key), dtype=np.int64)


def _table_columns(obj: Any) -> dict[str, NDArray[Any]]:
    """Columns of a Table, a table result (its ``.table``), a mapping or a DataFrame."""
    from touchpoint.core._results import TableResult
    from touchpoint.table import Table

    if isinstance(obj, TableResult):
        obj = obj.table  # type: ignore[attr-defined]  # every table result has one
    if isinstance(obj, Table):
        return obj.to_dict()
    if isinstance(obj, Mapping):
        return {str(k): np.asarray(v) for k, v in obj.items()}
    if hasattr(obj, "columns"):
        return Table.from_frame(obj).to_dict()
    msg = f"expected a Table, a result with a table, a mapping or a DataFrame (got {type(obj).__name__})."
    raise ValidationError(msg)


def _pick(cols: Mapping[str, NDArray[Any]], names: Sequence[str], what: str) -> str:
    for n in names:
        if n in cols:
            return n
    msg = f"no {what} column; expected one of {list(names)} (got columns {list(cols)})."
    raise ValidationError(msg)


def _ci_cols(
    cols: Mapping[str, NDArray[Any]], value: str
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    for lo, hi in (
        (f"{value}_low", f"{value}_high"),
        (f"{value}_ci_low", f"{value}_ci_high"),
        ("ci_low", "ci_high"),
        ("low", "high"),
    ):
        if lo in cols and hi in cols:
            return (np.asarray(cols[lo], dtype=float), np.asarray(cols[hi], dtype=float))
    return None, None


def _label_column(
    cols: Mapping[str, NDArray[Any]], label: str | None, value: str | None, what: str
) -> str:
    """``label``, else the first text column other than ``value``."""
    label = label or next(
        (c for c in cols if c != value and np.asarray(cols[c]).dtype.kind in "OUS"),
        None,
    )
    if label is None:
        msg = f"no {what} column among {list(cols)}; pass label=."
        raise ValidationError(msg)
    return label


def _barh(
    ax: Axes,
    y: NDArray[Any],
    values: NDArray[np.float64],
    low: NDArray[np.float64] | None,
    high: NDArray[np.float64] | None,
) -> None:
    ax.barh(
        y,
        values,
        xerr=_charts_errorbars(values, low, high),
        color=_BAR,
        ecolor="#223",
        capsize=3,
    )


_METRIC_AXIS = {
    "nps": "NPS (% promoters minus % detractors)",
    "csat": "CSAT (% answering 4 or 5)",
    "ces": "CES (mean answer)",
    "score": "score",
}


def _ci_note(low: NDArray[np.float64] | None, level: float = 0.95) -> str:
    return f" (bars: {100 * level:.0f}% CI)" if low is not None else ""


@_plain_text
def breakdown(
    result: Table | TableResult | Mapping[str, Any],
    *,
    ax: Axes | None = None,
    value: str | None = None,
    label: str | None = None,
    title: str | None = None,
    sort: bool = True,
) -> Axes:
    """Horizontal bars of a metric per group, with confidence intervals.

    Parameters
    ----------
    result : Table, result with a table, mapping or DataFrame
        One row per group; the value column (``score``, ``nps``, ``csat``,
        ``ces``, ``mean``, ``rate``, ``value``) and optional interval columns
        ``<value>_low``/``<value>_high``, ``ci_low``/``ci_high`` or ``low``/``high``.
    ax : matplotlib.axes.Axes, optional
    value, label : str, optional
        Column names of the value and the group label (default: guessed).
    title : str, optional
    sort : bool
        Order bars by value.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from touchpoint import Table
    >>> t = Table({"group": ["web", "store"], "score": [32.0, 41.0],
    ...            "ci_low": [25.0, 30.0], "ci_high": [39.0, 52.0]})
    >>> [x.get_text() for x in breakdown(t).get_yticklabels()]
    ['web', 'store']
    """
    cols = _table_columns(result)
    value = value or _pick(
        cols, ("score", "nps", "csat", "ces", "mean", "rate", "value", "statistic"), "value"
    )
    label = _label_column(cols, label, value, "group label")
    vals = np.asarray(cols[value], dtype=float)
    labs = [str(x) for x in np.asarray(cols[label]).tolist()]
    low, high = _ci_cols(cols, value)
    order = np.argsort(vals, kind="stable") if sort else np.arange(len(vals))
    vals = vals[order]
    labs = [labs[i] for i in order.tolist()]
    low = None if low is None else low[order]
    high = None if high is None else high[order]
    ax = _axes(ax, (6.5, max(2.5, 0.35 * len(vals) + 1.2)))
    y = np.arange(len(vals))
    _barh(ax, y, vals, low, high)
    ax.set_yticks(y, labels=labs)
    metric = str(getattr(result, "metric", "") or value)
    titled = str(getattr(result, "title", "") or "").split(" ", 1)[0].lower()
    if value == "score" and titled in _METRIC_AXIS:  # breakdown tables: "CSAT by channel"
        metric = titled
    ax.set_xlabel(_METRIC_AXIS.get(metric.lower(), _words(metric)) + _ci_note(low))
    if metric.lower() == "csat":  # a share: 0-100% whatever the data's range
        from matplotlib.ticker import PercentFormatter

        ax.set_xlim(0, 100)
        ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_ylabel("" if label == "group" else _words(label))
    ax.axvline(0, color="#888", linewidth=0.8)
    default = getattr(result, "title", "") or f"{_words(metric)} by {_words(label)}"
    ax.set_title(title if title is not None else default)
    return ax


@_plain_text
def funnel_bars(
    funnel: Funnel | Table | Mapping[str, Any],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    confidence_level: float = 0.95,
    segments: bool = True,
) -> Axes:
    """Funnel bars: share of the first step reaching each step, with confidence intervals.

    The one funnel chart: :meth:`Funnel.plot <touchpoint.Funnel.plot>` draws this.
    Bars are labelled with the count and the share of the first step; the axis
    stops at 100%.

    Parameters
    ----------
    funnel : Funnel, Table or mapping
        A :func:`touchpoint.funnel` result (its ``reached``, ``from_first`` and
        ``first_ci_low``/``first_ci_high`` columns are used), or any table with
        a ``step`` column and a ``reached`` (or ``entered``/``count``) column,
        in which case Wilson intervals are computed here.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    confidence_level : float
        Level of the intervals.
    segments : bool
        For a funnel with segments (``by=``), one bar per segment and step, each
        a share of its own segment's first step.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = funnel_bars({"step": ["visit", "cart", "buy"], "reached": [100, 40, 10]})
    >>> ax.get_title(), [float(x) for x in ax.get_xlim()]
    ('Funnel', [0.0, 1.0])
    """
    from touchpoint._lib.stats import proportion_ci
    from touchpoint.funnels import Funnel

    seg_funnels = getattr(funnel, "segments", None)
    if segments and isinstance(funnel, Funnel) and seg_funnels:
        return _funnel_segments(funnel, seg_funnels, ax=ax, title=title)
    if isinstance(funnel, Funnel):  # its table at the requested confidence level
        cols = funnel.to_table(confidence_level=confidence_level).to_dict()
    else:
        cols = _table_columns(funnel)
    if "segment" in cols:  # a funnel table by segment: the overall bars only
        msg = "funnel_bars draws one funnel; pass funnel.segments[value] or a funnel without by=."
        raise ValidationError(msg)
    step = _pick(cols, ("step", "name", "touchpoint"), "step")
    count_col = _pick(cols, ("reached", "entered", "count", "journeys", "n"), "count")
    steps = [str(x) for x in np.asarray(cols[step]).tolist()]
    counts = np.asarray(cols[count_col], dtype=float)
    base = counts[0] if len(counts) and counts[0] > 0 else 1.0
    share = np.asarray(cols["from_first"], dtype=float) if "from_first" in cols else counts / base
    low, high = _ci_cols(cols, "first")
    if low is None or high is None:
        low, high = proportion_ci(counts.astype(np.int64), int(base), confidence_level, "wilson")
    from touchpoint._lib.charts import funnel_chart

    return funnel_chart(
        steps,
        counts,
        share,
        np.asarray(low, dtype=float),
        np.asarray(high, dtype=float),
        ax=ax,
        title=title if title is not None else "Funnel",
        confidence_level=confidence_level,
    )


def _funnel_segments(
    funnel: Any, seg_funnels: Mapping[Any, Any], *, ax: Axes | None, title: str | None
) -> Axes:
    """Grouped bars: each segment's share of its own first step, per step."""
    from touchpoint._lib.charts import funnel_segments_chart

    shares = {
        str(seg): [s.conversion_from_first if s.first_reached else 0.0 for s in f.steps]
        for seg, f in seg_funnels.items()
    }
    return funnel_segments_chart(
        [s.label for s in funnel.steps],
        shares,
        ax=ax,
        title=title if title is not None else "Funnel by segment",
        legend_title=_words(str(getattr(funnel, "by", "") or "segment")),
    )


def _credit_columns(result: Any) -> tuple[dict[str, NDArray[Any]], str | None, str]:
    """Columns, default value column and default title for attribution-like results."""
    from touchpoint.core._results import TableResult
    from touchpoint.markov import Attribution, RemovalEffects

    if (
        isinstance(result, Mapping)
        and result
        and all(isinstance(v, TableResult) for v in result.values())
    ):
        # {model name: Attribution}: one column of credit share per model
        first = next(iter(result.values())).table
        label = first.columns[0]
        names: list[str] = []
        for v in result.values():
            for n in np.asarray(v.table[label]).tolist():
                if n not in names:
                    names.append(n)
        cols: dict[str, NDArray[Any]] = {label: np.array(names, dtype=object)}
        for model, v in result.items():
            t = v.table
            credit = "share" if "share" in t.columns else t.columns[-1]
            lookup = dict(
                zip(
                    np.asarray(t[label]).tolist(),
                    np.asarray(t[credit], dtype=float).tolist(),
                    strict=True,
                )
            )
            cols[str(model)] = np.array([lookup.get(n, 0.0) for n in names])
        return cols, None, "Attribution by model"
    if isinstance(result, RemovalEffects):
        return result.table.to_dict(), "removal_effect", "Removal effects"
    if isinstance(result, Attribution):
        cols = result.table.to_dict()
        return cols, ("share" if "share" in cols else None), f"Attribution ({result.model})"
    return _table_columns(result), None, "Attribution"


@_plain_text
def attribution_bars(
    result: Attribution | RemovalEffects | Mapping[str, Attribution] | Table | Mapping[str, Any],
    *,
    ax: Axes | None = None,
    value: str | None = None,
    label: str | None = None,
    title: str | None = None,
    drop_zero: bool = True,
) -> Axes:
    """Bars of attributed credit (or removal effect) per touchpoint or channel.

    Parameters
    ----------
    result : Attribution, RemovalEffects, mapping or table
        An :func:`touchpoint.attribution` result (credit share per
        touchpoint), :func:`touchpoint.removal_effects` (removal effect, with
        bootstrap intervals when computed), a mapping ``{model name:
        Attribution}`` to compare models side by side, or any table with a
        label column and numeric credit columns (several are drawn as groups).
    ax : matplotlib.axes.Axes, optional
    value : str, optional
        Draw only this numeric column.
    label : str, optional
        The label column (default: the first text column).
    title : str, optional
    drop_zero : bool
        Leave out rows whose credit is zero in every drawn column.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = attribution_bars({"touchpoint": ["ad", "email"], "markov": [0.6, 0.4],
    ...                        "last_touch": [0.3, 0.7]})
    >>> ax.get_legend() is not None
    True
    """
    cols, default_value, default_title = _credit_columns(result)
    label = _label_column(cols, label, None, "label")
    value = value or default_value
    skip = {"n", "count", "conversions", "value", "conversion_without"}
    numeric = (
        [value]
        if value is not None
        else [
            c
            for c in cols
            if c != label
            and np.asarray(cols[c]).dtype.kind in "fiu"
            and c not in skip
            and not c.endswith(("_low", "_high"))
        ]
    )
    if not numeric:
        msg = f"no numeric credit column among {list(cols)}."
        raise ValidationError(msg)
    for c in numeric:
        if c not in cols:
            msg = f"unknown column {c!r}; the result has {list(cols)}."
            raise ValidationError(msg)
    keep = np.ones(len(np.asarray(cols[label])), dtype=bool)
    if drop_zero:
        keep = np.any([np.asarray(cols[c], dtype=float) != 0 for c in numeric], axis=0)
    labs = [str(x) for x, k in zip(np.asarray(cols[label]).tolist(), keep, strict=True) if k]
    k = len(numeric)
    # horizontal bars: long names stay readable, and comparing many models grows
    # the figure's height a little instead of its width (never 27 inches wide)
    ax = _axes(ax, (7.0, min(10.0, max(2.8, (0.15 * k + 0.12) * len(labs) + 1.6))))
    y = np.arange(len(labs))[::-1].astype(float)
    height = 0.8 / k
    for i, c in enumerate(numeric):
        vals = np.asarray(cols[c], dtype=float)[keep]
        low, high = _ci_cols({n: np.asarray(v)[keep] for n, v in cols.items()}, c)
        ax.barh(
            y + 0.4 - height / 2 - i * height,
            vals,
            height=height,
            label=_words(c),
            xerr=_charts_errorbars(vals, low, high),
            capsize=2,
            color=_BAR if k == 1 else None,
        )
    ax.set_yticks(y, labels=labs)
    ax.set_ylabel("" if label in ("touchpoint", "channel", "state") else _words(label))
    ax.axvline(0, color="#888", linewidth=0.8)
    shares = all(c in ("share", "removal_effect") or k > 1 for c in numeric)
    if (
        shares
        and np.nanmax(
            np.abs(np.r_[[np.asarray(cols[c], dtype=float)[keep] for c in numeric]]), initial=0
        )
        <= 1
    ):
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(
        _CREDIT_AXIS.get(numeric[0], _words(numeric[0])) if k == 1 else "share of the credit"
    )
    if k > 1:
        ax.legend(title="model", fontsize=8)
    ax.set_title(title if title is not None else default_title)
    return ax


@_plain_text
def dropoff_lines(
    result: DropOffs,
    *,
    step: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Weekly (per period) step conversion of every group, the flagged periods ringed.

    Parameters
    ----------
    result : DropOffs
        A :func:`touchpoint.detect_dropoffs` result; its ``tests`` table holds
        every group's rate per period.
    step : str, optional
        The step to draw (default: the step of the largest drop, else the first).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, touchpoint as tp
    >>> rng = np.random.default_rng(0)
    >>> n = 800
    >>> t0 = np.datetime64("2026-01-05T00:00", "s")
    >>> start = t0 + (rng.integers(0, 28, n) * 86400).astype("timedelta64[s]")
    >>> seg = rng.choice(["a", "b"], n)
    >>> go = rng.random(n) < 0.6
    >>> j = np.r_[np.arange(n), np.flatnonzero(go)]
    >>> tps = np.r_[np.full(n, "view"), np.full(go.sum(), "buy")]
    >>> ts = np.r_[start, start[go] + np.timedelta64(60, "s")]
    >>> log = tp.EventLog.from_arrays(j, tps, ts, extra={"seg": seg[j]})
    >>> res = tp.detect_dropoffs(log, ["view", "buy"], by="seg", period="week",
    ...                          baseline="others", n_resamples=0)
    >>> ax = dropoff_lines(res)
    >>> sorted(t.get_text() for t in ax.get_legend().get_texts())
    ['a', 'b']
    """
    from touchpoint._lib.charts import dropoff_chart

    return dropoff_chart(result, step=step, ax=ax, title=title)


_CREDIT_AXIS = {
    "removal_effect": "conversions lost without the touchpoint",
    "share": "share of the credit",
    "conversions": "conversions credited",
    "value": "value credited",
}


#: Longest text drawn in a figure as it is; a longer one (a 100,000-character
#: touchpoint name made a canvas too large to allocate) is cut to its first
#: ``CUT_FIGURE_TEXT - 1`` characters and an ellipsis.
MAX_FIGURE_TEXT = 200
CUT_FIGURE_TEXT = 40


def _shorten_texts(fig: Any) -> None:
    """Cut every text of ``fig`` longer than :data:`MAX_FIGURE_TEXT` characters."""
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    def cut(text: str) -> str:
        return text if len(text) <= MAX_FIGURE_TEXT else text[: CUT_FIGURE_TEXT - 1] + "…"

    for ax in fig.axes:  # tick labels are drawn again from their formatter
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, (FixedFormatter, FuncFormatter)):
                axis.set_major_formatter(FuncFormatter(lambda x, pos, f=fmt: cut(str(f(x, pos)))))
    for t in fig.findobj(Text):
        lines = t.get_text().split("\n")
        if any(len(line) > MAX_FIGURE_TEXT for line in lines):
            t.set_text("\n".join(cut(line) for line in lines))


@_plain_text
def figure_svg(ax_or_fig: Any) -> str:
    """The figure as an inline ``<svg>`` string (for HTML reports); closes the figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> svg = figure_svg(funnel_bars({"step": ["a", "b"], "entered": [2, 1]}))
    >>> svg.startswith("<svg")
    True
    """
    import io

    import matplotlib

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    _shorten_texts(fig)
    buf = io.StringIO()
    # text stays text (searchable, small; no glyph definitions repeated per figure)
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    if getattr(fig.canvas, "manager", None) is not None:  # a pyplot figure: release it
        import matplotlib.pyplot as plt

        plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


# ---------------------------------------------------------------------------
# design-less charts (drawn in touchpoint.journeys._draw; the results' .plot() call them)
# ---------------------------------------------------------------------------
def step_matrix_heatmap(sm: Any, ax: Axes | None = None, *, annotate: bool = True) -> Axes:
    """A :class:`~touchpoint.StepMatrix` as a heatmap (see :meth:`touchpoint.StepMatrix.plot`)."""
    from touchpoint.journeys._draw import step_matrix_heatmap as draw

    return draw(sm, ax=ax, annotate=annotate)


def process_map_graph(
    pm: Any, ax: Axes | None = None, *, title: str | None = None, vertical: bool = False
) -> Axes:
    """A :class:`~touchpoint.ProcessMap`, layered (see :meth:`touchpoint.ProcessMap.plot`)."""
    from touchpoint.journeys._draw import process_map_graph as draw

    return draw(pm, ax=ax, title=title, vertical=vertical)


def retention_chart(
    r: Any, ax: Axes | None = None, *, kind: str = "curve", annotate: bool = True
) -> Axes:
    """A :class:`~touchpoint.Retention`: the curve with its band, or the cohort table."""
    from touchpoint.journeys._draw import retention_chart as draw

    return draw(r, ax=ax, kind=kind, annotate=annotate)  # type: ignore[arg-type]  # checked there


def cluster_bars(cl: Any, ax: Axes | None = None) -> Axes:
    """Conversion per cluster of a :class:`~touchpoint.JourneyClusters`, with intervals."""
    from touchpoint.journeys._draw import cluster_bars as draw

    return draw(cl, ax=ax)


__all__ += ["cluster_bars", "process_map_graph", "retention_chart", "step_matrix_heatmap"]


if TYPE_CHECKING:  # beside the one function that needs it (plot.py is edited in parallel)
    from touchpoint.monitoring import Monitor


def monitor_chart(monitor: Monitor, ax: Axes | None = None) -> Axes:
    """A :class:`~touchpoint.Monitor`'s looks: each look's rate, the confidence sequence, the alarm.

    The same chart as :meth:`touchpoint.Monitor.plot` (drawn by
    ``touchpoint._lib.charts.monitor_chart``): points are each look's own
    value, the band the anytime-valid confidence sequence of the value so far
    (its line the estimate), dashed lines the baseline's range and a red line
    the look at which the alarm sounded.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import touchpoint as tp
    >>> m = tp.monitor({"score": [5, 4, 2, 5] * 50, "time": [0.0, 1.0] * 100},
    ...                metric="csat", period=1.0, baseline=1)
    >>> monitor_chart(m).get_ylabel()
    'csat'
    """
    return monitor.plot(ax=ax)


__all__ += ["monitor_chart"]
