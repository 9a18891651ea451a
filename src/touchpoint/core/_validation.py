"""Validation report types and the row checks used when building an EventLog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.format import format_cell
from touchpoint.core._results import ScalarResult

__all__ = ["DUPLICATE_RULE", "KINDS", "ValidationIssue", "ValidationReport"]

#: When two rows are duplicates (``duplicates=`` of the EventLog constructors).
DUPLICATE_RULE = "same journey, touchpoint, time and outcome"

#: Validation kinds, in the order they are checked (a row counts once, under its first).
KINDS = (
    "missing",
    "empty_string",
    "unparseable_time",
    "out_of_range_time",
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
            "out_of_range_time": (
                "timestamp outside 1677-09-21..2262-04-11, the range of int64 nanoseconds"
            ),
            "invalid_outcome": "outcome is not a finite number or boolean",
            "unknown_touchpoint": "touchpoint not in the journey design",
            "duplicate": "duplicate of an earlier row",
        }[self.kind]
        extra = f" ({self.detail})" if self.detail else ""
        return f"column {self.column!r}, {row_label(self.row)}: {what} {self.value!r}{extra}"


@attrs.frozen
class ValidationReport(ScalarResult):
    """What validation found: how many rows came in, were kept, and why others went.

    Every dropped row is counted under exactly one kind, so
    ``n_input == n_kept + sum(counts.values())``; ``dropped_value`` is the
    sum of the valid ``outcome`` values of the dropped rows. ``n_ties``
    counts the kept rows that repeat an earlier row (same journey,
    touchpoint, time and outcome): real events under the default
    ``duplicates="keep"`` (several items of one basket, several coupons
    redeemed at once), reported so they are never a surprise.

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
    3 rows, 2 kept, 1 dropped (empty_string: 1); 1 tie kept (same journey, touchpoint, time and outcome as an earlier row)
    """

    n_input: int
    n_kept: int
    counts: Mapping[str, int] = attrs.field(factory=dict)
    examples: tuple[ValidationIssue, ...] = ()
    n_ties: int = 0
    dropped_value: float = 0.0

    @property
    def n_dropped(self) -> int:
        """Rows that were dropped."""
        return self.n_input - self.n_kept

    def to_dict(self) -> dict[str, Any]:
        """The counts as a flat dict: totals, then ``dropped_<kind>`` per kind of problem."""
        out: dict[str, Any] = {
            "n_input": self.n_input,
            "n_kept": self.n_kept,
            "n_dropped": self.n_dropped,
            "n_ties": self.n_ties,
            "dropped_value": self.dropped_value,
        }
        out |= {f"dropped_{k}": int(v) for k, v in self.counts.items()}
        return out

    def __repr__(self) -> str:
        dropped = ", ".join(f"{k}={v:,}" for k, v in self.counts.items() if v)
        return (
            f"ValidationReport(n_input={self.n_input:,}, n_kept={self.n_kept:,}, "
            f"n_dropped={self.n_dropped:,}{', ' + dropped if dropped else ''}, "
            f"n_ties={self.n_ties:,})"
        )

    def __str__(self) -> str:
        if not self.n_dropped:
            text = f"{self.n_input:,} rows, all valid"
        else:
            parts = ", ".join(f"{k}: {v:,}" for k, v in self.counts.items() if v)
            text = (
                f"{self.n_input:,} rows, {self.n_kept:,} kept, {self.n_dropped:,} dropped ({parts})"
            )
            if self.dropped_value:
                text += f", outcome value dropped {format_cell(float(self.dropped_value))}"
        if self.n_ties:
            ties = "tie" if self.n_ties == 1 else "ties"
            text += f"; {self.n_ties:,} {ties} kept ({DUPLICATE_RULE} as an earlier row)"
        return text


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
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows repeating an earlier row (:data:`DUPLICATE_RULE`) and, for each, the row it repeats.

    Both as original row numbers, sorted by the repeating row.
    """
    none = np.empty(0, dtype=np.int64)
    if len(j) < 2:
        return none, none
    tie = (j[1:] == j[:-1]) & (t[1:] == t[:-1])
    if not tie.any():
        return none, none
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
    dup, orig = rows[order][1:][same], rows[order][:-1][same]
    by_row = np.argsort(dup, kind="stable")
    return dup[by_row], orig[by_row]


def _compact(
    codes: NDArray[np.int64], table: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    used = np.zeros(len(table), dtype=bool)
    used[codes] = True
    if used.all():
        return codes, table
    remap = np.cumsum(used) - 1
    return remap[codes], table[used]
