"""Column conversion helpers shared by the event log and the tables.

Each converter turns one input column into a clean numpy array plus boolean
masks of the rows that failed, so the caller can raise or drop and count.
Nothing here loops in Python over numeric or datetime input; object and
string input (records, CSV) is converted with one tight loop.
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

__all__ = ["Coded", "as_array", "factorize", "parse_outcome", "parse_time"]

_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")


@attrs.frozen
class Coded:
    """A factorised column: ``codes`` index ``uniques``; ``-1`` marks a missing value.

    ``empty`` flags rows whose value was an empty string (also coded ``-1``).
    """

    codes: NDArray[np.int64]
    uniques: NDArray[Any]
    missing: NDArray[np.bool_]
    empty: NDArray[np.bool_]


def as_array(values: Any) -> NDArray[Any]:
    """Turn a list, tuple, numpy array or array-like (pandas/polars/arrow) into numpy."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, list | tuple):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return _narrow(arr)
    to_numpy = getattr(values, "to_numpy", None)
    if to_numpy is not None:
        try:
            return np.asarray(to_numpy(zero_copy_only=False))
        except TypeError:
            return np.asarray(to_numpy())
    return _narrow(np.asarray(values, dtype=object))


def _narrow(arr: NDArray[Any]) -> NDArray[Any]:
    """Give an object array of plain ints/floats a numeric dtype."""
    if arr.dtype != object or arr.size == 0:
        return arr
    first = arr[0]
    if isinstance(first, bool | np.bool_):
        if all(isinstance(v, bool | np.bool_) for v in arr):
            return arr.astype(bool)
        return arr
    if isinstance(first, int | np.integer) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in arr
    ):
        try:
            return arr.astype(np.int64)
        except OverflowError:
            return arr
    if isinstance(first, float | np.floating) and all(
        isinstance(v, float | np.floating | int | np.integer) and not isinstance(v, bool | np.bool_)
        for v in arr
    ):
        return arr.astype(np.float64)
    return arr


def _is_missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, np.floating):
        return bool(np.isnan(v))
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    # pandas.NA / pandas.NaT / polars null values compare oddly; detect by type name
    return type(v).__name__ in {"NAType", "NaTType"}


