"""Report sections for funnels, drop-offs and key touchpoints (see touchpoint.report)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from touchpoint.report._base import Section

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext

__all__ = ["section_dropoffs", "section_funnel", "section_key_touchpoints"]


def _pct(x: float) -> str:
    return "" if np.isnan(x) else f"{100 * x:.1f}%"


def section_funnel(ctx: ReportContext) -> Section | None:
    """The funnel over the design's stages (from the first stage most journeys reach).

    The table and the chart beside it show the same funnel (the same steps).
    """
    from touchpoint.report._figures import funnel_figure
    from touchpoint.report._shared import stage_funnel

    sf = stage_funnel(ctx)
    if sf is None:
        return None
    f = sf.funnel
    headers, rows = f._rows(km=False)  # the Kaplan-Meier column would not fit at 800 px
    note = (
        f"Ordered funnel over the design's stages ({ctx.log.n_journeys:,} journeys); "
        "conversion from the previous stage with 95% Wilson intervals."
    )
    if sf.skipped:
        left_out = ", ".join(repr(s) for s in sf.skipped)
        note += (
            f" {left_out} {'is' if len(sf.skipped) == 1 else 'are'} left out: most journeys "
            f"skip {'it' if len(sf.skipped) == 1 else 'them'}; the funnel starts at "
            f"{f.steps[0].label!r}."
        )
    figure = funnel_figure(ctx, f)
    return Section.from_table(
        "Funnel by stage", headers, rows, note=note, figures=[figure] if figure else []
    )


def _explained(label: str) -> str:
    """``device=mobile`` as ``mobile (device)``: breaks on a narrow page."""
    seg, eq, group = str(label).partition("=")
    return f"{group} ({seg})" if eq else str(label)


def section_dropoffs(ctx: ReportContext) -> Section | None:
    """Significant drop-offs on the designed transitions, by segment and week."""
    from touchpoint._lib.format import format_pvalue
    from touchpoint.report._figures import dropoff_figure
    from touchpoint.report._shared import dropoff_findings

    d = dropoff_findings(ctx)
    if d is None:
        return None
    quoted = d.quoted()
    rest = [t for t in d.found if not any(t is q for q in quoted)]
    rows = [
        [
            f"{t['previous']} > {t['step']}",
            f"{t['segment']}={t['group']}",
            t["period"],
            f"{_pct(t['rate'])} vs {_pct(t['expected'])}",
            f"{100 * t['effect']:+.1f} pts",
            format_pvalue(t["qvalue"]),
            t.get("since", ""),
            _explained(t.get("explained_by", "")),
        ]
        for t in [*quoted, *rest][: max(ctx.top, 10)]
    ]
    note = (
        f"{len(d.found):,} of {d.n_tests:,} tests significant (Benjamini-Hochberg FDR 5%): each "
        "designed transition (the next event), per segment and week (week of the transition's "
        "first event), against the other segments of the same column in that week (the "
        "'expected' rate; detect_dropoffs(baseline='others'), not its default of the "
        "segment's own past weeks); all "
        "segment columns form one family, and a drop carried by another column's segment "
        "is marked as explained by it."
    )
    if d.n_left_out:
        note += (
            f" {d.n_left_out:,} segment-weeks were not tested: too few transitions, or too recent "
            "to know their outcome (the horizon is the 95th percentile of the step time)."
        )
    if not rows:
        return Section(title="Drop-offs", text=note, html=f"<p>{html.escape(note)}</p>")
    figure = dropoff_figure(ctx, d)
    return Section.from_table(
        "Drop-offs",
        [
            "transition",
            "segment",
            "week",
            "rate vs other segments",
            "effect",
            "q-value",
            "since",
            "explained by",
        ],
        rows,
        note=note,
        figures=[figure] if figure else [],
    )


def section_key_touchpoints(ctx: ReportContext) -> Section | None:
    """Key touchpoints: conversion impact, exits and experience drivers."""
    from touchpoint.drivers import key_touchpoints
    from touchpoint.report._shared import degenerate_conversion

    log = ctx.log
    if log.n_journeys == 0 or (log.outcome is None and not log.conversions):
        return None
    if degenerate_conversion(ctx):  # said once, in the findings and the Markov section
        return None
    responses = ctx.responses
    if responses is not None and (
        "touchpoint" not in responses
        or "csat" not in responses
        or log.columns.get("journey") not in responses
    ):
        responses = None
    t = key_touchpoints(log, responses, n_resamples=50 if responses is not None else 0)
    cols = ["touchpoint", "journeys", "conversion_with", "removal_effect", "exit_rate"]
    headers = ["touchpoint", "journeys", "conversion with it", "removal effect", "exit rate"]
    if responses is not None and "driver_share" in t:
        metric = next(c[: -len("_gap")] for c in t.columns if c.endswith("_gap"))
        cols += [f"{metric}_gap", "driver_share"]
        headers += [f"{metric.upper()} gap", "NPS driver share"]
    from touchpoint.core._conversion import conversion_phase

    phase = conversion_phase(log)
    # touchpoints seen only at or after the conversion go last: their "conversion
    # with it" is 100% by construction and they cannot drive a conversion
    records = sorted(t.to_records(), key=lambda r: r["touchpoint"] in phase)
    n_top = max(ctx.top, 10)
    shown = records[:n_top]
    if "driver_share" in t:  # the strongest loyalty drivers, even with no conversion impact
        by_driver = sorted(
            (
                r
                for r in records[n_top:]
                if not np.isnan(r["driver_share"]) and r["touchpoint"] not in phase
            ),
            key=lambda r: -r["driver_share"],
        )
        shown += by_driver[:3]
    rows = []
    for r in shown:
        row = []
        for c in cols:
            v = r[c]
            if c in (
                "conversion_with",
                "removal_effect",
                "exit_rate",
                "driver_share",
            ) and isinstance(v, float):
                v = _pct(v)
            if c == "exit_rate" and r["exit_significant"]:
                v = f"{v} *"
            if c.endswith("_gap") and isinstance(v, float) and not np.isnan(v):
                v = f"{v:+.1f}" + (" *" if r["gap_qvalue"] <= 0.05 else "")
            if r["touchpoint"] in phase and c in ("conversion_with", "driver_share"):
                v = f"({phase[r['touchpoint']]})"  # true by construction: not a driver
            row.append(v)
        rows.append(row)
    note = (
        "Key touchpoints: the largest removal effects among touchpoints seen before a "
        "conversion (the same ones the key findings and the journey map name). "
        "Removal effect: relative fall in the Markov conversion probability without the "
        "touchpoint. Touchpoints only seen at the conversion itself or after it "
        "(onboarding, support after a purchase) are marked and listed last: every journey "
        "that has them converted, so they are not conversion or NPS drivers. Exit rate: share of its events ending a journey without conversion "
        "(* significantly above its stage, FDR 5%)."
    )
    if len(cols) > 5:
        note += (
            " Gap: CSAT (% satisfied) of buyers minus non-buyers, in points (* FDR 5%). "
            "Driver share: relative weight in explaining journey NPS (Johnson 2000), "
            "share of R^2."
        )
    return Section.from_table("Key touchpoints", headers, rows, note=note)
