"""Mixins that give every result object the same notebook and dataframe surface.

:class:`ScalarResult` is for results that are one number with its parts
(``NPSResult``, ``Comparison``, ...): ``to_dict()``, a one-row ``to_frame()``
(handy to stack results of several segments) and ``_repr_html_``.
:class:`TableResult` is for results that wrap a :class:`~touchpoint.table.Table`
in ``.table``: ``to_frame()`` and ``to_records()`` delegate to it.
"""

from __future__ import annotations

import html
from typing import Any, Literal

import attrs
import numpy as np

from touchpoint.table import Table

__all__ = ["ScalarResult", "TableResult"]

_SCALARS = (int, float, str, bool, np.integer, np.floating, np.bool_)


class ScalarResult:
    """Mixin: ``to_dict``, one-row ``to_frame`` and ``_repr_html_`` from attrs fields."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields (and the 95% interval, when there is one) as a dict."""
        out: dict[str, Any] = {}
        for f in attrs.fields(type(self)):  # type: ignore[arg-type]  # the subclasses are attrs classes
            if f.name.startswith("_"):
                continue
            v = getattr(self, f.name)
            if v is None or isinstance(v, _SCALARS):
                out[f.name] = v.item() if isinstance(v, np.generic) else v
        ci = getattr(self, "ci", None)
        if ci is not None and hasattr(ci, "low"):
            out["ci_low"], out["ci_high"] = float(ci.low), float(ci.high)
        return out

    def to_frame(self, backend: Literal["pandas", "polars", "pyarrow"] = "pandas") -> Any:
        """A one-row DataFrame of :meth:`to_dict`."""
        return Table({k: [v] for k, v in self.to_dict().items()}).to_frame(backend)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.to_dict().items()
        )
        return f"<div><strong>{html.escape(repr(self))}</strong><table>{rows}</table></div>"


class TableResult:
    """Mixin for results holding a :class:`~touchpoint.table.Table` in ``.table``."""

    __slots__ = ()

    def to_frame(self, backend: Literal["pandas", "polars", "pyarrow"] = "pandas") -> Any:
        """The result's table as a DataFrame."""
        table: Table = self.table  # type: ignore[attr-defined]
        return table.to_frame(backend)

    def to_records(self) -> list[dict[str, Any]]:
        """The result's table as a list of dicts."""
        table: Table = self.table  # type: ignore[attr-defined]
        return table.to_records()
