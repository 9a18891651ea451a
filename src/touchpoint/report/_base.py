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
    from touchpoint.monitoring import Monitor
    from touchpoint.table import Table

__all__ = ["Report", "ReportContext", "Section", "pct"]


@attrs.frozen
class Figure:
    """A figure of the HTML report: an inline ``<svg>`` (or an HTML fragment) and its caption."""

    caption: str
    html: str
    interactive: bool = False
    #: Shown as wide as the page allows (up to 54rem), not only at its natural size.
    wide: bool = False


@attrs.frozen
class Section:
    """One part of the report: a title, plain text, an HTML fragment and its figures.

    ``html`` must already be escaped; use :meth:`from_table` or
    :func:`touchpoint.table.format_html` to build it safely. ``figures`` are
    shown beside the section's tables on wide screens and below them on
    narrow ones (HTML only; the text report has no figures).
    """

    title: str
    text: str
    html: str
    figures: tuple[Figure, ...] = ()

    @classmethod
    def from_table(
        cls,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        note: str = "",
        figures: Sequence[Figure] = (),
        caption: str = "",
    ) -> Section:
        """A section made of an optional note and one table."""
        text = format_text(headers, rows)
        note_html = f"<p>{html.escape(note)}</p>" if note else ""
        return cls(
            title=title,
            text=(note + "\n" if note else "") + text,
            html=note_html + format_html(headers, rows, caption=caption),
            figures=tuple(figures),
        )

    def with_figures(self, *figures: Figure | None) -> Section:
        """This section with ``figures`` (None entries skipped) appended."""
        return attrs.evolve(self, figures=self.figures + tuple(f for f in figures if f))


