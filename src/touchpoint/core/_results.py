"""The result protocol (DESIGN.md, "Results: one protocol") as mixins.

Every public result is a frozen attrs object with a one-line rounded ``repr``,
``_repr_html_`` and ``to_frame(backend=...)``:

- :class:`ScalarResult`, for results that are a few numbers (``NPSResult``,
  ``Comparison``, ``FunnelStep``, ...): ``to_dict()`` and a one-row ``to_frame()``
  (handy to stack the results of several segments);
- :class:`TableResult`, for results whose main output is a
  :class:`~touchpoint.table.Table` in ``.table`` (``Funnel``, ``MarkovModel``,
  ...): ``to_frame()`` and ``to_records()`` read it;
- :class:`IntervalResult`, for results with one interval: ``.ci`` is
  ``confidence_interval()`` at its defaults (95%).

Tests carry ``statistic``, ``pvalue`` and ``df`` (``None`` when the p-value does
not come from a distribution with degrees of freedom). ``tests/test_result_protocol.py``
checks all of it for every public result class.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

import attrs
import numpy as np

from touchpoint._lib.choices import Backend
from touchpoint.table import Table

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from touchpoint._lib.stats import ConfidenceInterval

__all__ = ["Backend", "IntervalResult", "ScalarResult", "TableResult", "short", "short_repr"]


_SCALARS = (int, float, str, bool, np.integer, np.floating, np.bool_)


def short(value: object) -> str:
    """``value`` for a one-line repr: floats to 4 significant digits, the rest as ``repr``.

    Examples
    --------
    >>> short(0.578569290631), short(129.0495536), short(3), short("a")
    ('0.5786', '129', '3', "'a'")
    """
    if isinstance(value, float | np.floating) and math.isfinite(float(value)):
        return f"{float(value):.4g}"
    if isinstance(value, np.generic):
        return repr(value.item())
    return repr(value)


def short_repr(obj: object, names: tuple[str, ...]) -> str:
    """``Name(a=..., b=...)`` of the given attributes, numbers rounded by :func:`short`."""
    parts = ", ".join(f"{n}={short(getattr(obj, n))}" for n in names)
    return f"{type(obj).__name__}({parts})"


class ScalarResult:
    """Mixin: ``to_dict``, one-row ``to_frame`` and ``_repr_html_`` from attrs fields.

    ``to_dict`` holds the scalar fields, then the properties named in
    ``_dict_properties``, then ``ci_low``/``ci_high`` of ``.ci`` when there is one.
    """

    __slots__ = ()
    _dict_properties: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields (and the 95% interval, when there is one) as a dict."""
        out: dict[str, Any] = {}
        for f in attrs.fields(type(self)):  # type: ignore[arg-type]  # the subclasses are attrs classes
            if f.name.startswith("_"):
                continue
            v = getattr(self, f.name)
            if v is None or isinstance(v, _SCALARS):
                out[f.name] = v.item() if isinstance(v, np.generic) else v
        for name in self._dict_properties:
            v = getattr(self, name)
            out[name] = v.item() if isinstance(v, np.generic) else v
        ci = getattr(self, "ci", None)
        if ci is not None and hasattr(ci, "low"):
            out["ci_low"], out["ci_high"] = float(ci.low), float(ci.high)
        return out

    @overload
    def to_frame(self, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["polars"]) -> pl.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["pyarrow"]) -> pa.Table: ...
    def to_frame(self, backend: Backend = "pandas") -> pd.DataFrame | pl.DataFrame | pa.Table:
        """A one-row DataFrame of :meth:`to_dict`."""
        return Table({k: [v] for k, v in self.to_dict().items()}).to_frame(backend)

    #: Fields that are shares (0-1) of the answers, shown as percentages in the
    #: notebook view so they do not read as points next to a score.
    _SHARES: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        """The repr, then one row per field; each row is named exactly as the
        :meth:`to_frame` column, shares shown as percentages."""
        from touchpoint._lib.format import format_cell

        def cell(k: str, v: Any) -> str:
            if k in self._SHARES and isinstance(v, float):
                return f"{100 * v:.1f}% of answers"
            return format_cell(v)

        rows = "".join(
            f'<tr><th>{html.escape(k)}</th><td class="num">{html.escape(cell(k, v))}</td></tr>'
            for k, v in self.to_dict().items()
            if v is not None
        )
        return f"<div><strong>{html.escape(repr(self))}</strong><table>{rows}</table></div>"


class TableResult:
    """Mixin for results holding their main :class:`~touchpoint.table.Table` in ``.table``."""

    __slots__ = ()

    @overload
    def to_frame(self, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["polars"]) -> pl.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["pyarrow"]) -> pa.Table: ...
    def to_frame(self, backend: Backend = "pandas") -> pd.DataFrame | pl.DataFrame | pa.Table:
        """The result's table as a DataFrame."""
        table: Table = self.table  # type: ignore[attr-defined]  # the subclasses define it
        return table.to_frame(backend)

    def to_records(self) -> list[dict[str, Any]]:
        """The result's table as a list of dicts."""
        table: Table = self.table  # type: ignore[attr-defined]  # the subclasses define it
        return table.to_records()

    def _repr_html_(self) -> str:
        table: Table = self.table  # type: ignore[attr-defined]  # the subclasses define it
        return f"<div><strong>{html.escape(repr(self))}</strong>{table.to_html(max_rows=30)}</div>"


class IntervalResult:
    """Mixin: ``.ci``, the interval of ``confidence_interval()`` at its defaults (95%)."""

    __slots__ = ()

    @property
    def ci(self) -> ConfidenceInterval:
        """The 95% interval (``confidence_interval()`` with its default method)."""
        out: ConfidenceInterval = self.confidence_interval()  # type: ignore[attr-defined]
        return out
