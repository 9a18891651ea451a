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
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import numpy as np

from touchpoint.exceptions import MissingFileError, ValidationError

__all__ = [
    "READ_ERRORS",
    "FileLines",
    "as_path",
    "blank_records",
    "check_path",
    "columns_of",
    "local_copy",
    "open_text",
    "parse_numbers",
    "python_blocks",
    "read_header",
    "read_table_columns",
    "structure_error",
    "unique_header",
    "unreadable",
]


_GZIP_MAGIC = b"\x1f\x8b"


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """The file as text; a UTF-8 byte order mark (Excel's "CSV UTF-8") is skipped.

    A ``.gz`` file is decompressed; one whose content is not gzip is refused.
    """
    p = os.fspath(path)
    if p.endswith(".gz"):
        with open(p, "rb") as fh:
            magic = fh.read(2)
        if magic and magic != _GZIP_MAGIC:
            msg = (
                f"{p!r} is named .gz but is not gzip-compressed (it starts with {magic!r}); "
                "rename it without .gz, or compress it."
            )
            raise ValidationError(msg)
        return _io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8-sig", newline="")
    return open(p, encoding="utf-8-sig", newline="")  # returned to caller


#: What reading a damaged text file raises: bad UTF-8, bad CSV quoting, a truncated or
#: corrupt gzip stream.
READ_ERRORS = (UnicodeDecodeError, csv.Error, EOFError, gzip.BadGzipFile, zlib.error)


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


def check_path(path: Any) -> None:
    """Refuse a path that does not exist (:class:`MissingFileError`) or is not a path."""
    if not isinstance(path, str | bytes | os.PathLike):
        msg = f"expected a file path (str or path-like), got a {type(path).__name__}."
        raise ValidationError(msg)
    if not os.path.exists(path):
        shown = os.fsdecode(os.fspath(path))
        err = MissingFileError(f"no such file: {shown!r}.")
        err.filename = shown
        raise err


def as_path(path: Any) -> str:
    """``path`` as a ``str`` (bytes decoded as the file system does), checked to exist."""
    check_path(path)
    return os.fsdecode(os.fspath(path))


def local_copy(path: str) -> tuple[str, Callable[[], None] | None]:
    """``path`` itself, or for a pipe or stream (``<(zcat f.gz)``, ``/dev/stdin``) a copy.

    A stream can be read once only, and every engine reads a file at least
    twice (the header, then the rows), so a non-regular file is copied to a
    temporary file first (decompressed if it is gzip); the second value
    removes the copy (None when there is none).
    """
    import shutil
    import stat
    import tempfile

    if stat.S_ISREG(os.stat(path).st_mode) or os.path.isdir(path):
        return path, None
    folder = tempfile.mkdtemp(prefix="touchpoint-stream-")
    target = os.path.join(folder, os.path.basename(path).removesuffix(".gz") or "stream")
    try:
        with open(path, "rb") as src:
            head = src.read(2)
            stream: Any = _io.BufferedReader(_Prefixed(head, src))
            if head == _GZIP_MAGIC:
                stream = gzip.GzipFile(fileobj=stream)
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out)
    except READ_ERRORS as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise unreadable(path, exc) from None
    return target, lambda: shutil.rmtree(folder, ignore_errors=True)


class _Prefixed(_io.RawIOBase):
    """A raw stream: ``head`` then the rest of ``rest`` (to re-read a peeked header)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_header(path: str | os.PathLike[str], delimiter: str) -> list[str]:
    """The header row (empty list for an empty file; a byte order mark is skipped)."""
    try:
        with open_text(path) as fh:
            return next(csv.reader(fh, delimiter=delimiter), [])
    except READ_ERRORS as exc:
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
        except READ_ERRORS as exc:
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
        except READ_ERRORS as exc:
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
            except (StopIteration, *READ_ERRORS):
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
        except READ_ERRORS as exc:
            raise unreadable(path, exc) from None
    return np.array(blank, dtype=bool)