@attrs.frozen
class ReportContext:
    """What section builders get: the log, optional survey answers (``responses``) and design.

    ``figures`` says whether to draw (matplotlib installed and asked for),
    ``interactive`` whether to add the plotly view. ``cache`` holds analyses
    several sections share (see :mod:`touchpoint.report._shared`).
    """

    log: EventLog
    responses: Table | None = None
    design: Journey | None = None
    top: int = 10
    figures: bool = False
    interactive: bool = False
    #: A :class:`touchpoint.Monitor` to show (``build_report(monitor=...)``), else None.
    monitor: Monitor | None = None
    cache: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)


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

    def __repr__(self) -> str:
        n_fig = sum(len(s.figures) for s in self.sections)
        figs = f", {n_fig} figures" if n_fig else ""
        return f"Report({self.title!r}, {len(self.sections)} sections{figs})"

    def _repr_html_(self) -> str:
        """What a notebook shows: the report's body, styled, with its static figures only.

        The interactive view (several MB of plotly.js) stays in :meth:`to_html`.
        """
        body = self._body(interactive=False)
        return f'<div class="touchpoint-report">{body}</div><style>{_scoped_css()}</style>'

    def _body(self, *, interactive: bool = True) -> str:
        sections = self.sections
        if not interactive:
            sections = tuple(
                attrs.evolve(s, figures=tuple(f for f in s.figures if not f.interactive))
                for s in sections
            )
        return f"<h1>{html.escape(self.title)}</h1>" + "".join(_section_html(s) for s in sections)

    def to_html(self) -> str:
        """The report as one self-contained HTML page (works offline, prints cleanly).

        With an interactive figure the page carries plotly.js once, compressed
        (about 2 MB); without, it is a few hundred kB.
        """
        stamp = _dt.datetime.now(tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        scripts = ""
        if any(f.interactive for s in self.sections for f in s.figures):
            from touchpoint.report._interactive import plotly_loader

            scripts = plotly_loader()
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f'<main class="touchpoint-report">{self._body()}</main>'
            f"<footer>touchpoint {html.escape(__version__)}, {stamp}</footer>{scripts}</body></html>"
        )

    def write_html(self, path: str) -> None:
        """Write :meth:`to_html` to ``path``."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_html())


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def _figure_html(f: Figure) -> str:
    cls = ' class="interactive"' if f.interactive else (' class="wide"' if f.wide else "")
    return f"<figure{cls}>{f.html}<figcaption>{html.escape(f.caption)}</figcaption></figure>"


def _section_html(s: Section) -> str:
    import re

    body = re.sub(r"(<table[ >].*?</table>)", r'<div class="scroll">\1</div>', s.html, flags=re.S)
    head = f'<h2 id="{_slug(s.title)}">{html.escape(s.title)}</h2>'
    if not s.figures:
        return f"<section>{head}{body}</section>"
    lead = re.match(r"(\s*<p>.*?</p>)+", body, flags=re.S)  # notes span the page, above the pair
    if lead:
        head, body = head + lead.group(0), body[lead.end() :]
    static = [f for f in s.figures if not f.interactive]
    extra = "".join(_figure_html(f) for f in s.figures if f.interactive)
    figs = "".join(_figure_html(f) for f in static)
    if not body:
        return f'<section>{head}<div class="figures">{figs}</div>{extra}</section>'
    return (
        f'<section>{head}<div class="pair"><div class="tables">{body}</div>'
        f'<div class="figures">{figs}</div></div>{extra}</section>'
    )


#: The page's styles: readable from 800 px up (a table too wide scrolls inside its
#: own box rather than widen the page), a figure beside its table when both fit
#: (else below it), and
#: print styles that keep headings with what follows them.
_CSS = (
    ":root{--ink:#1d2230;--muted:#5a6275;--line:#e2e5ee;--accent:#3b5ba5;--soft:#f3f5fa}"
    "*{box-sizing:border-box}"
    "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);"
    "max-width:84rem;margin:0 auto;padding:1.5rem clamp(.75rem,3vw,2.5rem)}"
    "h1{font-size:1.75rem;margin:.3rem 0 1rem;line-height:1.2}"
    "h2{font-size:1.25rem;border-bottom:2px solid var(--accent);padding-bottom:.2rem;"
    "margin:2.2rem 0 .8rem}"
    "p{margin:.4rem 0 .8rem;max-width:60rem}"
    ".scroll{max-width:100%;overflow-x:auto}"
    "table{border-collapse:collapse;margin:.4rem 0 1.2rem;font-size:.875rem}"
    "caption{text-align:left;font-weight:600;padding:.2rem 0 .3rem;color:var(--ink)}"
    "th,td{padding:.28rem .55rem;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}"
    "th{background:var(--soft);font-weight:600}"
    "td{white-space:nowrap}td:first-child,td:last-child{white-space:normal}"
    "td:first-child{min-width:6rem}"
    "@media (max-width:960px){body{font-size:14px}table{font-size:.8rem}"
    "th,td{padding:.25rem .3rem}}"
    ".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "tfoot td{color:var(--muted);font-style:italic;border:0}"
    "ul.findings{background:var(--soft);border-left:4px solid var(--accent);margin:0;"
    "padding:.8rem 1.2rem .8rem 2.2rem;font-size:1rem}"
    "ul.findings li{margin:.3rem 0}"
    ".pair{display:flex;flex-wrap:wrap;gap:.5rem 2.5rem;align-items:flex-start}"
    ".pair>*{flex:0 1 auto;min-width:0;max-width:100%}"
    ".pair>.figures{flex:1 1 24rem;max-width:46rem}.pair p{max-width:40rem}"
    "figure{margin:.4rem 0 1.4rem;max-width:100%}"
    "figure svg,figure img{display:block;max-width:100%;height:auto}"
    "figure.interactive{width:100%}figure.wide svg{width:100%;max-width:54rem}"
    "figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}"
    "small{color:var(--muted)}"
    ".sankey-ends{font-size:.85rem;color:var(--muted);margin:.3rem 0}"
    ".sankey-ends .end{margin-left:1rem;white-space:nowrap}"
    ".swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;"
    "vertical-align:-.1rem;border-radius:2px}"
    "footer{color:#888;font-size:.8rem;margin-top:3rem}"
    "@media print{body{max-width:none;padding:0;font-size:10.5pt}"
    "h2{break-after:avoid;page-break-after:avoid}"
    "h2+*{break-before:avoid;page-break-before:avoid}"
    "table,figure,ul.findings,tr{break-inside:avoid;page-break-inside:avoid}"
    ".scroll{overflow:visible}.pair{display:block}figure.interactive{display:none}"
    "footer{margin-top:1rem}}"
)


def _scoped_css() -> str:
    """The page styles limited to ``.touchpoint-report`` (a notebook page has its own)."""
    import re

    parts = []
    for rule in re.findall(r"([^{}]+)\{([^{}]*)\}", _CSS.split("@media", maxsplit=1)[0]):
        sel, body = rule
        if sel.strip() in (":root", "*", "body"):
            sel = ".touchpoint-report" if sel.strip() != "*" else ".touchpoint-report *"
        else:
            sel = ",".join(f".touchpoint-report {x.strip()}" for x in sel.split(","))
        parts.append(f"{sel}{{{body}}}")
    # a notebook's own table styles (JupyterLab right-aligns every cell) must not
    # win over the report's: alignment is stated with !important inside the report
    parts.append(
        ".touchpoint-report th,.touchpoint-report td{text-align:left!important}"
        ".touchpoint-report td.num,.touchpoint-report th.num{text-align:right!important}"
    )
    return "".join(parts)


def pct(x: float) -> str:
    """A share as a percentage with one decimal ("" for NaN)."""
    return "" if np.isnan(x) else f"{100 * x:.1f}%"
