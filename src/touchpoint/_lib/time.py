"""Time helpers shared by every analysis: durations, seconds, periods (internal)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchpoint.exceptions import ValidationError

__all__ = ["duration", "format_duration", "required_duration", "seconds"]


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


def required_duration(value: Any, name: str) -> float:
    """Like :func:`duration`, but ``None`` is refused too."""
    out = duration(value, name)
    if out is None:
        msg = f"'{name}' must be a timedelta or a number of seconds (got None)."
        raise ValidationError(msg)
    return out


def seconds(times: NDArray[Any], *, origin: int | None = None) -> NDArray[np.float64]:
    """Times as floats: seconds for datetime64 arrays, the log's own units otherwise.

    With ``origin`` (nanoseconds since the epoch) datetime times are counted
    from it, which keeps sub-microsecond precision for recent dates.

    Examples
    --------
    >>> t = np.array(["2026-01-01T00:00", "2026-01-01T00:01:30"], dtype="datetime64[ns]")
    >>> seconds(t, origin=int(t.view(np.int64)[0])).tolist()
    [0.0, 90.0]
    >>> seconds(np.array([1, 2])).tolist()
    [1.0, 2.0]
    """
    if times.dtype.kind == "M":
        ns = times.astype("datetime64[ns]", copy=False).view(np.int64)
        return (ns if origin is None else ns - origin).astype(np.float64) / 1e9
    return np.asarray(times, dtype=np.float64)


def format_duration(value: float, unit: str = "s", *, missing: str = "n/a") -> str:
    """A short human duration: ``"45 s"``, ``"12 min"``, ``"2.5 h"``, ``"3.1 d"``.

    ``unit`` other than ``"s"`` (a log with numeric times) gives the plain
    number; ``missing`` stands for NaN and infinities.

    Examples
    --------
    >>> format_duration(45), format_duration(720), format_duration(9000), format_duration(3.1 * 86400)
    ('45 s', '12 min', '2.5 h', '3.1 d')
    >>> format_duration(2.5, unit="steps"), format_duration(float("nan"))
    ('2.5', 'n/a')
    """
    if not np.isfinite(value):
        return missing
    if unit != "s":
        return f"{value:.3g}"
    for size, name in ((86400, "d"), (3600, "h"), (60, "min")):
        if abs(value) >= size:
            return f"{value / size:.3g} {name}"
    return f"{value:.3g} s"
