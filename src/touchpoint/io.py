"""Reading event logs from CSV, and journeys from/to JSON and GraphML.

:func:`read_csv` works with the standard library alone; when pyarrow or
polars is installed (``engine="auto"``) it uses them for speed. Both paths
apply the same validation, so the result does not depend on what is installed.
"""

from __future__ import annotations

import importlib
import os
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import (
    CSV_ENGINES,
    CsvEngine,
    Duplicates,
    OnError,
    OutcomeLevel,
)
from touchpoint._lib.csv import (
    READ_ERRORS,
    FileLines,
    as_path,
    blank_records,
    check_path as _check_path,
    local_copy,
    python_blocks as _python_blocks,
    read_header as _read_header,
    read_table_columns,
    require_unique,
    structure_error as _structure_error,
)
from touchpoint.core._eventlog import EventLog
from touchpoint.core._ingest import ChunkGuard
from touchpoint.core._spec import SPEC_CHECKS, LogSpec, did_you_mean
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._journey import Journey

__all__ = ["read_csv", "read_journey", "read_parquet", "read_table_columns"]

Engine = CsvEngine


def _check_delimiter(name: str, value: Any) -> None:
    if not (isinstance(value, str) and len(value) == 1 and value not in '"\r\n'):
        raise ck.error(name, "one character other than a quote or a line break", value)


#: Parameter checks shared by the file readers (column roles, validation, chunks).
_READER_CHECKS = {
    **SPEC_CHECKS,
    "chunksize": ck.Integer(1, none=True),
    "progress": ck.Options(True, False, None),
}


@overload
def read_csv(
    path: str | os.PathLike[str],
    *,
    journey: str = ...,
    touchpoint: str = ...,
    time: str = ...,
    outcome: str | None = ...,
    extra: Sequence[str] = ...,
    design: Journey | None = ...,
    conversions: Iterable[str] = ...,
    on_error: OnError = ...,
    outcome_level: OutcomeLevel = ...,
    duplicates: Duplicates = ...,
    delimiter: str = ...,
    time_format: str | None = ...,
    engine: Engine = ...,
    chunksize: None = ...,
    progress: bool | None = ...,
) -> EventLog: ...
@overload
def read_csv(
    path: str | os.PathLike[str],
    *,
    journey: str = ...,
    touchpoint: str = ...,
    time: str = ...,
    outcome: str | None = ...,
    extra: Sequence[str] = ...,
    design: Journey | None = ...,
    conversions: Iterable[str] = ...,
    on_error: OnError = ...,
    outcome_level: OutcomeLevel = ...,
    duplicates: Duplicates = ...,
    delimiter: str = ...,
    time_format: str | None = ...,
    engine: Engine = ...,
    chunksize: int,
    progress: bool | None = ...,
) -> Iterator[EventLog]: ...