def factorize(values: NDArray[Any]) -> Coded:
    """Factorise a column into integer codes and unique values.

    Integers keep their values as uniques (sorted); strings are coded in order
    of first appearance. ``None``/``NaN`` are missing, ``""`` is empty.
    """
    n = len(values)
    kind = values.dtype.kind
    none = np.zeros(n, dtype=bool)
    if kind in "iu":
        if n and bool(np.all(values[1:] >= values[:-1])):
            change = np.empty(n, dtype=bool)
            change[:1] = True
            np.not_equal(values[1:], values[:-1], out=change[1:])
            codes = np.cumsum(change, dtype=np.int64) - 1
            return Coded(codes, values[change], none, none)
        lo, hi = (int(values.min()), int(values.max())) if n else (0, -1)
        if hi - lo < max(4 * n, 1 << 16):  # dense ids: count instead of sorting
            shifted = values - lo if lo else values
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            remap = np.cumsum(present, dtype=np.int64) - 1
            uniques = (np.flatnonzero(present) + lo).astype(values.dtype)
            return Coded(remap[shifted], uniques, none, none)
        uniques, inv = np.unique(values, return_inverse=True)
        return Coded(inv.astype(np.int64), uniques, none, none)
    if kind == "f":
        missing = np.isnan(values)
        ok = values[~missing]
        if ok.size and bool(np.all(ok == np.round(ok))):
            uniq, inv = np.unique(ok.astype(np.int64), return_inverse=True)
        else:
            uniq, inv = np.unique(ok, return_inverse=True)
        codes = np.full(n, -1, dtype=np.int64)
        codes[~missing] = inv
        return Coded(codes, uniq, missing, none)
    if kind == "b":
        return factorize(values.astype(np.int64))
    if kind in "US":
        empty = values == values.dtype.type()
        uniq, first, inv = np.unique(values, return_index=True, return_inverse=True)
        # re-code in order of first appearance, empty strings become -1
        rank = np.argsort(first, kind="stable")
        remap = np.empty(len(uniq), dtype=np.int64)
        remap[rank] = np.arange(len(uniq))
        codes = remap[inv]
        uniques = uniq[rank].astype(object)
        if empty.any():
            empty_code = int(remap[np.flatnonzero(uniq == values.dtype.type())[0]])
            keep = np.arange(len(uniques)) != empty_code
            shift = np.cumsum(keep) - 1
            codes = np.where(empty, -1, shift[codes])
            uniques = uniques[keep]
        return Coded(codes.astype(np.int64), uniques, none, empty)
    # object: one pass with a dict
    table: dict[Any, int] = {}
    codes = np.empty(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    get = table.get
    for i, v in enumerate(values.tolist()):
        c = get(v)
        if c is None:
            if _is_missing(v):
                missing[i] = True
                codes[i] = -1
                continue
            if isinstance(v, str) and not v.strip():
                empty[i] = True
                codes[i] = -1
                continue
            c = len(table)
            table[v] = c
        codes[i] = c
    uniques = np.empty(len(table), dtype=object)
    uniques[:] = list(table)
    return Coded(codes, uniques, missing, empty)


@attrs.frozen
class ParsedTime:
    """Parsed timestamps: datetime64[ns] or float64 values plus failure masks."""

    values: NDArray[Any]
    missing: NDArray[np.bool_]
    empty: NDArray[np.bool_]
    bad: NDArray[np.bool_]


def _to_datetime(v: object) -> Any:
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return np.datetime64(v, "ns")
    if isinstance(v, _dt.date):
        return np.datetime64(v, "ns")
    if isinstance(v, np.datetime64):
        return v.astype("datetime64[ns]")
    if isinstance(v, str):
        s = v.strip()
        try:
            return _to_datetime(_dt.datetime.fromisoformat(s.replace("Z", "+00:00")))
        except ValueError:
            return None
    ts = getattr(v, "to_datetime64", None)  # pandas.Timestamp
    if ts is not None:
        tz = getattr(v, "tzinfo", None)
        if tz is not None:
            utc: Any = v
            return np.datetime64(utc.tz_convert("UTC").tz_localize(None).to_datetime64(), "ns")
        return np.datetime64(ts(), "ns")
    return None


def parse_time(values: NDArray[Any]) -> ParsedTime:
    """Parse a timestamp column into datetime64[ns] or float64.

    Accepts datetime64, numbers (seconds or any unit: kept as float), Python
    datetimes (time zones converted to UTC) and ISO 8601 strings. The column's
    type is decided by its first valid value; values of the other type are bad.
    """
    n = len(values)
    none = np.zeros(n, dtype=bool)
    kind = values.dtype.kind
    if kind == "M":
        out = values.astype("datetime64[ns]")
        return ParsedTime(out, np.isnat(out), none, none)
    if kind in "iu":
        return ParsedTime(values.astype(np.float64), none, none, none)
    if kind == "f":
        out = values.astype(np.float64)
        return ParsedTime(out, np.isnan(out), none, ~np.isfinite(out) & ~np.isnan(out))
    first = values[0] if n else None
    if kind in "USO" and isinstance(first, str) and len(first) >= 10 and first[4] == "-":
        # fast path: every value an ISO 8601 date(time) string without a zone
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                out = values.astype("datetime64[ns]")
            except (ValueError, TypeError, OverflowError, DeprecationWarning, UserWarning):
                pass
            else:
                if not np.isnat(out).any():
                    return ParsedTime(out, none, none, none)
        values = values.astype(object)
    items: Sequence[Any] = values.tolist()
    missing = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    numeric: bool | None = None
    num = np.full(n, np.nan)
    dts = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    for i, v in enumerate(items):
        if _is_missing(v):
            missing[i] = True
            continue
        if isinstance(v, str) and not v.strip():
            empty[i] = True
            continue
        f = _as_float(v)
        if f is not None:
            if numeric is None:
                numeric = True
            if numeric and math.isfinite(f):
                num[i] = f
            else:
                bad[i] = True
            continue
        d = _to_datetime(v)
        if d is None:
            bad[i] = True
            continue
        if numeric is None:
            numeric = False
        if numeric:
            bad[i] = True
        else:
            dts[i] = d
    if numeric:
        return ParsedTime(num, missing, empty, bad)
    return ParsedTime(dts, missing, empty, bad)


def _as_float(v: object) -> float | None:
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


_TRUE = {"true", "yes", "y", "t"}
_FALSE = {"false", "no", "n", "f"}


def parse_outcome(values: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse an outcome column (conversion flag or value) into float64.

    Missing and empty values become NaN (no outcome on that event); booleans
    and ``true``/``false``/``yes``/``no`` become 1/0. Returns (values, bad mask).
    """
    n = len(values)
    kind = values.dtype.kind
    if kind in "biuf":
        return values.astype(np.float64), np.zeros(n, dtype=bool)
    if kind in "USO" and n and isinstance(values[0], str):
        # fast path: all numbers or empty strings (a CSV revenue column)
        try:
            text = values.astype(str)
            return np.where(text == "", "nan", text).astype(np.float64), np.zeros(n, dtype=bool)
        except ValueError:
            pass
    out = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(values.tolist()):
        if _is_missing(v):
            continue
        if isinstance(v, bool | np.bool_):
            out[i] = float(v)
            continue
        f = _as_float(v)
        if f is not None:
            out[i] = f
            continue
        if isinstance(v, str):
            s = v.strip().lower()
            if not s:
                continue
            if s in _TRUE:
                out[i] = 1.0
                continue
            if s in _FALSE:
                out[i] = 0.0
                continue
        bad[i] = True
    return out, bad


def time_key(values: NDArray[Any]) -> NDArray[Any]:
    """A sortable numeric view of a timestamp column."""
    if values.dtype.kind == "M":
        return values.view(np.int64)
    return values
