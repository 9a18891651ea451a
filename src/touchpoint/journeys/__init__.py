"""Journeys nobody designed: step matrix, process map, clusters, retention, path prefixes.

:func:`step_matrix` shows where journeys are at each step (retentioneering's step
matrix, with a differential version tested cell by cell), :func:`process_map` the
directly-follows graph (pm4py's DFG, Disco's map), :func:`cluster_journeys` groups
journeys by a mixture of Markov chains, :func:`retention` gives censoring-aware
cohort retention and :func:`path_prefixes` groups journeys by how they begin.
"""

from __future__ import annotations

from touchpoint.journeys._clusters import JourneyClusters, cluster_journeys
from touchpoint.journeys._prefixes import path_prefixes
from touchpoint.journeys._process_map import ProcessMap, process_map
from touchpoint.journeys._retention import Retention, retention
from touchpoint.journeys._step_matrix import StepMatrix, step_matrix

__all__ = [
    "JourneyClusters",
    "ProcessMap",
    "Retention",
    "StepMatrix",
    "cluster_journeys",
    "path_prefixes",
    "process_map",
    "retention",
    "step_matrix",
]
