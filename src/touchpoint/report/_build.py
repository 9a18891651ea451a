"""The report's assembly: section builders in report order and :func:`build_report`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from touchpoint._lib.compat import deprecated_params
from touchpoint.report._base import Report, ReportContext, Section
from touchpoint.report._cx import section_cx
from touchpoint.report._figures import section_figures
from touchpoint.report._funnels import section_dropoffs, section_funnel, section_key_touchpoints
from touchpoint.report._markov import section_markov
from touchpoint.report._overview import section_overview, section_paths, section_transitions

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey
    from touchpoint.table import Table

__all__ = ["SECTION_BUILDERS", "build_report"]


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


@deprecated_params(renamed={"surveys": "responses"})
def build_report(
    log: EventLog,
    *,
    responses: Table | None = None,
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
    from touchpoint._lib.progress import track

    ctx = ReportContext(log=log, responses=responses, design=design or log.design, top=top)
    builders = [*SECTION_BUILDERS, *([section_figures] if figures else [])]
    sections = []
    for builder in track(builders, desc="report", unit="section", enabled=progress):
        s = builder(ctx)
        if s is not None:
            sections.append(s)
    return Report(title=title, sections=tuple(sections))