@ck.validate_params(
    {
        **_READER_CHECKS,
        "delimiter": ck.Custom(_check_delimiter, "", ";;", '"', "\n", 5),
        "time_format": ck.Text(none=True),
        "engine": ck.Options(*CSV_ENGINES),
    }
)
def read_csv(
    path: str | os.PathLike[str],
    *,
    journey: str = "journey_id",
    touchpoint: str = "touchpoint",
    time: str = "timestamp",
    outcome: str | None = None,
    extra: Sequence[str] = (),
    design: Journey | None = None,
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    delimiter: str = ",",
    time_format: str | None = None,
    engine: Engine = "auto",
    chunksize: int | None = None,
    progress: bool | None = None,
) -> EventLog | Iterator[EventLog]:
    """Read an event log from a CSV file (``.csv`` or ``.csv.gz``).

    Parameters
    ----------
    path : str or path-like
        The file; a header row names the columns.
    journey, touchpoint, time : str
        Column names of the journey (or customer) id, the touchpoint and the
        timestamp (ISO 8601, or numbers).
    outcome : str, optional
        Column with a conversion flag or value per event.
    extra : sequence of str
        Further columns to keep (segments, channel, ...).
    design, conversions, on_error, outcome_level, duplicates
        As in :meth:`EventLog.from_arrays`: ``outcome_level="journey"`` for a
        conversion flag or value repeated on each row of a journey,
        ``duplicates`` for rows equal on journey, touchpoint, time and outcome
        (kept as real events by default).
    delimiter : str
        Field separator (``";"`` for many European exports, ``"\t"`` for TSV).
    time_format : str, optional
        A :func:`datetime.datetime.strptime` format for the time column, such as
        ``"%m/%d/%Y %H:%M"`` for US dates; by default times are ISO 8601 or
        numbers. A value that does not match is reported like any bad time
        (column, row, value), or dropped and counted with ``on_error="drop"``.
    engine : {"auto", "python", "pyarrow", "polars"}
        ``"python"`` uses only the standard library; ``"auto"`` (default)
        picks pyarrow, then polars, when installed, else the standard library.
        Every engine reads all fields as text and touchpoint parses them, so
        the result is the same whichever is used. Errors name the file line.
    chunksize : int, optional
        Read the file in pieces of about ``chunksize`` rows and return an
        iterator of event logs instead of one log (out-of-core reading). The
        file must be **grouped by journey** (all rows of a journey
        contiguous, as ``ORDER BY journey_id`` exports are): the rows of the
        journey at the end of a piece are carried over to the next piece, so
        no journey is ever split across two logs. A journey longer than
        ``chunksize`` rows stays whole in one larger piece. Chunked reading
        streams through pyarrow (``engine="auto"`` or ``"pyarrow"``) or the
        standard library (``"python"``, and ``"polars"``, which cannot stream).
    progress : bool, optional
        Show a progress bar while reading in chunks (needs ``tqdm``). The
        default shows one only when stderr is a terminal or in a notebook.

    Returns
    -------
    EventLog, or iterator of EventLog when ``chunksize`` is given
        Touchpoint codes are local to each chunk; combine per-chunk results
        by touchpoint name (the count objects of the analyses do this).

    Examples
    --------
    >>> import pathlib, tempfile, warnings
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = p.write_text("journey_id,touchpoint,timestamp\\n1,ad,2026-01-01T10:00\\n"
    ...                  "1,buy,2026-01-01T11:00\\n2,ad,\\n")
    >>> read_csv(p)
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.ValidationError: column 'timestamp', row 2 (file line 4): empty \
string ''. Fix the data or pass on_error='drop' to drop and count bad rows.
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     log = read_csv(p, on_error="drop")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    dropped 1 of 3 rows: ...
    >>> log.validation.counts
    {'empty_string': 1}
    """
    spec = LogSpec.pick(locals())
    source = _CsvSource(path, delimiter, engine, time_format)
    source.check_header(spec)
    if chunksize is not None:
        return _read_csv_chunks(source, spec, chunksize=chunksize, progress=progress)
    columns = _read_all(source.path, delimiter, engine, progress, spec.columns)
    return source.log(columns, spec, start=0)


class _CsvSource:
    """A CSV file and how to read it; the path is checked when made.

    A pipe or stream (``<(zcat f.csv.gz)``) is copied to a temporary file first
    (every engine reads the file more than once); the copy is removed when
    the source is no longer used.
    """

    def __init__(self, path: Any, delimiter: str, engine: Engine, time_format: str | None) -> None:
        self.path, cleanup = local_copy(as_path(path))
        if cleanup is not None:
            weakref.finalize(self, cleanup)
        self.delimiter, self.engine, self.time_format = delimiter, engine, time_format
        self.lines = FileLines(self.path, delimiter)

    def check_header(self, spec: LogSpec) -> None:
        _check_file_columns(
            self.path, spec, _read_header(self.path, self.delimiter), self.delimiter
        )

    def log(self, cols: dict[str, np.ndarray[Any, Any]], spec: LogSpec, *, start: int) -> EventLog:
        """The EventLog of file columns ``cols``, whose first row is file row ``start``."""
        if self.time_format is not None:
            cols = {**cols, spec.time: _parse_time_format(cols[spec.time], self.time_format)}
        lines = self.lines
        return EventLog._from_spec(
            cols,
            spec,
            row_label=lambda i: f"row {start + i} (file line {lines.line_of(start + i)})",
        )


def _read_all(
    path: str | os.PathLike[str],
    delimiter: str,
    engine: Engine,
    progress: bool | None,
    usecols: list[str],
) -> dict[str, np.ndarray[Any, Any]]:
    """The ``usecols`` columns of the file; with a progress bar, read in blocks that update it."""
    from touchpoint._lib.progress import progress_bar, progress_enabled

    if not progress_enabled(progress) or engine == "polars":
        return _read_with_engine(path, delimiter, engine, usecols)
    blocks = _raw_blocks(path, delimiter, engine, 100_000)
    next(blocks)  # the header
    parts: list[dict[str, np.ndarray[Any, Any]]] = []
    with progress_bar(desc="reading", unit="rows", enabled=progress) as bar:
        for block in blocks:
            parts.append(block)
            bar.update(len(next(iter(block.values()))) if block else 0)
    if not parts:
        return {name: np.empty(0, dtype=object) for name in usecols}
    return {name: np.concatenate([b[name] for b in parts]) for name in usecols}


