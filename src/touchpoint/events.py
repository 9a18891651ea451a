"""Deprecated alias of :mod:`touchpoint.core` (removed in the next release).

``touchpoint.events`` was a module of the flat 0.1 layout; import these names
from ``touchpoint`` (or ``touchpoint.core``) instead.
"""

from __future__ import annotations

import warnings

from touchpoint.core import EventLog, Paths, ValidationIssue, ValidationReport

warnings.warn(
    "touchpoint.events is deprecated and will be removed in the next release; "
    "import from touchpoint (or touchpoint.core) instead.",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["EventLog", "Paths", "ValidationIssue", "ValidationReport"]
