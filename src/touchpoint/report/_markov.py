"""The report's Markov section: conversion probability, attribution, removal effects."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from touchpoint.report._base import Section, pct

if TYPE_CHECKING:
    from touchpoint.report._base import ReportContext
    from touchpoint.table import Table

__all__ = ["section_markov"]


def section_markov(ctx: ReportContext) -> Section | None:
    """Markov journey model: conversion probability, attribution, largest removal effects."""
    from touchpoint.markov import attribution
    from touchpoint.report._shared import degenerate_conversion, markov_attribution

    log = ctx.log
    if log.outcome is None and not log.conversions:
        return None
    why = degenerate_conversion(ctx)
    if why:
        return Section(title="Markov attribution", text=why, html=f"<p>{html.escape(why)}</p>")
    att = markov_attribution(ctx)
    re = att.removal_effects if att is not None else None
    if att is None or re is None:  # pragma: no cover - markov always has them
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
                float(r["conversions"]),
                *([float(r["value"])] if has_value else []),
                float(r["share"]),
                credit(heur["last_touch"], name),
                credit(heur["linear"], name),
            ]
        )
    top_re = re.table.head(min(5, ctx.top)).to_records()
    largest = ", ".join(f"{r[col]} ({100 * r['removal_effect']:.1f}%)" for r in top_re)
    note = (
        f"Conversion probability from start (first-order Markov chain, exact): "
        f"{pct(re.conversion_probability)}. Largest removal effects (share of conversions "
        f"lost if the touchpoint disappeared): {largest}. "
        + (att.note or "")
        + " Columns as tp.attribution(log) gives them; last-touch and linear shown for "
        f"comparison. A conversion is {log.conversion_rule}."
    )
    if att.unattributed:
        note += (
            f" {att.unattributed:,.0f} conversions had no touchpoint before them "
            "(direct) and are not credited to any touchpoint."
        )
    from touchpoint.report._figures import removal_figure

    return Section.from_table(
        "Markov attribution",
        [
            col,
            "conversions",
            *(["value"] if has_value else []),
            "share",
            "last touch",
            "linear",
        ],
        rows,
        note=note,
        figures=[f for f in [removal_figure(ctx)] if f is not None],
    )
