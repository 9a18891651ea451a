"""The report's base: :class:`Section`, :class:`ReportContext` and :class:`Report`.

Section builders live one module per topic beside this one and are listed, in
report order, in :mod:`touchpoint.report._build`. Every name that comes from
data is escaped in the HTML.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from touchpoint._version import __version__
from touchpoint.table import format_html, format_text

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey
    from touchpoint.table import Table

__all__ = ["Report", "ReportContext", "Section", "pct"]


@attrs.frozen
class Section:
    """One part of the report: a title, plain text and an HTML fragment.

    ``html`` must already be escaped; use :meth:`from_table` or
    :func:`touchpoint.table.format_html` to build it safely.
    """

    title: str
    text: str
    html: str

    @classmethod
    def from_table(
        cls,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        note: str = "",
        figure_html: str = "",
    ) -> Section:
        """A section made of an optional note and one table."""
        text = format_text(headers, rows)
        note_html = f"<p>{html.escape(note)}</p>" if note else ""
        return cls(
            title=title,
            text=(note + "\n" if note else "") + text,
            html=note_html + format_html(headers, rows) + figure_html,
        )


@attrs.frozen
class ReportContext:
    """What section builders get: the log, optional survey answers (``responses``) and design."""

    log: EventLog
    responses: Table | None = None
    design: Journey | None = None
    top: int = 10


@attrs.frozen
class Report:
    """A finished report.

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays([1, 1, 2], ["ad", "buy", "ad"], [0.0, 1.0, 0.0],
    ...                            outcome=[0, 1, 0])
    >>> from touchpoint.report import build_report
    >>> rep = build_report(log, title="Tiny")
    >>> print(rep.to_text().splitlines()[0])
    Tiny
    """

    title: str
    sections: tuple[Section, ...]

    def to_text(self) -> str:
        """The report as terminal text."""
        out = [self.title, "=" * len(self.title)]
        for s in self.sections:
            if s.text:  # HTML-only sections (figures) have no text
                out += ["", s.title, "-" * len(s.title), s.text]
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """The report as one self-contained HTML page."""
        body = "".join(
            f"<section><h2>{html.escape(s.title)}</h2>{s.html}</section>" for s in self.sections
        )
        stamp = _dt.datetime.now(tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{body}"
            f"<footer>touchpoint {html.escape(__version__)}, {stamp}</footer></body></html>"
        )

    def write_html(self, path: str) -> None:
        """Write :meth:`to_html` to ``path``."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_html())


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{padding:.25rem .6rem;"
    "border-bottom:1px solid #ddd;text-align:left}th{background:#f4f4f4}"
    "td:not(:first-child){font-variant-numeric:tabular-nums}h2{border-bottom:2px solid #446;"
    "padding-bottom:.2rem}footer{color:#888;font-size:.8rem;margin-top:3rem}"
    "img,svg{max-width:100%;height:auto}figure{margin:1rem 0 2rem}"
    "figcaption{color:#555;font-size:.9rem}"
)


def pct(x: float) -> str:
    """A share as a percentage with one decimal ("" for NaN)."""
    return "" if np.isnan(x) else f"{100 * x:.1f}%"
