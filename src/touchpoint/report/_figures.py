"""The HTML report's figures (internal): drawn with :mod:`touchpoint.plot`, embedded as SVG.

Figures are drawn on ``matplotlib.figure.Figure`` objects, never through
pyplot, so building a report needs no GUI backend and leaves no open figures.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from touchpoint.plot import (
    attribution_bars,
    breakdown,
    figure_svg,
    funnel_bars,
    journey_graph,
    transition_heatmap,
)
from touchpoint.report._base import Section

if TYPE_CHECKING:
    from touchpoint.core._journey import Journey
    from touchpoint.report._base import ReportContext

__all__ = ["report_figures", "section_figures"]


def _new_axes(figsize: tuple[float, float]) -> Any:
    """Axes on a figure not managed by pyplot (no GUI backend, safe in servers and CLIs)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").subplots()


def report_figures(ctx: Any) -> list[tuple[str, str]]:
    """The HTML report's figures as ``(caption, inline svg)`` pairs.

    Used by :func:`touchpoint.report.build_report` when matplotlib is installed.
    """
    from touchpoint.core._journey import Journey

    log = ctx.log
    out: list[tuple[str, str]] = []
    observed = Journey.from_events(log, design=ctx.design)
    n_stages = max(len(observed.stages), 1)
    ax = _new_axes((max(8.0, 1.9 * n_stages), 5.5))
    journey_graph(observed, ax=ax, min_probability=0.05, title="Observed journey")
    out.append(
        (
            "Observed journey: touchpoints in one column per stage; edge width is the "
            "transition probability (edges below 5% hidden).",
            figure_svg(ax),
        )
    )
    k = log.n_touchpoints
    ax = _new_axes((max(5.0, 0.4 * k + 3), max(4.0, 0.4 * k + 1.5)))
    transition_heatmap(log, ax=ax)
    out.append(
        ("Transition probabilities between consecutive touchpoints (row: from).", figure_svg(ax))
    )
    design = ctx.design if ctx.design is not None else log.design
    if design is not None and any(design.touchpoints_in(st) for st in design.stages):
        from touchpoint.funnels._funnel import funnel

        staged = log if log.design is not None else _with_design(log, design)
        f = funnel(staged)
        ax = _new_axes((7.5, 0.5 * len(f.steps) + 1.6))
        funnel_bars(f, ax=ax, title="Funnel by stage")
        out.append(
            (
                "Journeys reaching each stage in order, as a share of the first stage "
                "(95% Wilson intervals).",
                figure_svg(ax),
            )
        )
    if log.outcome is not None or log.conversions:
        from touchpoint.markov._attribution import removal_effects
        from touchpoint.markov._model import fit_markov

        effects = removal_effects(fit_markov(log))
        if len(effects.names):
            ax = _new_axes((max(6.0, 0.5 * len(effects.names) + 2.5), 4.2))
            attribution_bars(effects, ax=ax)
            out.append(
                (
                    "Removal effects: the share of conversions lost if the touchpoint were "
                    "removed (first-order Markov model).",
                    figure_svg(ax),
                )
            )
    surveys = ctx.responses
    if surveys is not None and "csat" in surveys.columns:
        from touchpoint.metrics import breakdown as metric_breakdown

        by = "channel" if "channel" in surveys.columns else "touchpoint"
        if by in surveys.columns:
            table = metric_breakdown(surveys, metric="csat", by=by, design=design)
            if len(table):
                ax = _new_axes((7.0, 0.35 * len(table) + 1.6))
                breakdown(table, ax=ax)
                out.append(
                    (
                        f"CSAT (share answering 4-5) by {by}, with 95% Wilson intervals.",
                        figure_svg(ax),
                    )
                )
    return out


def _with_design(log: Any, design: Journey) -> Any:
    """``log`` with ``design`` attached when every touchpoint of the log is in it."""
    from touchpoint.core._eventlog import _replace_design

    if not all(t in design for t in log.touchpoint_names):
        return log
    return _replace_design(log, design)


def section_figures(ctx: ReportContext) -> Section | None:
    """Figures (HTML only): journey graph and transition heatmap, when matplotlib is installed."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None or ctx.log.n_events == 0:
        return None
    figures = report_figures(ctx)
    if not figures:
        return None
    body = "".join(
        f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, svg in figures
    )
    return Section(title="Figures", text="", html=body)