def _parse_time_format(values: np.ndarray[Any, Any], fmt: str) -> np.ndarray[Any, Any]:
    """``values`` parsed with ``strptime(fmt)``; a value that does not match stays as it is.

    Unmatched values then fail the event log's own time validation, which names
    the column, the row and the value (or drops and counts them).
    """
    import datetime as dt

    uniq, inverse = np.unique(values.astype(str), return_inverse=True)
    parsed = np.empty(len(uniq), dtype=object)
    for i, v in enumerate(uniq.tolist()):
        try:
            t = dt.datetime.strptime(v, fmt)
        except ValueError:
            parsed[i] = v
            continue
        if t.tzinfo is not None:
            t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
        parsed[i] = np.datetime64(t, "ns")
    return parsed[inverse.reshape(-1)]


def _engine_module(engine: Engine, name: str, module: str) -> Any:
    """``module`` when ``engine`` is ``name`` or "auto" and it is installed, else None."""
    if engine not in ("auto", name):
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        if engine == name:
            raise
        return None


def _check_file_columns(
    path: str | os.PathLike[str],
    spec: LogSpec,
    columns: Iterable[str],
    delimiter: str = ",",
) -> None:
    """The header names every requested column exactly once (else say what is wrong)."""
    have = list(columns)
    if not have:
        msg = f"{os.fspath(path)!r} is empty: expected a header row."
        raise ValidationError(msg)
    missing = [c for c in spec.columns if c not in have]
    if missing:
        hint = did_you_mean(missing[0], have)
        if len(have) == 1 and delimiter == ",":
            other = next((d for d in (";", "\t", "|") if d in have[0]), None)
            if other is not None:
                hint = f" (pass delimiter={other!r}: the header looks {other!r}-separated)"
        msg = (
            f"{os.fspath(path)!r}: unknown column {missing[0]!r}{hint}; the file has columns "
            f"{have}."
        )
        raise ValidationError(msg)
    require_unique(path, have, spec.columns)


def _read_csv_chunks(
    source: _CsvSource, spec: LogSpec, *, chunksize: int, progress: bool | None
) -> Iterator[EventLog]:
    """The lazy chunk generator (the file and header were checked already)."""
    from touchpoint._lib.progress import progress_bar

    blocks = _raw_blocks(source.path, source.delimiter, source.engine, chunksize)
    next(blocks)  # the header
    columns, jname = spec.columns, spec.journey
    lines = source.lines
    guard = ChunkGuard(
        repr(os.fspath(source.path)), jname, lambda r: f"row {r} (file line {lines.line_of(r)})"
    )

    def build(cols: dict[str, np.ndarray[Any, Any]], start: int) -> EventLog:
        guard.add(cols[jname], start=start)
        return source.log(cols, spec, start=start)

    def gen() -> Iterator[EventLog]:
        carry: dict[str, np.ndarray[Any, Any]] | None = None
        start = 0  # file row of the first row in `carry`
        with progress_bar(desc="reading", unit="rows", enabled=progress) as bar:
            for block in blocks:
                cols = {name: block[name] for name in columns}
                if carry is not None:
                    cols = {k: np.concatenate([carry[k], v]) for k, v in cols.items()}
                bar.update(len(block[jname]))
                cut = _tail_start(cols[jname])
                if cut == 0:  # one journey so far: keep collecting
                    carry = cols
                    continue
                carry = {k: v[cut:] for k, v in cols.items()}
                yield build({k: v[:cut] for k, v in cols.items()}, start)
                start += cut
            if carry is not None and len(carry[jname]):
                yield build(carry, start)

    return gen()


def _tail_start(jid: np.ndarray[Any, Any]) -> int:
    """Index where the run of the last journey id at the end of ``jid`` starts."""
    if not len(jid):
        return 0
    diff = np.flatnonzero(np.asarray(jid[:-1] != jid[-1], dtype=bool))
    return int(diff[-1]) + 1 if len(diff) else 0


