"""The funnel chart, drawn once (matplotlib, imported lazily).

:func:`touchpoint.plot.funnel_bars` and :meth:`touchpoint.Funnel.plot` both draw
through these functions, so a funnel looks the same however it is asked for:
horizontal bars of the share of the first step reaching each step, with their
intervals, labelled with the count and the share, on an axis that stops at 100%.
(The funnels family cannot import :mod:`touchpoint.plot`, which sits above it.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "BAR",
    "credit_bars",
    "dropoff_chart",
    "errorbars",
    "funnel_chart",
    "funnel_segments_chart",
    "heatmap",
    "new_axes",
    "plain_text",
    "weekly_lines",
    "weekly_series",
]

BAR = "#5b7bc0"

P = ParamSpec("P")
R = TypeVar("R")


def plain_text(func: Callable[P, R]) -> Callable[P, R]:
    """Draw with matplotlib's mathtext off: a ``$`` in a touchpoint or segment name is
    printed as is (``"$\\frac{a}{$"`` would otherwise be parsed, and fail, when drawn).

    The texts the function adds to the Axes it returns (tick labels included) keep
    mathtext off when the figure is drawn later, outside this context; the user's
    own earlier texts on the same Axes are left alone.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib as mpl
        from matplotlib.text import Text

        given: Any = kwargs.get("ax")
        before = {id(t) for t in given.findobj(Text)} if given is not None else set()
        with mpl.rc_context({"text.parse_math": False}):
            out = func(*args, **kwargs)
        findobj = getattr(out, "findobj", None)
        if findobj is not None:
            axes: Any = out
            ours = [*axes.xaxis.get_ticklabels(which="both"), axes.xaxis.label]
            ours += [*axes.yaxis.get_ticklabels(which="both"), axes.yaxis.label, axes.title]
            ticks = {id(t) for t in ours}
            for t in findobj(Text):
                if id(t) not in before or id(t) in ticks:
                    t.set_parse_math(False)
        return out

    return wrapper


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or axes on a new pyplot figure of ``figsize`` (constrained layout)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def errorbars(
    values: NDArray[np.float64], low: NDArray[np.float64] | None, high: NDArray[np.float64] | None
) -> NDArray[np.float64] | None:
    """Asymmetric error-bar lengths for matplotlib from interval bounds (None without them)."""
    if low is None or high is None:
        return None
    lo = np.clip(values - low, 0, None)
    hi = np.clip(high - values, 0, None)
    return np.nan_to_num(np.vstack([lo, hi]))


@plain_text
def funnel_chart(
    steps: Sequence[str],
    counts: NDArray[np.float64],
    share: NDArray[np.float64],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    *,
    ax: Axes | None = None,
    title: str = "Funnel",
    confidence_level: float = 0.95,
) -> Axes:
    """Bars of ``share`` (of the first step) per step with ``[low, high]`` intervals."""
    from matplotlib.ticker import PercentFormatter

    ax = new_axes(ax, (6.5, max(2.5, 0.45 * len(steps) + 1.3)))
    y = np.arange(len(steps))[::-1]
    ax.barh(y, share, xerr=errorbars(share, low, high), color=BAR, ecolor="#223", capsize=3)
    for yi, c, sh, hi in zip(
        y.tolist(), counts.tolist(), share.tolist(), high.tolist(), strict=True
    ):
        text = f"{c:,.0f} ({100 * sh:.1f}%)"
        if sh >= 0.45:  # inside the bar, white on blue
            ax.text(sh / 2, yi, text, va="center", ha="center", fontsize=8, color="white")
        else:
            ax.text(min(max(hi, sh) + 0.015, 0.8), yi, text, va="center", fontsize=8)
    ax.set_yticks(y, labels=list(steps))
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"share of the first step reaching each step ({100 * confidence_level:.0f}% CI)")
    ax.set_title(title)
    return ax


