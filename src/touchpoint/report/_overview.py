"""Report sections on the log itself: overview, top paths, busiest transitions."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib.stats import proportion_ci
from touchpoint.report._base import Section, pct
from touchpoint.table import format_html, format_text

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext

__all__ = ["section_overview", "section_paths", "section_transitions"]


def _wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval of the overall conversion rate (NaN for no journeys)."""
    if n == 0:
        return (float("nan"), float("nan"))
    lo, hi = proportion_ci(successes, n, 0.95, "wilson")
    return (float(lo), float(hi))


def section_overview(ctx: ReportContext) -> Section:
    """Events, journeys, touchpoints by stage, conversion rate, validation."""
    log = ctx.log
    design = ctx.design if ctx.design is not None else log.design
    lines = [
        ("events", f"{log.n_events:,}"),
        ("journeys", f"{log.n_journeys:,}"),
        ("touchpoints", f"{log.n_touchpoints}"),
        ("time range", log._time_range()),
    ]
    if log.outcome is not None or log.conversions:
        conv = log.converted()
        k = int(conv.sum())
        lo, hi = _wilson(k, log.n_journeys)
        lines.append(("conversion", log.conversion_rule))
        lines.append(
            (
                "conversion rate",
                f"{pct(k / max(log.n_journeys, 1))} (95% CI {pct(lo)} to {pct(hi)}, "
                f"{k:,} of {log.n_journeys:,} journeys)",
            )
        )
        if log.outcome is not None:
            lines.append(("total value", f"{float(np.nansum(log.outcome)):,.2f}"))
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
        html=f"<table>{kv}</table>" + format_html(headers, rows),
    )


def section_paths(ctx: ReportContext) -> Section:
    """The most frequent complete paths."""
    log = ctx.log
    paths = log.paths()
    conv = log.converted() if (log.outcome is not None or log.conversions) else None
    top = paths.most_common(ctx.top)
    rows: list[list[Any]] = []
    if conv is not None:
        by_path: dict[tuple[str, ...], list[int]] = {}
        for p, c in zip(paths, conv.tolist(), strict=True):
            acc = by_path.setdefault(p, [0, 0])
            acc[0] += 1
            acc[1] += c
        for p, n in top:
            rows.append([" > ".join(p), n, pct(n / len(paths)), pct(by_path[p][1] / n)])
        headers = ["path", "journeys", "share", "converted"]
    else:
        rows = [[" > ".join(p), n, pct(n / len(paths))] for p, n in top]
        headers = ["path", "journeys", "share"]
    return Section.from_table(f"Top {len(rows)} paths", headers, rows)


def section_transitions(ctx: ReportContext) -> Section:
    """The busiest transitions between consecutive touchpoints."""
    log = ctx.log
    a, b = log.transition_pairs()
    k = log.n_touchpoints
    pair = a.astype(np.int64) * k + b
    counts = np.bincount(pair, minlength=k * k)
    events_of = np.bincount(log.touchpoint, minlength=k)  # the rest of them ended the journey
    top = np.argsort(-counts, kind="stable")[: ctx.top]
    names = log.touchpoint_names
    rows = [
        [names[c // k], names[c % k], int(counts[c]), pct(counts[c] / max(events_of[c // k], 1))]
        for c in top.tolist()
        if counts[c] > 0
    ]
    return Section.from_table(
        "Busiest transitions",
        ["from", "to", "count", "share of from"],
        rows,
        note="share of from: the share of all events at 'from' that moved on to 'to' "
        "(journeys that ended at 'from' count in the denominator).",
    )
