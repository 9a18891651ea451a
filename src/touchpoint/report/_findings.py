"""The report's headline: "Key findings", the first section, built from the other sections' results.

Each finding is one sentence with its number and its uncertainty: the
conversion rate with its interval, the biggest drop-off of the stage funnel,
the touchpoints with the largest removal effects, the significant drop-offs
(and what explains them), and NPS with its interval. The numbers come from the
same cached analyses the detailed sections show (:mod:`touchpoint.report._shared`),
so the headline and the tables can never disagree.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from touchpoint.report._base import Section
from touchpoint.report._shared import (
    conversion,
    dropoff_findings,
    key_touchpoint_rows,
    stage_funnel,
    survey_nps,
)

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext

__all__ = ["findings", "section_findings"]


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _conversion(ctx: ReportContext) -> tuple[str, str] | None:
    c = conversion(ctx)
    if c is None or c.journeys == 0:
        return None
    return (
        "Conversion",
        f"{_pct(c.rate)} of {c.journeys:,} journeys converted "
        f"(95% CI {_pct(c.low)} to {_pct(c.high)}; {c.converted:,} journeys); a conversion is "
        f"{ctx.log.conversion_rule}.",
    )


def _biggest_dropoff(ctx: ReportContext) -> tuple[str, str] | None:
    sf = stage_funnel(ctx)
    if sf is None:
        return None
    steps = list(sf.funnel.steps)
    worst = None
    for prev, step in itertools.pairwise(steps):
        lost = prev.reached - step.reached if step.entered else 0
        if prev.reached and (worst is None or lost > worst[2]):
            worst = (prev, step, lost)
    if worst is None or worst[2] <= 0:
        return None
    prev, step, lost = worst
    return (
        "Biggest drop-off",
        f"{prev.label} to {step.label}: {lost:,} of the {prev.reached:,} journeys that reached "
        f"{prev.label} did not go on ({_pct(lost / prev.reached)}; "
        f"{_pct(step.conversion)} continued).",
    )


def _top_removal(ctx: ReportContext) -> tuple[str, str] | None:
    from touchpoint.report._shared import degenerate_conversion

    why = degenerate_conversion(ctx)
    if why:
        return ("Attribution", why)
    recs = key_touchpoint_rows(ctx)
    if not recs:
        return None
    label = next(iter(recs[0]))
    names = ", ".join(f"{r[label]} ({_pct(r['removal_effect'], 0)})" for r in recs)
    return (
        "Key touchpoints",
        f"{names}: the share of conversions lost if the touchpoint were removed "
        "(removal effect, first-order Markov model; touchpoints seen only at or after "
        "the conversion left out). Highlighted on the journey map.",
    )


def _dropoffs(ctx: ReportContext) -> tuple[str, str] | None:
    d = dropoff_findings(ctx)
    if d is None:
        return None
    if not d.found:
        return (
            "Drop-offs over time",
            f"none significant in {d.n_tests:,} weekly tests by segment (FDR 5%).",
        )
    parts = []
    for t in d.quoted()[:3]:
        week = str(t["period"])
        when = (
            f" since the week of {week}"
            if t.get("since") and str(t["since"]) == week
            else f" in the week of {week}"
        )
        why = f" (explained by {t['explained_by']})" if t.get("explained_by") else ""
        parts.append(
            f"{t['previous']} to {t['step']} for {t['segment']}={t['group']}{when}: "
            f"{_pct(t['rate'])} against {_pct(t['expected'])} in the other "
            f"{t['segment']} groups that week{why}"
        )
    more = len({(f"{t['previous']} > {t['step']}", t["segment"], t["group"]) for t in d.found})
    tail = f"; {more - len(parts)} more in the Drop-offs section" if more > len(parts) else ""
    return (
        "Significant drop-offs",
        "; ".join(parts) + tail + f" ({len(d.found):,} of {d.n_tests:,} weekly tests, FDR 5%).",
    )


def _nps(ctx: ReportContext) -> tuple[str, str] | None:
    r = survey_nps(ctx)
    if r is None:
        return None
    lo, hi = r.ci
    warned = "".join(f" Warning: {w}" for w in ctx.cache.get("nps_warnings", []))
    return (
        "NPS",
        f"{r.score:+.1f} (95% CI {lo:+.1f} to {hi:+.1f}; {r.n:,} answers; by segment in "
        f"the Customer experience section).{warned}",
    )


def findings(ctx: ReportContext) -> list[tuple[str, str]]:
    """The key findings as ``(label, sentence)`` pairs, in report order."""
    out = []
    for make in (_conversion, _biggest_dropoff, _top_removal, _dropoffs, _nps):
        item: Any = make(ctx)
        if item is not None:
            out.append(item)
    return out


#: Where each finding's chart is: the section drawing it.
CHART_OF = {
    "Conversion": "Conversion by segment",
    "Biggest drop-off": "Funnel by stage",
    "Key touchpoints": "Journey map",
    "Significant drop-offs": "Drop-offs",
    "Drop-offs over time": "Drop-offs",
    "NPS": "Customer experience (NPS, CSAT, CES)",
}


def section_findings(ctx: ReportContext, sections: Sequence[Section] = ()) -> Section | None:
    """The "Key findings" section (None when there is nothing to say).

    Each finding links to the section whose chart shows it (when that section is in
    ``sections`` and has a figure).
    """
    from touchpoint.report._base import _slug

    items = findings(ctx)
    if not items:
        return None
    drawn = {s.title for s in sections if s.figures}
    text = "\n".join(f"- {label}: {sentence}" for label, sentence in items)
    body = ""
    for label, sentence in items:
        where = CHART_OF.get(label)
        link = (
            f' <a class="chart-link" href="#{_slug(where)}">(chart: {html.escape(where)})</a>'
            if where in drawn
            else ""
        )
        body += f"<li><strong>{html.escape(label)}:</strong> {html.escape(sentence)}{link}</li>"
    return Section(title="Key findings", text=text, html=f'<ul class="findings">{body}</ul>')
