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
    from touchpoint.core._eventlog import EventLog
    from touchpoint.funnels import Funnel
    from touchpoint.markov import Attribution, RemovalEffects
    from touchpoint.metrics import NPSResult
    from touchpoint.report._base import ReportContext

__all__ = [
    "Conversion",
    "DropOffFindings",
    "StageFunnel",
    "conversion",
    "degenerate_conversion",
    "dropoff_findings",
    "has_conversions",
    "key_touchpoint_rows",
    "markov_attribution",
    "removal",
    "segment_columns",
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


def degenerate_conversion(ctx: ReportContext) -> str:
    """Why attribution says nothing here ("" when it can): every journey converted, or none.

    With a 100% (or 0%) conversion rate no touchpoint changes the outcome, so
    removal effects and credit shares are artefacts; the report shows this
    sentence instead of them (and the CLI prints it as a warning).
    """
    c = conversion(ctx)
    if c is None or c.journeys == 0:
        return ""
    if c.converted in (0, c.journeys):
        rate = "100%" if c.converted else "0%"
        return (
            f"Every journey has the same outcome (conversion rate {rate} of "
            f"{c.journeys:,}): no touchpoint can change it, so attribution and removal "
            "effects are left out. Check the conversion rule "
            f"({ctx.log.conversion_rule})."
        )
    return ""


def markov_attribution(ctx: ReportContext) -> Attribution | None:
    """``tp.attribution(log)`` (Markov), as the API gives it; None without outcomes.

    The report's credit table, removal-effect chart, key touchpoints and findings
    all read this one result (its ``removal_effects`` too): nothing is recomputed.
    """

    def make() -> Attribution | None:
        from touchpoint.markov import attribution

        if not has_conversions(ctx) or ctx.log.n_events == 0 or degenerate_conversion(ctx):
            return None
        return attribution(ctx.log, "markov")

    out: Attribution | None = _cached(ctx, "markov_attribution", make)
    return out


def removal(ctx: ReportContext) -> RemovalEffects | None:
    """The removal effects of :func:`markov_attribution` (None without outcomes)."""
    att = markov_attribution(ctx)
    return None if att is None else att.removal_effects


def key_touchpoint_rows(ctx: ReportContext, n: int = 3) -> list[dict[str, Any]]:
    """The report's key touchpoints: the ``n`` largest positive removal effects among
    touchpoints seen before a conversion.

    One definition for the key findings, the journey map's highlighted nodes and
    the Key touchpoints section. Touchpoints only seen at the conversion itself
    or after it (:func:`touchpoint.core._conversion.conversion_phase`) are left
    out: removing the purchase event removes the purchase, trivially.
    """
    from touchpoint.core._conversion import conversion_phase

    effects = removal(ctx)
    if effects is None:
        return []
    phase = conversion_phase(ctx.log)
    label = effects.table.columns[0]
    recs = [
        r for r in effects.table.to_records() if r["removal_effect"] > 0 and r[label] not in phase
    ]
    return recs[:n]


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
        from touchpoint.exceptions import TouchpointWarning

        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", TouchpointWarning)
                out = nps(col)
        except TouchpointError:
            return None
        ctx.cache["nps_warnings"] = [
            str(w.message) for w in caught if issubclass(w.category, TouchpointWarning)
        ]
        return out

    out: NPSResult | None = _cached(ctx, "nps", make)
    return out


@attrs.frozen
class DropOffFindings:
    """Significant drop-offs (one FDR family over all tests) and how many tests there were."""

    found: tuple[dict[str, Any], ...]
    n_tests: int
    explained: tuple[dict[str, Any], ...] = ()
    n_left_out: int = 0  # cells too thin or too recent to test (see DropOffs.left_out)
    tests: tuple[dict[str, Any], ...] = ()  # every test (with its q-value), for the chart

    def quoted(self) -> list[dict[str, Any]]:
        """One flagged row per transition and group: the one the key finding quotes.

        The row of the week the drop started (``since``) when that week is flagged
        itself, else the largest drop; the finding's week and figures both come
        from this one row, as does the table's first line for the group.
        """
        seen: dict[tuple[str, str, str], dict[str, Any]] = {}
        for t in sorted(self.found, key=lambda t: bool(t.get("explained_by"))):
            key = (f"{t['previous']} > {t['step']}", str(t["segment"]), str(t["group"]))
            if key not in seen:
                seen[key] = t
            elif t["period"] == t.get("since") != seen[key]["period"]:
                seen[key] = t  # the start week, flagged itself: quote it
        return list(seen.values())


def _segment_columns(ctx: ReportContext) -> list[str]:
    return segment_columns(ctx.log)


def segment_columns(log: EventLog) -> list[str]:
    """The log's extra columns the report segments journeys by: 2 to 12 values.

    (``customer`` and ``session`` ids are never segments.) The Conversion by
    segment section and the drop-off tests use these; the CLI warns about an
    ``--extra`` column that is not one.
    """
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
        every = [
            t
            | {
                "qvalue": qi,
                "since": starts.get(
                    (f"{t['previous']} > {t['step']}", t["segment"], t["group"]), ""
                ),
            }
            for t, qi in zip(tests, q.tolist(), strict=True)
        ]
        found = sorted((t for t in every if t["qvalue"] <= 0.05), key=lambda t: t["effect"])
        return DropOffFindings(
            found=tuple(found), n_tests=len(tests), n_left_out=n_left, tests=tuple(every)
        )

    out: DropOffFindings | None = _cached(ctx, "dropoffs", make)
    return out
