"""Reading event logs from CSV, and journeys from/to JSON and GraphML.

:func:`read_csv` works with the standard library alone; when pyarrow or
polars is installed (``engine="auto"``) it uses them for speed. Both paths
apply the same validation, so the result does not depend on what is installed.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import os
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, Literal

import numpy as np

from touchpoint.events import EventLog, OnError, column_roles
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.model import Journey

__all__ = ["read_csv", "read_journey", "read_table_columns"]

Engine = Literal["auto", "python", "pyarrow", "polars"]


def _open_text(path: str | os.PathLike[str]) -> IO[str]:
    p = os.fspath(path)
    if p.endswith(".gz"):
        return _io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", newline="")
    return open(p, encoding="utf-8", newline="")  # returned to caller


def read_table_columns(
    path: str | os.PathLike[str], *, delimiter: str = ","
) -> dict[str, np.ndarray[Any, Any]]:
    """Read a CSV file (optionally gzip-compressed) into object columns of strings.

    Uses only the standard library. Every value stays a string; empty fields
    are empty strings, so validation can count them.
    """
    if not os.path.exists(path):
        msg = f"no such file: {os.fspath(path)!r}."
        raise ValidationError(msg)
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            msg = f"{os.fspath(path)!r} is empty: expected a header row."
            raise ValidationError(msg) from None
        except (UnicodeDecodeError, csv.Error) as exc:
            msg = f"{os.fspath(path)!r} is not a readable UTF-8 CSV file: {exc}."
            raise ValidationError(msg) from None
        width = len(header)
        rows: list[list[str]] = []
        try:
            for line_no, row in enumerate(reader, start=2):
                if len(row) != width:
                    if not row:  # blank line
                        continue
                    msg = (
                        f"{os.fspath(path)!r}, line {line_no}: expected {width} fields "
                        f"(header {header}), got {len(row)}: {row!r}."
                    )
                    raise ValidationError(msg)
                rows.append(row)
        except (UnicodeDecodeError, csv.Error) as exc:
            msg = f"{os.fspath(path)!r} is not a readable UTF-8 CSV file: {exc}."
            raise ValidationError(msg) from None
    columns: dict[str, np.ndarray[Any, Any]] = {}
    for i, name in enumerate(header):
        col = np.empty(len(rows), dtype=object)
        col[:] = [r[i] for r in rows]
        columns[name] = col
    return columns


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
    delimiter: str = ",",
    engine: Engine = "auto",
) -> EventLog:
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
    design, conversions, on_error
        As in :meth:`EventLog.from_arrays`.
    delimiter : str
        Field separator.
    engine : {"auto", "python", "pyarrow", "polars"}
        ``"python"`` uses only the standard library; ``"auto"`` (default)
        picks pyarrow, then polars, when installed, else the standard library.
        Every engine reads all fields as text and touchpoint parses them, so
        the result is the same whichever is used. Errors name the file line.

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
    names = column_roles(journey, touchpoint, time, outcome, extra)
    columns = _read_with_engine(path, delimiter, engine)
    missing = [c for c in names.values() if c not in columns]
    if missing:
        msg = (
            f"{os.fspath(path)!r}: unknown column {missing[0]!r}; "
            f"the file has columns {list(columns)}."
        )
        raise ValidationError(msg)
    return EventLog.from_arrays(
        columns[journey],
        columns[touchpoint],
        columns[time],
        columns[outcome] if outcome is not None else None,
        {e: columns[e] for e in extra},
        design=design,
        conversions=conversions,
        on_error=on_error,
        columns=names,
        row_label=lambda i: f"row {i} (file line {i + 2})",
    )


def _read_with_engine(
    path: str | os.PathLike[str], delimiter: str, engine: Engine
) -> dict[str, np.ndarray[Any, Any]]:
    if engine not in ("auto", "python", "pyarrow", "polars"):
        msg = f"'engine' must be 'auto', 'python', 'pyarrow' or 'polars' (got {engine!r})."
        raise ValidationError(msg)
    if engine in ("auto", "pyarrow"):
        try:
            import pyarrow.csv as pacsv
        except ImportError:
            if engine == "pyarrow":
                raise
        else:
            if not os.path.exists(path):
                msg = f"no such file: {os.fspath(path)!r}."
                raise ValidationError(msg)
            import pyarrow as pa

            with _open_text(path) as fh:
                header = next(csv.reader(fh, delimiter=delimiter), [])
            # every column as text, so both engines parse values identically
            opts = pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            )
            table = pacsv.read_csv(
                os.fspath(path),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=opts,
            )
            return {
                name: np.asarray(table.column(name).to_numpy(zero_copy_only=False))
                for name in table.column_names
            }
    if engine in ("auto", "polars"):
        try:
            import polars as pl
        except ImportError:
            if engine == "polars":
                raise
        else:
            df = pl.read_csv(os.fspath(path), separator=delimiter, infer_schema=False)
            return {name: np.asarray(df[name].fill_null("").to_numpy()) for name in df.columns}
    return read_table_columns(path, delimiter=delimiter)


def read_journey(path: str | os.PathLike[str]) -> Journey:
    """Load a :class:`~touchpoint.model.Journey` from a JSON file (plain JSON, no code)."""
    from touchpoint.model import Journey

    with open(path, encoding="utf-8") as fh:
        return Journey.from_json(fh.read())
