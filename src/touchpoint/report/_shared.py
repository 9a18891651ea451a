"""Analyses several report sections share, computed once per report (``ReportContext.cache``).

The funnel table, its chart and the key findings read the *same* funnel; the
drop-off table and the findings the same tests; the attribution table, the
removal-effect chart and the findings the same removal effects. Each getter
computes on first use and keeps the result in the context's cache.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from touchpoint.exceptions import StatisticalWarning

if TYPE_CHECKING:
    from touchpoint.funnels import Funnel
    from touchpoint.markov import RemovalEffects
    from touchpoint.metrics import NPSResult
    from touchpoint.report._base import ReportContext

__all__ = [
    "Conversion",
    "DropOffFindings",
    "StageFunnel",
    "conversion",
    "dropoff_findings",
    "has_conversions",
    "removal",
    "stage_funnel",
    "survey_nps",
]


def _cached(ctx: ReportContext, key: str, make: Any) -> Any:
    cache: dict[str, Any] = ctx.cache
    if key not in cache:
        cache[key] = make()
    return cache[key]


def has_conversions(ctx: ReportContext) -> bool:
    """Whether the log says which journeys converted (an outcome or conversion events)."""
    log = ctx.log
    return log.outcome is not None or bool(log.conversions)


@attrs.frozen
class Conversion:
    """Converted journeys out of all, with the 95% Wilson interval of the rate."""

    converted: int
    journeys: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.converted / self.journeys if self.journeys else float("nan")


def conversion(ctx: ReportContext) -> Conversion | None:
    """The journey conversion rate with its 95% Wilson interval (None without outcomes)."""

    def make() -> Conversion | None:
        from touchpoint._lib.stats import proportion_ci

        if not has_conversions(ctx):
            return None
        log = ctx.log
        k = int(np.asarray(log.converted()).sum())
        n = log.n_journeys
        if n == 0:
            return Conversion(converted=0, journeys=0, low=float("nan"), high=float("nan"))
        lo, hi = proportion_ci(np.array([k]), n, 0.95, "wilson")
        return Conversion(converted=k, journeys=n, low=float(lo[0]), high=float(hi[0]))

    out: Conversion | None = _cached(ctx, "conversion", make)
    return out


@attrs.frozen
class StageFunnel:
    """The report's funnel over the design's stages, and the stages it leaves out."""

    funnel: Funnel
    skipped: tuple[str, ...]


def stage_funnel(ctx: ReportContext) -> StageFunnel | None:
    """The ordered funnel over the design's stages, from the first stage most journeys reach.

    Stages before that one are left out (most journeys skip them, so they would
    only shrink the base); the same funnel feeds the table, the chart and the
    key findings.
    """

    def make() -> StageFunnel | None:
        from touchpoint.funnels import funnel

        log, design = ctx.log, ctx.design
        if design is None or log.n_journeys == 0:
            return None
        staged = [s.name for s in design.stages if design.touchpoints_in(s)]
        if not staged:
            return None
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
        return StageFunnel(funnel=funnel(log, steps), skipped=tuple(staged[:first]))

    out: StageFunnel | None = _cached(ctx, "stage_funnel", make)
    return out


def removal(ctx: ReportContext) -> RemovalEffects | None:
    """Exact removal effects of the first-order Markov model (None without outcomes)."""

    def make() -> RemovalEffects | None:
        from touchpoint.markov import fit_markov, removal_effects

        if not has_conversions(ctx) or ctx.log.n_events == 0:
            return None
        return removal_effects(fit_markov(ctx.log))

    out: RemovalEffects | None = _cached(ctx, "removal", make)
    return out


def survey_nps(ctx: ReportContext) -> NPSResult | None:
    """Journey-level NPS of the survey answers (None without an ``nps`` column)."""

    def make() -> NPSResult | None:
        from touchpoint.exceptions import TouchpointError
        from touchpoint.metrics import nps

        s = ctx.responses
        if s is None or "nps" not in s:
            return None
        col = np.asarray(s["nps"])
        if col.dtype.kind not in "biuf" or not np.any(~np.isnan(col.astype(float))):
            return None
        try:
            return nps(col)
        except TouchpointError:
            return None

    out: NPSResult | None = _cached(ctx, "nps", make)
    return out


@attrs.frozen
class DropOffFindings:
    """Significant drop-offs (one FDR family over all tests) and how many tests there were."""

    found: tuple[dict[str, Any], ...]
    n_tests: int
    explained: tuple[dict[str, Any], ...] = ()
    n_left_out: int = 0  # cells too thin or too recent to test (see DropOffs.left_out)


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


def _split_label(label: Any, segments: list[str]) -> tuple[str, Any]:
    """(segment column, group) of a drop-off group label (``"column=value"`` for several)."""
    if len(segments) == 1:
        return segments[0], label
    seg, _, group = str(label).partition("=")
    return seg, group


def dropoff_findings(ctx: ReportContext) -> DropOffFindings | None:
    """Weekly drop-offs on every designed transition, by segment, controlled together."""

    def make() -> DropOffFindings | None:
        from touchpoint._lib.stats import benjamini_hochberg
        from touchpoint.funnels import detect_dropoffs

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
        n_left = 0
        for u, v in edges:
            # all segment columns in one call: a cell that another column's cell
            # accounts for (region=west when west is mostly mobile) is marked as
            # explained; segments are compared with the other segments of the same
            # week, so a change in who enters a step over time (repeat buyers
            # entering a post-purchase step) does not look like a drop
            with warnings.catch_warnings():  # stated once in the section note instead
                warnings.simplefilter("ignore", StatisticalWarning)
                res = detect_dropoffs(
                    log,
                    [u, v],
                    mode="strict",
                    by=segments,
                    period="week",
                    baseline="others",
                    n_resamples=0,
                )
            n_left += sum(r != "no_past" for r in res.left_out["reason"].tolist())
            for row in res.tests.to_records():
                seg, group = _split_label(row["group"], segments)
                explained = row["explained_by"]
                tests.append(
                    row | {"segment": seg, "group": group, "explained_by": explained or ""}
                )
            for c in res.changes:
                seg, group = _split_label(c.group, segments)
                starts[(f"{u} > {v}", seg, group)] = c.start
        if not tests:
            return None
        q = benjamini_hochberg([t["pvalue"] for t in tests])
        found = [
            t
            | {
                "qvalue": qi,
                "since": starts.get(
                    (f"{t['previous']} > {t['step']}", t["segment"], t["group"]), ""
                ),
            }
            for t, qi in zip(tests, q.tolist(), strict=True)
            if qi <= 0.05
        ]
        found.sort(key=lambda t: t["effect"])
        return DropOffFindings(found=tuple(found), n_tests=len(tests), n_left_out=n_left)

    out: DropOffFindings | None = _cached(ctx, "dropoffs", make)
    return out
