"""A small columnar table: survey answers in, result tables out.

:class:`Table` holds named numpy columns of equal length. It is what
:func:`touchpoint.datasets.load_sample` returns for survey answers and what
breakdowns and attribution return as results; ``.to_frame()`` hands it to
pandas or polars, ``_repr_html_`` renders it in a notebook.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import Backend
from touchpoint._lib.columns import as_array
from touchpoint._lib.compat import warn_deprecated
from touchpoint._lib.format import format_cell, format_html, format_text
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

__all__ = ["Table", "format_cell", "format_html", "format_text"]


class Table:
    """Named columns of equal length (numpy arrays), in order.

    Parameters
    ----------
    columns : mapping of str to array-like
        The columns.
    title : str
        Optional caption used by the reprs.
    renamed : mapping of str to str, optional
        ``{old_name: new_name}`` of columns renamed in this release: the old
        name still reads the column, with a DeprecationWarning.

    Examples
    --------
    >>> t = Table({"touchpoint": ["ad", "store"], "csat": [4.2, 3.9]})
    >>> t
    Table(2 rows: touchpoint, csat)
    >>> t["csat"].tolist(), t.row(1)
    ([4.2, 3.9], {'touchpoint': 'store', 'csat': 3.9})
    >>> print(t.to_text())
    touchpoint  CSAT
    ad           4.2
    store        3.9
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        *,
        title: str = "",
        renamed: Mapping[str, str] | None = None,
    ) -> None:
        cols = {str(k): as_array(v) for k, v in columns.items()}
        lengths = {k: len(v) for k, v in cols.items()}
        if len(set(lengths.values())) > 1:
            msg = f"columns must have equal lengths (got {lengths})."
            raise ValidationError(msg)
        self._columns = cols
        self.title = title
        self._renamed = dict(renamed or {})

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        title: str = "",
        renamed: Mapping[str, str] | None = None,
    ) -> Table:
        """Build a table from mappings; a key missing from a record gives None."""
        recs = list(records)
        keys: dict[str, None] = {}
        for r in recs:
            keys.update(dict.fromkeys(r))
        return cls({k: [r.get(k) for r in recs] for k in keys}, title=title, renamed=renamed)

    @classmethod
    def from_frame(cls, frame: Any, *, title: str = "") -> Table:
        """Build a table from a pandas or polars DataFrame or a pyarrow Table."""
        from touchpoint._lib.frames import _frame_column, _frame_columns

        return cls(
            {str(c): _frame_column(frame, str(c)) for c in _frame_columns(frame)}, title=title
        )

    @classmethod
    def read_csv(cls, path: str | os.PathLike[str], *, numeric: Sequence[str] = ()) -> Table:
        """Read a CSV (or ``.csv.gz``) file; ``numeric`` columns are parsed as floats.

        An empty field in a numeric column becomes NaN (a skipped answer); any
        other non-number raises an error naming the column, line and value.
        """
        from touchpoint._lib.csv import (
            FileLines,
            check_path,
            parse_numbers,
            read_table_columns,
            unique_header,
        )

        check_path(path)
        unique_header(path)
        cols: dict[str, NDArray[Any]] = dict(read_table_columns(path))
        lines = FileLines(path, ",")
        for name in numeric:
            if name not in cols:
                msg = f"{os.fspath(path)!r}: unknown column {name!r}; the file has {list(cols)}."
                raise ValidationError(msg)
            cols[name] = parse_numbers(cols[name], name, lines=lines)
        return cls(cols, title=os.path.basename(os.fspath(path)))

    # -- access -------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order."""
        return tuple(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __contains__(self, name: object) -> bool:
        return name in self._columns or name in self._renamed

    @overload
    def __getitem__(self, key: str) -> NDArray[Any]: ...
    @overload
    def __getitem__(self, key: NDArray[np.bool_] | NDArray[np.int64]) -> Table: ...
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in self._columns and key in self._renamed:
                new = self._renamed[key]
                warn_deprecated(f"column {key!r} is now {new!r}; {key!r} goes in the next release.")
                key = new
            try:
                return self._columns[key]
            except KeyError:
                msg = f"unknown column {key!r}; the table has {list(self._columns)}."
                raise ValidationError(msg) from None
        return Table(
            {k: v[key] for k, v in self._columns.items()}, title=self.title, renamed=self._renamed
        )

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict of Python values."""
        return {k: _py(v[i]) for k, v in self._columns.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.to_records())

    def with_column(self, name: str, values: Any) -> Table:
        """A new table with column ``name`` added or replaced."""
        cols = dict(self._columns)
        cols[name] = as_array(values)
        return Table(cols, title=self.title, renamed=self._renamed)

    def sort(self, by: str, *, descending: bool = False) -> Table:
        """A new table sorted by one column (stable)."""
        order = np.argsort(self[by], kind="stable")
        return self[order[::-1] if descending else order]

    def head(self, n: int = 10) -> Table:
        """The first ``n`` rows."""
        return self[np.arange(min(n, len(self)))]

    # -- export -------------------------------------------------------------
    def to_records(self) -> list[dict[str, Any]]:
        """Rows as a list of dicts of Python values."""
        return [self.row(i) for i in range(len(self))]

    def to_dict(self) -> dict[str, NDArray[Any]]:
        """Columns as a dict of numpy arrays."""
        return dict(self._columns)

    @overload
    def to_frame(self, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["polars"]) -> pl.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["pyarrow"]) -> pa.Table: ...
    def to_frame(self, backend: Backend = "pandas") -> pd.DataFrame | pl.DataFrame | pa.Table:
        """The table as a pandas (default) or polars DataFrame, or a pyarrow Table."""
        if backend == "pandas":
            import pandas as pd

            return pd.DataFrame(dict(self._columns.items()))
        if backend == "polars":
            import polars as pl

            return pl.DataFrame(
                {k: (v.tolist() if v.dtype == object else v) for k, v in self._columns.items()}
            )
        if backend == "pyarrow":
            import pyarrow as pa

            return pa.table(
                {k: (v.tolist() if v.dtype == object else v) for k, v in self._columns.items()}
            )
        raise ck.error("backend", "'pandas', 'polars' or 'pyarrow'", backend)

    def to_text(self, max_rows: int = 30) -> str:
        """A plain-text rendering: numbers right-aligned with separators, a note when cut."""
        return format_text(
            self.columns, [list(r.values()) for r in self.head(max_rows)], total=len(self)
        )

    def to_html(self, max_rows: int = 20) -> str:
        """An HTML table (every value escaped); longer tables are cut with a note."""
        return format_html(
            self.columns,
            [list(r.values()) for r in self.head(max_rows)],
            caption=self.title,
            total=len(self),
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        title = f"{self.title!r}, " if self.title else ""
        return f"Table({title}{len(self):,} rows: {', '.join(self.columns)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return self.columns == other.columns and all(
            np.array_equal(self[c], other[c]) for c in self.columns
        )

    __hash__ = None  # type: ignore[assignment]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
