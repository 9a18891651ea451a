"""Funnels and drop-offs of a scan: the engine reduces and orders, touchpoint matches.

Step matching (orders, windows, exclusions, optional steps, modes) stays the
in-memory engine's. The SQL engine keeps only the events that can change a
funnel: every step or excluded touchpoint, the event right after one of them
(a funnel's next events; in ``"strict"`` mode it breaks a run of steps exactly
as the events it stands for), and each journey's first event (its ``by``
segment) and last event (its exit, and the end of the data for censoring).
The reduced events come back in journey order; :func:`funnel` counts them
batch by batch into mergeable tallies (a journey is never split across
batches), so memory stays bounded at any size; :func:`detect_dropoffs` reads
the reduced log into memory (its horizon and periods need every unit).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib import checks as ck
from touchpoint.core._eventlog import EventLog
from touchpoint.exceptions import InvalidParameterError
from touchpoint.scan._scan import RN, TP, J, LogScan, T, cannot_push, extra_name, quiet_engine

if TYPE_CHECKING:
    from touchpoint.funnels._dropoffs import DropOffs
    from touchpoint.funnels._funnel import Funnel

#: rows per batch read back from the engine
BATCH_ROWS = 1_000_000


def _names(steps: Sequence[Any] | None, exclude: Any, what: str) -> set[str]:
    if steps is None:
        raise cannot_push(what, "a scan has no design: name the steps")
    out: set[str] = set()
    for spec in steps:
        out.update([spec] if isinstance(spec, str) else [str(s) for s in spec])
    out.update([exclude] if isinstance(exclude, str) else [str(e) for e in exclude])
    return out


def _check_steps(scan: LogScan, names: set[str]) -> None:
    """Step and excluded names must occur in the data (did-you-mean, as in memory)."""
    from touchpoint.scan._markov import alphabet

    known = alphabet(scan, "touchpoint")
    ck.known_names("steps", sorted(names), known)


def _by_columns(scan: LogScan, by: str | Sequence[str] | None) -> list[str]:
    cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    for c in cols:
        if c not in scan.spec.extra:
            msg = (
                f"by={c!r}: a scan groups by its extra columns ({list(scan.spec.extra)}); "
                "list the column in extra= when scanning."
            )
            raise InvalidParameterError(msg)
    return cols


def _marked(scan: LogScan, names: set[str], columns: Sequence[str]) -> Any:
    """Every event with: its position, step and after-a-step marks, whether its journey
    has a step, and each ``by`` column's value at the journey's first event."""
    import ibis

    ev = scan._clean()
    w = ibis.window(group_by=ev[J], order_by=scan._order_keys(ev))  # one ordering, one sort
    step = ev[TP].isin(sorted(names))
    cols: dict[str, Any] = {
        "_tp_pos": ibis.row_number().over(w),
        "_tp_n": ev[J].count().over(w),
        "_tp_after": step.lag(1).over(w).fill_null(False),
        "_tp_step": step,
        "_tp_has": step.cast("int64").max().over(w) > 0,
    }
    later = {}
    for c in columns:  # the value at the journey's first event (null stays null)
        x = ev[extra_name(c)]
        if scan.engine == "duckdb":  # FIRST_VALUE respects nulls there
            cols[extra_name(c)] = x.first().over(w)
        else:  # Spark's first() skips nulls: the value at position 0, in a second pass
            later[extra_name(c)] = x
    if scan._row_order is not None and scan._schema[scan.spec.journey].is_string():
        # string ids are coded in order of first appearance in memory: keep that order
        cols["_tp_jkey"] = ev[RN].min().over(w)
    else:
        cols["_tp_jkey"] = ev[J]
    ev = ev.mutate(**cols)
    if later:
        w = ibis.window(group_by=ev[J], order_by=ev["_tp_pos"])
        at0 = {k: ibis.ifelse(ev["_tp_pos"] == 0, ev[k], ibis.null(ev[k].type())) for k in later}
        ev = ev.mutate(**{k: v.max().over(w) for k, v in at0.items()})
    return ev


def reduced(
    scan: LogScan, names: set[str], columns: Sequence[str], *, every_journey: bool
) -> tuple[Any, Any]:
    """The events that can change a funnel over ``names``, in journey and time order.

    With ``every_journey`` a journey without a step keeps its last event (its exit);
    without, such journeys come back grouped instead, as rows ``(touchpoint of the last
    event, by values, count, latest time)`` (the second table; None with ``every_journey``).
    """
    ev = _marked(scan, names, columns)
    last = ev["_tp_pos"] == ev["_tp_n"] - 1
    keep = ev["_tp_step"] | ev["_tp_after"] | last
    cols = [J, TP, T, *[extra_name(c) for c in columns]]
    rows = ev.filter(keep if every_journey else keep & ev["_tp_has"])
    rows = rows.order_by([rows["_tp_jkey"], rows[J], rows["_tp_pos"]]).select(*cols)
    if every_journey:
        return rows, None
    rest = ev.filter(last & ~ev["_tp_has"])
    keys = [TP, *[extra_name(c) for c in columns]]
    rest = rest.group_by(keys).aggregate(_tp_k=rest.count(), **{T: rest[T].max()})
    return rows, rest


def _log(table: Any, columns: Sequence[str]) -> EventLog:
    """An EventLog of reduced rows (a pyarrow table); extra columns keep their names."""
    import pyarrow as pa

    frame = pa.table(
        {
            J: table.column(J),
            TP: table.column(TP),
            T: table.column(T),
            **{c: table.column(extra_name(c)) for c in columns},
        }
    )
    return EventLog.from_frame(frame, journey=J, touchpoint=TP, time=T, extra=list(columns))


def _reader(scan: LogScan, q: Any) -> Any:
    """Record batches of ``q`` (DuckDB's own reader: ibis 12 misses DuckDB 2's)."""
    if scan.engine == "duckdb":
        import ibis

        raw = q._find_backend().con
        sql = ibis.to_sql(q, dialect="duckdb")
        rel = raw.sql(sql)
        if hasattr(rel, "to_arrow_reader"):
            return rel.to_arrow_reader(BATCH_ROWS)
        return rel.fetch_arrow_reader(BATCH_ROWS)  # pragma: no cover - DuckDB 1.x
    return q.to_pyarrow_batches(chunk_size=BATCH_ROWS)


def _quietly(reader: Any) -> Iterator[Any]:
    it = iter(reader)
    while True:
        with quiet_engine():
            batch = next(it, None)
        if batch is None:
            return
        yield batch


def _batches(scan: LogScan, q: Any) -> Iterator[Any]:
    """pyarrow tables of whole journeys, from the engine's record batches."""
    import pyarrow as pa

    try:
        with quiet_engine():
            reader = _reader(scan, q)
    except Exception as exc:
        from touchpoint.scan._scan import engine_error

        raise engine_error(scan.engine, exc, "reading the funnel events") from exc
    carry: Any = None
    for batch in _quietly(reader):
        tab = pa.Table.from_batches([batch])
        if carry is not None:
            tab = pa.concat_tables([carry, tab])
        if tab.num_rows == 0:
            continue
        j = tab.column(J)
        last = j[tab.num_rows - 1]
        # the rows of the last journey may go on in the next batch: carry them over
        same = np.asarray(pa.compute.equal(j, last).to_numpy(zero_copy_only=False))
        cut = int(np.flatnonzero(~same)[-1]) + 1 if (~same).any() else 0
        carry = tab.slice(cut)
        if cut:
            yield tab.slice(0, cut)
    if carry is not None and carry.num_rows:
        yield carry


