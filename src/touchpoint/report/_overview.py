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

__all__ = ["section_overview", "section_paths", "section_segments", "section_transitions"]


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


def section_segments(ctx: ReportContext) -> Section | None:
    """Journeys and conversion by segment: every extra column with 2 to 12 values.

    Columns the user keeps (``--extra income``) segment the journeys; each group's
    conversion rate has its 95% Wilson interval.
    """
    from touchpoint._lib.stats import proportion_ci
    from touchpoint.report._shared import segment_columns

    log = ctx.log
    cols = segment_columns(log)
    if not cols or log.n_journeys == 0:
        return None
    conv = np.asarray(log.converted(), dtype=bool) if has_conversions(ctx) else None
    rows: list[list[Any]] = []
    bars: list[tuple[str, float, float, float]] = []  # label, rate, low, high
    for col in cols:
        vals = np.asarray([str(v) for v in log.journey_column(col).tolist()], dtype=object)
        groups, codes = np.unique(vals, return_inverse=True)
        n = np.bincount(codes, minlength=len(groups))
        row0: list[list[Any]] = [
            [col, g, int(k), k / log.n_journeys]
            for g, k in zip(groups.tolist(), n.tolist(), strict=True)
        ]
        if conv is not None:
            won = np.bincount(codes, weights=conv, minlength=len(groups)).astype(np.int64)
            for r, k, m in zip(row0, won.tolist(), n.tolist(), strict=True):
                lo, hi = proportion_ci(np.array([k]), m, 0.95, "wilson")
                r += [k / m, f"{pct(float(lo[0]))} to {pct(float(hi[0]))}"]
                bars.append((f"{col}={r[1]}", k / m, float(lo[0]), float(hi[0])))
        rows.extend(row0)
    headers = ["segment", "group", "journeys", "share of journeys"]
    if conv is not None:
        headers += ["conversion rate", "conversion 95% CI"]
    note = (
        "Journeys by segment (the group of a journey's first event); conversion rates "
        "with 95% Wilson intervals."
    )
    from touchpoint.report._figures import interval_figure

    figure = interval_figure(
        ctx,
        bars,
        xlabel="conversion rate (95% Wilson CI)",
        caption="Conversion rate by segment, the rows of the table, with 95% Wilson "
        "intervals; the dashed line is the overall rate.",
        reference=float(conv.mean()) if conv is not None else None,
    )
    return Section.from_table(
        "Conversion by segment", headers, rows, note=note, figures=[figure] if figure else []
    )


def _paths_to_conversion(ctx: ReportContext) -> list[tuple[str, ...]]:
    """Each converted journey's touchpoints up to and including its first conversion."""
    from touchpoint.core._conversion import first_conversion

    log = ctx.log
    first = first_conversion(log)
    names = log.touchpoint_names
    codes = log.touchpoint.tolist()
    offsets = log.offsets.tolist()
    conv = np.asarray(log.converted(), dtype=bool)
    out = []
    for j in np.flatnonzero(conv).tolist():
        end = first[j] + 1 if first[j] >= 0 else offsets[j + 1]  # journey-level outcome
        out.append(tuple(names[c] for c in codes[offsets[j] : end]))
    return out


def section_paths(ctx: ReportContext) -> Section:
    """The most frequent paths and, beside them, the most frequent paths to a conversion.

    The first table is :meth:`Paths.most_common <touchpoint.core._paths.Paths.most_common>`
    of ``log.paths()``, the API's definition; the second cuts each converted journey at
    its first conversion, so what came after (onboarding, support) does not split
    paths that converted the same way. Neither has a conversion-rate column: a
    whole journey's path already says whether it converted.
    """
    log = ctx.log
    n = log.n_journeys
    top = log.paths().most_common(ctx.top)
    note = (
        "A path is a journey's touchpoints in order, repeats included (log.paths().most_common())."
    )
    rows = [[format_path(p), k, k / max(n, 1)] for p, k in top]
    h_all = ["path", "journeys", "share of journeys"]
    if not has_conversions(ctx):
        return Section.from_table("Paths", h_all, rows, note=note, caption="Most frequent paths")
    won = Counter(_paths_to_conversion(ctx))
    total_won = sum(won.values())
    rows_won = [[format_path(p), k, k / max(total_won, 1)] for p, k in won.most_common(ctx.top)]
    h_won = ["path to conversion", "conversions", "share of conversions"]
    note += (
        " Paths to conversion: each converted journey up to and including its first "
        "conversion event."
    )
    text = "\n\n".join(
        [
            note,
            "Most frequent paths\n" + format_text(h_all, rows),
            "Most frequent paths to conversion\n" + format_text(h_won, rows_won),
        ]
    )
    body = (
        f'<p>{html.escape(note)}</p><div class="pair"><div>'
        + format_html(h_all, rows, caption="Most frequent paths")
        + "</div><div>"
        + format_html(h_won, rows_won, caption="Most frequent paths to conversion")
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
