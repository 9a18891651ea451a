"""Building an :class:`~touchpoint.EventLog` from columns, in named stages.

Every reader ends here: the public constructors and readers turn their
keywords into a :class:`~touchpoint.core._spec.LogSpec` and their data into
one array per role, then :func:`ingest` runs the stages in order:

1. :func:`take_columns` - one 1-D array per role, all of one length; aware
   times to UTC;
2. :func:`code_columns` - journey and touchpoint ids coded to integers, times
   and outcomes parsed (the journey ids on a thread beside the others);
3. :func:`check_rows` - every row checked, a bad row counted under its first
   failing kind (missing, empty, unparseable, ...);
4. :func:`order_rows` - kept rows sorted by journey then time (stable: ties keep
   their input order), then :func:`drop_duplicates` per ``spec.duplicates``;
5. :func:`report_rows` - raise at the first bad row, or warn and count them
   (``spec.on_error``);
6. :func:`gather_rows` - the per-event columns gathered into the new order,
   code tables compacted to what survived;
7. :func:`outcome_level` - a journey-level outcome moved onto each journey's
   last event (``spec.outcome_level``), or the warning when an event-level
   outcome looks journey-level.

Readers of other sources (vendor exports, SQL scans) call
``EventLog._from_spec(columns, spec)`` with a ``{column name: array}`` mapping
and a :class:`~touchpoint.core._spec.LogSpec`; it runs :func:`ingest` and
makes the log of its fields.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import parallel
from touchpoint._lib.columns import (
    Coded,
    IdCollisionError,
    as_array,
    as_column,
    factorize,
    parse_outcome,
)
from touchpoint._lib.order import gather, order_by_journey_time
from touchpoint._lib.timeparse import ParsedTime, aware_to_utc, parse_time, time_key
from touchpoint.core._spec import LogSpec
from touchpoint.core._validation import (
    DUPLICATE_RULE,
    KINDS,
    ValidationIssue,
    ValidationReport,
    _compact,
    _duplicates,
)
from touchpoint.exceptions import DroppedRowsWarning, OutcomeLevelWarning, ValidationError

__all__ = ["SPLIT_RULE", "ChunkGuard", "ingest", "role_arrays", "user_stacklevel"]

RowLabel = Callable[[int], str]


def _row(i: int) -> str:
    return f"row {i}"


def role_arrays(columns: Mapping[str, Any], spec: LogSpec) -> dict[str, Any]:
    """``{column name: array}`` as ``{role: array}``; a missing column is refused by name."""
    spec.check_columns(list(columns))
    return {role: columns[col] for role, col in spec.roles.items()}


def ingest(
    arrays: Mapping[str, Any], spec: LogSpec, *, row_label: RowLabel | None = None
) -> dict[str, Any]:
    """The fields of the event log of one array per role (``spec.roles``), stage by stage.

    :meth:`EventLog._from_spec <touchpoint.EventLog._from_spec>` makes the log of them.

    Examples
    --------
    >>> spec = LogSpec(journey="id", touchpoint="tp", time="t", conversions="buy")
    >>> fields = ingest({"journey": [1, 1], "touchpoint": ["ad", "buy"], "time": [1.0, 0.0]},
    ...                 spec)
    >>> fields["touchpoint_names"], fields["touchpoint"].tolist(), fields["conversions"]
    (['ad', 'buy'], [1, 0], ('buy',))
    """
    label = row_label or _row
    raw = take_columns(arrays, spec)
    coded = code_columns(raw, spec, label)
    rows = check_rows(raw, coded, spec)
    order_rows(rows, coded)
    drop_duplicates(rows, raw, coded, spec, label)
    report = report_rows(rows, raw, coded, spec, label)
    out = gather_rows(rows, raw, coded)
    outcome = outcome_level(out, rows, raw, spec, label)
    times = coded.time.values
    if np.may_share_memory(rows.tk, raw.arrays["time"]):  # the caller's int64 times
        rows.tk = rows.tk.copy()
    return {
        "journey": out.journey.astype(np.int32, copy=False),
        "journey_ids": out.journey_ids,
        "touchpoint": out.touchpoint.astype(np.int32, copy=False),
        "touchpoint_names": out.touchpoint_names,
        "timestamp": rows.tk.view(times.dtype) if times.dtype.kind == "M" else rows.tk,
        "outcome": outcome,
        "extra": out.extra,
        "validation": report,
        "design": spec.design,
        "conversions": spec.conversions,
        "columns": spec.roles,
        "outcome_level": spec.outcome_level,
        "time_zone": raw.zone or coded.time.time_zone,
    }


# ------------------------------------------------------------- 1. take columns
@attrs.frozen
class Raw:
    """The input as one array per role (``outcome`` absent when there is none)."""

    arrays: dict[str, Any]
    extra: dict[str, NDArray[Any]]
    zone: str | None
    n: int


def take_columns(arrays: Mapping[str, Any], spec: LogSpec) -> Raw:
    """One 1-D array per role, all as long as the journey column; aware times to UTC."""
    roles = spec.roles
    out: dict[str, Any] = {
        "journey": as_column(arrays["journey"]),
        "touchpoint": as_column(arrays["touchpoint"]),
    }
    time, zone = aware_to_utc(arrays["time"])
    out["time"] = as_array(time)
    if spec.outcome is not None:
        out["outcome"] = as_array(arrays["outcome"])
    extra = {e: as_array(arrays[e]) for e in spec.extra}
    n = len(out["journey"])
    for role, arr in [*out.items(), *extra.items()]:
        if arr.ndim != 1 or len(arr) != n:
            msg = f"column {roles.get(role, role)!r} has {len(arr)} values but 'journey' has {n}."
            raise ValidationError(msg)
    return Raw(out, extra, zone, n)


# -------------------------------------------------------------- 2. code columns
#: Parsed outcome values and their bad-value mask (None, None: no outcome column).
_Outcome = tuple[NDArray[np.float64], NDArray[np.bool_]] | tuple[None, None]


@attrs.frozen
class CodedColumns:
    """Integer-coded ids, parsed times and outcomes, before any row is dropped."""

    journey: Coded
    touchpoint: Coded
    time: ParsedTime
    outcome: NDArray[np.float64] | None
    outcome_bad: NDArray[np.bool_] | None

    @property
    def touchpoint_names(self) -> list[str]:
        return [str(x) for x in self.touchpoint.uniques.tolist()]


def code_columns(raw: Raw, spec: LogSpec, label: RowLabel) -> CodedColumns:
    """Code the id columns and parse times and outcomes (journey ids on a thread)."""
    roles = spec.roles

    def other_columns() -> tuple[Coded, ParsedTime, _Outcome]:
        tc = _factorize_role(raw.arrays, "touchpoint", roles, label)
        tparsed = parse_time(raw.arrays["time"])
        parsed: _Outcome = (None, None)
        if "outcome" in raw.arrays:
            parsed = parse_outcome(raw.arrays["outcome"])
        return tc, tparsed, parsed

    jc, (tc, tparsed, (out_vals, out_bad)) = parallel.run(
        [lambda: _factorize_role(raw.arrays, "journey", roles, label), other_columns],
        raw.n,
        inline=1,
    )
    if tparsed.mixed_row is not None:
        row = tparsed.mixed_row
        msg = (
            f"column {roles['time']!r}, {label(row)}: {raw.arrays['time'][row]!r} mixes "
            "time-zone aware and naive times in one column; make them all aware "
            "(they are converted to UTC) or all naive."
        )
        raise ValidationError(msg)
    return CodedColumns(jc, tc, tparsed, out_vals, out_bad)


def _factorize_role(
    arrays: Mapping[str, Any], role: str, cols: Mapping[str, str], label: RowLabel
) -> Coded:
    """Factorize an id column; two different values that print the same are an error."""
    try:
        return _decoded(factorize(arrays[role]), cols.get(role, role))
    except IdCollisionError as exc:
        a, b = exc.values
        ra, rb = exc.rows
        msg = (
            f"column {cols.get(role, role)!r}: {a!r} ({label(ra)}) and {b!r} ({label(rb)}) "
            f"are different values that print the same, so they would be two {role}s "
            "shown as one; give the column one type (all text or all numbers)."
        )
        raise ValidationError(msg) from None


def _utf8(value: bytes, column: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"column {column!r}: {value!r} is bytes that are not UTF-8 text; decode it first."
        raise ValidationError(msg) from None


def _decoded(coded: Coded, column: str) -> Coded:
    """Bytes ids (a binary Parquet or numpy ``S`` column) decoded as UTF-8 text.

    Without this they would print as ``"b'ad'"``. Bytes that are not UTF-8, or
    that decode to a value the column also holds as text, are refused.
    """
    uniques = coded.uniques
    if uniques.dtype.kind not in "SO" or not any(isinstance(u, bytes) for u in uniques.tolist()):
        return coded
    out = np.empty(len(uniques), dtype=object)
    out[:] = [_utf8(u, column) if isinstance(u, bytes) else u for u in uniques.tolist()]
    if len(set(out.tolist())) != len(out):
        msg = (
            f"column {column!r} holds the same name as bytes and as text; give the column "
            "one type (all text)."
        )
        raise ValidationError(msg)
    return attrs.evolve(coded, uniques=out)


# ---------------------------------------------------------------- 3. check rows
@attrs.define
class Rows:
    """The rows' fate so far: which are bad (and why), and the kept rows' order.

    ``idx`` (None: all rows, in input order) lists the kept input rows in
    journey-time order; ``jk`` and ``tk`` are their journey codes and time keys.
    """

    bad: NDArray[np.bool_]
    counts: dict[str, int]
    examples: list[ValidationIssue]
    idx: NDArray[np.int64] | None = None
    jk: NDArray[Any] = attrs.field(factory=lambda: np.empty(0, dtype=np.int64))
    tk: NDArray[Any] = attrs.field(factory=lambda: np.empty(0, dtype=np.int64))
    n_ties: int = 0

    @property
    def n_bad(self) -> int:
        return int(self.bad.sum())


def check_rows(raw: Raw, coded: CodedColumns, spec: LogSpec) -> Rows:
    """Every row checked; a bad row is counted once, under its first failing kind."""
    jc, tc, tparsed = coded.journey, coded.touchpoint, coded.time
    masks: list[tuple[str, str, NDArray[np.bool_]]] = [
        ("missing", "journey", jc.missing),
        ("missing", "touchpoint", tc.missing),
        ("missing", "time", tparsed.missing),
        ("empty_string", "journey", jc.empty),
        ("empty_string", "touchpoint", tc.empty),
        ("empty_string", "time", tparsed.empty),
        ("unparseable_time", "time", tparsed.bad),
        ("out_of_range_time", "time", tparsed.out_of_range),
    ]
    if coded.outcome_bad is not None:
        masks.append(("invalid_outcome", "outcome", coded.outcome_bad))
    if spec.design is not None:
        design, conv = spec.design, set(spec.conversions)
        unknown = np.array(
            [t not in design and t not in conv for t in coded.touchpoint_names] + [False]
        )
        masks.append(("unknown_touchpoint", "touchpoint", unknown[tc.codes]))
    roles = spec.roles
    rows = Rows(np.zeros(raw.n, dtype=bool), dict.fromkeys(KINDS, 0), [])
    for kind, role, mask in masks:
        if not mask.any():
            continue
        new = mask & ~rows.bad
        k = int(new.sum())
        if k:
            rows.counts[kind] += k
            row = int(np.argmax(new))
            col = raw.arrays.get(role)
            value = col[row] if col is not None else None
            rows.examples.append(ValidationIssue(kind, roles.get(role, role), row, value))
            rows.bad |= new
    return rows


# ------------------------------------------------------------ 4. order and ties
def order_rows(rows: Rows, coded: CodedColumns) -> None:
    """Sort the kept rows by (journey, time); stable, so ties keep their input order."""
    jc = coded.journey
    tkey = time_key(coded.time.values)
    idx = np.flatnonzero(~rows.bad) if rows.bad.any() else None
    if idx is None and jc.grouping is not None:  # the journey codes came grouped
        order, jk, tk = order_by_journey_time(None, tkey, len(jc.uniques), jc.grouping)
    else:
        jk = jc.codes if idx is None else jc.codes[idx]
        tk = tkey if idx is None else tkey[idx]
        order, jk, tk = order_by_journey_time(jk, tk, len(jc.uniques))
    if order is not None:
        idx = order if idx is None else idx[order]
    rows.idx, rows.jk, rows.tk = idx, jk, tk


def drop_duplicates(
    rows: Rows, raw: Raw, coded: CodedColumns, spec: LogSpec, label: RowLabel
) -> None:
    """Rows equal to an earlier one on journey, touchpoint, time and outcome, per ``spec.duplicates``."""
    dup_rows, dup_of = _duplicates(
        rows.jk, rows.tk, coded.touchpoint.codes, coded.outcome, rows.idx
    )
    if not dup_rows.size:
        return
    if spec.duplicates == "keep":
        rows.n_ties = int(dup_rows.size)
        return
    first = int(dup_rows[0])
    issue = ValidationIssue(
        "duplicate",
        spec.journey,
        first,
        raw.arrays["journey"][first],
        detail=f"{DUPLICATE_RULE} as {label(int(dup_of[0]))}",
    )
    if spec.duplicates == "raise":
        more = f" ({dup_rows.size - 1} more)" if dup_rows.size > 1 else ""
        msg = (
            f"{issue.message(label)}{more}. Pass duplicates='keep' to keep them as "
            "real events or duplicates='drop' to drop and count them."
        )
        raise ValidationError(msg)
    rows.counts["duplicate"] += int(dup_rows.size)
    rows.examples.append(issue)
    positions = np.arange(raw.n) if rows.idx is None else rows.idx
    keep = ~np.isin(positions, dup_rows)
    rows.idx = positions[keep]
    rows.jk, rows.tk = rows.jk[keep], rows.tk[keep]
    rows.bad[dup_rows] = True


# -------------------------------------------------------------------- 5. report
def report_rows(
    rows: Rows, raw: Raw, coded: CodedColumns, spec: LogSpec, label: RowLabel
) -> ValidationReport:
    """Raise at the first bad row (``on_error="raise"``), or warn and count them."""
    n, n_bad = raw.n, rows.n_bad
    if not n_bad:
        return ValidationReport(n_input=n, n_kept=n, n_ties=rows.n_ties)
    ordered = sorted(rows.examples, key=lambda e: e.row)
    only_dups = n_bad == int(rows.counts["duplicate"])
    if spec.on_error == "raise" and not only_dups:
        more = f" ({n_bad - 1} more bad rows)" if n_bad > 1 else ""
        msg = (
            f"{ordered[0].message(label)}{more}. "
            "Fix the data or pass on_error='drop' to drop and count bad rows."
        )
        raise ValidationError(msg)
    dropped_value = 0.0
    if coded.outcome is not None and coded.outcome_bad is not None:
        dropped_value = float(
            np.nansum(np.where(rows.bad & ~coded.outcome_bad, coded.outcome, np.nan))
        )
    report = ValidationReport(
        n_input=n,
        n_kept=n - n_bad,
        counts={k: v for k, v in rows.counts.items() if v},
        examples=tuple(ordered),
        n_ties=rows.n_ties,
        dropped_value=dropped_value,
    )
    warnings.warn(
        f"dropped {n_bad} of {n} rows: {report}; first: {ordered[0].message(label)}. "
        "See log.validation.",
        DroppedRowsWarning,
        stacklevel=user_stacklevel(),
    )
    return report


def user_stacklevel() -> int:
    """The stack level of the first frame outside touchpoint (for warnings)."""
    import sys

    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("touchpoint"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


# -------------------------------------------------------------------- 6. gather
@attrs.frozen
class Gathered:
    """The per-event columns in journey-time order, code tables compacted."""

    journey: NDArray[Any]
    journey_ids: NDArray[Any]
    touchpoint: NDArray[Any]
    touchpoint_names: list[str]
    outcome: NDArray[np.float64] | None
    extra: dict[str, NDArray[Any]]


def gather_rows(rows: Rows, raw: Raw, coded: CodedColumns) -> Gathered:
    """Gather the per-event columns into the sorted order, in blocks side by side."""
    tc = coded.touchpoint
    tpcodes = _narrow_codes(tc.codes, len(tc.uniques))
    out_vals = coded.outcome
    columns = [tpcodes, *raw.extra.values(), *([] if out_vals is None else [out_vals])]
    if rows.idx is None:  # in order already: the extras are copied, never the caller's own
        taken = [tpcodes, *(e.copy() for e in raw.extra.values()), *columns[1 + len(raw.extra) :]]
    else:
        taken = gather(columns, rows.idx)
    jcodes, tpcodes = rows.jk, taken[0]
    extra = {role: taken[1 + k] for k, role in enumerate(raw.extra)}
    outcome = None if out_vals is None else taken[-1]
    jids = coded.journey.uniques
    names = coded.touchpoint_names
    if rows.n_bad:  # compact code tables to what survived
        jcodes, jids = _compact(jcodes, jids)
        tpcodes, tp_arr = _compact(tpcodes, np.array(names, dtype=object))
        names = [str(x) for x in tp_arr.tolist()]
    return Gathered(jcodes, jids, tpcodes, names, outcome, extra)


def _narrow_codes(codes: NDArray[np.int64], k: int) -> NDArray[np.signedinteger[Any]]:
    """``codes`` (``-1`` .. ``k-1``) in the narrowest signed type: a gather of them is cheaper."""
    for typ in (np.int8, np.int16, np.int32):
        if k <= np.iinfo(typ).max:
            return codes.astype(typ)
    return codes


# ------------------------------------------------------------- 7. outcome level
def outcome_level(
    out: Gathered, rows: Rows, raw: Raw, spec: LogSpec, label: RowLabel
) -> NDArray[np.float64] | None:
    """The outcome column as stored: journey-level values moved to the last event."""
    values, jcodes = out.outcome, out.journey
    if values is None or not len(jcodes):
        return values
    starts = np.flatnonzero(np.r_[True, jcodes[1:] != jcodes[:-1]])
    column = spec.roles["outcome"]
    if spec.outcome_level == "journey":
        return _journey_level(
            values,
            starts,
            rows=np.arange(raw.n) if rows.idx is None else rows.idx,
            journey_ids=out.journey_ids,
            raw=raw.arrays["outcome"],
            column=column,
            label=label,
        )
    _warn_if_journey_level(values, starts, out.journey_ids, column)
    return values


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so a message shows ``7``, not ``np.int64(7)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _journey_level(
    values: NDArray[np.float64],
    starts: NDArray[np.intp],
    *,
    rows: NDArray[np.int64],
    journey_ids: NDArray[Any],
    raw: NDArray[Any],
    column: str,
    label: RowLabel,
) -> NDArray[np.float64]:
    """One value per journey, moved onto its last event (NaN elsewhere).

    ``values`` are sorted by journey; ``rows`` gives each value's input row.
    Rows of a journey must agree (missing values aside).
    """
    lo = np.fmin.reduceat(values, starts)
    hi = np.fmax.reduceat(values, starts)
    clash = np.flatnonzero(lo != hi)  # NaN != NaN never: fmin/fmax skip missing values
    clash = clash[~np.isnan(lo[clash])]
    if clash.size:
        k = int(clash[0])
        stop = int(starts[k + 1]) if k + 1 < len(starts) else len(values)
        seg = values[starts[k] : stop]
        r_lo = int(rows[starts[k] + int(np.flatnonzero(seg == lo[k])[0])])
        r_hi = int(rows[starts[k] + int(np.flatnonzero(seg == hi[k])[0])])
        a, b = sorted((r_lo, r_hi))
        jid = _plain(journey_ids[k])
        msg = (
            f"column {column!r}: outcome_level='journey' needs one value per journey, but "
            f"journey {jid!r} has {raw[a]!r} ({label(a)}) and {raw[b]!r} "
            f"({label(b)}). Use outcome_level='event' if the values belong to events."
        )
        raise ValidationError(msg)
    out = np.full(len(values), np.nan)
    last = np.r_[starts[1:], len(values)] - 1
    out[last] = lo
    return out


def _warn_if_journey_level(
    values: NDArray[np.float64],
    starts: NDArray[np.intp],
    journey_ids: NDArray[Any],
    column: str,
) -> None:
    """Warn when every event of each converting journey carries the same positive value.

    Needs at least two converting journeys of two or more events, so an
    ordinary event-level log (one purchase among other events) never warns.
    """
    hi = np.fmax.reduceat(values, starts)
    converting = hi > 0
    if not converting.any():
        return
    lengths = np.diff(np.r_[starts, len(values)])
    multi = converting & (lengths > 1)
    for k in np.flatnonzero(multi)[:64].tolist():  # event-level logs fail here, cheaply
        if not bool(np.all(values[starts[k] : starts[k] + lengths[k]] == hi[k])):
            return
    lo = np.minimum.reduceat(values, starts)  # NaN when any event has no value
    same = lo == hi
    if int(multi.sum()) < 2 or not bool(np.all(same[converting])):
        return
    k = int(np.flatnonzero(multi)[0])
    jid = _plain(journey_ids[k])
    msg = (
        f"column {column!r} looks journey-level: every event of each converting journey "
        f"carries the same positive value (journey {jid!r}: {int(lengths[k])} "
        f"events, {hi[k]:g} on each). Under outcome_level='event' each of them converts at "
        "its first event, the rest of its path is cut and the value is summed per event; "
        "pass outcome_level='journey' to count the value once and convert at the journey's end."
    )
    warnings.warn(msg, OutcomeLevelWarning, stacklevel=user_stacklevel())


# ---------------------------------------------------------------- chunk guard
class ChunkGuard:
    """"A journey is never split across chunks": refuses data not grouped by journey.

    The one guard of every chunked reader (``read_csv``/``read_parquet`` with
    ``chunksize=``; :mod:`touchpoint.dask` with ``shuffle=False`` states the
    same rule in the same words). Each piece's journey ids are added in row
    order: within a piece the runs of each id are counted; across pieces a
    sorted array of 64-bit hashes of the ids seen so far (8 bytes per journey,
    merged in doubling levels) finds an id that comes back.

    Examples
    --------
    >>> guard = ChunkGuard("the data", "customer")
    >>> guard.add(np.array(["a", "a", "b"]), start=0)
    >>> guard.add(np.array(["c", "a"]), start=3)
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.ValidationError: the data, column 'customer': journey 'a' reappears \
at row 4 after other journeys; reading in chunks needs the rows grouped by journey (sort \
them by journey, or read without chunksize).
    """

    def __init__(self, source: str, column: str, where: RowLabel = _row) -> None:
        self.source = source
        self.column = column
        self.where = where
        self.levels: list[NDArray[np.int64]] = []

    def add(self, jid: NDArray[Any], *, start: int, rows: NDArray[np.int64] | None = None) -> None:
        """The journey id of each row of the piece starting at row ``start``.

        With ``rows``, ``jid`` lists each journey of the piece once and ``rows``
        where (within the piece) it starts.
        """
        if not len(jid):
            return
        if rows is None:
            change = np.ones(len(jid), dtype=bool)
            change[1:] = jid[1:] != jid[:-1]
            run_ids, run_rows = jid[change], np.flatnonzero(change)
        else:
            run_ids, run_rows = jid, np.asarray(rows)
        hashes = np.fromiter(
            (hash(x) for x in run_ids.tolist()), dtype=np.int64, count=len(run_ids)
        )
        order = np.argsort(hashes, kind="stable")
        srt = hashes[order]
        again = np.flatnonzero(srt[1:] == srt[:-1])
        if len(again):  # a later run of an id already seen in this piece
            later = int(max(order[again[0]], order[again[0] + 1]))
            self.fail(run_ids[later], start + int(run_rows[later]))
        for level in self.levels:
            pos = np.searchsorted(level, srt)
            hit = (pos < len(level)) & (level[np.minimum(pos, len(level) - 1)] == srt)
            if hit.any():
                i = int(order[np.flatnonzero(hit)[0]])
                self.fail(run_ids[i], start + int(run_rows[i]))
        self.levels.append(srt)
        while len(self.levels) > 1 and len(self.levels[-2]) <= 2 * len(self.levels[-1]):
            top = self.levels.pop()
            self.levels[-1] = np.sort(np.concatenate([self.levels[-1], top]))

    def fail(self, jid: Any, row: int) -> None:
        jid = _plain(jid)
        msg = (
            f"{self.source}, column {self.column!r}: journey {jid!r} reappears at "
            f"{self.where(row)} after other journeys; {SPLIT_RULE}"
        )
        raise ValidationError(msg)


#: What a chunked reader needs, said the same way by every one of them.
SPLIT_RULE = (
    "reading in chunks needs the rows grouped by journey (sort them by journey, "
    "or read without chunksize)."
)
