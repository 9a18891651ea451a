"""The HTML report's figures (internal): drawn with :mod:`touchpoint.plot`, embedded as SVG.

Each figure belongs to a section and is shown beside its table: the funnel
chart next to the funnel table (drawn from the *same* funnel), the heatmap
next to the transitions, the removal effects next to the attribution, CSAT by
channel next to the CX table; the journey map has a section of its own, with
the interactive Sankey below it when plotly is installed.

Figures are drawn on ``matplotlib.figure.Figure`` objects, never through
pyplot, so building a report needs no GUI backend and leaves no open figures.
Every builder returns None when figures are off (``figures=False`` or no
matplotlib).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from touchpoint.report._base import Figure, Section

if TYPE_CHECKING:
    from touchpoint.funnels import Funnel
    from touchpoint.report._base import ReportContext
    from touchpoint.report._shared import DropOffFindings

__all__ = [
    "csat_figure",
    "dropoff_figure",
    "funnel_figure",
    "heatmap_figure",
    "interval_figure",
    "removal_figure",
    "section_journey_map",
]

#: Width of a figure shown beside a table (inches); the page scales it to its column.
SIDE = 6.4


def _new_axes(figsize: tuple[float, float]) -> Any:
    """Axes on a figure not managed by pyplot (no GUI backend, safe in servers and CLIs)."""
    from matplotlib.figure import Figure as MplFigure

    return MplFigure(figsize=figsize, layout="constrained").subplots()


def _svg(ax: Any) -> str:
    from touchpoint.plot import figure_svg

    return figure_svg(ax)


def section_journey_map(ctx: ReportContext) -> Section | None:
    """The observed journey graph (by stage, or by typical step without a design)."""
    if not ctx.figures or ctx.log.n_events == 0:
        return None
    from touchpoint.core import Journey
    from touchpoint.plot import journey_graph, journey_size, step_positions

    log = ctx.log
    observed = Journey.from_events(log, design=ctx.design)
    steps = step_positions(log)
    ax = _new_axes(journey_size(observed, steps))
    from touchpoint.report._shared import key_touchpoint_rows

    keys = [str(next(iter(r.values()))) for r in key_touchpoint_rows(ctx)]
    journey_graph(
        observed,
        ax=ax,
        min_probability=0.05,
        edge_labels=True,
        title="",
        steps=steps,
        highlight=keys,
        highlight_label="key touchpoint",
    )
    by = "stage" if ctx.design is not None and ctx.design.stages else "typical step"
    figures = [
        Figure(
            caption=f"The observed journey, one column per {by}"
            + (
                " (the median position of a touchpoint's events in their journeys)"
                if by == "typical step"
                else ""
            )
            + ". Node area: traffic. Coloured: the key touchpoints of the key findings "
            "(largest removal effects). Edge width and labels: the share of a touchpoint's "
            "next steps going "
            "there (below 5% hidden; labels where they fit); ↻ marks the share that repeats "
            "the touchpoint.",
            html=_svg(ax),
            wide=True,
        )
    ]
    if ctx.interactive:
        from touchpoint.report._interactive import journey_sankey_html

        sankey = journey_sankey_html(log)
        if sankey is not None:
            figures.append(
                Figure(
                    caption="Interactive: the first five steps of every journey (repeats of a "
                    "touchpoint collapsed) and how journeys ended, in the right column: "
                    + (
                        "converted (green) or left without converting (red), within these "
                        "steps (dark) or later (light)"
                        if log.outcome is not None or log.conversions
                        else "ended within these steps or went on (grey)"
                    )
                    + ". Hover for names and counts; drag nodes.",
                    html=sankey,
                    interactive=True,
                )
            )
    return Section(title="Journey map", text="", html="", figures=tuple(figures))


def heatmap_figure(ctx: ReportContext) -> Figure | None:
    """Transition probabilities between consecutive touchpoints."""
    if not ctx.figures or ctx.log.n_events == 0:
        return None
    from touchpoint.plot import transition_heatmap

    k = ctx.log.n_touchpoints
    ax = _new_axes((SIDE, max(3.5, 0.3 * k + 1.8)))
    transition_heatmap(ctx.log, ax=ax, title="")
    return Figure(
        caption="Transition probabilities between consecutive touchpoints (row: from, "
        "column: to); the diagonal is a touchpoint repeating.",
        html=_svg(ax),
    )


def funnel_figure(ctx: ReportContext, funnel: Funnel) -> Figure | None:
    """The funnel chart of exactly the funnel the table shows."""
    if not ctx.figures:
        return None
    from touchpoint.plot import funnel_bars

    ax = _new_axes((SIDE, 0.45 * len(funnel.steps) + 1.5))
    funnel_bars(funnel, ax=ax, title="")
    return Figure(
        caption="Journeys reaching each stage in order, as a share of the first stage "
        "shown in the table (95% Wilson intervals).",
        html=_svg(ax),
    )


def removal_figure(ctx: ReportContext) -> Figure | None:
    """Removal effects of the touchpoints with any effect."""
    if not ctx.figures:
        return None
    from touchpoint.plot import attribution_bars
    from touchpoint.report._shared import removal

    effects = removal(ctx)
    if effects is None or not len(effects.table):
        return None
    n = int((effects.table["removal_effect"] > 0).sum())
    ax = _new_axes((SIDE, 0.3 * max(n, 1) + 1.5))
    attribution_bars(effects, ax=ax, title="")
    return Figure(
        caption="Removal effect: the share of conversions lost if the touchpoint were "
        "removed (first-order Markov model).",
        html=_svg(ax),
    )


def csat_figure(ctx: ReportContext) -> Figure | None:
    """CSAT by touchpoint with intervals: the same groups as the CX table beside it."""
    surveys = ctx.responses
    if not ctx.figures or surveys is None or "csat" not in surveys.columns:
        return None
    from touchpoint.exceptions import TouchpointError
    from touchpoint.metrics import breakdown as metric_breakdown
    from touchpoint.plot import breakdown

    by = "touchpoint" if "touchpoint" in surveys.columns else "channel"
    if by not in surveys.columns:
        return None
    try:
        table = metric_breakdown(surveys, metric="csat", by=by, design=ctx.design)
    except TouchpointError:
        return None
    if not len(table):
        return None
    ax = _new_axes((SIDE, 0.28 * len(table) + 1.5))
    breakdown(table, ax=ax, title="")
    return Figure(
        caption=f"CSAT (share answering 4 or 5) by {by}, the rows of the table, with 95% "
        "Wilson intervals.",
        html=_svg(ax),
    )


def dropoff_figure(ctx: ReportContext, d: DropOffFindings) -> Figure | None:
    """The weekly step conversion of every group of the first finding's segment column.

    Drawn from the same test rows as the Drop-offs table and the key finding, with
    the same chart kit as :meth:`touchpoint.DropOffs.plot`; the flagged weeks
    (q <= 5%) are ringed.
    """
    quoted = d.quoted()
    if not ctx.figures or not quoted:
        return None
    from touchpoint._lib.charts import weekly_lines, weekly_series

    first = quoted[0]
    same = (first["previous"], first["step"], first["segment"])
    rows = [
        t | {"flagged": t["qvalue"] <= 0.05}
        for t in d.tests
        if (t["previous"], t["step"], t["segment"]) == same
    ]
    periods, rates, flagged = weekly_series(rows)
    ax = _new_axes((SIDE, 3.6))
    weekly_lines(
        periods, rates, flagged=flagged, ax=ax, ylabel=f"{first['previous']} > {first['step']}"
    )
    return Figure(
        caption=f"Weekly conversion from {first['previous']} to {first['step']} (the next "
        f"event) by {first['segment']}; ringed: weeks flagged in the table (q <= 5%).",
        html=_svg(ax),
    )


def interval_figure(
    ctx: ReportContext,
    bars: Sequence[tuple[str, float, float, float]],
    *,
    xlabel: str,
    caption: str,
    percent: bool = True,
    reference: float | None = None,
) -> Figure | None:
    """Bars of ``(label, value, low, high)`` rows with their intervals (chart kit's
    :func:`~touchpoint._lib.charts.credit_bars`), in the table's order."""
    if not ctx.figures or not bars:
        return None
    import numpy as np

    from touchpoint._lib.charts import credit_bars

    ax = _new_axes((SIDE, 0.3 * len(bars) + 1.4))
    credit_bars(
        [b[0] for b in bars],
        np.array([b[1] for b in bars]),
        low=np.array([b[2] for b in bars]),
        high=np.array([b[3] for b in bars]),
        ax=ax,
        xlabel=xlabel,
        percent=percent,
    )
    if reference is not None:
        ax.axvline(reference, color="#c0392b", ls="--", lw=1)
    return Figure(caption=caption, html=_svg(ax))
