"""Funnels and the paths around them: step matching, drop-off detection, exploration.

:func:`funnel` matches ordered steps within a window, :func:`detect_dropoffs`
finds significant drops by segment and period, :func:`next_steps` /
:func:`previous_steps` explore around a touchpoint and :func:`conformance`
checks journeys against a designed :class:`~touchpoint.Journey`.
"""

from __future__ import annotations

from touchpoint.funnels._dropoffs import ChangePoint, DropOff, DropOffs, detect_dropoffs
from touchpoint.funnels._explore import Conformance, conformance, next_steps, previous_steps
from touchpoint.funnels._funnel import END, Funnel, FunnelStep, funnel

__all__ = [
    "END",
    "ChangePoint",
    "Conformance",
    "DropOff",
    "DropOffs",
    "Funnel",
    "FunnelStep",
    "conformance",
    "detect_dropoffs",
    "funnel",
    "next_steps",
    "previous_steps",
]
