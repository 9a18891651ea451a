"""Coding id columns to integers, and reading outcome values (internal).

Timestamps are parsed in :mod:`touchpoint._lib.timeparse`, rows are sorted and
gathered in :mod:`touchpoint._lib.order`, and the CPython-pointer and
pandas-private fast paths live in :mod:`touchpoint._lib.fastpaths`.

Each converter turns one input column into a clean numpy array plus boolean
masks of the rows that failed, so the caller can raise or drop and count.
Nothing here loops in Python per value over numeric, datetime or
arrow/pandas/polars string input: strings held by a dataframe library are
dictionary-encoded by that library (pyarrow, pandas) and only the distinct
values are looked at in Python. Object arrays of Python values (records, the
standard-library CSV reader) are coded with one tight loop, or by pandas'
hash table when pandas is installed.
"""

from __future__ import annotations

import decimal
import fractions
import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import fastpaths
from touchpoint.exceptions import ValidationError

__all__ = [
    "Coded",
    "Encoded",
    "IdCollisionError",
    "as_array",
    "as_column",
    "factorize",
    "parse_outcome",
]

#: Names that moved out of this module, and where to (old import paths keep working).
_MOVED = {
    "ParsedTime": "touchpoint._lib.timeparse",
    "aware_to_utc": "touchpoint._lib.timeparse",
    "datetime_to_ns": "touchpoint._lib.timeparse",
    "parse_time": "touchpoint._lib.timeparse",
    "time_key": "touchpoint._lib.timeparse",
    "gather": "touchpoint._lib.order",
    "order_by_journey_time": "touchpoint._lib.order",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


_I64_MAX = np.iinfo(np.int64).max


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
    sorter = fastpaths.groupsort_indexer()
    if sorter is None:
        return None
    import pandas as pd

    n = len(values)
    none = np.zeros(n, dtype=bool)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo < max(4 * n, 1 << 16):
        shifted = _offsets(values, lo)
        order, counts = sorter(shifted, hi - lo + 1)
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
    grouping = fastpaths.counting_sort(codes, len(uniq))
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
    if not fastpaths.pointers_usable():
        return None  # (an object array holds the objects' addresses on CPython)
    values = np.ascontiguousarray(values)
    ptrs = fastpaths.object_identities(values)
    head = min(n, 4096)
    if len(pd.unique(ptrs[:head])) > head // 8:
        return None
    codes, uniq = pd.factorize(ptrs)
    if len(uniq) > max(n // 16, 1024):
        return None
    codes = np.asarray(codes, dtype=np.int64)
    objects = np.empty(len(uniq), dtype=object)
    if len(uniq) <= 1 << 16:  # the objects at those addresses (alive: ``values`` holds them)
        objects[:] = fastpaths.objects_at(uniq.tolist())
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
