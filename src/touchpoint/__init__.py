"""touchpoint: customer-journey modeling with honest statistics.

Touchpoints, stages and journeys (a journey *is* a networkx graph), a
validated columnar event log, CX metrics with confidence intervals, Markov
journey models, attribution and funnels.

Examples
--------
>>> import touchpoint as tp
>>> j = tp.Journey(stages=tp.stages.CUSTOMER_LIFECYCLE)
>>> j.add_touchpoint(tp.Touchpoint("ad", stage="awareness"))
>>> len(j)
1
"""

from __future__ import annotations

from touchpoint import datasets, stages
from touchpoint._version import __version__
from touchpoint.events import EventLog, Paths, ValidationIssue, ValidationReport
from touchpoint.exceptions import (
    DroppedRowsWarning,
    StatisticalWarning,
    TouchpointError,
    TouchpointWarning,
    UnknownStageError,
    UnknownTouchpointError,
    ValidationError,
)
from touchpoint.io import read_csv, read_journey
from touchpoint.metrics import (
    CESResult,
    Comparison,
    Consistency,
    CSATResult,
    NPSResult,
    RepeatRate,
    ResponseTimes,
    breakdown,
    ces,
    compare_ces,
    compare_csat,
    compare_nps,
    consistency,
    csat,
    nps,
    repeat_rate,
    response_times,
)
from touchpoint.model import Journey, Stage, Touchpoint
from touchpoint.table import Table

__all__ = [
    "CESResult",
    "CSATResult",
    "Comparison",
    "Consistency",
    "DroppedRowsWarning",
    "EventLog",
    "Journey",
    "NPSResult",
    "Paths",
    "RepeatRate",
    "ResponseTimes",
    "Stage",
    "StatisticalWarning",
    "Table",
    "Touchpoint",
    "TouchpointError",
    "TouchpointWarning",
    "UnknownStageError",
    "UnknownTouchpointError",
    "ValidationError",
    "ValidationIssue",
    "ValidationReport",
    "__version__",
    "breakdown",
    "ces",
    "compare_ces",
    "compare_csat",
    "compare_nps",
    "consistency",
    "csat",
    "datasets",
    "nps",
    "read_csv",
    "read_journey",
    "repeat_rate",
    "response_times",
    "stages",
]
