"""Column conversion kernels shared by the event log and the tables.

Each converter turns one input column into a clean numpy array plus boolean
masks of the rows that failed, so the caller can raise or drop and count.
Nothing here loops in Python per value over numeric, datetime or
arrow/pandas/polars string input: strings held by a dataframe library are
dictionary-encoded by that library (pyarrow, pandas) and only the distinct
values are looked at in Python. Object arrays of Python values (records, the
standard-library CSV reader) are coded with one tight loop, or by pandas'
hash table when pandas is installed.

Times are held as int64 nanoseconds since the epoch (the values of a
``datetime64[ns]`` array) or as numbers (int64 kept exact, or float64).
Values a ``datetime64[ns]`` cannot hold (before 1677-09-21 or after
2262-04-11) are never wrapped: they are flagged ``out_of_range``.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import decimal
import fractions
import functools
import itertools
import math
import platform
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import parallel
from touchpoint.exceptions import ValidationError

__all__ = [
    "Coded",
    "Encoded",
    "IdCollisionError",
    "ParsedTime",
    "as_array",
    "as_column",
    "aware_to_utc",
    "factorize",
    "gather",
    "order_by_journey_time",
    "parse_outcome",
    "parse_time",
    "time_key",
]

_I64_MAX = np.iinfo(np.int64).max
_IMPLEMENTATION = platform.python_implementation()
#: ``np.take(..., out=)`` mode for indices known to be in range: "raise" buffers the
#: output (several times slower); "clip" writes straight into it.
_IN_RANGE: Literal["clip"] = "clip"
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


@attrs.frozen
class Coded:
    """A factorised column: ``codes`` index ``uniques``; ``-1`` marks a missing value.

    ``empty`` flags rows whose value was an empty string (also coded ``-1``).
    ``grouping`` is ``(order, codes[order])``, a stable order that brings equal
    codes together in code order, when factorising found one on the way (a
    counting sort); then ``codes`` may be None at construction and is computed
    from the grouping the first time it is read.
    """

    _codes: NDArray[np.int64] | None = attrs.field(alias="codes")
    uniques: NDArray[Any]
    missing: NDArray[np.bool_]
    empty: NDArray[np.bool_]
    grouping: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None

    @property
    def codes(self) -> NDArray[np.int64]:
        """One code per row (in row order)."""
        if self._codes is None:
            if self.grouping is None:  # pragma: no cover - constructed without either
                raise ValueError("Coded needs codes or a grouping")
            order, grouped = self.grouping
            codes = np.empty(len(order), dtype=np.int64)
            codes[order] = grouped
            object.__setattr__(self, "_codes", codes)
            return codes
        return self._codes


@attrs.frozen(eq=False)
class Encoded:
    """A column that its library already dictionary-encoded (arrow, pandas categorical).

    ``codes`` index ``dictionary`` (``-1`` for null). The dictionary may hold
    values that never occur, or the same value twice; :func:`factorize` cleans that.
    ``in_order`` says that every dictionary value occurs and the values are in
    order of first appearance (arrow's ``dictionary_encode``, ``pandas.factorize``).
    """

    codes: NDArray[Any]
    dictionary: NDArray[Any]
    in_order: bool = False

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def ndim(self) -> int:
        return 1

    def __getitem__(self, i: Any) -> Any:
        c = self.codes[i]
        if np.ndim(c):
            return Encoded(np.asarray(c), self.dictionary, self.in_order)
        return None if c < 0 else self.dictionary[c]

    def to_numpy(self) -> NDArray[Any]:
        """The values as an object array (``None`` for null)."""
        table = np.empty(len(self.dictionary) + 1, dtype=object)
        table[:-1] = self.dictionary
        table[-1] = None
        out: NDArray[Any] = table[self.codes]
        return out


class IdCollisionError(ValidationError):
    """Two different values of one column that print the same (``1`` and ``"1"``)."""

    def __init__(self, first: Any, second: Any, rows: tuple[int, int]) -> None:
        self.values = (first, second)
        self.rows = rows
        super().__init__(
            f"{first!r} (row {rows[0]}) and {second!r} (row {rows[1]}) are different values "
            "that print the same; give the column one type (all text or all numbers)."
        )


def as_array(values: Any) -> NDArray[Any]:
    """Turn a list, tuple, numpy array or array-like (pandas/polars/arrow) into numpy."""
    arr = as_column(values)
    return arr.to_numpy() if isinstance(arr, Encoded) else arr


def as_column(values: Any) -> NDArray[Any] | Encoded:
    """:func:`as_array`, except that library-held strings stay encoded.

    Strings held by pyarrow (pyarrow arrays, pandas' arrow-backed strings,
    polars strings) and pandas categoricals come back as :class:`Encoded`,
    coded by their library without a Python object per value.
    """
    if isinstance(values, np.ndarray | Encoded):
        return values
    if isinstance(values, list | tuple):
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return _narrow(arr)
    enc = _encoded(values)
    if enc is not None:
        return enc
    to_numpy = getattr(values, "to_numpy", None)
    if to_numpy is not None:
        try:
            return np.asarray(to_numpy(zero_copy_only=False))
        except TypeError:
            return np.asarray(to_numpy())
    return _narrow(np.asarray(values, dtype=object))


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


def _arrow_encoded(arr: Any) -> Encoded | None:
    """Dictionary-encode a pyarrow (Chunked)Array of strings; None for other types."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = arr.type
    if pa.types.is_dictionary(typ):
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.unify_dictionaries().combine_chunks() if arr.num_chunks else arr
            if isinstance(arr, pa.ChunkedArray):  # no chunks at all
                arr = pa.array([], type=typ)
        dictionary = arr.dictionary
        indices = arr.indices
        in_order = False
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        if pa.types.is_string_view(typ):
            arr = arr.cast(pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=pa.string())
        d = arr.dictionary_encode()
        dictionary, indices = d.dictionary, d.indices
        in_order = True
    else:
        return None
    if indices.null_count:
        indices = pc.fill_null(indices.cast(pa.int64()), -1)
    codes = np.asarray(indices.to_numpy(zero_copy_only=False))
    if codes.dtype.kind == "u":
        codes = codes.astype(np.int64)
    values = np.asarray(dictionary.to_numpy(zero_copy_only=False))
    if values.dtype != object:
        values = values.astype(object)
    return Encoded(codes, values, in_order)


def _encoded(values: Any) -> Encoded | None:
    """The :class:`Encoded` form of a library-held string column, or None."""
    mod = type(values).__module__
    if mod.startswith("pyarrow"):
        if hasattr(values, "type"):
            return _arrow_encoded(values)
        return None
    if mod.startswith("pandas"):
        import pandas as pd

        arr = values.array if isinstance(values, pd.Series | pd.Index) else values
        if isinstance(arr, pd.Categorical):
            cats = np.asarray(arr.categories.to_numpy(dtype=object))
            return Encoded(np.asarray(arr.codes, dtype=np.int64), cats)
        arrow = getattr(arr, "__arrow_array__", None)
        if (
            arrow is not None
            and str(getattr(arr, "dtype", "")) in ("str", "string")
            and getattr(arr.dtype, "storage", "") == "pyarrow"
        ):
            return _arrow_encoded(arrow())
        return None
    if mod.startswith("polars"):
        import polars as pl

        if values.dtype in (pl.String, pl.Categorical, pl.Enum) or isinstance(
            values.dtype, pl.Categorical | pl.Enum
        ):
            return _arrow_encoded(values.to_arrow())
    return None


def _narrow(arr: NDArray[Any]) -> NDArray[Any]:
    """Give an object array of plain ints/floats a numeric dtype."""
    if arr.dtype != object or arr.size == 0 or arr.ndim != 1:
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
    if isinstance(v, decimal.Decimal):
        return v.is_nan()
    # pandas.NA / pandas.NaT / polars null values compare oddly; detect by type name
    return type(v).__name__ in {"NAType", "NaTType"}


# ------------------------------------------------------------------ factorize
def _first_appearance(codes: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Per code ``0..k-1``: the first row holding it (``len(codes)`` when absent)."""
    n = len(codes)
    first = np.full(k + 1, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))
    return first[:k]


def _recode_in_order(
    codes: NDArray[np.int64], uniques: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Re-code ``codes`` (``-1`` missing) so that uniques come in order of first appearance,
    dropping uniques that never occur."""
    k = len(uniques)
    first = _first_appearance(np.where(codes < 0, k, codes), k)
    present = first < len(codes)
    rank = np.argsort(first, kind="stable")[: int(present.sum())]
    remap = np.full(k + 1, -1, dtype=np.int64)
    remap[rank] = np.arange(len(rank), dtype=np.int64)
    return remap[codes], uniques[rank]


def _check_printing(uniques: NDArray[Any], codes: NDArray[np.int64]) -> None:
    """Raise :class:`IdCollisionError` when two distinct values print the same (``1``, ``"1"``)."""
    if uniques.dtype != object or len(uniques) < 2:
        return
    seen: dict[str, int] = {}
    for i, v in enumerate(uniques.tolist()):
        s = str(v)
        j = seen.setdefault(s, i)
        if j != i:
            rows = (int(np.argmax(codes == j)), int(np.argmax(codes == i)))
            raise IdCollisionError(uniques[j], v, rows)


def _factorize_dictionary(enc: Encoded) -> Coded:
    """Factorize an :class:`Encoded` column: clean its (small) dictionary in Python."""
    table: dict[Any, int] = {}
    remap = np.empty(len(enc.dictionary) + 1, dtype=np.int64)
    kind = np.zeros(len(enc.dictionary) + 1, dtype=np.int8)  # 1 missing, 2 empty
    remap[-1], kind[-1] = -1, 1
    for i, v in enumerate(enc.dictionary.tolist()):
        if _is_missing(v):
            remap[i], kind[i] = -1, 1
        elif isinstance(v, str) and not v.strip():
            remap[i], kind[i] = -1, 2
        else:
            remap[i] = table.setdefault(v, len(table))
    uniques = np.empty(len(table), dtype=object)
    uniques[:] = list(table)
    n = len(enc.codes)
    has_null = bool(n) and int(enc.codes.min()) < 0
    if enc.in_order and not has_null and not kind[:-1].any() and len(table) == len(remap) - 1:
        # the library's codes are already clean and in order of first appearance
        none = np.zeros(n, dtype=bool)
        _check_printing(uniques, enc.codes)
        return Coded(enc.codes, uniques, none, none)
    codes = remap[enc.codes]
    k = kind[enc.codes]
    if not enc.in_order or len(table) < len(remap) - 1 - int((kind[:-1] > 0).sum()):
        codes, uniques = _recode_in_order(codes, uniques)
    _check_printing(uniques, codes)
    return Coded(codes, uniques, k == 1, k == 2)


def _factorize_int(values: NDArray[Any]) -> Coded:
    n = len(values)
    none = np.zeros(n, dtype=bool)
    if n == 0:
        return Coded(np.zeros(0, dtype=np.int64), values[:0], none, none)
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    n_runs = int(np.count_nonzero(change))
    if n_runs < n // 2 or bool(np.all(values[1:] >= values[:-1])):
        starts = np.flatnonzero(change)
        heads = values[starts]
        if len(heads) == 1 or bool(np.all(heads[1:] > heads[:-1])):  # sorted
            codes = np.cumsum(change, dtype=np.int64) - 1
            return Coded(codes, heads, none, none)
        # runs: factorize the run heads, then repeat
        run = np.cumsum(change, dtype=np.int64) - 1
        codes, uniques = _sorted_codes(heads, n)
        return Coded(codes[run], uniques, none, none)
    del change
    counted = _counted_codes(values)
    if counted is not None:
        return counted
    codes, uniques = _sorted_codes(values, n)
    return Coded(codes, uniques, none, none)


def _offsets(values: NDArray[Any], lo: int) -> NDArray[np.intp]:
    """``values - lo`` as intp, for integer ``values`` of any width within a small range."""
    if values.dtype == np.uint64:  # (may exceed int64: subtract first, then narrow)
        return (values - np.uint64(lo)).astype(np.intp)
    out: NDArray[np.intp] = np.subtract(values, lo, dtype=np.intp)
    return out


def _counted_codes(values: NDArray[Any]) -> Coded | None:
    """Codes of ungrouped integer ids by one counting sort, with the grouping it gives.

    Ids in a range below ``4 n`` are counting-sorted on their value; wider ids
    are hashed (pandas), their few uniques sorted, and the codes counting-sorted.
    None without pandas.
    """
    groupsort_indexer = _groupsort_indexer()
    if groupsort_indexer is None:
        return None
    import pandas as pd

    n = len(values)
    none = np.zeros(n, dtype=bool)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo < max(4 * n, 1 << 16):
        shifted = _offsets(values, lo)
        order, counts = groupsort_indexer(shifted, hi - lo + 1)
        del shifted
        sizes = counts[1:]
        pos = np.flatnonzero(sizes)
        uniques = (pos + lo).astype(values.dtype)
        sorted_codes = np.repeat(np.arange(len(pos), dtype=np.int64), sizes[pos])
        order = order.astype(np.int64, copy=False)
        return Coded(None, uniques, none, none, grouping=(order, sorted_codes))
    hashed, uniq = pd.factorize(values)
    rank = np.argsort(uniq, kind="stable")
    remap = np.empty(len(uniq), dtype=np.int64)
    remap[rank] = np.arange(len(uniq), dtype=np.int64)
    codes = remap[hashed]
    grouping = _counting_sort(codes, len(uniq))
    return Coded(codes, np.asarray(uniq)[rank], none, none, grouping=grouping)


def _sorted_codes(values: NDArray[Any], n: int) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Codes of integer ``values`` in sorted order of the values, and the sorted uniques.

    Ids in a range below ``4 n`` (``n`` events) are counted (bincount), not sorted.
    """
    lo, hi = int(values.min()), int(values.max())
    if hi - lo < max(4 * n, 1 << 16):  # dense ids: count instead of sorting
        shifted = _offsets(values, lo)
        present = np.bincount(shifted, minlength=hi - lo + 1) > 0
        remap = np.cumsum(present, dtype=np.int64) - 1
        return remap[shifted], (np.flatnonzero(present) + lo).astype(values.dtype)
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.astype(np.int64).ravel(), uniq


def factorize(values: Any) -> Coded:
    """Factorise a column into integer codes and unique values.

    Integers keep their values as uniques (sorted); strings and other values
    are coded in order of first appearance. ``None``/``NaN`` are missing,
    ``""`` (or blank) is empty. Integral floats within int64 become integer
    ids; other finite and infinite floats stay floats (each its own id).
    Raises :class:`IdCollisionError` when two different values print the same
    (``1`` and ``"1"`` in one column).
    """
    if isinstance(values, Encoded):
        return _factorize_dictionary(values)
    n = len(values)
    kind = values.dtype.kind
    none = np.zeros(n, dtype=bool)
    if kind in "iu":
        return _factorize_int(values)
    if kind == "f":
        missing = np.isnan(values)
        ok = values[~missing]
        finite = np.isfinite(ok)
        if ok.size and bool(np.all(finite & (ok == np.round(ok)) & (np.abs(ok) < 2.0**63))):
            inner = _factorize_int(ok.astype(np.int64))
        else:
            uniq, inv = np.unique(ok, return_inverse=True)
            inner = Coded(inv.astype(np.int64).ravel(), uniq, none[: ok.size], none[: ok.size])
        codes = np.full(n, -1, dtype=np.int64)
        codes[~missing] = inner.codes
        return Coded(codes, inner.uniques, missing, none)
    if kind == "b":
        return factorize(values.astype(np.int64))
    if kind in "US":
        empty = np.char.str_len(np.char.strip(values)) == 0 if n else none
        uniq, first, inv = np.unique(values, return_index=True, return_inverse=True)
        rank = np.argsort(first, kind="stable")
        remap = np.empty(len(uniq), dtype=np.int64)
        remap[rank] = np.arange(len(uniq))
        codes = np.where(empty, -1, remap[inv.ravel()])
        uniques = uniq[rank].astype(object)
        codes, uniques = _recode_in_order(codes, uniques)
        return Coded(codes.astype(np.int64), uniques, none, empty)
    if kind == "M":
        return factorize(values.view(np.int64))
    return _factorize_object(values)


def _object_identities(values: NDArray[Any]) -> NDArray[np.intp]:
    """The object array's pointers as integers (a view: ``values`` must outlive it)."""
    addr = values.__array_interface__["data"][0]
    buf = (ctypes.c_ssize_t * len(values)).from_address(addr)
    return np.ctypeslib.as_array(buf)


def _factorize_by_identity(values: NDArray[Any], pd: Any) -> Coded | None:
    """Factorize a column whose values are few distinct objects, each held many times.

    Strings taken from a small table (``names[codes]``, a categorical's
    ``astype(object)``) are the same few Python objects: their pointers are
    factorized as integers (no hashing or comparing of strings), and only the
    distinct objects are then cleaned and merged by value in Python, so equal
    values held by different objects still get one code. None when the first
    rows hold many distinct objects (strings parsed one per row).
    """
    n = len(values)
    if _IMPLEMENTATION != "CPython" or np.dtype(object).itemsize != np.dtype(np.intp).itemsize:
        return None  # (an object array holds the objects' addresses on CPython)
    values = np.ascontiguousarray(values)
    ptrs = _object_identities(values)
    head = min(n, 4096)
    if len(pd.unique(ptrs[:head])) > head // 8:
        return None
    codes, uniq = pd.factorize(ptrs)
    if len(uniq) > max(n // 16, 1024):
        return None
    codes = np.asarray(codes, dtype=np.int64)
    objects = np.empty(len(uniq), dtype=object)
    if len(uniq) <= 1 << 16:  # the objects at those addresses (alive: ``values`` holds them)
        objects[:] = [ctypes.cast(p, ctypes.py_object).value for p in uniq.tolist()]
    else:  # codes come in order of first appearance: a new code is a new running maximum
        top = np.maximum.accumulate(codes)
        objects[:] = values[np.flatnonzero(np.concatenate([[True], top[1:] > top[:-1]]))]
    del ptrs
    try:
        return _factorize_dictionary(Encoded(codes, objects, in_order=True))
    except TypeError:  # unhashable values: the generic loop says which
        return None


def _factorize_object(values: NDArray[Any]) -> Coded:
    n = len(values)
    pd: Any
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None and n > 1000:
        by_identity = _factorize_by_identity(values, pd)
        if by_identity is not None:
            return by_identity
        try:
            codes, uniq = pd.factorize(values, use_na_sentinel=True)
        except TypeError:  # unhashable values: the generic loop says which
            pass
        else:
            return _factorize_dictionary(
                Encoded(np.asarray(codes), np.asarray(uniq, dtype=object), in_order=True)
            )
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
    _check_printing(uniques, codes)
    return Coded(codes, uniques, missing, empty)


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


def _as_float(v: object) -> float | None:
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | float | np.integer | np.floating | decimal.Decimal | fractions.Fraction):
        return float(v)  # a Decimal outcome (a Parquet decimal column) is a number
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


_TRUE = {"true", "yes", "y", "t"}
_FALSE = {"false", "no", "n", "f"}


def parse_outcome(values: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Parse an outcome column (conversion flag or value) into float64.

    Missing and empty values become NaN (no outcome on that event); booleans
    and ``true``/``false``/``yes``/``no`` become 1/0. Infinite values (``inf``,
    ``1e400``, which overflows) are invalid: a total value must stay finite.
    Returns (values, bad mask).
    """
    if isinstance(values, Encoded):
        values = values.to_numpy()
    out, bad = _parse_outcome(values)
    inf = np.isinf(out)
    if inf.any():
        out = np.where(inf, np.nan, out)
        bad = bad | inf
    return out, bad


def _parse_outcome(values: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
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
    """A sortable numeric view of a timestamp column (int64 ns for datetimes)."""
    if values.dtype.kind == "M":
        return values.view(np.int64)
    return values


# ----------------------------------------------------------------------- sort
def _sortable_int(t: NDArray[Any]) -> NDArray[np.int64]:
    """int64 keys ordered like ``t`` (ints as they are, floats by their bits)."""
    if t.dtype.kind in "iu":
        return t.astype(np.int64, copy=False)
    if t.dtype.kind == "M":
        return t.view(np.int64)
    f = np.asarray(t, dtype=np.float64) + 0.0  # -0.0 == 0.0: one key
    b = f.view(np.int64)
    return b ^ ((b >> 63) & np.int64(_I64_MAX))


def _groupsort_indexer() -> Any:
    """pandas' compiled stable counting sort (``groupsort_indexer``, O(n + groups)), or None.

    ``groupsort_indexer(codes, n_groups)`` returns the order and the counts per
    code (``counts[0]`` for code -1).
    """
    try:
        from pandas._libs.algos import groupsort_indexer
    except ImportError:  # pragma: no cover - pandas is optional
        return None
    return groupsort_indexer


def _counting_sort(
    j: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
    """Stable counting sort of codes ``0..n_groups-1``: ``(order, j[order])``; None without pandas.

    The sorted codes are rebuilt from the counts, not gathered.
    """
    groupsort_indexer = _groupsort_indexer()
    if groupsort_indexer is None:
        return None
    order, counts = groupsort_indexer(np.asarray(j, dtype=np.intp), int(n_groups))
    sizes = counts[1:]
    jg = np.repeat(np.arange(n_groups, dtype=np.int64), sizes)
    if len(jg) != len(j):  # pragma: no cover - codes out of range: not ours to sort
        return None
    return order.astype(np.int64, copy=False), jg


def _group_order(
    j: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.int64] | None, NDArray[np.int64] | None]:
    """A stable order that brings codes ``j`` together, in code order, and ``j[order]``.

    ``(None, None)``: in order already. The second item is None when the caller
    must gather ``j[order]`` itself. Without pandas, above ``2**16`` codes of
    ungrouped input the order is by the top 16 bits of the code only (one
    counting-sort pass); the caller's key sort finishes it.
    """
    n = len(j)
    if bool(np.all(j[1:] >= j[:-1])):
        return None, None
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(j[1:], j[:-1], out=change[1:])
    if int(np.count_nonzero(change)) <= n_groups:  # maybe grouped: permute the runs
        starts = np.flatnonzero(change)
        heads = j[starts]
        if len(heads) == n_groups:  # maybe each code in exactly one run: invert, no sort
            run_order = np.full(n_groups, -1, dtype=np.int64)
            run_order[heads] = np.arange(n_groups, dtype=np.int64)
            if bool((run_order < 0).any()):
                run_order = np.argsort(heads, kind="stable")
        else:
            run_order = np.argsort(heads, kind="stable")
        sorted_heads = heads[run_order]
        if bool(np.all(sorted_heads[1:] > sorted_heads[:-1])):  # each code in one run
            lens = np.diff(np.append(starts, n))
            new_starts, new_lens = starts[run_order], lens[run_order]
            # positions step by 1 inside a run and jump to the next run's start
            dest = np.cumsum(new_lens) - new_lens
            out: NDArray[np.int64] = np.ones(n, dtype=np.int64)
            out[0] = new_starts[0]
            out[dest[1:]] = new_starts[1:] - (new_starts[:-1] + new_lens[:-1] - 1)
            np.cumsum(out, out=out)
            return out, np.repeat(sorted_heads, new_lens)
    if n_groups <= 1 << 16:
        return np.argsort(j.astype(np.uint16), kind="stable").astype(np.int64, copy=False), None
    exact = _counting_sort(j, n_groups)
    if exact is not None:
        return exact
    # one counting pass on the top 16 bits; the packed-key sort after it finishes the job
    top = (j >> (int(n_groups - 1).bit_length() - 16)).astype(np.uint16)
    return np.argsort(top, kind="stable").astype(np.int64, copy=False), None


def order_by_journey_time(
    j: NDArray[np.int64] | None,
    t: NDArray[Any],
    n_journeys: int,
    grouping: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> tuple[NDArray[np.int64] | None, NDArray[np.int64], NDArray[Any]]:
    """Stable order of events by (journey code, time), ties in input order.

    Returns ``(order, j[order], t[order])``; ``order`` is None when the events
    are in order already (then ``j`` and ``t`` come back as they are).

    ``j`` are codes in ``0..n_journeys-1``, ``t`` int64 or float64 times (no
    NaN). Exploits grouped input (runs are permuted, not sorted), sorts journey
    codes by counting (radix) and times inside journeys on one packed int64
    key ``journey << b | time - journey start``, which is sorted already between
    journeys (so the stable sort only merges short runs); exact for any times
    (ties at the key's resolution are re-sorted exactly). ``grouping`` is
    :attr:`Coded.grouping` of ``j`` when factorising found it.
    """
    if grouping is not None:
        j = grouping[1]  # (the codes in row order need not exist)
    elif j is None:
        raise TypeError("order_by_journey_time needs j or grouping")
    n = len(j)
    if n < 2:
        return None, j, t
    tk = _sortable_int(t)
    order, jg = grouping if grouping is not None else _group_order(j, n_journeys)
    if jg is None:
        jg = j if order is None else j[order]
    if grouping is None and not bool(np.all(jg[1:] >= jg[:-1])):
        # (no pandas, many codes: grouped by their top bits only) one packed-key sort
        tg = tk if order is None else tk[order]
        o2, jg, tg = _sort_in_journeys(jg, tg, n_journeys, grouped=False)
        final = order if o2 is None else (o2 if order is None else order[o2])
        return final, jg, (tg if t.dtype.kind in "iu" else t[final])
    # grouped: sort the times inside journeys, a block of whole journeys per thread
    final_out = np.empty(n, dtype=np.int64)
    tg_out = np.empty(n, dtype=np.int64)
    cuts = _journey_cuts(jg, parallel.n_blocks(n))

    def block(a: int, b: int) -> bool:
        """Sort rows ``a:b`` of the grouped order; False when they were in order already."""
        part = None if order is None else order[a:b]
        tp = tk[a:b] if part is None else np.take(tk, part, out=tg_out[a:b], mode=_IN_RANGE)
        jp = jg[a:b]
        o2, _, ts = _sort_in_journeys(jp - jp[0], tp, int(jp[-1] - jp[0]) + 1, grouped=True)
        tg_out[a:b] = ts
        if o2 is None:
            final_out[a:b] = np.arange(a, b) if part is None else part
            return False
        if part is None:
            np.add(o2, a, out=final_out[a:b])
        else:
            np.take(part, o2, out=final_out[a:b], mode=_IN_RANGE)
        return True

    moved = parallel.run([functools.partial(block, a, b) for a, b in itertools.pairwise(cuts)], n)
    if order is None and not any(moved):
        return None, j, t
    return final_out, jg, (tg_out if t.dtype.kind in "iu" else t[final_out])


def gather(arrays: Sequence[NDArray[Any]], index: NDArray[np.int64]) -> list[NDArray[Any]]:
    """``[a[index] for a in arrays]``, in row blocks side by side on threads."""
    n = len(index)
    k = parallel.n_blocks(n)
    if k < 2:
        return [a[index] for a in arrays]
    outs = [np.empty(n, dtype=a.dtype) for a in arrays]
    cuts = [n * i // k for i in range(k + 1)]
    tasks = [
        functools.partial(np.take, a, index[lo:hi], out=out[lo:hi], mode=_IN_RANGE)
        for a, out in zip(arrays, outs, strict=True)
        if a.dtype != object
        for lo, hi in itertools.pairwise(cuts)
    ]
    parallel.run(tasks, n)
    for i, a in enumerate(arrays):  # object columns hold the GIL: gathered here
        if a.dtype == object:
            outs[i] = a[index]
    return outs


def _journey_cuts(jg: NDArray[np.int64], k: int) -> list[int]:
    """``k + 1`` (or fewer) row positions splitting grouped codes ``jg`` between journeys."""
    n = len(jg)
    cuts = [0]
    for i in range(1, k):
        c = int(np.searchsorted(jg, jg[n * i // k], side="left"))
        if c > cuts[-1]:
            cuts.append(c)
    cuts.append(n)
    return cuts


def _sort_in_journeys(
    jg: NDArray[np.int64], tg: NDArray[np.int64], n_codes: int, *, grouped: bool
) -> tuple[NDArray[np.int64] | None, NDArray[np.int64], NDArray[np.int64]]:
    """Stable order of rows by (code, time) when ``jg`` is grouped (or top-bits grouped).

    Returns ``(o2, jg[o2], tg[o2])``, ``o2`` None when in order already. One
    packed int64 key ``code << b | time - journey start``; exact for any times
    (ties at the key's resolution are re-sorted exactly).
    """
    n = len(jg)
    same = jg[1:] == jg[:-1]
    if grouped and not (same & (tg[1:] < tg[:-1])).any():
        return None, jg, tg
    if grouped:  # each journey's start time by runs
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        tmin = np.minimum.reduceat(tg, starts)
        base = np.repeat(tmin, np.diff(np.append(starts, n)))
    else:
        tmin = np.full(n_codes, _I64_MAX, dtype=np.int64)
        np.minimum.at(tmin, jg, tg)
        base = tmin[jg]
    rel = tg.view(np.uint64) - base.view(np.uint64)
    del base
    jbits = max(int(n_codes - 1).bit_length(), 1)
    avail = 63 - jbits
    need = int(rel.max()).bit_length()
    shift = max(need - avail, 0)
    if shift:
        rel >>= np.uint64(shift)
    rel |= jg.astype(np.uint64) << np.uint64(avail)
    o2 = np.argsort(rel.view(np.int64), kind="stable")
    del rel
    if not grouped:  # (grouped: the key keeps every journey where it is)
        jg = jg[o2]
    tg = tg[o2]
    if shift:
        wrong = (jg[1:] == jg[:-1]) & (tg[1:] < tg[:-1])
        if wrong.any():  # ties at the key's resolution: sort those journeys exactly
            bad_j = np.zeros(n_codes, dtype=bool)
            bad_j[jg[1:][wrong]] = True
            sel = np.flatnonzero(bad_j[jg])
            sub = np.lexsort((tg[sel], jg[sel]))
            o2[sel] = o2[sel][sub]
            tg[sel] = tg[sel][sub]
    return o2, jg, tg
