"""Optional matplotlib figures (install ``touchpoint-journeys[plot]``).

matplotlib is imported inside each function, never at ``import touchpoint``.
Every function draws into ``ax`` when given (else a new figure) and returns
the :class:`matplotlib.axes.Axes`, so figures compose with your own.

Functions accept touchpoint's own result objects (a :class:`~touchpoint.Journey`,
an :class:`~touchpoint.EventLog`, a fitted Markov model, a funnel, a
:class:`~touchpoint.Table`) and read them through their public attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._journey import Journey

__all__ = [
    "attribution_bars",
    "breakdown",
    "figure_svg",
    "funnel_bars",
    "journey_graph",
    "transition_heatmap",
]

_UNSTAGED = "(no stage)"


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


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


def _layout(journey: Journey) -> dict[str, tuple[float, float]]:
    """Columns by stage (in stage order), touchpoints spread vertically in each column."""
    order = {s.name: i for i, s in enumerate(journey.stages)}
    columns: dict[int, list[str]] = {}
    stage_col: dict[str, int] = {}
    for name, data in journey.nodes(data=True):
        stage = data.get("stage")
        col = order.get(stage, len(order)) if stage is not None else len(order)
        stage_col[name] = col
        columns.setdefault(col, [])
        columns[col].append(name)
    used = sorted(columns)
    rank = {c: i for i, c in enumerate(used)}
    pos: dict[str, tuple[float, float]] = {}
    for c in used:
        names = columns[c]
        n = len(names)
        for i, name in enumerate(names):
            pos[name] = (float(rank[c]), (n - 1) / 2 - i)
    return pos


def _finish_graph(ax: Any, title: str | None, j: Journey) -> Any:
    ax.set_title(title if title is not None else (j.name or "Journey"))
    ax.set_axis_off()
    return ax


def journey_graph(
    journey: Any,
    *,
    ax: Any = None,
    min_probability: float = 0.0,
    max_width: float = 6.0,
    node_size: float = 900.0,
    labels: bool = True,
    edge_labels: bool = False,
    title: str | None = None,
) -> Any:
    """Draw a journey: nodes in one column per stage, edge width by probability.

    Parameters
    ----------
    journey : Journey or EventLog
        The journey graph (edges carry ``probability``); an event log is turned
        into its observed journey with :meth:`Journey.from_events`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure when omitted.
    min_probability : float
        Hide edges with a smaller transition probability (declutters big graphs).
    max_width : float
        Line width of an edge with probability 1.
    node_size : float
        Marker area of the nodes (points squared).
    labels, edge_labels : bool
        Write touchpoint names next to nodes / probabilities on edges.
    title : str, optional
        Axes title (default: the journey's name, or "Journey").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import touchpoint as tp
    >>> j = tp.Journey(stages=["awareness", "purchase"])
    >>> j.add_touchpoint(tp.Touchpoint("ad", stage="awareness"))
    >>> j.add_touchpoint(tp.Touchpoint("checkout", stage="purchase"))
    >>> j.add_transition("ad", "checkout", count=4)
    >>> ax = journey_graph(j)
    >>> ax.get_title()
    'Journey'
    """
    from matplotlib.patches import FancyArrowPatch

    j = _journey_of(journey)
    ax = _axes(ax, (max(6.0, 2.2 * max(len(j.stages), 1)), 5.0))
    pos = _layout(j)
    g = j
    if not len(pos):
        return _finish_graph(ax, title, j)
    # stage bands and headers
    stage_names = {round(x): g.nodes[n].get("stage") for n, (x, _) in pos.items()}
    ys = [y for _, y in pos.values()]
    top = max(ys) + 0.9
    for x, stage in sorted(stage_names.items()):
        ax.axvspan(x - 0.4, x + 0.4, color="#eef0f6" if x % 2 == 0 else "#f7f7fb", zorder=0)
        ax.text(
            x,
            top,
            stage or _UNSTAGED,
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            color="#334",
        )
    # edges
    for a, b, d in g.edges(data=True):
        p = float(d.get("probability", 0.0))
        if p < min_probability or p <= 0:
            continue
        (x0, y0), (x1, y1) = pos[a], pos[b]
        rad = 0.25 if x1 <= x0 else 0.08
        arrow = FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            arrowstyle="-|>",
            mutation_scale=8 + 6 * p,
            connectionstyle=f"arc3,rad={rad}",
            linewidth=max(0.3, max_width * p),
            color="#3b5ba5",
            alpha=0.35 + 0.5 * p,
            shrinkA=11,
            shrinkB=11,
            zorder=1,
        )
        ax.add_patch(arrow)
        if edge_labels:
            ax.text(
                (x0 + x1) / 2,
                (y0 + y1) / 2 + 0.08,
                f"{p:.2f}",
                fontsize=7,
                ha="center",
                color="#3b5ba5",
                zorder=3,
            )
    names = list(pos)
    xy = np.array([pos[n] for n in names])
    key = np.array([bool(g.nodes[n].get("key", False)) for n in names])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=node_size,
        c=np.where(key, "#e07b39", "#ffffff"),
        edgecolors="#223",
        linewidths=1.2,
        zorder=2,
    )
    if labels:
        for n, (x, y) in zip(names, xy.tolist(), strict=True):
            ax.text(x, y - 0.3, n, ha="center", va="top", fontsize=8, zorder=3)
    ax.set_xlim(-0.6, xy[:, 0].max() + 0.6)
    ax.set_ylim(min(ys) - 0.9, top + 0.5)
    return _finish_graph(ax, title, j)


def transition_heatmap(
    source: Any,
    *,
    ax: Any = None,
    normalize: bool = True,
    annotate: bool | None = None,
    cmap: str = "Blues",
    title: str | None = None,
) -> Any:
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
    'from'
    """
    names, matrix = _transition_matrix(source, normalize=normalize)
    k = len(names)
    ax = _axes(ax, (max(4.0, 0.45 * k + 2.5), max(3.5, 0.45 * k + 1.5)))
    im = ax.imshow(matrix, cmap=cmap, aspect="auto", vmin=0.0)
    ax.set_xticks(range(k), labels=list(names), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels=list(names), fontsize=8)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    if annotate is None:
        annotate = k <= 15
    if annotate and k:
        hi = float(matrix.max()) or 1.0
        for i in range(k):
            for jj in range(k):
                v = float(matrix[i, jj])
                if v:
                    ax.text(
                        jj,
                        i,
                        f"{v:.2f}" if normalize else f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if v > hi / 2 else "black",
                    )
    ax.figure.colorbar(im, ax=ax, label="probability" if normalize else "count")
    ax.set_title(title if title is not None else "Transitions")
    return ax


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


def _errorbars(
    values: NDArray[np.float64], low: NDArray[np.float64] | None, high: NDArray[np.float64] | None
) -> NDArray[np.float64] | None:
    if low is None or high is None:
        return None
    lo = np.clip(values - low, 0, None)
    hi = np.clip(high - values, 0, None)
    return np.nan_to_num(np.vstack([lo, hi]))


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
    ax: Any,
    y: NDArray[Any],
    values: NDArray[np.float64],
    low: NDArray[np.float64] | None,
    high: NDArray[np.float64] | None,
) -> None:
    ax.barh(
        y,
        values,
        xerr=_errorbars(values, low, high),
        color="#5b7bc0",
        ecolor="#223",
        capsize=3,
    )


