"""``scan_parquet`` and ``scan_table``: make a :class:`LogScan` (no row is read)."""

from __future__ import annotations

import glob
import importlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import (
    Duplicates,
    OnError,
    OutcomeLevel,
)
from touchpoint.core._spec import SPEC_CHECKS, LogSpec
from touchpoint.exceptions import ValidationError
from touchpoint.scan._scan import RN, LogScan, engine_error, quiet_engine

__all__ = ["scan_parquet", "scan_table"]

_CHECKS = SPEC_CHECKS  # the reading keywords' checks, as every reader's


def _check_connection(name: str, value: Any) -> None:
    if value is not None and not hasattr(value, "read_parquet"):
        ck.fail(name, "an ibis DuckDB connection (ibis.duckdb.connect(...)) or None", value)


def _check_table(name: str, value: Any) -> None:
    if not (hasattr(value, "schema") and hasattr(value, "to_pyarrow")):
        ck.fail(name, "an ibis table expression", value)


def _ibis() -> Any:
    try:
        return importlib.import_module("ibis")
    except ImportError:  # pragma: no cover - the extra is installed in the tests
        msg = (
            "lazy scans need ibis and DuckDB: pip install 'touchpoint-journeys[sql]' "
            "(or [spark] for Spark)."
        )
        raise ImportError(msg) from None


def _spec(
    *,
    journey: str,
    touchpoint: str,
    time: str,
    outcome: str | None,
    extra: Sequence[str],
    conversions: Iterable[str],
    on_error: OnError,
    outcome_level: OutcomeLevel,
    duplicates: Duplicates,
) -> LogSpec:
    return LogSpec(
        journey=journey,
        touchpoint=touchpoint,
        time=time,
        outcome=outcome,
        extra=extra,
        conversions=conversions,
        on_error=on_error,
        outcome_level=outcome_level,
        duplicates=duplicates,
    )


def _files(path: Any) -> list[str]:
    """The Parquet files of a file, a directory (recursively) or a glob, sorted."""
    if isinstance(path, list | tuple):
        out = [f for p in path for f in _files(p)]
        if not out:
            msg = f"no Parquet files in {path!r}."
            raise ValidationError(msg)
        return out
    if not isinstance(path, str | os.PathLike):
        raise ck.error("path", "a path, a directory, a glob or a list of paths", path)
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet"))
    elif p.exists():
        files = [str(p)]
    else:
        files = sorted(glob.glob(str(p), recursive=True))
    if not files:
        msg = f"no Parquet files at {str(path)!r}."
        raise ValidationError(msg)
    return files


@ck.validate_params({**_CHECKS, "connection": ck.Custom(_check_connection, 5, "duckdb")})
def scan_parquet(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    journey: str = "journey_id",
    touchpoint: str = "touchpoint",
    time: str = "timestamp",
    outcome: str | None = None,
    extra: Sequence[str] = (),
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    connection: Any = None,
) -> LogScan:
    """Scan Parquet files lazily with DuckDB: count in the engine, not in memory.

    Nothing is read until an analysis runs or :meth:`LogScan.collect` is
    called. The analyses that accept a scan (:func:`~touchpoint.count_transitions`,
    :func:`~touchpoint.fit_markov`, :func:`~touchpoint.attribution`,
    :func:`~touchpoint.funnel`, :func:`~touchpoint.detect_dropoffs`) send their
    window and group-by queries to DuckDB, which spills to disk when the data do
    not fit in memory; only grouped counts come back. The rows need not be
    grouped by journey.

    Needs ``pip install "touchpoint-journeys[sql]"`` (ibis and DuckDB).

    Parameters
    ----------
    path : str, path-like or list of them
        A ``.parquet`` file, a directory of them (read recursively) or a glob.
        Files are read in sorted order; events with equal times keep the
        order of the files and of the rows within them, as in memory.
    journey, touchpoint, time, outcome, extra
        Column names, as in :func:`~touchpoint.read_parquet`.
    conversions, on_error, outcome_level, duplicates
        As in :meth:`EventLog.from_arrays`: bad rows (a missing journey,
        touchpoint or time, an empty id) raise or are dropped and counted;
        duplicates are kept, dropped or refused; outcome is per event or per
        journey.
    connection : ibis DuckDB backend, optional
        The connection to read through, e.g.
        ``ibis.duckdb.connect(memory_limit="1GB", threads=2)`` to bound
        DuckDB's memory (it spills to disk beyond it); default a new
        in-memory one.

    Returns
    -------
    LogScan

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> import touchpoint as tp
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.parquet"
    >>> pq.write_table(pa.table({"journey_id": [2, 1, 1, 2], "touchpoint": ["ad", "ad", "buy", "site"],
    ...                          "timestamp": [0.0, 0.0, 1.0, 2.0], "rev": [0, 0, 9.5, 0]}), p)
    >>> scan = tp.scan_parquet(p, outcome="rev")
    >>> tp.count_transitions(scan) == tp.count_transitions(scan.collect())
    True
    >>> tp.fit_markov(scan).conversion_probability()
    0.5
    """
    ibis = _ibis()
    spec = _spec(
        journey=journey,
        touchpoint=touchpoint,
        time=time,
        outcome=outcome,
        extra=extra,
        conversions=conversions,
        on_error=on_error,
        outcome_level=outcome_level,
        duplicates=duplicates,
    )
    files = _files(path)
    try:
        with quiet_engine():
            con = connection
            if con is None:  # no progress bar on stderr in the middle of a user's output
                con = ibis.duckdb.connect()
                con.raw_sql("SET enable_progress_bar = false")
            table = con.read_parquet(files, file_row_number=True, filename=len(files) > 1)
    except Exception as exc:
        raise engine_error("duckdb", exc, f"opening {files[0]!r}") from exc
    if len(files) > 1:  # one integer row order over all files: file index, then row
        index = {str(Path(f)): i for i, f in enumerate(files)}
        case = ibis.cases(*[(table.filename == f, i) for f, i in index.items()], else_=-1)
        table = table.mutate(**{RN: case.cast("int64") * (1 << 40) + table.file_row_number})
        table = table.drop("filename", "file_row_number")
    else:
        table = table.rename({RN: "file_row_number"})
    source = repr(files[0]) if len(files) == 1 else f"{len(files)} Parquet files"
    return LogScan(table, spec, row_order=RN, engine="duckdb", source=source)


