"""Deprecated alias of :mod:`touchpoint.funnels` (removed in the next release).

``touchpoint.dropoffs`` was a module of the flat 0.1 layout; import these names
from ``touchpoint`` (or ``touchpoint.funnels``) instead.
"""

from __future__ import annotations

import warnings

from touchpoint.funnels import ChangePoint, DropOff, DropOffs, detect_dropoffs

warnings.warn(
    "touchpoint.dropoffs is deprecated and will be removed in the next release; "
    "import from touchpoint (or touchpoint.funnels) instead.",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["ChangePoint", "DropOff", "DropOffs", "detect_dropoffs"]
