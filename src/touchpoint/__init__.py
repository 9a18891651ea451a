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

import importlib
from typing import TYPE_CHECKING, Any

# `attribution` and `funnel` are imported eagerly: their public functions share their
# module's name, and a lazily loaded submodule would be rebound over the function.
from touchpoint import stages
from touchpoint._version import __version__
from touchpoint.attribution import Attribution, RemovalEffects, attribution, removal_effects
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
from touchpoint.funnel import Funnel, FunnelStep, funnel
from touchpoint.io import read_csv, read_journey
from touchpoint.model import Journey, Stage, Touchpoint
from touchpoint.table import Table

if TYPE_CHECKING:  # the other analysis modules load on first use (PEP 562), see __getattr__
    from touchpoint import datasets
    from touchpoint.drivers import exit_points, key_touchpoints, relative_weights, shapley_r2
    from touchpoint.dropoffs import ChangePoint, DropOff, DropOffs, detect_dropoffs
    from touchpoint.explore import Conformance, conformance, next_steps, previous_steps
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

# Public names imported on first access, so that `import touchpoint` stays light.
_LAZY: dict[str, str] = {
    "CESResult": "touchpoint.metrics",
    "CSATResult": "touchpoint.metrics",
    "ChangePoint": "touchpoint.dropoffs",
    "Comparison": "touchpoint.metrics",
    "Conformance": "touchpoint.explore",
    "Consistency": "touchpoint.metrics",
    "DropOff": "touchpoint.dropoffs",
    "DropOffs": "touchpoint.dropoffs",
    "MarkovModel": "touchpoint.markov",
    "NPSResult": "touchpoint.metrics",
    "OrderSelection": "touchpoint.markov",
    "RepeatRate": "touchpoint.metrics",
    "ResponseTimes": "touchpoint.metrics",
    "TransitionComparison": "touchpoint.markov",
    "TransitionCounts": "touchpoint.markov",
    "WhatIf": "touchpoint.markov",
    "breakdown": "touchpoint.metrics",
    "ces": "touchpoint.metrics",
    "compare_ces": "touchpoint.metrics",
    "compare_csat": "touchpoint.metrics",
    "compare_nps": "touchpoint.metrics",
    "compare_transitions": "touchpoint.markov",
    "conformance": "touchpoint.explore",
    "consistency": "touchpoint.metrics",
    "count_transitions": "touchpoint.markov",
    "csat": "touchpoint.metrics",
    "datasets": "touchpoint.datasets",
    "detect_dropoffs": "touchpoint.dropoffs",
    "exit_points": "touchpoint.drivers",
    "fit_markov": "touchpoint.markov",
    "key_touchpoints": "touchpoint.drivers",
    "next_steps": "touchpoint.explore",
    "nps": "touchpoint.metrics",
    "previous_steps": "touchpoint.explore",
    "relative_weights": "touchpoint.drivers",
    "repeat_rate": "touchpoint.metrics",
    "response_times": "touchpoint.metrics",
    "select_order": "touchpoint.markov",
    "shapley_r2": "touchpoint.drivers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'touchpoint' has no attribute {name!r}"
        raise AttributeError(msg)
    mod = importlib.import_module(module)
    value = mod if module == f"touchpoint.{name}" else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
