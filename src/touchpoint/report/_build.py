"""The report's assembly: section builders in report order and :func:`build_report`."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING

from touchpoint._lib.compat import deprecated_params
from touchpoint.report._base import Report, ReportContext, Section
from touchpoint.report._cx import section_cx
from touchpoint.report._designless import (
    designed_only,
    section_clusters,
    section_compare,
    section_prefixes,
    section_process_map,
    section_retention,
    section_step_matrix,
)
from touchpoint.report._figures import section_journey_map
from touchpoint.report._findings import section_findings
from touchpoint.report._funnels import section_dropoffs, section_funnel, section_key_touchpoints
from touchpoint.report._markov import section_markov
from touchpoint.report._monitor import section_monitor
from touchpoint.report._overview import (
    section_overview,
    section_paths,
    section_segments,
    section_transitions,
)

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey
    from touchpoint.monitoring import Monitor
    from touchpoint.table import Table

__all__ = ["SECTION_BUILDERS", "build_report"]


#: Section builders, in report order. Analysis modules add theirs here. The
#: "Key findings" headline (:func:`section_findings`) is built last, from the
#: analyses these sections computed, and shown first.
SECTION_BUILDERS: list[Callable[[ReportContext], Section | None]] = [
    section_overview,
    section_segments,  # the --extra columns: conversion by segment
    section_compare,  # without a design: comparative findings and segments
    designed_only(section_journey_map),
    section_process_map,  # without a design, in place of the designed map
    section_funnel,
    section_dropoffs,
    designed_only(section_paths),
    section_prefixes,  # without a design: how journeys begin
    section_step_matrix,
    section_clusters,
    section_retention,
    section_transitions,
    section_markov,
    section_key_touchpoints,
    section_cx,
    section_monitor,
]


@deprecated_params(renamed={"surveys": "responses"})
def build_report(
    log: EventLog,
    *,
    responses: Table | None = None,
    design: Journey | None = None,
    title: str = "Journey report",
    top: int = 10,
    figures: bool = True,
    interactive: bool | None = None,
    progress: bool | None = None,
    monitor: Monitor | None = None,
) -> Report:
    """Build the journey report for an event log (and optional survey answers).

    Parameters
    ----------
    log : EventLog
        The events.
    responses : Table, optional
        Survey answers (``nps``, ``csat``, ``ces`` columns; ``touchpoint`` and
        ``channel`` for the per-touchpoint views).
    design : Journey, optional
        The designed journey (stages); defaults to the log's own.
    title : str
        The report's title.
    top : int
        Rows per ranked table.
    figures : bool
        Draw the HTML figures (needs matplotlib; left out without it).
    interactive : bool, optional
        Add the interactive journey view (needs plotly, the ``interactive``
        extra); by default whenever plotly is installed.
    progress : bool, optional
        Show a bar over the sections (default: only in a terminal).
    monitor : Monitor, optional
        A :func:`touchpoint.monitor`: the report then shows its state (estimate,
        confidence sequence, alarm) and latest looks.

    Returns
    -------
    Report
        Its first section is "Key findings".

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 2], ["ad", "buy", "ad"], [0.0, 1.0, 0.0],
    ...                               outcome=[0, 1, 0])
    >>> rep = build_report(log, title="Tiny", figures=False)
    >>> rep
    Report('Tiny', 8 sections)
    >>> rep.sections[0].title
    'Key findings'
    """
    from touchpoint._lib.progress import track

    draw = figures and importlib.util.find_spec("matplotlib") is not None
    if interactive is None:
        interactive = importlib.util.find_spec("plotly") is not None
    ctx = ReportContext(
        log=log,
        responses=responses,
        design=design or log.design,
        top=top,
        figures=draw,
        interactive=bool(interactive and draw),
        monitor=monitor,
    )
    sections = []
    for builder in track(SECTION_BUILDERS, desc="report", unit="section", enabled=progress):
        s = builder(ctx)
        if s is not None:
            sections.append(s)
    headline = section_findings(ctx, sections)
    if headline is not None:
        sections.insert(0, headline)
    return Report(title=title, sections=tuple(sections))
