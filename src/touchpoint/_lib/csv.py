"""The standard-library CSV reader every engine falls back to (internal).

Reads a CSV file (optionally gzip-compressed) into object columns of strings,
in blocks of rows; every value stays a string and empty fields are empty
strings, so validation can count them.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import numpy as np

from touchpoint.exceptions import ValidationError

__all__ = [
    "FileLines",
    "blank_records",
    "check_path",
    "columns_of",
    "open_text",
    "parse_numbers",
    "python_blocks",
    "read_header",
    "read_table_columns",
    "structure_error",
    "unique_header",
    "unreadable",
]


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """The file as text; a UTF-8 byte order mark (Excel's "CSV UTF-8") is skipped."""
    p = os.fspath(path)
    if p.endswith(".gz"):
        return _io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8-sig", newline="")
    return open(p, encoding="utf-8-sig", newline="")  # returned to caller


def read_table_columns(
    path: str | os.PathLike[str], *, delimiter: str = ","
) -> dict[str, np.ndarray[Any, Any]]:
    """Read a CSV file (optionally gzip-compressed) into object columns of strings.

    Uses only the standard library. Every value stays a string; empty fields
    are empty strings, so validation can count them.
    """
    check_path(path)
    header, *blocks = python_blocks(path, delimiter, sys.maxsize)
    return blocks[0] if blocks else columns_of(header, [])


def unreadable(path: str | os.PathLike[str], exc: Exception) -> ValidationError:
    msg = f"{os.fspath(path)!r} is not a readable UTF-8 CSV file: {exc}."
    return ValidationError(msg)


def check_path(path: str | os.PathLike[str]) -> None:
    if not os.path.exists(path):
        msg = f"no such file: {os.fspath(path)!r}."
        raise ValidationError(msg)


def read_header(path: str | os.PathLike[str], delimiter: str) -> list[str]:
    """The header row (empty list for an empty file; a byte order mark is skipped)."""
    try:
        with open_text(path) as fh:
            return next(csv.reader(fh, delimiter=delimiter), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise unreadable(path, exc) from None


def unique_header(path: str | os.PathLike[str], delimiter: str = ",") -> list[str]:
    """The header row, refusing a name given to two columns (which one would be read?).

    For files whose every column is kept (survey answers, :meth:`Table.read_csv`);
    :func:`touchpoint.read_csv` refuses only the repeated names it reads.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("nps,touchpoint,nps\\n9,ad,1\\n")
    >>> unique_header(p)
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.ValidationError: '...s.csv': column 'nps' appears 2 times in the header (fields 1, 3); rename the duplicates.
    """
    header = read_header(path, delimiter)
    require_unique(path, header, header)
    return header


def require_unique(path: str | os.PathLike[str], header: list[str], names: Iterable[str]) -> None:
    """Refuse a name of ``names`` that ``header`` gives to two or more columns."""
    for name in dict.fromkeys(names):
        where = [i + 1 for i, h in enumerate(header) if h == name]
        if len(where) > 1:
            msg = (
                f"{os.fspath(path)!r}: column {name!r} appears {len(where)} times in the "
                f"header (fields {', '.join(map(str, where))}); rename the duplicates."
            )
            raise ValidationError(msg)


def python_blocks(path: str | os.PathLike[str], delimiter: str, chunksize: int) -> Iterator[Any]:
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            msg = f"{os.fspath(path)!r} is empty: expected a header row."
            raise ValidationError(msg) from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise unreadable(path, exc) from None
        yield header
        width = len(header)
        rows: list[list[str]] = []
        end = reader.line_num
        try:
            for row in reader:
                begin, end = end + 1, reader.line_num
                if len(row) != width:
                    if not row:  # blank line
                        continue
                    msg = (
                        f"{os.fspath(path)!r}, line {begin}: expected {width} fields "
                        f"(header {header}), got {len(row)}: {row!r}."
                    )
                    raise ValidationError(msg)
                rows.append(row)
                if len(rows) == chunksize:
                    yield columns_of(header, rows)
                    rows = []
        except (UnicodeDecodeError, csv.Error) as exc:
            raise unreadable(path, exc) from None
        if rows:
            yield columns_of(header, rows)


def structure_error(
    path: str | os.PathLike[str], delimiter: str, exc: Exception
) -> ValidationError:
    """The error for a file another engine could not parse, in the stdlib parser's words.

    Every engine then names the same file line for a short or long row; when the
    stdlib parser finds nothing wrong, the engine's own message is kept.
    """
    try:
        for _ in python_blocks(path, delimiter, 1 << 16):
            pass
    except ValidationError as err:
        return err
    return unreadable(path, exc)


def columns_of(header: list[str], rows: list[list[str]]) -> dict[str, np.ndarray[Any, Any]]:
    out: dict[str, np.ndarray[Any, Any]] = {}
    for i, name in enumerate(header):
        if name in out:  # a repeated header name: the first column wins, as in pyarrow/polars
            continue
        col = np.empty(len(rows), dtype=object)
        col[:] = [r[i] for r in rows]
        out[name] = col
    return out


def parse_numbers(
    values: Any, name: str, *, where: str = "", lines: FileLines | None = None
) -> Any:
    """Text cells of a CSV column as floats: ``""`` is NaN (a skipped answer), else an error.

    The error names the file (``where``), the column, the row and its file line
    (found by ``lines`` after blank lines and multi-line quoted fields; without
    it, row ``i`` is taken to start on line ``i + 2``).

    Examples
    --------
    >>> parse_numbers(["1", "", "2.5"], "score").tolist()
    [1.0, nan, 2.5]
    >>> parse_numbers(["1", "x"], "score", where="'a.csv', ")
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.ValidationError: 'a.csv', column 'score', row 1 (file line 3): not a number 'x'.
    """
    import numpy as np

    raw = np.asarray(values, dtype=object)
    out = np.full(len(raw), np.nan)
    for i, v in enumerate(raw.tolist()):
        if v == "":
            continue
        try:
            out[i] = float(v)
        except ValueError:
            line = lines.line_of(i) if lines is not None else i + 2
            msg = f"{where}column {name!r}, row {i} (file line {line}): not a number {v!r}."
            raise ValidationError(msg) from None
    return out


class FileLines:
    """The file line where each data row starts, found only when a message needs it.

    Blank lines and quoted fields spanning several lines make row ``i`` start
    elsewhere than line ``i + 2``; the file is scanned (once, up to the row asked
    for) with the standard library's parser, which every engine agrees with.
    """

    def __init__(self, path: str | os.PathLike[str], delimiter: str) -> None:
        self.path, self.delimiter = path, delimiter
        self.starts: list[int] | None = None

    def line_of(self, row: int) -> int:
        if self.starts is None or (row >= len(self.starts) and self._more):
            self._scan(row)
        starts = self.starts or []
        return starts[row] if row < len(starts) else row + 2

    _more = True

    def _scan(self, row: int) -> None:
        starts: list[int] = []
        with open_text(self.path) as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            try:
                next(reader)
                end = reader.line_num
                for rec in reader:
                    begin, end = end + 1, reader.line_num
                    if rec:
                        starts.append(begin)
                        if len(starts) > row + 1024:  # enough for this message and a few more
                            break
                else:
                    self._more = False
            except (StopIteration, UnicodeDecodeError, csv.Error):
                self._more = False
        self.starts = starts


def blank_records(
    path: str | os.PathLike[str], delimiter: str, width: int
) -> np.ndarray[Any, Any] | None:
    """Per record after the header, whether it is a blank line; raises on a short/long row."""
    blank: list[bool] = []
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
            end = reader.line_num
            for row in reader:
                begin, end = end + 1, reader.line_num
                if len(row) != width and row:
                    msg = (
                        f"{os.fspath(path)!r}, line {begin}: expected {width} fields "
                        f"(header {header}), got {len(row)}: {row!r}."
                    )
                    raise ValidationError(msg)
                blank.append(not row)
        except StopIteration:
            return None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise unreadable(path, exc) from None
    return np.array(blank, dtype=bool)
