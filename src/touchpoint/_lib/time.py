"""Time helpers shared by every analysis: durations, seconds, periods (internal)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from touchpoint.exceptions import ValidationError

__all__ = ["duration"]


def duration(value: Any, name: str) -> float | None:
    """A window or period in the analysis time unit (seconds for datetime logs)."""
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        out = value.total_seconds()
    elif isinstance(value, np.timedelta64):
        out = float(value / np.timedelta64(1, "s"))
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        out = float(value)
    else:
        msg = f"'{name}' must be a timedelta or a number of seconds (got {value!r})."
        raise ValidationError(msg)
    if not out > 0:
        msg = f"'{name}' must be positive (got {value!r})."
        raise ValidationError(msg)
    return out
