"""Report sections for funnels, drop-offs and key touchpoints (see touchpoint.report)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib.stats import benjamini_hochberg
from touchpoint.report._base import Section

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext

__all__ = ["section_dropoffs", "section_funnel", "section_key_touchpoints"]


def _pct(x: float) -> str:
    return "" if np.isnan(x) else f"{100 * x:.1f}%"


def section_funnel(ctx: ReportContext) -> Section | None:
    """The funnel over the design's stages (from the first stage most journeys reach)."""
    from touchpoint.funnels._funnel import funnel

    log, design = ctx.log, ctx.design
    if design is None or log.n_journeys == 0:
        return None
    staged = [s.name for s in design.stages if design.touchpoints_in(s)]
    stage_of = log.touchpoint_attribute("stage")
    met = np.zeros((len(staged), log.n_journeys), dtype=bool)
    for i, s in enumerate(staged):
        codes = np.flatnonzero(stage_of == s)
        ev = np.isin(log.touchpoint, codes)
        met[i, log.journey[ev]] = True
    share = met.mean(axis=1)
    first = int(np.argmax(share >= 0.5)) if (share >= 0.5).any() else 0
    steps = staged[first:]
    if not steps:
        return None
    f = funnel(log, steps)
    headers, rows = f._rows()
    note = (
        f"Ordered funnel over the design's stages ({log.n_journeys:,} journeys); "
        "conversion from the previous stage with 95% Wilson intervals."
    )
    if first:
        note += f" Stages before {steps[0]!r} are left out: most journeys skip them."
    return Section.from_table("Funnel by stage", headers, rows, note=note)


def _segment_columns(ctx: ReportContext) -> list[str]:
    log = ctx.log
    out = []
    for name in log.extra:
        if name in ("customer", "session"):
            continue
        vals = log.journey_column(name)
        if 2 <= len(set(vals.tolist())) <= 12:
            out.append(name)
    return out


def section_dropoffs(ctx: ReportContext) -> Section | None:
    """Significant drop-offs on the designed transitions, by segment and week."""
    from touchpoint.funnels._dropoffs import detect_dropoffs

    log, design = ctx.log, ctx.design
    if design is None or not log.is_datetime or log.n_journeys == 0:
        return None
    segments = _segment_columns(ctx)
    if not segments:
        return None
    a, b = log.transition_pairs()
    k = log.n_touchpoints
    seen = np.bincount(a.astype(np.int64) * k + b, minlength=k * k)
    names = log.touchpoint_names
    edges = [
        (u, v)
        for u, v in design.edges
        if u in names and v in names and seen[names.index(u) * k + names.index(v)] >= 50
    ]
    tests: list[dict[str, Any]] = []
    starts: dict[tuple[str, str, Any], Any] = {}
    for u, v in edges:
        for seg in segments:
            res = detect_dropoffs(log, [u, v], mode="strict", by=seg, period="week", n_resamples=0)
            tests.extend(row | {"segment": seg} for row in res.tests.to_records())
            for c in res.changes:
                starts[(f"{u} > {v}", seg, c.group)] = c.start
    if not tests:
        return None
    q = benjamini_hochberg([t["pvalue"] for t in tests])
    found = [t | {"qvalue": qi} for t, qi in zip(tests, q.tolist(), strict=True) if qi <= 0.05]
    found.sort(key=lambda t: t["effect"])
    rows = [
        [
            f"{t['previous']} > {t['step']}",
            f"{t['segment']}={t['group']}",
            t["period"],
            _pct(t["rate"]),
            _pct(t["expected"]),
            f"{100 * t['effect']:+.1f} pts",
            f"{t['qvalue']:.2g}",
            starts.get((f"{t['previous']} > {t['step']}", t["segment"], t["group"]), ""),
        ]
        for t in found[: max(ctx.top, 10)]
    ]
    note = (
        f"{len(found)} of {len(tests)} tests significant (Benjamini-Hochberg FDR 5%): each "
        "designed transition (the next event), per segment and week (week of the transition's "
        "first event), against the same segment's earlier weeks."
    )
    if not rows:
        return Section(title="Drop-offs", text=note, html=f"<p>{note}</p>")
    return Section.from_table(
        "Drop-offs",
        ["transition", "segment", "week", "rate", "expected", "effect", "q", "since"],
        rows,
        note=note,
    )


def section_key_touchpoints(ctx: ReportContext) -> Section | None:
    """Key touchpoints: conversion impact, exits and experience drivers."""
    from touchpoint.drivers import key_touchpoints

    log = ctx.log
    if log.n_journeys == 0 or (log.outcome is None and not log.conversions):
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
    headers = ["touchpoint", "journeys", "conv. with", "removal effect", "exit rate"]
    if responses is not None and "driver_share" in t:
        metric = next(c[: -len("_gap")] for c in t.columns if c.endswith("_gap"))
        cols += [f"{metric}_gap", "driver_share"]
        headers += [f"{metric} gap", "NPS driver share"]
    records = t.to_records()
    n_top = max(ctx.top, 10)
    shown = records[:n_top]
    if "driver_share" in t:  # the strongest loyalty drivers, even with no conversion impact
        by_driver = sorted(
            (r for r in records[n_top:] if not np.isnan(r["driver_share"])),
            key=lambda r: -r["driver_share"],
        )
        shown += by_driver[:3]
    rows = []
    for r in shown:
        row = []
        for c in cols:
            v = r[c]
            if c in ("conversion_with", "exit_rate", "driver_share") and isinstance(v, float):
                v = _pct(v)
            if c == "exit_rate" and r["exit_significant"]:
                v = f"{v} *"
            if c.endswith("_gap") and isinstance(v, float) and not np.isnan(v):
                v = f"{v:+.1f}" + (" *" if r["gap_qvalue"] <= 0.05 else "")
            row.append(v)
        rows.append(row)
    note = (
        "Removal effect: relative fall in the Markov conversion probability without the "
        "touchpoint. Exit rate: share of its events ending a journey without conversion "
        "(* significantly above its stage, FDR 5%)."
    )
    if len(cols) > 5:
        note += (
            " Gap: CSAT (% satisfied) of buyers minus non-buyers, in points (* FDR 5%). "
            "Driver share: relative weight in explaining journey NPS (Johnson 2000), "
            "share of R^2."
        )
    return Section.from_table("Key touchpoints", headers, rows, note=note)
