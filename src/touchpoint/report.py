"""The journey report: a plain-text summary and a self-contained HTML page.

A report is a list of :class:`Section` objects. Each analysis contributes a
section builder (a function ``(ReportContext) -> Section | None``) listed in
:data:`SECTION_BUILDERS`; a builder that has nothing to say returns None.
Every name that comes from data is escaped in the HTML.
"""

from __future__ import annotations

import datetime as _dt
import html
import statistics
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from touchpoint._version import __version__
from touchpoint.table import format_html, format_text

if TYPE_CHECKING:
    from touchpoint.events import EventLog
    from touchpoint.model import Journey
    from touchpoint.table import Table

__all__ = ["Report", "ReportContext", "Section", "build_report"]


@attrs.frozen
class Section:
    """One part of the report: a title, plain text and an HTML fragment.

    ``html`` must already be escaped; use :meth:`from_table` or
    :func:`touchpoint.table.format_html` to build it safely.
    """

    title: str
    text: str
    html: str

    @classmethod
    def from_table(
        cls,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        note: str = "",
        figure_html: str = "",
    ) -> Section:
        """A section made of an optional note and one table."""
        text = format_text(headers, rows)
        note_html = f"<p>{html.escape(note)}</p>" if note else ""
        return cls(
            title=title,
            text=(note + "\n" if note else "") + text,
            html=note_html + format_html(headers, rows) + figure_html,
        )


@attrs.frozen
class ReportContext:
    """What section builders get: the log, optional survey answers and design."""

    log: EventLog
    surveys: Table | None = None
    design: Journey | None = None
    top: int = 10