def funnel(
    scan: LogScan,
    steps: Sequence[Any] | None = None,
    *,
    window: Any = None,
    mode: str = "ordered",
    by: str | None = None,
    exclude: Any = (),
    optional: Any = (),
    count: str = "journeys",
) -> Funnel:
    """:func:`touchpoint.funnel` of a scan (exact: the in-memory matcher, in batches)."""
    import warnings

    from touchpoint.exceptions import DroppedRowsWarning
    from touchpoint.funnels import _merge as fm

    if count != "journeys":
        raise cannot_push("funnel", f"count={count!r}: a scan counts journeys")
    names = _names(steps, exclude, "funnel")
    _check_steps(scan, names)
    cols = _by_columns(scan, by)
    q, rest = reduced(scan, names, cols, every_journey=False)
    kw: dict[str, Any] = {
        "by": by,
        "steps": list(steps or ()),
        "window": window,
        "mode": mode,
        "exclude": tuple([exclude] if isinstance(exclude, str) else exclude),
        "optional": tuple([optional] if isinstance(optional, int | str) else optional),
    }
    total: Any = None
    for tab in _batches(scan, q):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)
            part = fm.segmented_counts(_log(tab, cols), **kw)
        total = part if total is None else total + part
    # journeys with no step event: one journey per (exit, segment), counted k times
    groups = scan._query(rest.to_pyarrow, "counting journeys without a step")
    for i in range(groups.num_rows):
        row = groups.slice(i, 1)
        k = int(row.column("_tp_k")[0].as_py())
        one = row.append_column(J, _ones(row)).drop_columns(["_tp_k"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)
            part = _scaled(fm.segmented_counts(_log(one, cols), **kw), k)
        total = part if total is None else total + part
    if total is None:
        raise cannot_push("funnel", "the scan has no valid rows")
    from touchpoint.scan._markov import alphabet

    rank = {name: i for i, name in enumerate(alphabet(scan, "touchpoint"))}
    return _rerank(total.to_funnel(by), rank)


def _ones(row: Any) -> Any:
    import pyarrow as pa

    return pa.array([0] * row.num_rows, type=pa.int64())


def _scaled(counts: Any, k: int) -> Any:
    """The tallies of ``k`` journeys alike (counts times ``k``, per-journey arrays repeated)."""
    import attrs

    from touchpoint.funnels import _merge as fm

    def times(c: fm.FunnelCounts) -> fm.FunnelCounts:
        def tile(a: Any) -> Any:
            return None if a is None else np.tile(a, k)

        return attrs.evolve(
            c,
            entered=c.entered * k,
            reached=c.reached * k,
            first=c.first * k,
            exits=tuple({t: v * k for t, v in e.items()} for e in c.exits),
            next_events=tuple({t: v * k for t, v in e.items()} for e in c.next_events),
            durations=tuple(np.tile(d, k) for d in c.durations),
            n_units=c.n_units * k,
            since=tuple(tile(a) for a in c.since),
            limit=tuple(tile(a) for a in c.limit),
        )

    return fm.SegmentedCounts(
        total=times(counts.total), segments={g: times(c) for g, c in counts.segments.items()}
    )


def _rerank(f: Funnel, rank: dict[str, int]) -> Funnel:
    """Exits and next events with equal counts in the log's touchpoint order (as in memory)."""
    import attrs

    def order(items: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(items, key=lambda kv: (-kv[1], rank.get(kv[0], len(rank)))))

    steps = tuple(
        attrs.evolve(s, exits=order(s.exits), next_events=order(s.next_events)) for s in f.steps
    )
    segments = {g: _rerank(seg, rank) for g, seg in f.segments.items()}
    return attrs.evolve(f, steps=steps, segments=segments)


def detect_dropoffs(scan: LogScan, steps: Sequence[Any] | None = None, **options: Any) -> DropOffs:
    """:func:`touchpoint.detect_dropoffs` of a scan: the engine reduces, memory tests."""
    import pyarrow as pa

    from touchpoint.funnels._dropoffs import detect_dropoffs as _detect

    if options.get("count", "journeys") != "journeys":
        raise cannot_push("detect_dropoffs", "a scan counts journeys")
    names = _names(steps, options.get("exclude", ()), "detect_dropoffs")
    _check_steps(scan, names)
    cols = _by_columns(scan, options.get("by"))
    q, _ = reduced(scan, names, cols, every_journey=True)
    tab = scan._query(q.to_pyarrow, "reading the drop-off events")
    if not isinstance(tab, pa.Table) or tab.num_rows == 0:
        raise cannot_push("detect_dropoffs", "the scan has no valid rows")
    return _detect(_log(tab, cols), steps, **options)
