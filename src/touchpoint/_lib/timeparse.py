"""Parsing timestamps into int64 nanoseconds or numbers (internal; see also ``_lib/time``).

:func:`parse_time` reads datetime64 arrays, Python/pandas datetimes (aware ones
converted to UTC), ISO 8601 strings and numbers, and flags each row it cannot
read (missing, empty, unparseable, out of the ``datetime64[ns]`` range: before
1677-09-21 or after 2262-04-11, never wrapped). :func:`aware_to_utc` converts a
dataframe's aware column and names its zone; :func:`time_key` gives the sort
key of parsed times.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.columns import Encoded, _is_missing

__all__ = ["ParsedTime", "aware_to_utc", "datetime_to_ns", "parse_time", "time_key"]

_I64_MAX = np.iinfo(np.int64).max
_NAT = np.iinfo(np.int64).min


#: Nanoseconds per numpy datetime unit.
_NS_PER = {
    "W": 7 * 86_400 * 10**9,
    "D": 86_400 * 10**9,
    "h": 3_600 * 10**9,
    "m": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
    "us": 10**3,
    "ns": 1,
}


#: Largest magnitude of an exact integer in float64.
_FLOAT_EXACT = 2**53


def aware_to_utc(values: Any) -> tuple[Any, str | None]:
    """A pandas/polars/pyarrow column of aware times as naive UTC, and its zone's name.

    Anything else comes back as it is, with ``None``.
    """
    mod = type(values).__module__
    if mod.startswith("pandas"):
        tz = getattr(getattr(values, "dtype", None), "tz", None)
        if tz is None:
            return values, None
        import pandas as pd

        if isinstance(values, pd.Series):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            values = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)
    elif mod.startswith("polars"):
        tz = getattr(getattr(values, "dtype", None), "time_zone", None)
        if tz is None:
            return values, None
        values = values.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    elif mod.startswith("pyarrow"):
        typ: Any = getattr(values, "type", None)
        tz = getattr(typ, "tz", None)
        if tz is None:
            return values, None
        import pyarrow as pa

        values = values.cast(pa.timestamp(typ.unit))  # the values are UTC already
    else:
        return values, None
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return values, str(key or tz)


# ----------------------------------------------------------------------- time
@attrs.frozen
class ParsedTime:
    """Parsed timestamps plus failure masks.

    ``values`` is ``datetime64[ns]`` (int64 nanoseconds; NaT where a row
    failed), int64 (integer numbers, exact) or float64. ``out_of_range`` flags
    times a ``datetime64[ns]`` cannot hold (and integers a float column cannot
    hold exactly). ``time_zone`` names the zone aware input was converted
    from (to UTC), ``None`` for naive input; ``mixed_row`` is the first row
    whose awareness differs from the first value's (a column mixing aware and
    naive values), else ``None``.
    """

    values: NDArray[Any]
    missing: NDArray[np.bool_]
    empty: NDArray[np.bool_]
    bad: NDArray[np.bool_]
    out_of_range: NDArray[np.bool_] = attrs.field(
        default=attrs.Factory(lambda self: np.zeros(len(self.values), dtype=bool), takes_self=True)
    )
    time_zone: str | None = None
    mixed_row: int | None = None


def datetime_to_ns(
    values: NDArray[Any],
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_]]:
    """int64 nanoseconds of a datetime64 array of any unit: (ns, missing, out_of_range).

    Never wraps: values outside the int64-nanosecond range are flagged (and 0).
    Units finer than nanoseconds are floored to nanoseconds.
    """
    unit, step = np.datetime_data(values.dtype)
    if unit in ("Y", "M"):  # calendar units: days first (exact, always in range)
        values = values.astype("datetime64[D]")
        unit, step = "D", 1
    raw = values.view(np.int64)
    missing = raw == _NAT
    if unit == "generic":
        return raw.copy(), missing, np.zeros(len(raw), dtype=bool)
    if unit not in _NS_PER:  # ps, fs, as: coarser storage, exact range
        out = values.astype("datetime64[ns]").view(np.int64)
        return out, missing, np.zeros(len(raw), dtype=bool)
    factor = _NS_PER[unit] * int(step)
    if factor == 1:
        return raw, missing, np.zeros(len(raw), dtype=bool)
    lim = _I64_MAX // factor
    oor = ~missing & ((raw > lim) | (raw < -lim))
    out = np.where(oor | missing, 0, raw) * factor
    out[missing] = _NAT
    out[oor] = _NAT
    return out, missing, oor


def _py_datetime_ns(v: _dt.datetime | _dt.date) -> tuple[int, bool]:
    """Exact nanoseconds since the epoch (UTC for aware values), and whether v was aware."""
    aware = isinstance(v, _dt.datetime) and v.tzinfo is not None and v.utcoffset() is not None
    if isinstance(v, _dt.datetime):
        if aware:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        delta = v - _dt.datetime(1970, 1, 1)
    else:
        delta = _dt.datetime(v.year, v.month, v.day) - _dt.datetime(1970, 1, 1)
    ns = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    nano = getattr(v, "nanosecond", 0)  # pandas.Timestamp
    return ns + int(nano), aware


def _zone_name(v: Any) -> str:
    tz = getattr(v, "tzinfo", None)
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if key:
        return str(key)
    return str(tz) if tz is not None else "UTC"


def parse_time(values: Any) -> ParsedTime:
    """Parse a timestamp column into int64 nanoseconds (``datetime64[ns]``) or numbers.

    Accepts datetime64 of any unit, numbers (kept as they are: integers stay
    exact int64, e.g. integer nanoseconds; floats as float64), Python and
    pandas datetimes (aware ones converted to UTC) and ISO 8601 strings. The
    column's type is decided by its first valid value; values of the other
    type are bad. Times outside the ``datetime64[ns]`` range are flagged in
    ``out_of_range``, never wrapped.
    """
    if isinstance(values, Encoded):
        values = values.to_numpy()
    n = len(values)
    none = np.zeros(n, dtype=bool)
    kind = values.dtype.kind
    if kind == "M":
        ns, missing, oor = datetime_to_ns(values)
        return ParsedTime(ns.view("datetime64[ns]"), missing, none, none, oor)
    if kind in "iu":
        if kind == "u" and n and int(values.max()) > _I64_MAX:
            oor = values > _I64_MAX
            return ParsedTime(np.where(oor, 0, values).astype(np.int64), none, none, none, oor)
        return ParsedTime(values.astype(np.int64, copy=False), none, none, none)
    if kind == "f":
        out = values.astype(np.float64)
        return ParsedTime(out, np.isnan(out), none, ~np.isfinite(out) & ~np.isnan(out))
    if kind == "b":
        return ParsedTime(np.zeros(n), none, none, np.ones(n, dtype=bool))
    first = values[0] if n else None
    if kind in "USO" and isinstance(first, str) and len(first) >= 10 and first[4] == "-":
        fast = _parse_iso_fast(values)
        if fast is not None:
            return fast
        values = values.astype(object)
    return _parse_time_loop(values)


#: ``datetime64[us]`` bounds of the ``datetime64[ns]`` range.
_US_LO = -(_I64_MAX // 1000)


_US_HI = _I64_MAX // 1000


def _parse_iso_fast(values: NDArray[Any]) -> ParsedTime | None:
    """Every value an ISO 8601 date(time) string without a zone: numpy parses them.

    Parsed twice: at microseconds (range-safe, to find times outside the
    nanosecond range) and at nanoseconds (exact where in range).
    """
    n = len(values)
    none = np.zeros(n, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            us = values.astype("datetime64[us]")
        except (ValueError, TypeError, OverflowError, DeprecationWarning, UserWarning):
            return None
        if np.isnat(us).any():
            return None
        raw = us.view(np.int64)
        oor = (raw < _US_LO) | (raw > _US_HI)
        ok = values if not oor.any() else np.where(oor, "1970-01-01", values)
        try:
            ns = ok.astype("datetime64[ns]")
        except (ValueError, TypeError, OverflowError, DeprecationWarning, UserWarning):
            return None
    if oor.any():
        ns[oor] = np.datetime64("NaT")
    return ParsedTime(ns, none, none, none, oor)


def _parse_time_loop(values: NDArray[Any]) -> ParsedTime:
    n = len(values)
    items: Sequence[Any] = values.tolist()
    missing = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    oor = np.zeros(n, dtype=bool)
    numeric: bool | None = None
    all_int = True
    nums: list[int | float] = [0] * n
    ns = np.full(n, _NAT, dtype=np.int64)
    aware_first: bool | None = None
    mixed_row: int | None = None
    zones: set[str] = set()
    for i, v in enumerate(items):
        if _is_missing(v):
            missing[i] = True
            continue
        if isinstance(v, str) and not v.strip():
            empty[i] = True
            continue
        num = _as_number(v)
        if num is not None:
            if numeric is None:
                numeric = True
            if numeric and (isinstance(num, int) or math.isfinite(num)):
                nums[i] = num
                all_int &= isinstance(num, int)
            else:
                bad[i] = True
            continue
        d = _datetime_ns(v)
        if d is None:
            bad[i] = True
            continue
        if numeric is None:
            numeric = False
        if numeric:
            bad[i] = True
            continue
        value, aware = d
        if aware_first is None:
            aware_first = aware
        elif aware != aware_first and mixed_row is None:
            mixed_row = i
        if aware:
            zones.add(_zone_name(v) if not isinstance(v, str) else _offset_name(v))
        if -_I64_MAX <= value <= _I64_MAX:
            ns[i] = value
        else:
            oor[i] = True
    zone = None
    if aware_first or zones:
        zone = zones.pop() if len(zones) == 1 else "mixed offsets"
    if numeric:
        ok = ~(missing | empty | bad)
        if all_int:
            big = [i for i in np.flatnonzero(ok).tolist() if not -_I64_MAX <= nums[i] <= _I64_MAX]
            for i in big:
                oor[i], nums[i] = True, 0
            out = np.array(nums, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        else:
            for i in np.flatnonzero(ok).tolist():
                v = nums[i]
                if isinstance(v, int) and abs(v) > _FLOAT_EXACT:
                    oor[i], nums[i] = True, 0  # an integer a float column cannot hold exactly
            out = np.array(nums, dtype=np.float64)
            out[~ok | oor] = np.nan
        return ParsedTime(out, missing, empty, bad, oor)
    return ParsedTime(ns.view("datetime64[ns]"), missing, empty, bad, oor, zone, mixed_row)


def _offset_name(s: str) -> str:
    d = _dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    off = d.utcoffset()
    if not off:
        return "UTC"
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _datetime_ns(v: object) -> tuple[int, bool] | None:
    """(exact ns since the epoch, aware) of a datetime-like value, None if it is not one."""
    if isinstance(v, _dt.datetime | _dt.date):
        return _py_datetime_ns(v)
    if isinstance(v, np.datetime64):
        ns, _, oor = datetime_to_ns(np.array([v]))
        if oor[0]:
            return _I64_MAX + 1, False
        return int(ns[0]), False
    if isinstance(v, str):
        s = v.strip()
        try:
            d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
        base, aware = _py_datetime_ns(d)
        return base + _extra_nanos(s), aware
    return None


def _extra_nanos(s: str) -> int:
    """Nanoseconds beyond microseconds in an ISO string's fraction (fromisoformat drops them)."""
    dot = s.find(".")
    if dot < 0:
        return 0
    j = dot + 1
    while j < len(s) and s[j].isdigit():
        j += 1
    frac = s[dot + 1 : j]
    return int(frac[6:9].ljust(3, "0")) if len(frac) > 6 else 0


def _as_number(v: object) -> int | float | None:
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            pass
        try:
            return float(s)
        except ValueError:
            return None
    return None


def time_key(values: NDArray[Any]) -> NDArray[Any]:
    """A sortable numeric view of a timestamp column (int64 ns for datetimes)."""
    if values.dtype.kind == "M":
        return values.view(np.int64)
    return values
