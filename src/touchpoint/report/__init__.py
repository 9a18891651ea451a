"""The journey report: a plain-text summary and a self-contained HTML page.

:func:`build_report` runs every section builder (a function
``(ReportContext) -> Section | None``, one module per topic) in the order of
:data:`SECTION_BUILDERS` and returns a :class:`Report`.
"""

from __future__ import annotations

from touchpoint.report._base import Figure, Report, ReportContext, Section
from touchpoint.report._build import SECTION_BUILDERS, build_report
from touchpoint.report._cx import section_cx
from touchpoint.report._figures import section_journey_map
from touchpoint.report._findings import section_findings
from touchpoint.report._funnels import section_dropoffs, section_funnel, section_key_touchpoints
from touchpoint.report._markov import section_markov
from touchpoint.report._overview import (
    section_overview,
    section_paths,
    section_segments,
    section_transitions,
)
from touchpoint.report._shared import segment_columns

__all__ = [
    "SECTION_BUILDERS",
    "Figure",
    "Report",
    "ReportContext",
    "Section",
    "build_report",
    "section_cx",
    "section_dropoffs",
    "section_findings",
    "section_funnel",
    "section_journey_map",
    "section_key_touchpoints",
    "section_markov",
    "section_overview",
    "section_paths",
    "section_segments",
    "section_transitions",
    "segment_columns",
]
