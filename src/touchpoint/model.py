"""Deprecated alias of :mod:`touchpoint.core` (removed in the next release).

``touchpoint.model`` was a module of the flat 0.1 layout; import these names
from ``touchpoint`` (or ``touchpoint.core``) instead.
"""

from __future__ import annotations

import warnings

from touchpoint.core import Journey, Stage, Touchpoint

warnings.warn(
    "touchpoint.model is deprecated and will be removed in the next release; "
    "import from touchpoint (or touchpoint.core) instead.",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["Journey", "Stage", "Touchpoint"]
