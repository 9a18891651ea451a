"""One formatting pass for every table users read: the report, ``to_text`` and the reprs.

A column is formatted as a whole, so its cells line up and read alike:

- whole numbers get thousands separators (``25,031``);
- decimals are fixed per column (``93,896.87`` above ``79,598.30``, never ragged);
- columns whose header names a share (``share``, ``rate``, ``removal_effect``...) and
  whose values lie in [0, 1] are shown as percentages (``17.3%``);
- p- and q-values keep two significant digits (``3.4e-10``, ``0.016``);
- columns with no value at all are dropped, headers get human labels
  (``removal_effect`` -> ``removal effect``);
- numbers, and strings that read as numbers (``+8.5``, ``64.3%``, ``1.2 h``), are
  right-aligned in text and carry ``class="num"`` in HTML;
- long tables are cut with a note saying how many rows are not shown.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "format_cell",
    "format_columns",
    "format_html",
    "format_number",
    "format_pvalue",
    "format_text",
    "human_label",
    "printable",
]

#: Header words that mark a column of shares in [0, 1], shown as percentages.
_SHARE_WORDS = re.compile(
    r"(^|[ _])(share|rate|conversion[ _](rate|with|without)|from[ _]first|coverage|pct|"
    r"percent|removal[ _]effect)($|[ _])",
    re.IGNORECASE,
)
_PVALUE = re.compile(r"^(p|q|pvalue|qvalue|p-value|q-value|p value|q value|fdr)$", re.IGNORECASE)
#: A string cell that reads as a number: signs, separators, units, interval text, flags.
_NUMERIC_TEXT = re.compile(
    r"^[+\-−]?(\d[\d,]*(\.\d+)?|\.\d+)(e[+\-]?\d+)?"
    r"(%| ?pts| ?min| ?h| ?d| ?s| ?ms| ?days?)?"
    r"( \(.*\))?(( to | vs |–)[+\-−]?[\d,.]+%?)?( ?\*+)?$",
    re.IGNORECASE,
)
_LABELS = {
    "n": "n",
    "df": "df",
    "pvalue": "p",
    "qvalue": "q",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "nps": "NPS",
    "csat": "CSAT",
    "ces": "CES",
    "ci": "CI",
}


#: Characters that would break a text line or hide/reorder text: C0/C1 controls (newline,
#: tab, escape...), zero-width and bidirectional marks, line and paragraph separators.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\n``, ``\\x1b``), other text as is.

    A name holding a newline could otherwise forge a line of a text report, and
    an escape sequence could recolour a terminal; accents and other scripts stay.

    Examples
    --------
    >>> print(printable("ad\\nfake line"), printable("café"))
    ad\\nfake line café
    """
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def human_label(header: str) -> str:
    """A readable column label: ``removal_effect`` -> ``removal effect``, ``pvalue`` -> ``p``.

    Examples
    --------
    >>> human_label("removal_effect"), human_label("pvalue"), human_label("csat_gap")
    ('removal effect', 'p', 'CSAT gap')
    """
    h = printable(str(header))
    if h.lower() in _LABELS:
        return _LABELS[h.lower()]
    if " " in h or "_" not in h:
        return h
    return " ".join(_LABELS.get(w.lower(), w) if w.lower() in _UPPER else w for w in h.split("_"))


_UPPER = ("nps", "csat", "ces", "ci")


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _empty(v: Any) -> bool:
    v = _py(v)
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _is_number(v: Any) -> bool:
    v = _py(v)
    return isinstance(v, int | float) and not isinstance(v, bool)


def format_number(v: float, decimals: int) -> str:
    """``v`` with thousands separators and ``decimals`` places; NaN is empty."""
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:,.{decimals}f}"


