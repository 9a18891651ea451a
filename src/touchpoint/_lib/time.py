"""Time helpers shared by every analysis: durations, seconds, periods (internal).

Calendar periods. Event times are stored as UTC instants (datetime64[ns]). A
calendar period depends on where the user's day starts, so bucketing takes
``tz=`` (an IANA name such as ``"America/New_York"``; default ``"UTC"``) and
converts each instant to that zone's wall time first, daylight-saving changes
included. One week rule everywhere: ISO 8601 weeks, Monday to Sunday,
labelled by their Monday (``YYYY-MM-DD``); months are labelled ``YYYY-MM``,
days ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, get_args

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.choices import CalendarPeriod
from touchpoint._lib.durations import parse_duration
from touchpoint.exceptions import ValidationError

__all__ = [
    "CALENDAR_PERIODS",
    "UTC",
    "calendar_labels",
    "check_tz",
    "duration",
    "format_duration",
    "local_days",
    "parse_duration",
    "period_codes",
    "period_labels",
    "required_duration",
    "seconds",
    "utc_offsets",
]


def duration(value: Any, name: str, *, datetime: bool | None = None) -> float | None:
    """A window or period in the analysis time unit (seconds for datetime logs).

    None stays None; anything else must be a positive, finite timedelta or number
    of seconds (checked by :func:`touchpoint._lib.checks.duration`). Pass
    ``datetime=log.is_datetime``: a ``timedelta`` for a log whose times are
    plain numbers (steps, days since an origin) is refused, since it has no
    meaning in that log's unit (it used to be taken as that many seconds).

    Examples
    --------
    >>> duration(_dt.timedelta(minutes=2), "window", datetime=True)
    120.0
    >>> duration(_dt.timedelta(minutes=2), "window", datetime=False)
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `window` must be a number in the log's own time unit: the log's times are plain numbers, not datetimes (got datetime.timedelta(seconds=120)).
    """
    from touchpoint._lib.checks import duration as checked, fail

    if datetime is False and isinstance(value, _dt.timedelta | np.timedelta64):
        fail(
            name,
            "a number in the log's own time unit: the log's times are plain numbers, not datetimes",
            value,
        )
    return checked(name, value, allow_none=True)


def required_duration(value: Any, name: str, *, datetime: bool | None = None) -> float:
    """Like :func:`duration`, but ``None`` is refused too."""
    from touchpoint._lib.checks import duration as checked

    duration(value, name, datetime=datetime)
    out = checked(name, value)
    assert out is not None
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

    Fixed decimals per unit, so a column reads alike: whole minutes, hours and
    days to one decimal (whole from 100 up). ``unit`` other than ``"s"`` (a log
    with numeric times) gives the plain number; ``missing`` stands for NaN and
    infinities.

    Examples
    --------
    >>> format_duration(45), format_duration(720), format_duration(9000), format_duration(3.1 * 86400)
    ('45 s', '12 min', '2.5 h', '3.1 d')
    >>> format_duration(3 * 3600), format_duration(6.72 * 3600), format_duration(150 * 86400)
    ('3.0 h', '6.7 h', '150 d')
    >>> format_duration(2.5, unit="steps"), format_duration(float("nan"))
    ('2.5', 'n/a')
    """
    if not np.isfinite(value):
        return missing
    if unit != "s":
        return f"{value:.3g}"
    for size, name in ((86400, "d"), (3600, "h")):
        if abs(value) >= size:
            v = value / size
            return f"{v:,.0f} {name}" if abs(v) >= 100 else f"{v:.1f} {name}"
    if abs(value) >= 60:
        return f"{value / 60:.0f} min"
    return f"{value:.3g} s"


CALENDAR_PERIODS: tuple[str, ...] = get_args(CalendarPeriod)
UTC = "UTC"

_NS_PER_DAY = 86_400 * 10**9
_NS_PER_QUARTER_HOUR = 900 * 10**9


def check_tz(tz: object) -> str:
    """Validate a time-zone name (``"UTC"`` or an IANA name) and return it."""
    from touchpoint._lib.checks import time_zone

    return time_zone("tz", tz)


def _zone(tz: str) -> _dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _tz_error(tz) from exc