def breakdown(
    result: Any,
    *,
    ax: Any = None,
    value: str | None = None,
    label: str | None = None,
    title: str | None = None,
    sort: bool = True,
) -> Any:
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
    ax.set_xlabel(value)
    ax.set_ylabel(label)
    ax.axvline(0, color="#888", linewidth=0.8)
    default = getattr(result, "title", "") or f"{value} by {label}"
    ax.set_title(title if title is not None else default)
    return ax


def funnel_bars(
    funnel: Any,
    *,
    ax: Any = None,
    title: str | None = None,
    confidence_level: float = 0.95,
) -> Any:
    """Funnel bars: share of the first step reaching each step, with confidence intervals.

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

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = funnel_bars({"step": ["visit", "cart", "buy"], "reached": [100, 40, 10]})
    >>> ax.get_title()
    'Funnel'
    """
    from touchpoint._lib.stats import proportion_ci
    from touchpoint.funnels import Funnel

    if isinstance(funnel, Funnel):  # its table at the requested confidence level
        cols = funnel.to_table(confidence_level=confidence_level).to_dict()
    else:
        cols = _table_columns(funnel)
    if "segment" in cols:  # a funnel by segment: the overall bars only
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
    ax = _axes(ax, (7.0, max(2.5, 0.5 * len(steps) + 1.2)))
    y = np.arange(len(steps))[::-1]
    _barh(ax, y, share, low, high)
    for yi, c, sh in zip(y.tolist(), counts.tolist(), share.tolist(), strict=True):
        ax.text(
            min(sh, 1.0) + 0.02, yi + 0.22, f"{c:,.0f} ({100 * sh:.1f}%)", va="center", fontsize=8
        )
    ax.set_yticks(y, labels=steps)
    ax.set_xlim(0, 1.25)
    ax.set_xlabel(f"share of the first step (error bars: {100 * confidence_level:.0f}% CI)")
    ax.set_title(title if title is not None else "Funnel")
    return ax


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


def attribution_bars(
    result: Any,
    *,
    ax: Any = None,
    value: str | None = None,
    label: str | None = None,
    title: str | None = None,
    drop_zero: bool = True,
) -> Any:
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
    ax = _axes(ax, (max(6.0, 0.5 * len(labs) * max(k, 1) + 2.5), 4.2))
    x = np.arange(len(labs))
    width = 0.8 / k
    for i, c in enumerate(numeric):
        vals = np.asarray(cols[c], dtype=float)[keep]
        low, high = _ci_cols({n: np.asarray(v)[keep] for n, v in cols.items()}, c)
        ax.bar(
            x + (i - (k - 1) / 2) * width,
            vals,
            width=width,
            label=c,
            yerr=_errorbars(vals, low, high),
            capsize=2,
        )
    ax.set_xticks(x, labels=labs, rotation=35 if len(labs) > 5 else 0, ha="right")
    ax.set_xlabel(label)
    ax.set_ylabel("credit" if k > 1 else numeric[0])
    ax.axhline(0, color="#888", linewidth=0.8)
    if k > 1:
        ax.legend(fontsize=8)
    ax.set_title(title if title is not None else default_title)
    return ax


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