def _raw_blocks(
    path: str | os.PathLike[str], delimiter: str, engine: Engine, chunksize: int
) -> Iterator[Any]:
    """Yield the header (list of names), then dicts of column arrays of ``chunksize`` rows."""
    pacsv = _engine_module(engine, "pyarrow", "pyarrow.csv")
    if pacsv is not None:
        yield from _arrow_blocks(pacsv, path, delimiter, chunksize)
        return
    yield from _python_blocks(path, delimiter, chunksize)


def _arrow_blocks(
    pacsv: Any, path: str | os.PathLike[str], delimiter: str, chunksize: int
) -> Iterator[Any]:
    import pyarrow as pa

    reader = _arrow_csv(pacsv.open_csv, pacsv, path, delimiter)
    names = list(reader.schema.names)
    yield names
    pending: list[Any] = []
    n_pending = 0

    def flush(batches: list[Any]) -> dict[str, np.ndarray[Any, Any]]:
        return _arrow_columns(pa.Table.from_batches(batches, schema=reader.schema))

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, *READ_ERRORS) as exc:
            raise _structure_error(path, delimiter, exc) from None
        pending.append(batch)
        n_pending += batch.num_rows
        while n_pending >= chunksize:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            head, rest = table.slice(0, chunksize), table.slice(chunksize)
            yield flush(head.to_batches())
            pending, n_pending = rest.to_batches(), rest.num_rows
    if n_pending:
        yield flush(pending)


def _arrow_csv(
    open_: Any,
    pacsv: Any,
    path: str | os.PathLike[str],
    delimiter: str,
    usecols: list[str] | None = None,
) -> Any:
    """``pacsv.read_csv`` or ``pacsv.open_csv`` (as ``open_``) with every column as text."""
    import pyarrow as pa

    header = _read_header(path, delimiter)
    # every column as text, so all engines parse values identically (as in read_csv)
    opts = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=usecols,
    )
    try:
        return open_(
            os.fspath(path),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=opts,
        )
    except (pa.ArrowInvalid, *READ_ERRORS) as exc:
        raise _structure_error(path, delimiter, exc) from None


def _arrow_columns(table: Any) -> dict[str, np.ndarray[Any, Any]]:
    return {
        name: np.asarray(table.column(name).to_numpy(zero_copy_only=False))
        for name in dict.fromkeys(table.column_names)
    }


def _read_with_engine(
    path: str | os.PathLike[str], delimiter: str, engine: Engine, usecols: list[str]
) -> dict[str, np.ndarray[Any, Any]]:
    """The ``usecols`` columns of the file as text, read by ``engine``.

    Every engine gives the same columns: a byte order mark is skipped, blank lines
    are skipped, a short or long row is an error naming its file line.
    """
    pacsv = _engine_module(engine, "pyarrow", "pyarrow.csv")
    if pacsv is not None:
        return _arrow_columns(_arrow_csv(pacsv.read_csv, pacsv, path, delimiter, usecols))
    pl = _engine_module(engine, "polars", "polars")
    if pl is not None:
        return _polars_columns(pl, path, delimiter, usecols)
    cols = read_table_columns(path, delimiter=delimiter)
    return {c: cols[c] for c in usecols}


def _polars_columns(
    pl: Any, path: str | os.PathLike[str], delimiter: str, usecols: list[str]
) -> dict[str, np.ndarray[Any, Any]]:
    """Polars reads empty and missing fields alike (null) and keeps blank lines as rows
    of nulls; where a null appears, the stdlib parser checks the rows' widths and
    finds the blank lines, so the result equals the other engines'."""
    try:
        df = pl.read_csv(
            os.fspath(path), separator=delimiter, infer_schema=False, raise_if_empty=True
        )
    except (pl.exceptions.PolarsError, *READ_ERRORS) as exc:
        raise _structure_error(path, delimiter, exc) from None
    header = list(df.columns)
    if df.height and df.null_count().sum_horizontal().item():
        blank = blank_records(path, delimiter, len(header))
        if blank is None or len(blank) != df.height:  # polars saw other records: trust stdlib
            cols = read_table_columns(path, delimiter=delimiter)
            return {c: cols[c] for c in usecols}
        if blank.any():
            df = df.filter(pl.Series(~blank))
    return {name: np.asarray(df[name].fill_null("").to_numpy()) for name in usecols}


