"""Report sections for a log without a designed journey (a clickstream, a CRM log).

Without stages there is no designed map or stage funnel to show; these sections
take their place: findings that compare (touchpoints whose journeys convert far
above or below the rest, tested, one FDR family), conversion by segment, the
process map, the differential step matrix, how journeys begin (path prefixes),
journey clusters and cohort retention. With a design every builder here returns
None and the designed sections stay; :func:`designed_only` switches the designed
journey map and the raw path list off without one.
"""

from __future__ import annotations

import functools
import html
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from touchpoint.report._base import Figure, Section, pct
from touchpoint.report._shared import _cached, _segment_columns, conversion, has_conversions

if TYPE_CHECKING:
    from touchpoint.journeys import JourneyClusters, ProcessMap, StepMatrix
    from touchpoint.report._base import ReportContext

__all__ = [
    "comparative_findings",
    "designed_only",
    "section_clusters",
    "section_compare",
    "section_prefixes",
    "section_process_map",
    "section_retention",
    "section_step_matrix",
]

#: Largest number of touchpoints drawn on the process map (the most frequent).
MAP_TOUCHPOINTS = 25
#: FDR level of the comparative findings.
ALPHA = 0.05
SIDE = 6.4


def designless(ctx: ReportContext) -> bool:
    """Whether the report has no design with stages (the design-less sections apply)."""
    return ctx.design is None or not ctx.design.stages


def designed_only(
    builder: Callable[[ReportContext], Section | None],
) -> Callable[[ReportContext], Section | None]:
    """``builder``, run only when the report has a design (else its design-less stand-in runs)."""

    @functools.wraps(builder)
    def run(ctx: ReportContext) -> Section | None:
        return None if designless(ctx) else builder(ctx)

    return run


def _svg(result: Any, draw: Callable[..., Any], **kwargs: Any) -> str:
    from matplotlib.figure import Figure as MplFigure

    from touchpoint.journeys._draw import figure_size
    from touchpoint.plot import figure_svg

    size = figure_size(
        result, "vertical" if kwargs.get("vertical") else kwargs.get("kind", "curve")
    )
    ax = MplFigure(figsize=size, layout="constrained").subplots()
    draw(result, ax=ax, **kwargs)
    return figure_svg(ax)


# ------------------------------------------------------------------ comparative findings
def _post_conversion(ctx: ReportContext) -> NDArray[np.bool_]:
    """Per touchpoint: are nearly all (95%) of its journeys' first events of it after the
    journey's first conversion? (Onboarding mails, app use: they restate the conversion.)"""
    log = ctx.log
    hit = np.zeros(log.n_events, dtype=bool)
    if log.outcome is not None:
        hit |= np.nan_to_num(log.outcome) > 0
    for c in log.conversions:
        if c in log.touchpoint_names:
            hit |= log.touchpoint == log.touchpoint_code(c)
    first_conv = np.full(log.n_journeys, np.iinfo(np.int64).max)
    idx = np.flatnonzero(hit)
    np.minimum.at(first_conv, log.journey[idx], idx)
    k = log.n_touchpoints
    key = log.journey.astype(np.int64) * k + log.touchpoint
    _, first = np.unique(key, return_index=True)
    tp = log.touchpoint[first]
    after = first > first_conv[log.journey[first]]
    if log.outcome_level == "journey":  # the outcome sits on the last event: nothing is after
        after[:] = False
    n = np.bincount(tp, minlength=k)
    late = np.bincount(tp, weights=after.astype(np.float64), minlength=k)
    out: NDArray[np.bool_] = late >= 0.95 * np.maximum(n, 1)
    for c in log.conversions:
        if c in log.touchpoint_names:
            out[log.touchpoint_code(c)] = True
    return out


def _usual_predecessor(log: Any) -> NDArray[np.int64]:
    """Per touchpoint, the other touchpoint that most often comes directly before it (-1: none)."""
    k = log.n_touchpoints
    a, b = log.transition_pairs()
    moved = a != b
    counts = np.bincount(b[moved].astype(np.int64) * k + a[moved], minlength=k * k).reshape(k, k)
    out: NDArray[np.int64] = np.where(counts.max(axis=1) > 0, counts.argmax(axis=1), -1)
    return out


