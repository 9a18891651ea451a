"""Column naming and dataframe access shared by the EventLog constructors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.columns import Encoded, as_array, as_column
from touchpoint.exceptions import ValidationError

__all__ = [
    "MISSING",
    "PATH_SEPARATOR",
    "column_roles",
    "format_path",
    "frame_columns",
    "segment_values",
]

#: How a path prints: touchpoints joined by this.
PATH_SEPARATOR = " > "


def format_path(path: Iterable[object]) -> str:
    """A path as text, ``"ad > site > buy"``; a name containing the separator's
    ``>``, a quote or a control character (a newline) is quoted with its
    escapes (``"'x > y' > buy"``), so two different paths never print the same
    and no name breaks the line.

    Examples
    --------
    >>> format_path(["x > y"]), format_path(["x", "y"]), format_path(["a\\nb", "c"])
    ("'x > y'", 'x > y', "'a\\\\nb' > c")
    """
    return PATH_SEPARATOR.join(_path_name(str(n)) for n in path)


def _path_name(name: str) -> str:
    from touchpoint._lib.format import printable

    if PATH_SEPARATOR.strip() in name or printable(name) != name or name[:1] in "'\"":
        return repr(name)
    return name


#: The group of rows whose segment (``by=``) value is missing: counted, never dropped.
MISSING = "(missing)"


def segment_values(values: NDArray[Any]) -> NDArray[Any]:
    """``values`` with every missing value (None, NaN, NaT, pandas NA, blank text) replaced by ``MISSING``.

    Segment analyses (``split``, ``funnel(by=)``, ``breakdown``, ``detect_dropoffs``)
    group on the result, so rows without a segment form a counted ``"(missing)"``
    group instead of vanishing (NaN never equals itself). A label that is empty
    or only whitespace is missing too (it used to vanish from ``breakdown``).
    """
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind == "f":
        miss = np.isnan(arr)
    elif kind in "mM":
        miss = np.isnat(arr)
    elif kind == "U":
        miss = np.char.str_len(np.char.strip(arr)) == 0
    elif kind == "O":
        try:
            miss = np.asarray((arr == None) | (arr != arr), dtype=bool)  # noqa: E711, PLR0124
        except (TypeError, ValueError):  # pandas NA refuses to be a bool
            miss = np.fromiter((_is_missing(v) for v in arr.tolist()), dtype=bool, count=len(arr))
        miss |= np.fromiter(
            (isinstance(v, str) and not v.strip() for v in arr.tolist()), dtype=bool, count=len(arr)
        )
    else:
        return arr
    if not miss.any():
        return arr
    out = arr.astype(object)
    out[miss] = MISSING
    return out


def _is_missing(v: Any) -> bool:
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(v != v)  # noqa: PLR0124 - NaN is the one value unequal to itself
    except (TypeError, ValueError):
        return False


def column_roles(
    journey: str, touchpoint: str, time: str, outcome: str | None, extra: Iterable[str]
) -> dict[str, str]:
    """Map each role (journey, touchpoint, time, outcome, extras) to its column name."""
    names = {"journey": journey, "touchpoint": touchpoint, "time": time}
    if outcome is not None:
        names["outcome"] = outcome
    extras = [extra] if isinstance(extra, str) else list(extra)
    check_extra_names(extras, names)
    return names | {e: e for e in extras}


def check_extra_names(extra: Iterable[str], roles: Mapping[str, str]) -> None:
    """Refuse extra columns that would replace a role (journey, touchpoint, time, outcome).

    An extra named ``"time"`` would otherwise overwrite the time role, and an extra
    that is the journey column itself would merge users; both are refused, as are
    extras listed twice.
    """
    from touchpoint._lib.checks import fail

    seen: set[str] = set()
    role_columns = {c: r for r, c in roles.items()}
    for e in extra:
        if not isinstance(e, str) or not e:
            fail("extra", "column names (non-empty strings)", e)
        if e in _ROLES or e in role_columns:
            what = role_columns.get(e, e)
            fail(
                "extra",
                f"columns other than the role columns (journey, touchpoint, time, outcome); "
                f"{e!r} is the {what} {'column' if e in role_columns else 'role'}",
                e,
            )
        if e in seen:
            fail("extra", "distinct column names", e)
        seen.add(e)


_ROLES = ("journey", "touchpoint", "time", "outcome")


def _check_columns(
    names: Mapping[str, str], available: set[str], nonempty: bool, where: str = "the data"
) -> None:
    if not nonempty:
        return
    missing = [c for c in names.values() if c not in available]
    if missing:
        msg = (
            f"unknown column {missing[0]!r}"
            + (f" (and {missing[1:]})" if len(missing) > 1 else "")
            + f"; {where} has columns {sorted(available)}."
        )
        raise ValidationError(msg)


def frame_columns(frame: Any, spec: Any) -> dict[str, Any]:
    """The columns ``spec`` (a LogSpec) names, from a pandas/polars frame or pyarrow table.

    Id columns come coded by the frame's library where it can
    (:class:`~touchpoint._lib.columns.Encoded`); the time column as the frame holds
    it, so its time zone is recorded. Column labels that are not strings
    (``0``, ``1``) are matched by their text; a label given to two columns, or
    a polars ``LazyFrame`` (collected here, only the named columns), are
    handled rather than failing deep inside.
    """
    if type(frame).__name__ == "LazyFrame" and hasattr(frame, "collect"):
        have = list(frame.collect_schema().names())
        spec.check_columns(have)
        frame = frame.select(spec.columns).collect()
    labels = _frame_columns(frame)
    by_text: dict[str, Any] = {}
    for label in labels:
        text = str(label)
        if text in by_text and text in spec.columns:
            msg = (
                f"the frame has two columns named {text!r}; rename one so that "
                f"{text!r} names one column."
            )
            raise ValidationError(msg)
        by_text[text] = label
    spec.check_columns(list(by_text))
    table = hasattr(frame, "column_names")  # pyarrow
    out: dict[str, Any] = {}
    for role, col in spec.roles.items():
        key = by_text[col]
        if role == "time":  # as the frame holds it: its time zone is recorded
            out[col] = frame.column(key) if table else frame[key]
        else:
            out[col] = _frame_column(frame, key, encoded=role in ("journey", "touchpoint"))
    return out


def _frame_columns(frame: Any) -> list[Any]:
    if hasattr(frame, "column_names"):  # pyarrow.Table
        return list(frame.column_names)
    if hasattr(frame, "columns"):
        return list(frame.columns)
    msg = f"expected a pandas or polars DataFrame or a pyarrow Table (got {type(frame).__name__})."
    raise ValidationError(msg)


def _frame_column(frame: Any, name: str, *, encoded: bool = False) -> Any:
    """Column ``name`` of a pandas/polars frame or pyarrow table as numpy.

    With ``encoded``, string and categorical columns come back as a
    :class:`~touchpoint._lib.columns.Encoded` (codes and dictionary, coded by
    the frame's library: no Python object per value). Time-zone aware times
    come back as naive UTC (see :func:`_frame_time_zone`).
    """
    mod = type(frame).__module__
    if mod.startswith("pyarrow"):
        import pyarrow as pa

        col = frame.column(name)
        if encoded:
            enc = as_column(col)
            if isinstance(enc, Encoded):
                return enc
        if pa.types.is_dictionary(col.type):
            # to_numpy() on a dictionary column turns nulls into a valid label; decode first
            col = col.cast(col.type.value_type)
        return np.asarray(col.to_numpy(zero_copy_only=False) if hasattr(col, "to_numpy") else col)
    series = frame[name]
    if mod.startswith("pandas"):
        dtype = series.dtype
        if encoded:
            enc = as_column(series)
            if isinstance(enc, Encoded):
                return enc
        if getattr(dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if str(dtype) == "category":
            series = series.astype(object)
        if str(dtype).startswith(("string", "str")):
            return np.asarray(series.astype(object).where(series.notna(), None).to_numpy())
        return np.asarray(series.to_numpy())
    if mod.startswith("polars"):
        import polars as pl

        if encoded:
            enc = as_column(series)
            if isinstance(enc, Encoded):
                return enc
        if series.dtype in (pl.Categorical, pl.Enum):
            series = series.cast(pl.String)
        if isinstance(series.dtype, pl.Datetime) and series.dtype.time_zone is not None:
            series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return np.asarray(series.to_numpy())
    return as_array(series)


def _frame_time_zone(frame: Any, name: str) -> str | None:
    """The time zone of a frame's aware datetime column (None when naive or not datetime)."""
    mod = type(frame).__module__
    if mod.startswith("pyarrow"):
        tz = getattr(frame.column(name).type, "tz", None)
    elif mod.startswith("polars"):
        tz = getattr(frame[name].dtype, "time_zone", None)
    elif mod.startswith("pandas"):
        tz = getattr(frame[name].dtype, "tz", None)
    else:
        tz = None
    if tz is None:
        return None
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return str(key or tz)


def _unique_in_order(values: NDArray[Any]) -> list[Any]:
    return list(dict.fromkeys(values.tolist()))
