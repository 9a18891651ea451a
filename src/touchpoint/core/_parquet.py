"""Reading an event log from Parquet (the engine behind :func:`touchpoint.read_parquet`).

A file, a list of files or a directory (hive-partitioned ``key=value``
folders become columns) is opened as a ``pyarrow.dataset``; the files'
schemas are unified and a file lacking a named column is refused by name.
Only the spec's columns are read; binary text is decoded and nested
(list/struct) columns refused, naming the column; chunks keep every journey
whole, guarded by :class:`~touchpoint.core._ingest.ChunkGuard`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from touchpoint._lib.csv import check_path
from touchpoint.core._eventlog import EventLog
from touchpoint.core._ingest import ChunkGuard
from touchpoint.core._spec import LogSpec
from touchpoint.exceptions import ValidationError

__all__ = ["chunks", "dataset_of", "read_log"]


def read_log(dataset: Any, spec: LogSpec, label: str) -> EventLog:
    """The whole dataset's event log."""
    table = _arrow_read(label, lambda: dataset.to_table(columns=spec.columns))
    return _log_of_table(table, spec, start=0)


def dataset_of(source: Any, spec: LogSpec) -> tuple[Any, str]:
    """The ``pyarrow.dataset.Dataset`` of ``source`` and a label for messages.

    A directory is read with hive partitioning (``key=value`` folders become
    columns). The files' schemas are unified; a file that lacks a named
    column is refused by name (its rows would otherwise read as missing
    values: a file without the outcome column would lose its conversions).
    """
    try:
        import pyarrow.dataset as ds
    except ImportError:  # pragma: no cover - pyarrow is in the test environment
        msg = 'read_parquet needs pyarrow: pip install "touchpoint-journeys[pandas]".'
        raise ValidationError(msg) from None
    if isinstance(source, ds.Dataset):
        dataset, label = source, "the dataset"
    else:
        paths = _parquet_paths(source)
        label = repr(os.fspath(paths[0])) if len(paths) == 1 else f"{len(paths)} Parquet files"
        target = os.fspath(paths[0]) if len(paths) == 1 else [os.fspath(p) for p in paths]
        dataset = _arrow_read(
            label, lambda: ds.dataset(target, format="parquet", partitioning="hive")
        )
    spec.check_columns(list(dataset.schema.names), where=label)
    if isinstance(dataset, ds.FileSystemDataset):
        dataset = _unified(dataset, spec, label)
    return dataset, label


def _parquet_paths(source: Any) -> list[Any]:
    """The paths of a ``read_parquet`` source; anything else is refused by its type."""
    if isinstance(source, bytes):
        source = os.fsdecode(source)
    if isinstance(source, str | os.PathLike):
        paths = [source]
    elif isinstance(source, list | tuple) and all(
        isinstance(p, str | bytes | os.PathLike) for p in source
    ):
        paths = [os.fsdecode(p) if isinstance(p, bytes) else p for p in source]
    else:
        what = type(source).__name__
        hint = (
            " (for a DataFrame or Table use EventLog.from_frame)"
            if hasattr(source, "columns") or hasattr(source, "column_names")
            else ""
        )
        msg = (
            f"read_parquet reads a path, a list of paths or a pyarrow Dataset (got a {what}){hint}."
        )
        raise ValidationError(msg)
    if not paths:
        msg = "read_parquet was given an empty list of paths."
        raise ValidationError(msg)
    for p in paths:
        check_path(p)
    return paths


