"""Validation report types and the row checks used when building an EventLog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["KINDS", "ValidationIssue", "ValidationReport"]

#: Validation kinds, in the order they are checked (a row counts once, under its first).
KINDS = (
    "missing",
    "empty_string",
    "unparseable_time",
    "invalid_outcome",
    "unknown_touchpoint",
    "duplicate",
)


@attrs.frozen
class ValidationIssue:
    """One example of a rejected row."""

    kind: str
    column: str
    row: int
    value: Any
    detail: str = ""

    def message(self, row_label: Callable[[int], str] = lambda i: f"row {i}") -> str:
        """Human-readable description naming column, row and value."""
        what = {
            "missing": "missing value",
            "empty_string": "empty string",
            "unparseable_time": "unparseable timestamp",
            "invalid_outcome": "outcome is not a number or boolean",
            "unknown_touchpoint": "touchpoint not in the journey design",
            "duplicate": "duplicate row",
        }[self.kind]
        extra = f" ({self.detail})" if self.detail else ""
        return f"column {self.column!r}, {row_label(self.row)}: {what} {self.value!r}{extra}"


@attrs.frozen
class ValidationReport:
    """What validation found: how many rows came in, were kept, and why others went.

    Every dropped row is counted under exactly one kind, so
    ``n_input == n_kept + sum(counts.values())``.

    Examples
    --------
    >>> import warnings
    >>> from touchpoint import EventLog
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     log = EventLog.from_records(
    ...         [{"id": 1, "tp": "ad", "t": 0}, {"id": 1, "tp": "", "t": 1},
    ...          {"id": 1, "tp": "ad", "t": 0}], journey="id", touchpoint="tp", time="t",
    ...         on_error="drop")
    >>> print(log.validation)
    3 rows, 1 kept, 2 dropped (empty_string: 1, duplicate: 1)
    """

    n_input: int
    n_kept: int
    counts: Mapping[str, int] = attrs.field(factory=dict)
    examples: tuple[ValidationIssue, ...] = ()

    @property
    def n_dropped(self) -> int:
        """Rows that were dropped."""
        return self.n_input - self.n_kept

    def __str__(self) -> str:
        if not self.n_dropped:
            return f"{self.n_input} rows, all valid"
        parts = ", ".join(f"{k}: {v}" for k, v in self.counts.items() if v)
        return f"{self.n_input} rows, {self.n_kept} kept, {self.n_dropped} dropped ({parts})"


def _is_grouped_sorted(j: NDArray[Any], t: NDArray[Any]) -> bool:
    dj = np.diff(j)
    if (dj < 0).any():
        return False
    return bool(np.all((dj > 0) | (t[1:] >= t[:-1])))


def _duplicates(
    j: NDArray[Any],
    t: NDArray[Any],
    tp_all: NDArray[np.int64],
    out_all: NDArray[np.float64] | None,
    idx: NDArray[np.int64] | None,
) -> NDArray[np.int64]:
    """Original row numbers of rows repeating an earlier row (same journey/time/touchpoint/outcome)."""
    if len(j) < 2:
        return np.empty(0, dtype=np.int64)
    tie = (j[1:] == j[:-1]) & (t[1:] == t[:-1])
    if not tie.any():
        return np.empty(0, dtype=np.int64)
    in_run = np.zeros(len(j), dtype=bool)
    in_run[1:] |= tie
    in_run[:-1] |= tie
    pos = np.flatnonzero(in_run)
    rows = pos if idx is None else idx[pos]
    keys = [rows, tp_all[rows], t[pos], j[pos]]
    if out_all is not None:
        o = np.nan_to_num(out_all[rows], nan=-np.inf)
        keys.insert(1, o)
    order = np.lexsort(keys)
    srt = [k[order] for k in keys[1:]]
    same = np.ones(len(order) - 1, dtype=bool)
    for k in srt:
        same &= k[1:] == k[:-1]
    return np.sort(rows[order][1:][same])


def _compact(
    codes: NDArray[np.int64], table: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    used = np.zeros(len(table), dtype=bool)
    used[codes] = True
    if used.all():
        return codes, table
    remap = np.cumsum(used) - 1
    return remap[codes], table[used]
