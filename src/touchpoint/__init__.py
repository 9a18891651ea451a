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
from touchpoint.attribution import Attribution, RemovalEffects, attribution, removal_effects
from touchpoint.drivers import exit_points, key_touchpoints, relative_weights, shapley_r2
from touchpoint.dropoffs import ChangePoint, DropOff, DropOffs, detect_dropoffs
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
from touchpoint.explore import Conformance, conformance, next_steps, previous_steps
from touchpoint.funnel import Funnel, FunnelStep, funnel
from touchpoint.io import read_csv, read_journey
from touchpoint.markov import (
    MarkovModel,
    OrderSelection,
    TransitionComparison,
    TransitionCounts,
    WhatIf,
    compare_transitions,
    count_transitions,
    fit_markov,
    select_order,
)
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
    "Attribution",
    "CESResult",
    "CSATResult",
    "ChangePoint",
    "Comparison",
    "Conformance",
    "Consistency",
    "DropOff",
    "DropOffs",
    "DroppedRowsWarning",
    "EventLog",
    "Funnel",
    "FunnelStep",
    "Journey",
    "MarkovModel",
    "NPSResult",
    "OrderSelection",
    "Paths",
    "RemovalEffects",
    "RepeatRate",
    "ResponseTimes",
    "Stage",
    "StatisticalWarning",
    "Table",
    "Touchpoint",
    "TouchpointError",
    "TouchpointWarning",
    "TransitionComparison",
    "TransitionCounts",
    "UnknownStageError",
    "UnknownTouchpointError",
    "ValidationError",
    "ValidationIssue",
    "ValidationReport",
    "WhatIf",
    "__version__",
    "attribution",
    "breakdown",
    "ces",
    "compare_ces",
    "compare_csat",
    "compare_nps",
    "compare_transitions",
    "conformance",
    "consistency",
    "count_transitions",
    "csat",
    "datasets",
    "detect_dropoffs",
    "exit_points",
    "fit_markov",
    "funnel",
    "key_touchpoints",
    "next_steps",
    "nps",
    "previous_steps",
    "read_csv",
    "read_journey",
    "relative_weights",
    "removal_effects",
    "repeat_rate",
    "response_times",
    "select_order",
    "shapley_r2",
    "stages",
]