def comparative_findings(ctx: ReportContext) -> dict[str, Any]:
    """Touchpoints whose journeys convert far above or below comparable journeys.

    Journeys with a touchpoint are compared with the journeys that reached its usual
    predecessor (the touchpoint most often directly before it) without it, or with
    all journeys without it when it mostly opens journeys: ``payment_error`` against
    the other journeys that reached ``payment_details``. Pooled two-proportion z
    test, Benjamini-Hochberg q-values over all touchpoints tested. Left out as
    restatements: conversion events, touchpoints that only follow a conversion, and
    steps nearly every conversion passes (listed as ``necessary``).
    """

    def make() -> dict[str, Any]:
        from scipy.stats import false_discovery_control

        from touchpoint._lib.stats import two_proportion_z

        log = ctx.log
        empty: dict[str, Any] = {"rows": [], "necessary": []}
        if not has_conversions(ctx) or log.n_journeys < 20:
            return empty
        conv = log.converted()
        k = log.n_touchpoints
        has = np.zeros((log.n_journeys, k), dtype=bool)
        has[log.journey, log.touchpoint] = True
        n_conv = max(int(conv.sum()), 1)
        necessary = has[conv].sum(axis=0) >= 0.99 * n_conv
        skip = _post_conversion(ctx) | necessary
        pred = _usual_predecessor(log)
        rows: list[dict[str, Any]] = []
        ps: list[float] = []
        for t in np.flatnonzero(~skip).tolist():
            with_t = has[:, t]
            base = has[:, pred[t]] if pred[t] >= 0 else np.ones(log.n_journeys, dtype=bool)
            other = base & ~with_t
            na, nb = int(with_t.sum()), int(other.sum())
            if na < 10 or nb < 10:
                continue
            pa, pb = float(conv[with_t].mean()), float(conv[other].mean())
            _, p = two_proportion_z(pa, na, pb, nb)
            ps.append(float(p))
            rows.append(
                {
                    "touchpoint": log.touchpoint_names[t],
                    "against": log.touchpoint_names[pred[t]] if pred[t] >= 0 else None,
                    "journeys": na,
                    "others": nb,
                    "with": pa,
                    "without": pb,
                    "difference": pa - pb,
                }
            )
        if rows:
            q = false_discovery_control(np.array(ps))
            for r, qq in zip(rows, q.tolist(), strict=True):
                r["qvalue"] = qq
        kept = sorted((r for r in rows if r["qvalue"] < ALPHA), key=lambda r: -abs(r["difference"]))
        names = [log.touchpoint_names[i] for i in np.flatnonzero(necessary & ~_conv_events(log))]
        return {"rows": kept, "necessary": names}

    out: dict[str, Any] = _cached(ctx, "designless_findings", make)
    return out


def _conv_events(log: Any) -> NDArray[np.bool_]:
    out = np.zeros(log.n_touchpoints, dtype=bool)
    for c in log.conversions:
        if c in log.touchpoint_names:
            out[log.touchpoint_code(c)] = True
    return out


def _q(q: float) -> str:
    return "q < 0.001" if q < 0.001 else f"q = {q:.3f}"


def section_compare(ctx: ReportContext) -> Section | None:
    """What sets converting journeys apart, and conversion by segment (design-less)."""
    if not designless(ctx) or ctx.log.n_events == 0:
        return None
    notes: list[str] = []
    c = conversion(ctx)
    if c is not None and c.journeys and c.converted in (0, c.journeys):
        word = "every" if c.converted else "no"
        notes.append(
            f"Warning: {word} journey converts ({ctx.log.conversion_rule}), so nothing can be "
            "compared by conversion; check the outcome column or the conversion touchpoints."
        )
    elif c is None:
        notes.append(
            "The log has no outcome and no conversion touchpoints: the sections below describe "
            "journeys but cannot say which ones convert (give --outcome or --conversion)."
        )
    found = comparative_findings(ctx)
    headers = ["touchpoint", "journeys", "conversion", "vs reached", "their conversion", "q"]
    rows = [
        [
            r["touchpoint"],
            r["journeys"],
            pct(r["with"]),
            r["against"] or "(any)",
            pct(r["without"]),
            _q(r["qvalue"]),
        ]
        for r in found["rows"][: ctx.top]
    ]
    for r in found["rows"][:3]:
        other = f"journeys that reached {r['against']} without it" if r["against"] else "without it"
        notes.append(
            f"Journeys with {r['touchpoint']} convert at {pct(r['with'])} against "
            f"{pct(r['without'])} of {other} ({_q(r['qvalue'])})."
        )
    if found["necessary"]:
        notes.append(
            "Nearly every conversion passes through "
            + ", ".join(found["necessary"])
            + " (necessary steps, not compared)."
        )
    if (
        c is not None
        and c.converted not in (0, c.journeys)
        and not found["rows"]
        and (ctx.log.n_journeys >= 20)
    ):
        notes.append(
            "No touchpoint's journeys convert significantly above or below comparable ones."
        )
    seg_html, seg_text = _segments(ctx)
    text = "\n".join(notes)
    body = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    if rows:
        from touchpoint.table import format_html, format_text

        caption = (
            "Conversion of journeys that include each touchpoint against comparable journeys "
            "without it: those that reached the touchpoint usually just before it ('vs "
            "reached'; '(any)': all journeys without it) (pooled z "
            "test; q: Benjamini-Hochberg over all touchpoints tested; conversion events, "
            "touchpoints that only follow a conversion and necessary steps left out)."
        )
        body += format_html(headers, rows, caption=caption)
        text += "\n\n" + format_text(headers, rows)
    if not body and not seg_html:
        return None
    return Section(
        title="What sets converting journeys apart",
        text=text + seg_text + "\n",
        html=body + seg_html,
    )