@plain_text
def funnel_segments_chart(
    steps: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    title: str = "Funnel by segment",
    legend_title: str = "segment",
) -> Axes:
    """Grouped bars: each segment's share of its own first step, per step."""
    from matplotlib.ticker import PercentFormatter

    m = max(len(shares), 1)
    ax = new_axes(ax, (6.5, max(2.5, (0.25 * m + 0.2) * len(steps) + 1.5)))
    y = np.arange(len(steps))[::-1].astype(float)
    h = 0.8 / m
    for i, (seg, vals) in enumerate(shares.items()):
        ax.barh(y + 0.4 - h / 2 - i * h, list(vals), height=h, label=seg)
    ax.set_yticks(y, labels=list(steps))
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the segment's first step reaching each step")
    ax.legend(title=legend_title, fontsize=8)
    ax.set_title(title)
    return ax


def monitor_chart(
    table: Mapping[str, Any],
    *,
    metric: str,
    alpha: float,
    baseline: tuple[float, float] | None,
    alarm_look: int | None,
    direction: str | None,
    ax: Axes | None = None,
) -> Axes:
    """A monitor's looks (``look``, ``rate``, ``estimate``, ``low``, ``high`` columns).

    Points: each look's own value; band and line: the confidence sequence and the
    estimate so far; dashed lines: the baseline's range; red line: the alarm.
    """
    ax = new_axes(ax, (8.0, 3.6))
    x = np.asarray(table["look"], dtype=np.float64)
    ax.fill_between(
        x,
        table["low"],
        table["high"],
        color=BAR,
        alpha=0.25,
        linewidth=0,
        label="confidence sequence",
    )
    ax.plot(x, table["estimate"], color="#3b5ba5", linewidth=1.5, label="estimate so far")
    ax.plot(x, table["rate"], "o", color="#555555", markersize=2.5, label="each look")
    for y in baseline or ():
        ax.axhline(y, color="#888888", linestyle="--", linewidth=0.8)
    if alarm_look is not None:
        ax.axvline(
            alarm_look,
            color="#c0392b",
            linewidth=1.2,
            label=f"alarm (look {alarm_look}, {direction})",
        )
    ax.set_xlabel("look")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: {1 - alpha:.0%} confidence sequence")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax


@plain_text
def weekly_lines(
    periods: Sequence[str],
    rates: Mapping[str, Sequence[float]],
    *,
    flagged: Mapping[str, Sequence[str]] | None = None,
    ax: Axes | None = None,
    title: str = "",
    ylabel: str = "conversion",
) -> Axes:
    """One line per group of a rate by period; flagged periods marked with a red ring.

    ``rates[group][i]`` is the group's rate in ``periods[i]`` (NaN: not measured).
    """
    from matplotlib.ticker import PercentFormatter

    ax = new_axes(ax, (6.5, 3.4))
    x = np.arange(len(periods))
    marked = False
    for group, vals in rates.items():
        y = np.asarray(vals, dtype=np.float64)
        ax.plot(x, y, marker="o", ms=3, lw=1.4, label=str(group))
        hit = [i for i, p in enumerate(periods) if p in set((flagged or {}).get(group, ()))]
        if hit:
            ax.scatter(
                x[hit], y[hit], s=70, facecolors="none", edgecolors="#c0392b", lw=1.6, zorder=3
            )
            marked = True
    if marked:
        ax.scatter(
            [], [], s=70, facecolors="none", edgecolors="#c0392b", lw=1.6, label="flagged week"
        )
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step], labels=[str(p) for p in periods][::step], rotation=30, ha="right")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(ylabel)
    ax.set_xlabel("week")
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(title)
    ax.grid(axis="y", color="#e3e6ee", lw=0.6)
    return ax


