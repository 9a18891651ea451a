"""The report's CX section: overall NPS/CSAT/CES with intervals, per touchpoint, the weakest."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib.format import format_pvalue
from touchpoint.exceptions import TouchpointError
from touchpoint.report._base import Section
from touchpoint.table import format_html, format_text

if TYPE_CHECKING:
    from touchpoint.metrics._scores import CESResult, CSATResult, NPSResult
    from touchpoint.report._base import ReportContext
    from touchpoint.table import Table

__all__ = ["section_cx"]

_METRICS = ("nps", "csat", "ces")


def _has_answers(surveys: Table, name: str) -> bool:
    if name not in surveys:
        return False
    col = surveys[name]
    if col.dtype.kind in "biuf":
        return bool(np.any(~np.isnan(col.astype(np.float64))))
    from touchpoint._lib.columns import _is_missing

    return any(not _is_missing(v) and v != "" for v in col.tolist())


#: How the report names each interval method (the defaults come from the code).
_METHOD_NAMES = {
    "score": "score interval (Tango)",
    "adjusted_wald": "adjusted-Wald interval (Rocks 2016)",
    "wald": "Wald interval",
    "bootstrap": "percentile bootstrap",
    "bayes": "Dirichlet posterior interval",
    "wilson": "Wilson interval",
    "modified_wilson": "Wilson interval (Brown-Cai-DasGupta boundary modification)",
    "jeffreys": "Jeffreys interval",
    "agresti_coull": "Agresti-Coull interval",
    "exact": "Clopper-Pearson interval",
    "dirichlet": "Dirichlet interval",
    "t": "t-interval",
}


def _default_method(cls: type[NPSResult | CSATResult | CESResult]) -> str:
    import inspect

    default = inspect.signature(cls.confidence_interval).parameters["method"].default
    return _METHOD_NAMES.get(str(default), str(default))


def _methods_note() -> str:
    """The interval methods the section's numbers use, read from the metrics' defaults."""
    from touchpoint.metrics._scores import CESResult, CSATResult, NPSResult

    return (
        f"NPS: {_default_method(NPSResult)}; CSAT: share 4-5 of 1-5, "
        f"{_default_method(CSATResult)}; CES 2.0: mean of 1-7, {_default_method(CESResult)}. "
        "Groups are tested against the rest; flags use Benjamini-Hochberg at 5% FDR."
    )


def section_cx(ctx: ReportContext) -> Section | None:
    """Overall NPS, CSAT and CES with 95% intervals; a per-touchpoint table; the weakest."""
    from touchpoint.metrics import ces, csat, nps
    from touchpoint.metrics._breakdown import breakdown
    from touchpoint.metrics._consistency import consistency

    surveys = ctx.responses
    if surveys is None:
        return None
    present = [m for m in _METRICS if _has_answers(surveys, m)]
    if not present:
        return None
    fns: dict[str, Any] = {"nps": nps, "csat": csat, "ces": ces}
    lines = [_overall(m, fns[m], surveys) for m in present]
    notes = [_methods_note()]
    parts_text = ["\n".join(lines)]
    parts_html = ["<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"]

    table_rows, weakest = _per_touchpoint(surveys, present, ctx, breakdown)
    if table_rows:
        headers = ["touchpoint", "stage", "channel"]
        for m in present:
            if m != "nps":
                headers += [f"{m.upper()} n", f"{m.upper()} (95% CI)", f"{m.upper()} vs rest"]
        parts_text.append(format_text(headers, table_rows))
        parts_html.append(format_html(headers, table_rows, caption="CX by touchpoint"))
    if weakest:
        parts_text.append("Weakest touchpoints: " + "; ".join(weakest))
        parts_html.append(
            "<p><strong>Weakest touchpoints:</strong> "
            + "; ".join(html.escape(w) for w in weakest)
            + "</p>"
        )
    seg_rows = _nps_segments(surveys, present, breakdown)
    nps_fig = None
    if seg_rows:
        from touchpoint.report._figures import interval_figure

        nps_fig = interval_figure(
            ctx,
            [
                (f"{r[0]}={r[1]}", float(r[3]), float(lo), float(hi))
                for r in seg_rows
                for lo, hi in [r[4].split(" to ")]
            ],
            xlabel="NPS (points, 95% CI)",
            caption="NPS by segment, the rows of the NPS by segment table, with 95% "
            "score intervals.",
            percent=False,
        )
        headers = ["segment", "group", "n", "NPS", "NPS 95% CI", "vs rest"]
        parts_text.append(format_text(headers, seg_rows))
        parts_html.append(format_html(headers, seg_rows, caption="NPS by segment"))
    cons = _consistency_line(surveys, present, ctx, consistency)
    if cons:
        parts_text.append(cons)
        parts_html.append(f"<p>{html.escape(cons)}</p>")
    parts_text.append(notes[0])
    parts_html.append(f"<p><small>{html.escape(notes[0])}</small></p>")
    from touchpoint.report._figures import csat_figure

    section = Section(
        title="Customer experience (NPS, CSAT, CES)",
        text="\n\n".join(parts_text),
        html="".join(parts_html),
    )
    return section.with_figures(csat_figure(ctx), nps_fig)


def _overall(metric: str, fn: Any, surveys: Table) -> str:
    """The metric over all answers; several answers of one respondent are clustered."""
    import warnings

    from touchpoint.exceptions import TouchpointWarning
    from touchpoint.metrics._breakdown import cluster_codes

    try:
        # a warning about the answers (a CSAT column on the NPS 0-10 scale, say) is
        # shown on the metric's own line, where the reader looks at the number
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TouchpointWarning)
            line = repr(fn(surveys[metric], cluster=cluster_codes(surveys, "auto")))
    except TouchpointError as exc:  # a malformed column is reported, not fatal
        return f"{metric.upper()}: not computed ({exc})"
    notes = [str(w.message) for w in caught if issubclass(w.category, TouchpointWarning)]
    return line + "".join(f" WARNING: {n}" for n in dict.fromkeys(notes))


def _fmt(metric: str, v: float) -> str:
    if not np.isfinite(v):
        return ""
    return f"{v:.1f}%" if metric == "csat" else f"{v:.2f}"


def _per_touchpoint(
    surveys: Table, present: list[str], ctx: ReportContext, breakdown: Any
) -> tuple[list[list[Any]], list[str]]:
    if "touchpoint" not in surveys:
        return [], []
    design = ctx.design
    per: dict[str, dict[str, dict[str, Any]]] = {}
    for m in present:
        if m == "nps":
            continue  # NPS is asked about the whole relationship, not a touchpoint
        try:
            t = breakdown(surveys, metric=m, by="touchpoint", design=design)
        except TouchpointError:
            continue
        for r in t.to_records():
            per.setdefault(str(r["group"]), {})[m] = r
    if not per:
        return [], []
    names = list(per)
    order = {s.name: s.order for s in design.stages} if design is not None else {}

    def stage_channel(name: str) -> tuple[str, str]:
        if design is not None and name in design:
            t = design.touchpoint(name)
            return t.stage or "", t.channel or ""
        return "", ""

    names.sort(key=lambda n: (order.get(stage_channel(n)[0], 10**6), n))
    rows: list[list[Any]] = []
    weak: dict[str, list[tuple[float, str]]] = {}
    for name in names:
        stage, channel = stage_channel(name)
        row: list[Any] = [name, stage, channel]
        for m in present:
            if m == "nps":
                continue
            r = per[name].get(m)
            if r is None:
                row += ["", "", ""]
                continue
            flag = ""
            if r["significant"]:
                better = r["difference"] > 0
                flag = "higher" if better else "lower"
                if not better:
                    weak.setdefault(name, []).append(
                        (
                            float(r["qvalue"]),
                            f"{m.upper()} {_fmt(m, r['score'])} vs "
                            f"{_fmt(m, r['rest_score'])} elsewhere, q={format_pvalue(r['qvalue'])}",
                        )
                    )
            row += [
                int(r["n"]),
                f"{_fmt(m, r['score'])} ({_fmt(m, r['ci_low']).rstrip('%')}–"
                f"{_fmt(m, r['ci_high'])})",
                flag,
            ]
        rows.append(row)
    ranked = sorted(weak.items(), key=lambda kv: (min(q for q, _ in kv[1]), kv[0]))
    lines = [f"{name} ({'; '.join(t for _, t in parts)})" for name, parts in ranked[: ctx.top]]
    return rows[: max(ctx.top, 1) * 3], lines or ["none is significantly below the rest"]


#: Segment columns the report breaks NPS down by, when the surveys have them.
SEGMENTS = ("device", "region", "segment", "channel")


def _nps_segments(surveys: Table, present: list[str], breakdown: Any) -> list[list[Any]]:
    if "nps" not in present:
        return []
    rows: list[list[Any]] = []
    for col in SEGMENTS:
        if col not in surveys:
            continue
        try:
            t = breakdown(surveys, metric="nps", by=col)
        except TouchpointError:
            continue
        if len(t) < 2:
            continue
        for r in t.to_records():
            flag = ("higher" if r["difference"] > 0 else "lower") if r["significant"] else ""
            rows.append(
                [
                    col,
                    str(r["group"]),
                    int(r["n"]),
                    f"{r['score']:+.1f}",
                    f"{r['ci_low']:+.1f} to {r['ci_high']:+.1f}",
                    flag,
                ]
            )
    return rows


def _consistency_line(
    surveys: Table, present: list[str], ctx: ReportContext, consistency: Any
) -> str:
    if "csat" not in present:
        return ""
    has_cols = "channel" in surveys and "stage" in surveys
    if not has_cols and (ctx.design is None or "touchpoint" not in surveys):
        return ""
    try:
        res = consistency(surveys, metric="csat", design=ctx.design)
    except TouchpointError:
        return ""
    recs = res.to_records()
    if not recs:
        return ""
    bad = [
        f"{r['stage']} ({r['stands_out']})" if r["stands_out"] else str(r["stage"])
        for r in recs
        if not r["consistent"]
    ]
    if not bad:
        return f"CSAT is consistent across channels in all {len(recs)} stages tested."
    return f"CSAT differs between channels in {len(bad)} of {len(recs)} stages: " + "; ".join(bad)
