"""The design-less charts (matplotlib, imported inside each function).

:mod:`touchpoint.plot` re-exports them; the results' ``.plot()`` call them
directly (the journeys family sits below :mod:`touchpoint.plot`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.charts import BAR, new_axes, plain_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.journeys._clusters import JourneyClusters
    from touchpoint.journeys._process_map import ProcessMap
    from touchpoint.journeys._retention import Retention, RetentionView
    from touchpoint.journeys._step_matrix import StepMatrix

__all__ = ["cluster_bars", "process_map_graph", "retention_chart", "step_matrix_heatmap"]

_NODE = "#5b7bc0"
_START = "#8a8a8a"
_WON = "#3a9a5b"
_LOST = "#c0504d"
_BACK = "#d08a3c"
_DX = 3.0
_DY = 0.85
_MAP_FONT = 8.0


def _short(name: str, width: int = 22) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


@plain_text
def step_matrix_heatmap(sm: StepMatrix, ax: Axes | None = None, *, annotate: bool = True) -> Axes:
    """The step matrix as a heatmap: shares (blues) or differences (red-blue, 0 white).

    In a differential matrix the cells with a q-value below 0.05 are framed.
    """
    m = sm.values()
    labels = [_short(str(x)) for x in sm.table["touchpoint"].tolist()]
    rows, cols = m.shape
    ax = new_axes(ax, figure_size(sm))
    if sm.groups:
        top = float(np.nanmax(np.abs(m))) or 1.0
        im = ax.imshow(m, cmap="RdBu", vmin=-top, vmax=top, aspect="auto")
    else:
        im = ax.imshow(
            m, cmap="Blues", vmin=0.0, vmax=max(float(np.nanmax(m)), 1e-9), aspect="auto"
        )
    ax.set_xticks(range(cols), list(sm.steps), fontsize=9.5)
    ax.set_yticks(range(rows), labels, fontsize=9.5)
    ax.set_xlabel("step" + (f" (0 = first {sm.target!r})" if sm.target else ""))
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    if annotate and rows * cols <= 1600:
        norm = im.norm
        cmap = im.get_cmap()
        for i in range(rows):
            for j in range(cols):
                v = m[i, j]
                if v == 0 or not np.isfinite(v):
                    continue
                r, g, b, _ = cmap(norm(v))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.55
                txt = f"{v:.2f}".replace("0.", ".") if abs(v) < 1 else f"{v:.1f}"
                ax.text(
                    j,
                    i,
                    txt,
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if dark else "#222222",
                )
    ended = labels.index("ENDED") if "ENDED" in labels else None
    if ended is not None:
        ax.axhline(ended - 0.5, color="#444444", lw=0.8)
    if sm.tests is not None:
        _frame_significant(ax, sm, [str(x) for x in sm.table["touchpoint"].tolist()])
    title = "differential step matrix" if sm.groups else "step matrix"
    if sm.groups:
        title += f": {sm.groups[0]} minus {sm.groups[1]} (framed: q < 0.05)"
    ax.set_title(title, fontsize=10, loc="left")
    return ax


def _frame_significant(ax: Axes, sm: StepMatrix, labels: list[str]) -> None:
    from matplotlib.patches import Rectangle

    assert sm.tests is not None
    steps = list(sm.steps)
    for r in sm.tests.to_records():
        if r["qvalue"] < 0.05 and r["touchpoint"] in labels:
            i, j = labels.index(r["touchpoint"]), steps.index(r["step"])
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.2, ec="#111111"))


# ------------------------------------------------------------------ process map
def _dag(
    position: dict[str, float], edges: list[tuple[str, str, int]], weight: dict[str, float]
) -> tuple[Any, set[tuple[str, str]]]:
    """Forward edges (to a later typical position; ties by frequency) form a DAG; the
    others go back and are drawn reversed."""
    import networkx as nx

    rank = {
        n: i
        for i, n in enumerate(sorted(position, key=lambda n: (position[n], -weight.get(n, 0.0), n)))
    }
    g: Any = nx.DiGraph()
    g.add_nodes_from(position)
    back: set[tuple[str, str]] = set()
    for u, v, _ in edges:
        if u == v:
            continue
        if rank[u] < rank[v]:
            g.add_edge(u, v)
        else:
            back.add((u, v))
            g.add_edge(v, u)
    return g, back


def _layers(
    g: Any, starts: list[str], ends: list[str], position: dict[str, float]
) -> dict[str, int]:
    """Layers: at least one after every forward predecessor, and no earlier than the
    touchpoint's typical step allows (spread over at most 10 columns), so touchpoints
    that all follow one hub do not pile up in one column. End nodes share the last layer."""
    import networkx as nx

    finite = [p for p in position.values() if np.isfinite(p)]
    top = max(finite, default=1.0)
    scale = min(1.0, 9.0 / max(top - 1.0, 1e-9))
    layer: dict[str, int] = {}
    for n in nx.topological_sort(g):
        preds = [layer[p] + 1 for p in g.predecessors(n) if p in layer]
        spread = (
            int((position[n] - 1.0) * scale) + 1
            if np.isfinite(position[n]) and n not in starts
            else 0
        )
        layer[n] = max([*preds, spread, 0 if n in starts else 1])
    last = max([layer[n] for n in layer if n not in ends], default=0) + 1
    for n in ends:
        if n in layer:
            layer[n] = last
    return layer


def _order_layers(
    layer: dict[str, int], links: list[tuple[str, str]], weight: dict[str, float]
) -> list[list[str]]:
    """Nodes per layer, ordered by barycentre sweeps (dummy nodes included)."""
    n_layers = max(layer.values()) + 1
    cols: list[list[str]] = [[] for _ in range(n_layers)]
    for n in sorted(layer, key=lambda x: -weight.get(x, 0.0)):
        cols[layer[n]].append(n)
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for u, v in links:
        down.setdefault(u, []).append(v)
        up.setdefault(v, []).append(u)
    for sweep in range(8):
        rng = range(1, n_layers) if sweep % 2 == 0 else range(n_layers - 2, -1, -1)
        for li in rng:
            ref = cols[li - 1] if sweep % 2 == 0 else cols[li + 1]
            pos = {n: i for i, n in enumerate(ref)}
            nb = up if sweep % 2 == 0 else down

            def key(n: str, pos: dict[str, int] = pos, nb: dict[str, list[str]] = nb) -> float:
                ps = [pos[m] for m in nb.get(n, []) if m in pos]
                return float(np.mean(ps)) if ps else float(len(pos)) / 2

            cols[li].sort(key=key)
    return cols


def _routes(
    edges: list[tuple[str, str, int]], layer: dict[str, int], back: set[tuple[str, str]]
) -> tuple[dict[tuple[str, str], list[str]], dict[str, int], list[tuple[str, str]]]:
    """Per edge the chain of nodes it passes (dummies in the layers it crosses)."""
    routes: dict[tuple[str, str], list[str]] = {}
    dummy_layer: dict[str, int] = {}
    links: list[tuple[str, str]] = []
    for u, v, _ in edges:
        if u == v:
            continue
        a, b = (v, u) if (u, v) in back else (u, v)
        chain = [a]
        for li in range(layer[a] + 1, layer[b]):
            d = f"\0{u}\0{v}\0{li}"
            dummy_layer[d] = li
            chain.append(d)
        chain.append(b)
        links.extend(itertools.pairwise(chain))
        routes[(u, v)] = chain
    return routes, dummy_layer, links


def _bezier(points: list[tuple[float, float]], vertical: bool = False) -> Any:
    """A smooth path through ``points``: tangents along the layers' axis at each point
    (an S per gap between layers)."""
    from matplotlib.path import Path

    verts = [points[0]]
    codes = [Path.MOVETO]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if vertical:
            dy = (y1 - y0) / 2
            verts += [(x0, y0 + dy), (x1, y1 - dy), (x1, y1)]
        else:
            dx = (x1 - x0) / 2
            verts += [(x0 + dx, y0), (x1 - dx, y1), (x1, y1)]
        codes += [Path.CURVE4] * 3
    return Path(verts, codes)


def _map_layout(pm: ProcessMap, vertical: bool = False) -> dict[str, Any]:
    """Node and dummy positions, edge routes and the figure size of a process map."""
    nodes = pm.nodes.to_records()
    info = {r["node"]: r for r in nodes}
    edges = [(r["source"], r["target"], int(r["count"])) for r in pm.edges.to_records()]
    starts = [r["node"] for r in nodes if r["kind"] == "start"]
    ends = [r["node"] for r in nodes if r["kind"] == "end"]
    weight = {n: float(r["journeys"]) for n, r in info.items()}
    position = {n: float(r["position"]) for n, r in info.items()}
    g, back = _dag(position, edges, weight)
    layer = _layers(g, starts, ends, position)
    routes, dummy_layer, links = _routes(edges, layer, back)
    cols = _order_layers({**layer, **dummy_layer}, links, weight)
    # horizontal: units; vertical: inches (slots wide enough for a label beside each node)
    slot, dslot = (1.2, 0.12) if vertical else (1.25, 0.3)
    pos: dict[str, tuple[float, float]] = {}
    height = 0.0
    for li, col in enumerate(cols):
        ys, y = [], 0.0
        for n in col:
            y -= slot if n in info else dslot
            ys.append(y)
        shift = (ys[-1] / 2) if ys else 0.0
        for n, yy in zip(col, ys, strict=True):
            pos[n] = (-(yy - shift), -li * _DY) if vertical else (li * _DX, yy - shift)
        height = max(height, -ys[-1] if ys else 0.0)
    if vertical:
        size = (max(5.0, height - slot + 1.6), max(3.5, (len(cols) - 1) * _DY + 1.0))
    else:
        size = (max(6.0, 0.95 * len(cols) + 0.8), max(3.5, 0.62 * height + 1.2))
    return {
        "info": info,
        "edges": edges,
        "routes": routes,
        "back": back,
        "pos": pos,
        "n_layers": len(cols),
        "size": size,
    }


def figure_size(result: Any, kind: str = "curve") -> tuple[float, float]:
    """The size (inches) a design-less chart of ``result`` is drawn at on its own.

    Results are told apart by their attributes (the result modules import this one).
    """
    if hasattr(result, "edges_kept"):  # a ProcessMap
        size: tuple[float, float] = _map_layout(result, kind == "vertical")["size"]
        return size
    if hasattr(result, "steps"):  # a StepMatrix
        rows, cols = len(result.table), len(result.steps)
        return (max(5.0, 0.5 * cols + 2.6), max(2.5, 0.32 * rows + 1.4))
    if hasattr(result, "membership"):  # JourneyClusters
        return (6.4, max(2.2, 0.45 * result.k + 1.0))
    if kind == "cohorts":  # a Retention's cohort table
        periods = len({int(p) for p in result.table["period"].tolist()})
        return (max(5.0, 0.55 * periods + 2.5), max(2.5, 0.3 * len(result.cohorts) + 1.4))
    return (6.4, 3.6)


@plain_text
def process_map_graph(
    pm: ProcessMap, ax: Axes | None = None, *, title: str | None = None, vertical: bool = False
) -> Axes:
    """The process map, layered left to right (top to bottom with ``vertical``); see
    :meth:`ProcessMap.plot`."""
    from matplotlib.patches import FancyArrowPatch, PathPatch

    lay = _map_layout(pm, vertical)
    info, edges, routes, back, pos = (lay[k] for k in ("info", "edges", "routes", "back", "pos"))
    n_layers, dx = lay["n_layers"], _DX
    ax = new_axes(ax, lay["size"])
    top = max((c for _, _, c in edges), default=1)
    loops = {u: c for u, v, c in edges if u == v}
    for u, v, c in sorted(edges, key=lambda e: e[2]):
        if u == v:
            continue
        chain = routes[(u, v)]
        pts = [pos[n] for n in chain]
        if (u, v) in back:
            pts = pts[::-1]
        lw = 0.4 + 5.5 * c / top
        colour = _BACK if (u, v) in back else "#6d83b8"
        path = _bezier([pos[n] for n in chain], vertical)
        ax.add_patch(
            PathPatch(
                path,
                fill=False,
                lw=lw,
                ec=colour,
                alpha=0.55,
                zorder=1,
                ls="--" if (u, v) in back else "-",
            )
        )
        end, before = pts[-1], pts[-2]
        ax.add_patch(
            FancyArrowPatch(
                (end[0], end[1] - 0.2 * np.sign(end[1] - before[1] or 1))
                if vertical
                else (end[0] - 0.45 * np.sign(end[0] - before[0] or 1), end[1]),
                end,
                arrowstyle="-|>",
                mutation_scale=6 + 2 * lw,
                color=colour,
                lw=0,
                alpha=0.8,
                zorder=2,
                shrinkB=7,
            )
        )
    n_j = max(pm.n_journeys, 1)
    for n, r in info.items():
        x, y = pos[n]
        colour = {"start": _START}.get(r["kind"], _NODE)
        if r["kind"] == "end":
            colour = _LOST if n == "(lost)" else _WON if n == "(converted)" else _START
        size = 40 + 900 * (r["journeys"] / n_j) ** 0.5
        ax.scatter([x], [y], s=size, c=colour, zorder=4, edgecolors="white", linewidths=1.0)
        conv = r["conversion"]
        lines = [_short(n, 16), f"{r['journeys']:,} ({r['journeys'] / n_j:.0%})"]
        if r["kind"] == "touchpoint":
            extra = f"{conv:.0%} conv." if np.isfinite(conv) else ""
            if n in loops:
                extra += f"{' ' if extra else ''}↻{loops[n]:,}"
            if extra:
                lines.append(extra)
        ax.text(
            x + (0.05 + size**0.5 / 144 if vertical else 0.0),
            y if vertical else y + 0.16 + 0.004 * size**0.5,
            "\n".join(lines),
            ha="left" if vertical else "center",
            va="center" if vertical else "bottom",
            fontsize=_MAP_FONT,
            zorder=5,
            linespacing=1.3,
            bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    if vertical:  # one unit is one inch: labels keep their room
        ax.set_xlim(min(xs) - 0.25, min(xs) - 0.25 + lay["size"][0])
        ax.set_ylim(max(ys) + 0.45 - lay["size"][1], max(ys) + 0.45)
    else:
        ax.set_xlim(-dx * 0.6, (n_layers - 1) * dx + dx * 0.6)
        ax.set_ylim(min(ys) - 0.6, max(ys) + 0.9)
    ax.set_axis_off()
    ax.set_title(title if title is not None else "process map", fontsize=10, loc="left")
    return ax


# ------------------------------------------------------------------ retention and clusters
@plain_text
def retention_chart(
    r: Retention, ax: Axes | None = None, *, kind: RetentionView = "curve", annotate: bool = True
) -> Axes:
    """The retention curve with its interval band, or the cohort x period table as a heatmap
    (blank where a cohort has not lived the period yet)."""
    unit = {"day": "days", "week": "weeks", "month": "months"}.get(r.period, r.period)
    if kind == "curve":
        ax = new_axes(ax, (6.4, 3.6))
        c = r.curve
        x = np.asarray(c["period"], dtype=np.float64)
        ax.fill_between(x, c["ci_low"], c["ci_high"], color=BAR, alpha=0.2, lw=0)
        ax.plot(x, c["rate"], marker="o", ms=3, color=BAR)
        ax.set_ylim(0, max(0.05, float(np.nanmax(c["ci_high"])) * 1.1) if len(c) else 1)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel(f"{unit} after the start")
        ax.set_ylabel(f"retained ({r.kind.replace('_', '-')})")
        ax.grid(axis="y", alpha=0.3)
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
        return ax
    cohorts = [str(x) for x in r.cohorts["cohort"].tolist()]
    periods = sorted({int(p) for p in r.table["period"].tolist()})
    m = np.full((len(cohorts), len(periods)), np.nan)
    for rec in r.table.to_records():
        m[cohorts.index(str(rec["cohort"])), periods.index(int(rec["period"]))] = rec["rate"]
    ax = new_axes(ax, figure_size(r, "cohorts"))
    ax.imshow(
        np.ma.masked_invalid(m),
        cmap="Blues",
        vmin=0,
        vmax=max(float(np.nanmax(m)) if np.isfinite(m).any() else 1, 1e-9),
        aspect="auto",
    )
    sizes = dict(zip(cohorts, r.cohorts["journeys"].tolist(), strict=True))
    ax.set_yticks(range(len(cohorts)), [f"{c} ({sizes[c]:,})" for c in cohorts], fontsize=8)
    ax.set_xticks(range(len(periods)), [str(p) for p in periods], fontsize=8)
    ax.set_xlabel(f"{unit} after the start")
    for i in range(m.shape[0] if annotate else 0):
        for j in range(m.shape[1]):
            if np.isfinite(m[i, j]):
                ax.text(
                    j,
                    i,
                    f"{m[i, j]:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if m[i, j] > 0.6 * np.nanmax(m) else "#222222",
                )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


@plain_text
def cluster_bars(cl: JourneyClusters, ax: Axes | None = None) -> Axes:
    """Per cluster, conversion with its interval (or the share of journeys without conversions)."""
    t = cl.table
    k = len(t)
    ax = new_axes(ax, figure_size(cl))
    y = np.arange(k)[::-1]
    conv: NDArray[np.float64] = np.asarray(t["conversion"], dtype=np.float64)
    if np.isfinite(conv).any():
        ax.barh(y, conv, color=BAR, height=0.6)
        err = np.vstack([conv - np.asarray(t["ci_low"]), np.asarray(t["ci_high"]) - conv])
        ax.errorbar(conv, y, xerr=err, fmt="none", ecolor="#333333", capsize=3, lw=1)
        ax.set_xlabel("conversion (95% CI)")
        vals = conv
    else:
        vals = np.asarray(t["share"], dtype=np.float64)
        ax.barh(y, vals, color=BAR, height=0.6)
        ax.set_xlabel("share of journeys")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_yticks(
        y,
        [
            f"cluster {c} ({n:,})"
            for c, n in zip(t["cluster"].tolist(), t["journeys"].tolist(), strict=True)
        ],
        fontsize=8,
    )
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    del vals
    return ax
