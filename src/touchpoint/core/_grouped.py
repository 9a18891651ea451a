"""Grouped paths: the input of ChannelAttribution and DP6 as an :class:`EventLog`.

ChannelAttribution's ``markov_model(Data, var_path, var_conv, var_value,
var_null)`` and DP6's grouped journeys take one row per distinct path: a path
string (``"email > search > display"``), the number of journeys on that path that
converted, the number that did not, and the total conversion value. Each row is
expanded into its journeys: the converting ones carry the row's value divided by
its conversions on their last touch (the path ends there, as in those
libraries), the others none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.frames import _frame_column, _frame_columns
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["from_paths"]


def _column(table: Any, name: str) -> NDArray[Any]:
    if isinstance(table, Mapping):
        if name not in table:
            msg = f"grouped paths: no column {name!r}; the table has {sorted(map(str, table))}."
            raise ValidationError(msg)
        return np.asarray(table[name], dtype=object if name == "path" else None)
    available = [str(c) for c in _frame_columns(table)]
    if name not in available:
        msg = f"grouped paths: no column {name!r}; the table has {available}."
        raise ValidationError(msg)
    return np.asarray(_frame_column(table, name))


def _counts(table: Any, name: str | None, n: int) -> NDArray[np.int64]:
    if name is None:
        return np.zeros(n, dtype=np.int64)
    raw = _column(table, name)
    vals = np.asarray(raw, dtype=np.float64) if raw.dtype.kind in "biuf" else None
    bad = (
        np.ones(n, dtype=bool)
        if vals is None
        else ~np.isfinite(vals) | (vals < 0) | (vals != np.round(np.nan_to_num(vals)))
    )
    if bad.any():
        row = int(np.argmax(bad))
        shown = raw[row].item() if isinstance(raw[row], np.generic) else raw[row]
        msg = f"column {name!r}, row {row}: {shown!r} is not a count (an integer >= 0)."
        raise ValidationError(msg)
    assert vals is not None
    return vals.astype(np.int64)


def _tokens(paths: NDArray[Any], column: str, sep: str) -> tuple[list[list[str]], NDArray[Any]]:
    out: list[list[str]] = []
    for row, p in enumerate(paths.tolist()):
        steps = [s.strip() for s in p.split(sep)] if isinstance(p, str) else []
        if not steps or any(not s for s in steps):
            msg = (
                f"column {column!r}, row {row}: {p!r} is not a path of touchpoints "
                f"separated by {sep!r} (an empty or missing step)."
            )
            raise ValidationError(msg)
        out.append(steps)
    names = np.array(sorted({s for steps in out for s in steps}), dtype=object)
    return out, names


def from_paths(
    cls: type[EventLog],
    table: Any,
    *,
    path: str = "path",
    conversions: str | None = "total_conversions",
    nulls: str | None = "total_null",
    value: str | None = None,
    sep: str = ">",
) -> EventLog:
    """Expand grouped paths into one journey per conversion and per null.

    Parameters
    ----------
    cls : type
        :class:`EventLog` (or a subclass).
    table : mapping of str to sequence, pandas or polars DataFrame, or pyarrow Table
        One row per path.
    path : str
        The path column: touchpoints separated by ``sep`` (spaces around them
        are ignored, as in ChannelAttribution).
    conversions, nulls : str or None
        Columns of counts: journeys on the path that converted, that did not
        (None: no such column, zero everywhere).
    value : str, optional
        Total conversion value of the path's conversions; each converting
        journey gets ``value / conversions`` (without it: 1 per conversion).
    sep : str
        The step separator.

    Returns
    -------
    EventLog
        Integer journey ids ``0..``, float times (the step index), an
        ``outcome`` on the last touch of each converting journey and the
        extra column ``"path_row"``, the table row each journey came from.
    """
    for name, text in (("path", path), ("sep", sep)):
        if not isinstance(text, str) or not text:
            ck.fail(name, "a non-empty string", text)
    for name, v in (("conversions", conversions), ("nulls", nulls), ("value", value)):
        if v is not None and (not isinstance(v, str) or not v):
            ck.fail(name, "a column name or None", v)
    paths = _column(table, path)
    n = len(paths)
    conv = _counts(table, conversions, n)
    null = _counts(table, nulls, n)
    steps, names = _tokens(paths, path, sep)
    lookup = {s: i for i, s in enumerate(names.tolist())}
    codes = np.array([lookup[s] for row in steps for s in row], dtype=np.int64)
    length = np.array([len(row) for row in steps], dtype=np.int64)
    row_start = np.r_[0, np.cumsum(length)[:-1]]
    per_conv = np.ones(n)
    if value is not None:
        total = np.asarray(_column(table, value), dtype=np.float64)
        bad = ~np.isfinite(total) | (total < 0) | ((conv == 0) != (total == 0))
        if bad.any():
            row = int(np.argmax(bad))
            msg = (
                f"column {value!r}, row {row}: {total[row].item()!r} is not a conversion value "
                "(a finite number, > 0 on a path with conversions, 0 on one without: a "
                "conversion is a positive outcome)."
            )
            raise ValidationError(msg)
        per_conv = np.divide(total, conv, out=np.zeros(n), where=conv > 0)
    jrow = np.repeat(np.arange(n), conv + null)  # journeys, grouped by row
    within = np.arange(len(jrow)) - np.repeat(np.cumsum(conv + null) - (conv + null), conv + null)
    jlen = length[jrow]
    ev_journey = np.repeat(np.arange(len(jrow)), jlen)
    jstart = np.r_[0, np.cumsum(jlen)[:-1]]
    step = np.arange(int(jlen.sum())) - np.repeat(jstart, jlen)
    ev_codes = codes[np.repeat(row_start[jrow], jlen) + step]
    outcome = np.full(len(ev_codes), np.nan)
    last = jstart + jlen - 1
    converts = within < conv[jrow]
    outcome[last[converts]] = per_conv[jrow[converts]]
    return cls.from_arrays(
        ev_journey,
        names[ev_codes],
        step.astype(np.float64),
        outcome,
        {"path_row": jrow[ev_journey]},
    )