def read_journey(path: str | os.PathLike[str]) -> Journey:
    """Load a :class:`~touchpoint.Journey` from a JSON file (plain JSON, no code) or GraphML.

    A path ending in ``.graphml`` is read with :meth:`Journey.from_graphml`,
    anything else as ``touchpoint.journey/1`` JSON.
    """
    from touchpoint.core._journey import Journey

    _check_path(path)
    if os.path.isdir(path):
        msg = f"{os.fspath(path)!r} is a directory, not a journey file."
        raise ValidationError(msg)
    if os.fspath(path).lower().endswith(".graphml"):
        return Journey.from_graphml(path)
    import pathlib

    return Journey.from_json(pathlib.Path(os.fsdecode(os.fspath(path))))


# -------------------------------------------------------------------- Parquet
@overload
def read_parquet(
    source: Any,
    *,
    journey: str = ...,
    touchpoint: str = ...,
    time: str = ...,
    outcome: str | None = ...,
    extra: Sequence[str] = ...,
    design: Journey | None = ...,
    conversions: Iterable[str] = ...,
    on_error: OnError = ...,
    outcome_level: OutcomeLevel = ...,
    duplicates: Duplicates = ...,
    chunksize: None = ...,
    progress: bool | None = ...,
) -> EventLog: ...
@overload
def read_parquet(
    source: Any,
    *,
    journey: str = ...,
    touchpoint: str = ...,
    time: str = ...,
    outcome: str | None = ...,
    extra: Sequence[str] = ...,
    design: Journey | None = ...,
    conversions: Iterable[str] = ...,
    on_error: OnError = ...,
    outcome_level: OutcomeLevel = ...,
    duplicates: Duplicates = ...,
    chunksize: int,
    progress: bool | None = ...,
) -> Iterator[EventLog]: ...
@ck.validate_params(_READER_CHECKS)
def read_parquet(
    source: Any,
    *,
    journey: str = "journey_id",
    touchpoint: str = "touchpoint",
    time: str = "timestamp",
    outcome: str | None = None,
    extra: Sequence[str] = (),
    design: Journey | None = None,
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    chunksize: int | None = None,
    progress: bool | None = None,
) -> EventLog | Iterator[EventLog]:
    """Read an event log from Parquet: a file, a directory of files or a ``pyarrow.dataset``.

    Needs pyarrow (``pip install "touchpoint-journeys[pandas]"``). Only the
    named columns are read (the others are never loaded), with pyarrow's own
    readers and string dictionary encoding, so no Python object is made per
    event. Column roles, validation and ``chunksize=`` are those of
    :func:`read_csv`, and the log is the one :meth:`EventLog.from_frame`
    gives for the same rows (time zones and Parquet's own types included:
    integer ids stay integers, timestamps keep their unit until converted to
    int64 nanoseconds).

    Parameters
    ----------
    source : str, path-like, list of paths or pyarrow.dataset.Dataset
        A ``.parquet`` file, a directory of them (e.g. hive-partitioned), or a
        dataset opened with :func:`pyarrow.dataset.dataset`.
    journey, touchpoint, time, outcome, extra
        Column names, as in :func:`read_csv`.
    design, conversions, on_error, outcome_level, duplicates
        As in :meth:`EventLog.from_arrays`. Errors name the row within the
        dataset (counted from 0 in the dataset's order).
    chunksize : int, optional
        Read in pieces of about ``chunksize`` rows and return an iterator of
        event logs. The data must be **grouped by journey** in the dataset's
        order: the rows of the journey at the end of a piece are carried over
        to the next one, so no journey is split; a journey that reappears in
        a later piece raises :class:`~touchpoint.exceptions.ValidationError`
        (it would otherwise be counted twice).
    progress : bool, optional
        Progress bar while reading in chunks (needs ``tqdm``), as in :func:`read_csv`.

    Returns
    -------
    EventLog, or iterator of EventLog when ``chunksize`` is given

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.parquet"
    >>> pq.write_table(pa.table({"journey_id": [1, 1, 2], "touchpoint": ["ad", "buy", "ad"],
    ...                          "timestamp": [0.0, 1.0, 0.5], "unused": [7, 8, 9]}), p)
    >>> read_parquet(p)
    EventLog(events=3, journeys=2, touchpoints=2, time=float 0..1)
    >>> [log.n_journeys for log in read_parquet(p, chunksize=2)]
    [1, 1]
    """
    spec = LogSpec.pick(locals())
    from touchpoint.core import _parquet

    dataset, label = _parquet.dataset_of(source, spec)
    if chunksize is None:
        return _parquet.read_log(dataset, spec, label)
    return _parquet.chunks(dataset, spec, label=label, chunksize=chunksize, progress=progress)