def weekly_series(
    tests: Sequence[Mapping[str, Any]],
) -> tuple[list[str], dict[str, list[float]], dict[str, list[str]]]:
    """Periods, each group's rate per period and its flagged periods, from test rows."""
    periods = sorted({str(r["period"]) for r in tests})
    at = {p: i for i, p in enumerate(periods)}
    rates: dict[str, list[float]] = {}
    flagged: dict[str, list[str]] = {}
    for r in tests:
        g = str(r["group"])
        rates.setdefault(g, [float("nan")] * len(periods))[at[str(r["period"])]] = float(r["rate"])
        if r.get("flagged"):
            flagged.setdefault(g, []).append(str(r["period"]))
    return periods, rates, flagged


@plain_text
def credit_bars(
    labels: Sequence[str],
    values: NDArray[np.float64],
    *,
    low: NDArray[np.float64] | None = None,
    high: NDArray[np.float64] | None = None,
    ax: Axes | None = None,
    xlabel: str = "",
    title: str = "",
    percent: bool = True,
) -> Axes:
    """Horizontal bars, largest on top, with optional intervals (credit, removal effects)."""
    from matplotlib.ticker import PercentFormatter

    ax = new_axes(ax, (6.5, max(2.5, 0.3 * len(labels) + 1.3)))
    y = np.arange(len(labels))[::-1].astype(float)
    ax.barh(y, values, xerr=errorbars(values, low, high), color=BAR, ecolor="#223", capsize=3)
    ax.set_yticks(y, labels=list(labels))
    ax.axvline(0, color="#888", linewidth=0.8)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return ax


def dropoff_chart(
    result: Any, *, step: str | None = None, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """:func:`weekly_lines` of a ``DropOffs`` result (its ``tests`` rows) for one step."""
    from touchpoint.exceptions import ValidationError

    rows = result.tests.to_records()
    steps = [str(r["step"]) for r in rows]
    if step is None:
        step = str(result.dropoffs[0].step) if len(result) else (steps[0] if steps else "")
    elif step not in steps:
        msg = f"step {step!r} was not tested; the tested steps are {sorted(set(steps))}."
        raise ValidationError(msg)
    found = {(str(d.step), str(d.group), str(d.period)) for d in result.dropoffs}
    mine = [
        r | {"flagged": (step, str(r["group"]), str(r["period"])) in found}
        for r in rows
        if str(r["step"]) == step
    ]
    periods, rates, flagged = weekly_series(mine)
    return weekly_lines(
        periods,
        rates,
        flagged=flagged,
        ax=ax,
        title=title if title is not None else f"Conversion to {step} by period",
        ylabel=f"conversion to {step}",
    )


@plain_text
def heatmap(
    names: Sequence[str],
    matrix: NDArray[np.float64],
    *,
    ax: Axes | None = None,
    normalize: bool = True,
    annotate: bool | None = None,
    cmap: str = "Blues",
    title: str = "Transitions",
) -> Axes:
    """Transition shares (or counts) from row to column, annotated when small."""
    k = len(names)
    # at most 8 x 7.5 in: an 800 px page shows it at about its natural size
    ax = new_axes(ax, (min(8.0, max(4.0, 0.3 * k + 2.5)), min(7.5, max(3.5, 0.3 * k + 1.5))))
    im = ax.imshow(matrix, cmap=cmap, aspect="auto", vmin=0.0)
    ax.set_xticks(range(k), labels=list(names), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels=list(names), fontsize=8)
    ax.set_xlabel("next touchpoint (to)")
    ax.set_ylabel("touchpoint (from)")
    if annotate is None:
        annotate = k <= 15
    if annotate and k:
        hi = float(matrix.max()) or 1.0
        for i in range(k):
            for j in range(k):
                v = float(matrix[i, j])
                if v:
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}" if normalize else f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v > hi / 2 else "black",
                    )
    ax.figure.colorbar(
        im, ax=ax, label="share of next steps" if normalize else "transitions", shrink=0.8
    )
    ax.set_title(title)
    return ax
