"""The one grouping kernel behind every ``by=``: one or several columns, one order, one missing label.

Every analysis that splits by a segment column (``funnel``, ``breakdown``,
``detect_dropoffs``) groups through :func:`group_codes` and :func:`groupings`:

- ``by`` is a column name or a list of them; with several, each column is its own
  segmentation (never crossed) and its groups are labelled ``"column=value"``;
- rows whose value is missing (None, NaN, NaT, pandas NA, empty or blank text)
  form the group ``"(missing)"``: counted, never dropped;
- groups come out in one order: numbers by value, then other values by their text,
  then ``"(missing)"`` last. An explicit ``order`` (a design's stage order) goes first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.frames import MISSING, segment_values

__all__ = [
    "BY",
    "BY_REQUIRED",
    "MISSING",
    "by_columns",
    "check_by",
    "check_by_required",
    "group_codes",
    "group_key",
    "groupings",
    "label_array",
]

_MUST = "a column name, a non-empty list of them, or None"


def check_by(name: str, value: Any) -> None:
    """``by`` is None, a column name or a non-empty list of names."""
    if value is None or (isinstance(value, str) and value):
        return
    items = None if isinstance(value, str | bytes) else value
    if not isinstance(items, list | tuple) or not items:
        ck.fail(name, _MUST, value)
    for v in items:
        if not isinstance(v, str) or not v:
            ck.fail(name, _MUST, value)


def check_by_required(name: str, value: Any) -> None:
    """``by`` is a column name or a non-empty list of names (None refused)."""
    if value is None:
        ck.fail(name, "a column name or a non-empty list of them", value)
    check_by(name, value)


#: The parameter check of every optional ``by=``.
BY = ck.Custom(check_by, 5, "", [], ["a", 5])
#: The same for a ``by=`` that must name a column (``breakdown``).
BY_REQUIRED = ck.Custom(check_by_required, None, 5, "", [], ["a", 5])


def by_columns(by: str | Sequence[str] | None) -> list[str]:
    """``by`` as a list of column names (empty for None)."""
    if by is None:
        return []
    check_by("by", by)
    return [by] if isinstance(by, str) else list(by)


def group_key(value: Any, order: Mapping[Any, int] | None = None) -> tuple[int, float, str]:
    """Sort key of a group: ``order`` first, then numbers, then text, ``"(missing)"`` last."""
    if isinstance(value, str) and value == MISSING:
        return (3, 0.0, "")
    if order and value in order:
        return (0, float(order[value]), "")
    if isinstance(value, bool | int | float | np.number):
        return (1, float(value), "")
    return (2, 0.0, str(value))


def group_codes(
    values: Any, order: Mapping[Any, int] | None = None
) -> tuple[NDArray[np.int64], list[Any]]:
    """Per row, the index of its group, and the group labels in the one group order."""
    arr = _blank_is_missing(segment_values(np.asarray(values)))
    if arr.dtype.kind != "O":
        uniq, inv = np.unique(arr, return_inverse=True)
        first = uniq.tolist()
        codes = inv.astype(np.int64).ravel()
    else:
        index: dict[Any, int] = {}
        codes = np.fromiter(
            (index.setdefault(v, len(index)) for v in arr.tolist()), dtype=np.int64, count=len(arr)
        )
        first = list(index)
    rank = sorted(range(len(first)), key=lambda i: group_key(first[i], order))
    new = np.empty(len(first), dtype=np.int64)
    new[rank] = np.arange(len(first))
    return new[codes] if first else codes, [first[i] for i in rank]


def _blank_is_missing(arr: NDArray[Any]) -> NDArray[Any]:
    """Empty or all-blank text values replaced by ``"(missing)"``, like None and NaN."""
    if arr.dtype.kind == "U":
        blank = np.char.str_len(np.char.strip(arr)) == 0
    elif arr.dtype.kind == "O":
        blank = np.fromiter(
            (isinstance(v, str) and not v.strip() for v in arr.tolist()), dtype=bool, count=len(arr)
        )
    else:
        return arr
    if not blank.any():
        return arr
    out = arr.astype(object)
    out[blank] = MISSING
    return out


def groupings(
    by: str | Sequence[str] | None,
    column: Callable[[str], Any],
    *,
    order: Mapping[Any, int] | None = None,
) -> list[tuple[str, NDArray[np.int64], list[Any]]]:
    """Per column of ``by``: its name, each row's group code and the group labels.

    ``column(name)`` returns the rows' values of one column. With several columns
    the labels are ``"column=value"`` so that the groups of different columns stay
    apart in one table.
    """
    cols = by_columns(by)
    out = []
    for col in cols:
        codes, labels = group_codes(column(col), order)
        if len(cols) > 1:
            labels = [f"{col}={g}" for g in labels]
        out.append((col, codes, labels))
    return out


def label_array(labels: Sequence[Any]) -> NDArray[Any]:
    """Group labels as a column: their own dtype when they share one type, else objects."""
    if len({type(v) for v in labels}) <= 1:
        return np.asarray(labels)
    out = np.empty(len(labels), dtype=object)
    out[:] = list(labels)
    return out
