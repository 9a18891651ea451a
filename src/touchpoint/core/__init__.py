"""The nouns of customer-journey modeling: stages, touchpoints, journeys and event logs.

:class:`Journey` is a :class:`networkx.DiGraph` of touchpoints;
:class:`EventLog` is the validated columnar log of what customers did;
:class:`LogSpec` how to read one (column roles and read policy);
:class:`Paths` the per-journey sequences and :class:`ValidationReport` what
validation kept and dropped.
"""

from __future__ import annotations

from touchpoint.core._eventlog import EventLog
from touchpoint.core._journey import Journey, Stage, Touchpoint
from touchpoint.core._paths import Paths
from touchpoint.core._spec import LogSpec
from touchpoint.core._validation import ValidationIssue, ValidationReport

__all__ = [
    "EventLog",
    "Journey",
    "LogSpec",
    "Paths",
    "Stage",
    "Touchpoint",
    "ValidationIssue",
    "ValidationReport",
]