def _tz_error(tz: object) -> ValidationError:
    from touchpoint._lib.checks import error

    return error("tz", "a time-zone name such as 'UTC' or 'Europe/Berlin'", tz)


def _offsets(starts_ns: NDArray[np.int64], zone: _dt.tzinfo) -> NDArray[np.int64]:
    """UTC offset in ns of ``zone`` at each instant (one zoneinfo call per value)."""
    out = np.empty(len(starts_ns), dtype=np.int64)
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    for i, ns in enumerate(starts_ns.tolist()):
        when = epoch + _dt.timedelta(microseconds=ns // 1000)
        off = when.astimezone(zone).utcoffset()
        out[i] = 0 if off is None else int(off.total_seconds() * 10**9)
    return out


def utc_offsets(ns: NDArray[np.int64], tz: str) -> NDArray[np.int64]:
    """Per UTC instant (int64 ns), the zone's UTC offset in ns.

    Offsets are looked up once per distinct UTC day, and per quarter hour
    only on days where the offset changes (daylight-saving switches happen
    on a quarter hour everywhere), so the cost grows with the span of days,
    not with the number of events.
    """
    if tz == UTC or len(ns) == 0:
        return np.zeros(len(ns), dtype=np.int64)
    zone = _zone(tz)
    day = np.floor_divide(ns, _NS_PER_DAY)
    udays, inv = np.unique(day, return_inverse=True)
    at_start = _offsets(udays * _NS_PER_DAY, zone)
    at_end = _offsets((udays + 1) * _NS_PER_DAY, zone)
    out = at_start[inv.ravel()]
    switch = np.flatnonzero(at_start != at_end)
    if switch.size:
        hit = np.isin(inv.ravel(), switch)
        quarter = np.floor_divide(ns[hit], _NS_PER_QUARTER_HOUR)
        uq, qinv = np.unique(quarter, return_inverse=True)
        out[hit] = _offsets(uq * _NS_PER_QUARTER_HOUR, zone)[qinv.ravel()]
    return out


def local_days(times: NDArray[np.datetime64], tz: str = UTC) -> NDArray[np.int64]:
    """Days since 1970-01-01 of each UTC instant's calendar day in ``tz``."""
    ns: NDArray[np.int64] = times.astype("datetime64[ns]").view(np.int64)
    days: NDArray[np.int64] = np.floor_divide(ns + utc_offsets(ns, tz), _NS_PER_DAY)
    return days


def period_codes(days: NDArray[np.int64], period: str) -> NDArray[np.int64]:
    """Integer code of each day's period: the day, the ISO week or the month.

    Week ``w`` runs from Monday ``7 w - 3`` to Sunday ``7 w + 3`` (days since
    the epoch; 1970-01-01 was a Thursday); month codes count months since
    1970-01.
    """
    if period == "day":
        return days
    if period == "week":
        return np.floor_divide(days + 3, 7)
    if period == "month":
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    msg = f"`period` must be one of {CALENDAR_PERIODS} (got {period!r})."
    raise ValidationError(msg)


def period_labels(codes: NDArray[np.int64], period: str) -> list[str]:
    """Labels of period codes: ``YYYY-MM-DD`` (day, week's Monday) or ``YYYY-MM``."""
    if period == "day":
        return [str(d) for d in codes.astype("datetime64[D]")]
    if period == "week":
        return [str(d) for d in (codes * 7 - 3).astype("datetime64[D]")]
    if period == "month":
        return [str(m) for m in codes.astype("datetime64[M]")]
    msg = f"`period` must be one of {CALENDAR_PERIODS} (got {period!r})."
    raise ValidationError(msg)


def calendar_labels(
    times: NDArray[np.datetime64], period: str, tz: str = UTC
) -> NDArray[np.object_]:
    """Per time, the label of its day, ISO week (Monday) or month in ``tz`` (None for NaT)."""
    times = times.astype("datetime64[ns]")
    ok = ~np.isnat(times)
    out = np.empty(len(times), dtype=object)
    out[:] = None
    if ok.any():
        codes = period_codes(local_days(times[ok], tz), period)
        uniq, inv = np.unique(codes, return_inverse=True)
        labels = np.array(period_labels(uniq, period), dtype=object)
        out[ok] = labels[inv.ravel()]
    return out