@attrs.frozen
class Report:
    """A finished report.

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays([1, 1, 2], ["ad", "buy", "ad"], [0.0, 1.0, 0.0],
    ...                            outcome=[0, 1, 0])
    >>> rep = build_report(log, title="Tiny")
    >>> print(rep.to_text().splitlines()[0])
    Tiny
    """

    title: str
    sections: tuple[Section, ...]

    def to_text(self) -> str:
        """The report as terminal text."""
        out = [self.title, "=" * len(self.title)]
        for s in self.sections:
            if s.text:  # HTML-only sections (figures) have no text
                out += ["", s.title, "-" * len(s.title), s.text]
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """The report as one self-contained HTML page."""
        body = "".join(
            f"<section><h2>{html.escape(s.title)}</h2>{s.html}</section>" for s in self.sections
        )
        stamp = _dt.datetime.now(tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{body}"
            f"<footer>touchpoint {html.escape(__version__)}, {stamp}</footer></body></html>"
        )

    def write_html(self, path: str) -> None:
        """Write :meth:`to_html` to ``path``."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_html())


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{padding:.25rem .6rem;"
    "border-bottom:1px solid #ddd;text-align:left}th{background:#f4f4f4}"
    "td:not(:first-child){font-variant-numeric:tabular-nums}h2{border-bottom:2px solid #446;"
    "padding-bottom:.2rem}footer{color:#888;font-size:.8rem;margin-top:3rem}"
    "img,svg{max-width:100%;height:auto}figure{margin:1rem 0 2rem}"
    "figcaption{color:#555;font-size:.9rem}"
)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (used by the overview)."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


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
        lo, hi = wilson(k, log.n_journeys)
        lines.append(
            (
                "conversion rate",
                f"{_pct(k / max(log.n_journeys, 1))} (95% CI {_pct(lo)} to {_pct(hi)}, "
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
            rows.append([" > ".join(p), n, _pct(n / len(paths)), _pct(by_path[p][1] / n)])
        headers = ["path", "journeys", "share", "converted"]
    else:
        rows = [[" > ".join(p), n, _pct(n / len(paths))] for p, n in top]
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
        [names[c // k], names[c % k], int(counts[c]), _pct(counts[c] / max(events_of[c // k], 1))]
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


def section_cx(ctx: ReportContext) -> Section | None:
    """CX metrics from the survey answers (see :mod:`touchpoint._report_cx`)."""
    from touchpoint._report_cx import section_cx as build

    return build(ctx)


def section_markov(ctx: ReportContext) -> Section | None:
    """Markov journey model: conversion probability, attribution, largest removal effects."""
    log = ctx.log
    if log.outcome is None and not log.conversions:
        return None
    from touchpoint.attribution import attribution

    att = attribution(log, "markov")
    re = att.removal_effects
    if re is None:  # pragma: no cover - markov always has them
        return None
    heur = {m: attribution(log, m).table for m in ("last_touch", "linear")}
    col = att.table.columns[0]

    def credit(table: Table, name: str) -> float:
        hit = table[col] == name
        return float(table["conversions"][hit][0]) if hit.any() else 0.0

    has_value = "value" in att.table.columns  # only when the log has an outcome column
    rows: list[list[Any]] = []
    for r in att.table.head(ctx.top).to_records():
        name = r[col]
        rows.append(
            [
                name,
                round(r["conversions"], 1),
                *([round(r["value"], 2)] if has_value else []),
                _pct(r["share"]),
                round(credit(heur["last_touch"], name), 1),
                round(credit(heur["linear"], name), 1),
            ]
        )
    top_re = re.table.head(min(5, ctx.top)).to_records()
    largest = ", ".join(f"{r[col]} ({100 * r['removal_effect']:.1f}%)" for r in top_re)
    note = (
        f"Conversion probability from start (first-order Markov chain, exact): "
        f"{_pct(re.conversion_probability)}. Largest removal effects (share of conversions "
        f"lost if the touchpoint disappeared): {largest}. Markov credit splits "
        f"conversions and value by removal effect; last-touch and linear shown for comparison."
    )
    return Section.from_table(
        "Markov attribution",
        [col, "conversions", *(["value"] if has_value else []), "share", "last touch", "linear"],
        rows,
        note=note,
    )


def section_funnel(ctx: ReportContext) -> Section | None:
    """Funnel by stage (touchpoint._funnel_report)."""
    from touchpoint._funnel_report import section_funnel as build

    return build(ctx)


def section_dropoffs(ctx: ReportContext) -> Section | None:
    """Significant drop-offs by segment and week (touchpoint._funnel_report)."""
    from touchpoint._funnel_report import section_dropoffs as build

    return build(ctx)


def section_key_touchpoints(ctx: ReportContext) -> Section | None:
    """Key touchpoints (touchpoint._funnel_report)."""
    from touchpoint._funnel_report import section_key_touchpoints as build

    return build(ctx)


def section_figures(ctx: ReportContext) -> Section | None:
    """Figures (HTML only): journey graph and transition heatmap, when matplotlib is installed."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None or ctx.log.n_events == 0:
        return None
    from touchpoint._plot_report import report_figures

    figures = report_figures(ctx)
    if not figures:
        return None
    body = "".join(
        f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, svg in figures
    )
    return Section(title="Figures", text="", html=body)


#: Section builders, in report order. Analysis modules add theirs here.
SECTION_BUILDERS: list[Callable[[ReportContext], Section | None]] = [
    section_overview,
    section_paths,
    section_transitions,
    section_cx,
    section_markov,
    section_funnel,
    section_dropoffs,
    section_key_touchpoints,
]


def build_report(
    log: EventLog,
    *,
    surveys: Table | None = None,
    design: Journey | None = None,
    title: str = "Journey report",
    top: int = 10,
    figures: bool = True,
    progress: bool | None = None,
) -> Report:
    """Build the journey report for an event log (and optional survey answers).

    ``figures=False`` leaves out the HTML figures (they need matplotlib);
    ``progress`` shows a bar over the sections (default: only in a terminal).
    """
    from touchpoint._progress import track

    ctx = ReportContext(log=log, surveys=surveys, design=design or log.design, top=top)
    builders = [*SECTION_BUILDERS, *([section_figures] if figures else [])]
    sections = []
    for builder in track(builders, desc="report", unit="section", enabled=progress):
        s = builder(ctx)
        if s is not None:
            sections.append(s)
    return Report(title=title, sections=tuple(sections))