def _unified(dataset: Any, spec: LogSpec, label: str) -> Any:
    """``dataset`` over its files' unified schema; a file lacking a named column is refused."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    fragments = list(dataset.get_fragments())
    partition = {k for f in fragments for k in ds.get_partition_keys(f.partition_expression)}
    wanted = [c for c in spec.columns if c not in partition]
    schemas = []
    for frag in fragments:
        schema = _arrow_read(frag.path, lambda f=frag: f.physical_schema)
        lacking = [c for c in wanted if c not in schema.names]
        if lacking:
            msg = (
                f"{label}: the file {frag.path!r} has no column {lacking[0]!r} (other files "
                f"have it); its rows would read as missing values. Add the column to that "
                "file or leave the file out."
            )
            raise ValidationError(msg)
        schemas.append(schema)
    if len(schemas) < 2 or all(sc.equals(schemas[0]) for sc in schemas[1:]):
        return dataset
    try:
        unified = pa.unify_schemas(schemas)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        msg = f"{label}: the files' schemas disagree: {exc}."
        raise ValidationError(msg) from None
    for field in dataset.schema:
        if field.name in partition:
            unified = unified.append(field)
    files = [frag.path for frag in fragments]
    return ds.dataset(
        files,
        schema=unified,
        format="parquet",
        filesystem=dataset.filesystem,
        partitioning=dataset.partitioning if partition else None,
    )


def _arrow_read(label: str, read: Any) -> Any:
    import pyarrow as pa

    try:
        return read()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        msg = f"{label} is not readable as Parquet: {exc}."
        raise ValidationError(msg) from None


def _log_of_table(table: Any, spec: LogSpec, *, start: int) -> EventLog:
    """The EventLog of a pyarrow table whose first row is row ``start`` of the dataset."""
    columns = {name: _arrow_column(table, name) for name in spec.columns}
    return EventLog._from_spec(columns, spec, row_label=lambda i: f"row {start + i}")


def _arrow_column(table: Any, name: str) -> Any:
    """A column of an Arrow table; binary text decoded, nested types refused by name."""
    import pyarrow as pa

    col = table.column(name)
    typ = col.type
    value_type = typ.value_type if pa.types.is_dictionary(typ) else typ
    if pa.types.is_binary(value_type) or pa.types.is_large_binary(value_type):
        try:
            col = col.cast(
                pa.large_string() if pa.types.is_large_binary(value_type) else pa.string()
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            msg = f"column {name!r} holds bytes that are not UTF-8 text; decode it first."
            raise ValidationError(msg) from None
    elif pa.types.is_nested(value_type):
        msg = (
            f"column {name!r} holds {value_type} values (lists or structs), not one value "
            "per event; flatten or explode it first."
        )
        raise ValidationError(msg)
    return col


def chunks(
    dataset: Any, spec: LogSpec, *, label: str, chunksize: int, progress: bool | None
) -> Iterator[EventLog]:
    import pyarrow as pa
    import pyarrow.compute as pc

    from touchpoint._lib.progress import progress_bar

    jname = spec.journey

    def tail_start(table: Any) -> int:
        """Row where the run of the table's last journey id starts (0: one journey)."""
        jcol = table.column(jname)
        last = jcol[len(jcol) - 1]
        if not last.is_valid:
            differs = pc.is_valid(jcol)
        else:
            differs = pc.fill_null(pc.not_equal(jcol, last), True)
        idx = np.flatnonzero(np.asarray(differs.to_numpy(zero_copy_only=False)))
        return int(idx[-1]) + 1 if len(idx) else 0

    guard = ChunkGuard(label, jname)

    def emit(table: Any, start: int) -> EventLog:
        log = _log_of_table(table, spec, start=start)
        # each id once, at its journey's first row: the guard finds one seen before
        guard.add(log.journey_ids, start=start, rows=log.offsets[:-1])
        return log

    def gen() -> Iterator[EventLog]:
        pending: list[Any] = []
        n_pending = 0
        start = 0  # dataset row of the first pending row
        batches = _arrow_read(label, lambda: dataset.to_batches(columns=spec.columns))
        with progress_bar(desc="reading", unit="rows", enabled=progress) as bar:
            for batch in batches:
                if not batch.num_rows:
                    continue
                pending.append(batch)
                n_pending += batch.num_rows
                bar.update(batch.num_rows)
                if n_pending < chunksize:
                    continue
                table = pa.Table.from_batches(pending)
                cut = tail_start(table)
                if cut == 0:  # one journey so far: keep collecting
                    continue
                yield emit(table.slice(0, cut), start)
                start += cut
                rest = table.slice(cut)
                pending, n_pending = rest.to_batches(), rest.num_rows
            if n_pending:
                yield emit(pa.Table.from_batches(pending), start)

    return gen()
