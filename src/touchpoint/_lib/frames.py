"""Column naming and dataframe access shared by the EventLog constructors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.columns import Encoded, as_array, as_column
from touchpoint.exceptions import ValidationError

__all__ = ["column_roles"]


def column_roles(
    journey: str, touchpoint: str, time: str, outcome: str | None, extra: Iterable[str]
) -> dict[str, str]:
    """Map each role (journey, touchpoint, time, outcome, extras) to its column name."""
    names = {"journey": journey, "touchpoint": touchpoint, "time": time}
    if outcome is not None:
        names["outcome"] = outcome
    return names | {e: e for e in extra}


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