def _segments(ctx: ReportContext) -> tuple[str, str]:
    """Conversion by each segment column, with Wilson intervals and a chi-square test."""
    from touchpoint._lib.frames import segment_values
    from touchpoint._lib.stats import chi2_independence, proportion_ci
    from touchpoint.table import format_html, format_text

    if not has_conversions(ctx):
        return "", ""
    log = ctx.log
    conv = log.converted()
    out_html, out_text = "", ""
    for col in _segment_columns(ctx):
        vals = np.array([str(v) for v in segment_values(log.journey_column(col)).tolist()])
        levels, inv = np.unique(vals, return_inverse=True)
        n = np.bincount(inv, minlength=len(levels))
        k = np.bincount(inv, weights=conv.astype(np.float64), minlength=len(levels))
        lo, hi = proportion_ci(k, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, p = chi2_independence(np.column_stack([k, n - k]))
        headers = [col, "journeys", "converted", "conversion", "95% CI"]
        rows = [
            [levels[i], int(n[i]), int(k[i]), pct(k[i] / n[i]), f"{pct(lo[i])} to {pct(hi[i])}"]
            for i in np.argsort(-n).tolist()
        ]
        cap = f"Conversion by {col} (Wilson intervals; chi-square test of no difference: p = {p:.3g})."
        out_html += format_html(headers, rows, caption=cap)
        out_text += "\n\n" + cap + "\n" + format_text(headers, rows)
    return out_html, out_text


# ------------------------------------------------------------------ process map, step matrix
def _map(ctx: ReportContext) -> ProcessMap:
    from touchpoint.journeys import process_map

    def make() -> ProcessMap:
        log = ctx.log
        counts = np.sort(np.bincount(log.touchpoint, minlength=log.n_touchpoints))[::-1]
        events = 1.0
        if log.n_touchpoints > MAP_TOUCHPOINTS:
            events = float(counts[:MAP_TOUCHPOINTS].sum() / max(counts.sum(), 1))
        pm = process_map(log, events=events)
        for paths in (0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5):
            if pm.edges_kept <= 2.2 * len(pm.nodes):
                break
            pm = process_map(log, events=events, paths=paths)
        return pm

    out: ProcessMap = _cached(ctx, "process_map", make)
    return out


def section_process_map(ctx: ReportContext) -> Section | None:
    """The process map in place of the designed journey map (design-less)."""
    if not designless(ctx) or ctx.log.n_events == 0:
        return None
    from touchpoint.journeys._draw import process_map_graph

    pm = _map(ctx)
    edges = pm.edges.head(ctx.top)
    rows = [[r["source"], r["target"], r["count"], pct(r["share"])] for r in edges.to_records()]
    note = f"The directly-follows graph: {pm.caption} Counts equal pm4py's DFG on the events shown."
    section = Section.from_table(
        "Process map",
        ["from", "to", "times", "share of from's next steps"],
        rows,
        note=note,
        caption="The most frequent transitions",
    )
    text_section = section
    if not ctx.figures:
        return text_section
    caption = (
        "Process map, top to bottom by each touchpoint's typical step. Node size: journeys "
        "through it; labels: journeys (share), conversion and repeats (↻); edge "
        "width: times one follows the other; dashed orange: going back. " + pm.caption
    )
    figure = Figure(
        caption=caption, html=_svg(pm, process_map_graph, title="", vertical=True), wide=True
    )
    return Section(
        title="Process map",
        text=text_section.text,
        html=f"<p>{html.escape(note)}</p>",
        figures=(figure, *_sankey(ctx)),
    )


def _sankey(ctx: ReportContext) -> tuple[Figure, ...]:
    """The interactive view of the first steps (plotly), as the designed map has it."""
    if not ctx.interactive:
        return ()
    from touchpoint.report._interactive import journey_sankey_html

    sankey = journey_sankey_html(ctx.log)
    if sankey is None:
        return ()
    ends = (
        "converted (green) or left without converting (red), within these steps (dark) or "
        "later (light)"
        if has_conversions(ctx)
        else "ended within these steps or went on (grey)"
    )
    caption = (
        "Interactive: the first five steps of every journey (repeats of a touchpoint "
        f"collapsed) and how journeys ended, in the right column: {ends}. Hover for names "
        "and counts; drag nodes."
    )
    return (Figure(caption=caption, html=sankey, interactive=True),)


def _step_matrix(ctx: ReportContext) -> StepMatrix:
    from touchpoint.journeys import step_matrix

    def make() -> StepMatrix:
        c = conversion(ctx)
        by = "converted" if c is not None and 0 < c.converted < c.journeys else None
        return step_matrix(ctx.log, 12, by=by, threshold=0.02)

    out: StepMatrix = _cached(ctx, "step_matrix", make)
    return out


def section_step_matrix(ctx: ReportContext) -> Section | None:
    """Where journeys are at each step; converters against the rest when there are both."""
    if not designless(ctx) or ctx.log.n_events == 0:
        return None
    from touchpoint.journeys._draw import step_matrix_heatmap

    sm = _step_matrix(ctx)
    if sm.tests is not None:
        sig = sm.significant(ALPHA)
        hide = {"ENDED", *ctx.log.conversions}
        sig = sig[np.array([t not in hide for t in sig["touchpoint"].tolist()], dtype=bool)]
        sig = sig.head(ctx.top)
        rows = [
            [
                r["touchpoint"],
                r["step"],
                pct(r["share_first"]),
                pct(r["share_second"]),
                f"{100 * r['difference']:+.1f} pts",
                _q(r["qvalue"]),
            ]
            for r in sig.to_records()
        ]
        note = (
            "Share of journeys at each touchpoint at each step, converting journeys minus the "
            "rest; ENDED: journeys already over. Each cell tested (z, or Fisher's exact test "
            "when small), q-values over all cells (Benjamini-Hochberg). The largest significant "
            "differences at a touchpoint:"
        )
        section = Section.from_table(
            "Step matrix",
            ["touchpoint", "step", "converting", "others", "difference", "q"],
            rows,
            note=note,
        )
    else:
        head = sm.table.to_records()
        rows = [[r["touchpoint"], *(pct(r[s]) for s in sm.steps[:6])] for r in head]
        section = Section.from_table(
            "Step matrix",
            ["touchpoint", *sm.steps[:6]],
            rows,
            note="Share of journeys at each touchpoint at each step (ENDED: journeys already over).",
        )
    if not ctx.figures:
        return section
    caption = (
        "Step matrix (retentioneering's numbers; colour: share, or difference in shares, "
        "blue above and red below; the values are in the step_matrix result): "
        + ("converting minus other journeys, framed cells q < 0.05; " if sm.groups else "")
        + "touchpoints below 2% at every step summed into one row."
    )
    return section.with_figures(
        Figure(caption=caption, html=_svg(sm, step_matrix_heatmap, annotate=False), wide=True)
    )


# ------------------------------------------------------------------ prefixes, clusters, retention
def section_prefixes(ctx: ReportContext) -> Section | None:
    """How journeys begin: path prefixes with counts and conversion, in place of raw paths."""
    if not designless(ctx) or ctx.log.n_events == 0:
        return None
    from touchpoint.journeys import path_prefixes

    t = path_prefixes(ctx.log, 4).head(ctx.top)
    conv = has_conversions(ctx)
    headers = ["path (first 4 steps, repeats merged)", "journeys", "share"]
    if conv:
        headers += ["conversion", "95% CI"]
    rows = []
    for r in t.to_records():
        row: list[Any] = [r["path"], r["journeys"], pct(r["share"])]
        if conv:
            row += [pct(r["conversion"]), f"{pct(r['ci_low'])} to {pct(r['ci_high'])}"]
        rows.append(row)
    note = (
        "Journeys cut after four steps or at their first conversion, so that long journeys "
        "that begin alike count together; '...' marks journeys that went on."
    )
    return Section.from_table("How journeys begin", headers, rows, note=note)


def _clusters(ctx: ReportContext) -> JourneyClusters | None:
    from touchpoint.journeys import cluster_journeys

    def make() -> JourneyClusters | None:
        if ctx.log.n_journeys < 50:
            return None
        return cluster_journeys(ctx.log, max_k=6, n_resamples=10, sample=3000, n_init=3)

    out: JourneyClusters | None = _cached(ctx, "clusters", make)
    return out


def section_clusters(ctx: ReportContext) -> Section | None:
    """Journey clusters (mixture of Markov chains) and what sets each apart."""
    if not designless(ctx):
        return None
    cl = _clusters(ctx)
    if cl is None:
        return None
    conv = has_conversions(ctx)
    headers = ["cluster", "journeys", "share", "mean events"]
    if conv:
        headers += ["conversion", "95% CI"]
    headers.append("characteristic transitions (share of its transitions vs all)")
    rows = []
    for r in cl.table.to_records():
        row: list[Any] = [r["cluster"], r["journeys"], pct(r["share"]), f"{r['mean_events']:.1f}"]
        if conv:
            row += [pct(r["conversion"]), f"{pct(r['ci_low'])} to {pct(r['ci_high'])}"]
        row.append(r["characteristic"])
        rows.append(row)
    stable = (
        "stable" if cl.stability >= 0.8 else "fairly stable" if cl.stability >= 0.6 else "unstable"
    )
    note = (
        f"{cl.k} clusters of journeys that move alike (a mixture of Markov chains; k chosen "
        f"by held-out likelihood). Stability {cl.stability:.2f} (mean adjusted Rand index over "
        f"bootstrap refits): {stable}"
        + ("; read the clusters as tendencies, not types." if stable == "unstable" else ".")
    )
    if cl.k == 1:
        note = "The journeys form one group: no mixture of chains fits held-out journeys better."
    section = Section.from_table("Journey clusters", headers, rows, note=note)
    if not ctx.figures or cl.k == 1:
        return section
    from touchpoint.journeys._draw import cluster_bars

    return section.with_figures(
        Figure(
            caption="Conversion per cluster with its 95% Wilson interval."
            if conv
            else "Share of journeys per cluster.",
            html=_svg(cl, cluster_bars),
        )
    )


def _customer_column(ctx: ReportContext) -> str | None:
    """An extra column naming customers with several journeys each (sessions of a user),
    if the log has one: ``customer`` (from ``sessionize``), or a column constant within
    journeys with many values, each spanning more than one journey on average."""
    log = ctx.log
    if "customer" in log.extra:
        return "customer"
    for name in log.extra:
        col = log.column(name)
        values = col[log.offsets[:-1]] if log.n_journeys else col
        n_values = len(set(values.tolist()))
        if not (0.02 * log.n_journeys <= n_values <= log.n_journeys / 1.2):
            continue
        first = np.repeat(values, np.diff(log.offsets))
        if bool(np.all(first == col)):
            return name
    return None


def section_retention(ctx: ReportContext) -> Section | None:
    """Cohort retention when the log spans enough time (design-less)."""
    if not designless(ctx) or not ctx.log.is_datetime or ctx.log.n_events == 0:
        return None
    from touchpoint.journeys import retention

    ts = ctx.log.timestamp.astype("datetime64[ns]").view(np.int64)
    days = float(ts.max() - ts.min()) / 86_400e9
    if days < 4:
        return None
    cohort: Literal["week", "day"] = "week" if days >= 28 else "day"
    who = _customer_column(ctx)
    r = retention(ctx.log, cohort=cohort, max_periods=8 if cohort == "week" else 7, customer=who)
    if len(r.curve) == 0 or int(np.sum(r.curve["retained"])) == 0:
        return None
    rows = [
        [
            rec["period"],
            rec["at_risk"],
            rec["retained"],
            pct(rec["rate"]),
            f"{pct(rec['ci_low'])} to {pct(rec['ci_high'])}",
        ]
        for rec in r.curve.to_records()
    ]
    unit = f"{cohort}s"
    unit_name = f"customers (column {who!r})" if who else "journeys"
    note = (
        f"Share of {unit_name} with another event in each {cohort} after their first one, over "
        f"the {len(r.cohorts)} {cohort}ly cohorts. At risk: journeys whose {cohort} had fully "
        "passed when the data end (a cohort that has not lived a period yet is left out, "
        "not counted as lost)."
    ).replace("journeys whose", f"{unit_name.split(' ', maxsplit=1)[0]} whose")
    section = Section.from_table(
        "Retention",
        [f"{unit} after", "at risk", "returned", "retention", "95% CI"],
        rows,
        note=note,
    )
    if not ctx.figures:
        return section
    from touchpoint.journeys._draw import retention_chart

    return section.with_figures(
        Figure(caption="Retention curve with its 95% Wilson band.", html=_svg(r, retention_chart)),
        Figure(
            caption=f"Retention by {cohort}ly cohort (size in brackets; darker: more returned); "
            "blank: not lived yet.",
            html=_svg(r, retention_chart, kind="cohorts", annotate=False),
            wide=True,
        ),
    )
