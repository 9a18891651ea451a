"""Report sections on the log itself: overview, paths, transitions."""

from __future__ import annotations

import html
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib.format import format_cell
from touchpoint._lib.frames import format_path
from touchpoint.report._base import Section, pct
from touchpoint.report._shared import conversion, has_conversions
from touchpoint.table import format_html, format_text

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext

__all__ = ["section_overview", "section_paths", "section_transitions"]


def section_overview(ctx: ReportContext) -> Section:
    """Events, journeys, touchpoints by stage, conversion rate, validation."""
    log = ctx.log
    design = ctx.design if ctx.design is not None else log.design
    lines = [
        ("events", f"{log.n_events:,}"),
        ("journeys", f"{log.n_journeys:,}"),
        ("touchpoints", f"{log.n_touchpoints:,}"),
        ("time range", log._time_range()),
    ]
    c = conversion(ctx)
    if c is not None:
        lines.append(("conversion", log.conversion_rule))
        lines.append(
            (
                "conversion rate",
                f"{pct(c.rate)} (95% CI {pct(c.low)} to {pct(c.high)}, "
                f"{c.converted:,} of {c.journeys:,} journeys)",
            )
        )
        if log.outcome is not None:
            lines.append(("total value", format_cell(float(np.nansum(log.outcome)))))
    lines.append(("validation", str(log.validation)))
    counts = np.bincount(log.touchpoint, minlength=log.n_touchpoints)
    rows: list[list[Any]] = []
    for code, name in enumerate(log.touchpoint_names):
        stage = channel = ""
        if design is not None and name in design:
            t = design.touchpoint(name)
            stage, channel = t.stage or "", t.channel or ""
        rows.append([name, stage, channel, int(counts[code])])
    if design is not None:
        order = {s.name: s.order for s in design.stages}
        rows.sort(key=lambda r: (order.get(r[1], 99), -r[3]))
    else:
        rows.sort(key=lambda r: -r[3])
    text = "\n".join(f"{k:<16}{v}" for k, v in lines)
    kv = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in lines)
    headers = ["touchpoint", "stage", "channel", "events"]
    return Section(
        title="Overview",
        text=text + "\n\n" + format_text(headers, rows),
        html='<div class="pair"><div>'
        f'<table class="facts"><tbody>{kv}</tbody></table></div><div>'
        + format_html(headers, rows, caption="Touchpoints")
        + "</div></div>",
    )


def _collapsed_paths(ctx: ReportContext) -> list[tuple[str, ...]]:
    """Each journey's path with consecutive repeats of one touchpoint merged."""
    return [tuple(t for i, t in enumerate(p) if i == 0 or t != p[i - 1]) for p in ctx.log.paths()]


def section_paths(ctx: ReportContext) -> Section:
    """The most frequent paths and, beside them, the paths that convert most often."""
    paths = _collapsed_paths(ctx)
    n = len(paths)
    counts = Counter(paths)
    top = counts.most_common(ctx.top)
    note = (
        "A path is a journey's touchpoints in order; consecutive repeats of one touchpoint "
        "count once (product_page > product_page is product_page)."
    )
    if not has_conversions(ctx):
        rows = [[format_path(p), k, k / n] for p, k in top]
        return Section.from_table(
            "Paths", ["path", "journeys", "share"], rows, note=note, caption="Most frequent paths"
        )
    conv = np.asarray(ctx.log.converted(), dtype=bool).tolist()
    won = Counter(p for p, c in zip(paths, conv, strict=True) if c)
    total_won = sum(won.values())
    rows_all = [[format_path(p), k, k / n, won.get(p, 0) / k] for p, k in top]
    rows_won = [
        [format_path(p), k, k / max(total_won, 1), k / counts[p]]
        for p, k in won.most_common(ctx.top)
    ]
    h_all = ["path", "journeys", "share", "conversion rate"]
    h_won = ["path", "conversions", "share of conversions", "conversion rate"]
    text = "\n\n".join(
        [
            note,
            "Most frequent paths\n" + format_text(h_all, rows_all),
            "Paths with the most conversions\n" + format_text(h_won, rows_won),
        ]
    )
    body = (
        f'<p>{html.escape(note)}</p><div class="pair"><div>'
        + format_html(h_all, rows_all, caption="Most frequent paths")
        + "</div><div>"
        + format_html(h_won, rows_won, caption="Paths with the most conversions")
        + "</div></div>"
    )
    return Section(title="Paths", text=text, html=body)


def section_transitions(ctx: ReportContext) -> Section:
    """The busiest moves between touchpoints; repeats of one touchpoint shown apart."""
    from touchpoint.report._figures import heatmap_figure

    log = ctx.log
    a, b = log.transition_pairs()
    k = log.n_touchpoints
    pair = a.astype(np.int64) * k + b
    counts = np.bincount(pair, minlength=k * k)
    events_of = np.bincount(log.touchpoint, minlength=k)  # the rest of them ended the journey
    loops = np.arange(k) * (k + 1)
    moves = counts.copy()
    moves[loops] = 0
    top = np.argsort(-moves, kind="stable")[: ctx.top]
    names = log.touchpoint_names
    rows = [
        [names[c // k], names[c % k], int(moves[c]), moves[c] / max(events_of[c // k], 1)]
        for c in top.tolist()
        if moves[c] > 0
    ]
    repeats = counts[loops]
    rep_order = np.argsort(-repeats, kind="stable")[: min(ctx.top, 5)]
    rep_rows = [
        [names[i], int(repeats[i]), repeats[i] / max(events_of[i], 1)]
        for i in rep_order.tolist()
        if repeats[i] > 0
    ]
    note = (
        "Share of from: the share of all events at 'from' followed by 'to' (journeys that "
        "ended at 'from' count in the denominator). A touchpoint followed by itself is a "
        "repeat, listed apart."
    )
    h_moves = ["from", "to", "transitions", "share of from"]
    h_rep = ["touchpoint", "repeats", "share of its events"]
    text = note + "\n\nBusiest transitions\n" + format_text(h_moves, rows)
    body = f"<p>{html.escape(note)}</p>" + format_html(h_moves, rows, caption="Busiest transitions")
    if rep_rows:
        text += "\n\nRepeats\n" + format_text(h_rep, rep_rows)
        body += format_html(h_rep, rep_rows, caption="Repeats")
    section = Section(title="Transitions", text=text, html=body)
    return section.with_figures(heatmap_figure(ctx))