def _decimals(values: list[float]) -> int:
    """The places a float column needs: enough for its values, at most 3 (2 from 10 up)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    if not finite:
        return 0
    cap = 2 if max(finite) >= 10 else 3
    need = 0
    for v in finite:
        for d in range(cap + 1):
            if abs(round(v, d) - v) < 1e-9 * max(1.0, v):
                need = max(need, d)
                break
        else:
            need = cap
    if need == cap and max(finite) < 1 and min(finite) > 0 and min(finite) < 10**-cap:
        return cap  # tiny values stay visible as 0.000; p-values have their own format
    return need


def _pvalue(v: float) -> str:
    if math.isnan(v):
        return ""
    if v == 0:
        return "0"
    return f"{v:.2g}" if v >= 1e-4 else f"{v:.1e}"


def format_pvalue(v: float) -> str:
    """A p- or q-value as the tables show it: two significant digits.

    Examples
    --------
    >>> format_pvalue(0.01623), format_pvalue(3.4e-10), format_pvalue(4e-37)
    ('0.016', '3.4e-10', '4.0e-37')
    """
    return _pvalue(float(v))


def format_cell(v: Any) -> str:
    """One value on its own (no column context): ints with separators, floats to 3 places."""
    v = _py(v)
    if _empty(v):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.2g}"
        return format_number(v, _decimals([v]))
    return printable(str(v))


def format_columns(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, drop_empty: bool = True
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Format a table column by column.

    Returns the human labels, the cells as strings and, per column, whether it
    is numeric (right-aligned).

    Examples
    --------
    >>> h, cells, num = format_columns(
    ...     ["touchpoint", "value", "share", "empty"],
    ...     [["ad", 93896.87, 0.173, None], ["site", 79598.3, 0.1, None]],
    ... )
    >>> h, cells, num
    (['touchpoint', 'value', 'share'], [['ad', '93,896.87', '17.3%'], ['site', '79,598.30', '10.0%']], [False, True, True])
    """
    n_cols = len(headers)
    columns = [[r[j] if j < len(r) else None for r in rows] for j in range(n_cols)]
    keep = [
        j
        for j in range(n_cols)
        if not drop_empty or not rows or not all(_empty(v) for v in columns[j])
    ]
    out_headers: list[str] = []
    out_cols: list[list[str]] = []
    numeric: list[bool] = []
    for j in keep:
        header, col = str(headers[j]), columns[j]
        values = [_py(v) for v in col if not _empty(v)]
        nums = [v for v in values if _is_number(v)]
        all_num = bool(values) and len(nums) == len(values)
        if all_num and all(isinstance(v, int) for v in nums):
            cells = ["" if _empty(v) else f"{_py(v):,}" for v in col]
        elif all_num and _PVALUE.match(header.strip()):
            cells = ["" if _empty(v) else _pvalue(float(_py(v))) for v in col]
        elif all_num and _SHARE_WORDS.search(header) and all(0 <= v <= 1 for v in nums):
            cells = ["" if _empty(v) else f"{100 * float(_py(v)):.1f}%" for v in col]
        elif all_num:
            d = _decimals([float(v) for v in nums])
            cells = ["" if _empty(v) else format_number(float(_py(v)), d) for v in col]
        else:
            cells = [format_cell(v) for v in col]
        is_num = all_num or (bool(values) and all(_NUMERIC_TEXT.match(c) for c in cells if c))
        out_headers.append(human_label(header))
        out_cols.append(cells)
        numeric.append(is_num)
    cells_by_row = [[c[i] for c in out_cols] for i in range(len(rows))]
    return out_headers, cells_by_row, numeric


def _more(n_shown: int, n_total: int) -> str:
    return f"... {n_total - n_shown:,} more rows not shown ({n_total:,} in all)"


def format_text(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    max_rows: int | None = None,
    total: int | None = None,
    drop_empty: bool = True,
) -> str:
    """An aligned plain-text table (numbers right-aligned).

    ``max_rows`` cuts the table; ``total`` says how many rows there are in all
    when ``rows`` is already cut. Either way a note tells how many are not shown.

    Examples
    --------
    >>> print(format_text(["path", "journeys"], [["ad > buy", 25031], ["ad", 7]]))
    path      journeys
    ad > buy    25,031
    ad               7
    """
    shown = rows if max_rows is None else rows[:max_rows]
    total = max(len(rows), total or 0)
    labels, cells, numeric = format_columns(headers, shown, drop_empty=drop_empty)
    widths = [max([len(h)] + [len(c[j]) for c in cells]) for j, h in enumerate(labels)]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(vals, widths, numeric, strict=True)
        ).rstrip()

    out = [line(labels), *(line(c) for c in cells)]
    if len(shown) < total:
        out.append(_more(len(shown), total))
    return "\n".join(out)


def format_html(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str = "",
    max_rows: int | None = None,
    total: int | None = None,
    drop_empty: bool = True,
) -> str:
    """An HTML table, every header and value escaped; numeric cells carry ``class="num"``.

    Examples
    --------
    >>> format_html(["touchpoint", "events"], [["<b>", 1234]])
    '<table><thead><tr><th>touchpoint</th><th class="num">events</th></tr></thead><tbody><tr><td>&lt;b&gt;</td><td class="num">1,234</td></tr></tbody></table>'
    """
    esc = html.escape
    shown = rows if max_rows is None else rows[:max_rows]
    total = max(len(rows), total or 0)
    labels, cells, numeric = format_columns(headers, shown, drop_empty=drop_empty)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""

    def cls(num: bool) -> str:
        return ' class="num"' if num else ""

    head = "".join(f"<th{cls(n)}>{esc(h)}</th>" for h, n in zip(labels, numeric, strict=True))
    body = "".join(
        "<tr>"
        + "".join(f"<td{cls(n)}>{esc(c)}</td>" for c, n in zip(r, numeric, strict=True))
        + "</tr>"
        for r in cells
    )
    foot = ""
    if len(shown) < total:
        foot = f'<tfoot><tr><td colspan="{len(labels)}">{esc(_more(len(shown), total))}</td></tr></tfoot>'
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table>"