@ck.validate_params({**_CHECKS, "row_order": ck.Text(none=True)})
def scan_table(
    table: Any,
    *,
    journey: str = "journey_id",
    touchpoint: str = "touchpoint",
    time: str = "timestamp",
    outcome: str | None = None,
    extra: Sequence[str] = (),
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    row_order: str | None = None,
) -> LogScan:
    """Scan any ibis table lazily: DuckDB, Spark, BigQuery, Snowflake, Postgres...

    The table stays in its engine; analyses that accept a scan run their
    counting there as window and group-by queries (see
    :func:`scan_parquet`). Needs ``pip install "touchpoint-journeys[sql]"`` and
    the ibis back end of your engine (``ibis-framework[bigquery]``, ...).

    Parameters
    ----------
    table : ibis.Table
        A table expression, e.g. ``con.table("events")`` of
        ``con = ibis.bigquery.connect(...)``; filter or join it first as you like.
    journey, touchpoint, time, outcome, extra, conversions, on_error, outcome_level, duplicates
        As in :func:`scan_parquet`.
    row_order : str, optional
        A column giving the input order of the rows (e.g. an ingestion
        sequence number). Events of a journey with equal times are ordered by
        it, as the in-memory log keeps them in input order. SQL tables have no
        row order of their own: without it, ties are ordered by touchpoint
        name, and the first-appearance order of touchpoints is by name.

    Returns
    -------
    LogScan

    Examples
    --------
    >>> import ibis, pyarrow as pa
    >>> import touchpoint as tp
    >>> events = ibis.memtable(pa.table({"id": [1, 1, 2], "tp": ["ad", "buy", "ad"],
    ...                                  "t": [0.0, 1, 0], "seq": [0, 1, 2]}))
    >>> scan = tp.scan_table(events, journey="id", touchpoint="tp", time="t",
    ...                      conversions=["buy"], row_order="seq")
    >>> tp.fit_markov(scan).conversion_probability()
    0.5
    """
    _ibis()
    _check_table("table", table)
    spec = _spec(
        journey=journey,
        touchpoint=touchpoint,
        time=time,
        outcome=outcome,
        extra=extra,
        conversions=conversions,
        on_error=on_error,
        outcome_level=outcome_level,
        duplicates=duplicates,
    )
    if row_order is not None and row_order not in table.columns:
        msg = f"unknown column {row_order!r} (row_order); the table has {sorted(table.columns)}."
        raise ValidationError(msg)
    if row_order is not None:
        table = (
            table.rename({RN: row_order})
            if row_order not in spec.roles.values()
            else (table.mutate(**{RN: table[row_order]}))
        )
    try:
        engine = str(table._find_backend().name)
    except Exception:
        engine = "the engine"
    return LogScan(
        table,
        spec,
        row_order=RN if row_order is not None else None,
        engine=engine,
        source="the table",
    )
