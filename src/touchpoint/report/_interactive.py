"""The report's optional interactive journey view: a step-by-step Sankey (plotly).

Installed with the ``interactive`` extra (``pip install "touchpoint-journeys[interactive]"``);
without plotly the report keeps its static SVG figures only. The view shows the
first steps of every journey: column *i* is the *i*-th touchpoint (consecutive
repeats of one touchpoint collapsed into one step), links are journeys moving on,
and the last column says how journeys ended (converted or left, within the
steps shown or later). Hover shows counts; nodes can be dragged. plotly.js is inlined
once per page, gzip-compressed (about 2.0 MB instead of 4.8 MB) and unpacked by the
browser, so the page stays one self-contained file that works offline.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import html
import importlib.util
import json
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["available", "journey_sankey_html", "plotly_loader", "sankey_links"]


#: How journeys end, the Sankey's last column: converted or left (without
#: converting) within the steps shown, or later; without conversions, ended or not.
_ENDS = (
    "converted",
    "converted later",
    "left",
    "left later",
    "ended",
    "more steps",
)


def available() -> bool:
    """Whether plotly is installed."""
    return importlib.util.find_spec("plotly") is not None


def sankey_links(
    log: EventLog, *, steps: int = 5, top: int = 8
) -> tuple[list[str], list[int], list[int], list[int]]:
    """Nodes and links of the step Sankey: ``(labels, sources, targets, counts)``.

    Consecutive repeats of a touchpoint count as one step. At each step the
    ``top`` most common touchpoints keep their name, the rest are ``other``.
    """
    j = np.asarray(log.journey, dtype=np.int64)
    t = np.asarray(log.touchpoint, dtype=np.int64)
    names = list(log.touchpoint_names)
    if len(j) == 0:
        return [], [], [], []
    keep = np.r_[True, (j[1:] != j[:-1]) | (t[1:] != t[:-1])]  # collapse self-loops
    j, t = j[keep], t[keep]
    n = len(j)
    start = np.r_[0, np.flatnonzero(j[1:] != j[:-1]) + 1]
    length = np.diff(np.r_[start, n])
    pos = np.arange(n) - np.repeat(start, length)
    other = len(names)
    # the top touchpoints of each step keep their name, the rest become "other"
    shown = pos < steps
    mapped = t.copy()
    for s in range(steps):
        at = shown & (pos == s)
        counts = np.bincount(t[at], minlength=other)
        keep_codes = np.argsort(-counts, kind="stable")[:top]
        mapped[at & ~np.isin(t, keep_codes)] = other
    width = other + 1 + len(_ENDS)  # node key = step * width + code (ends after "other")
    nxt = np.r_[j[1:] == j[:-1], False]
    move = np.flatnonzero(shown & nxt & (pos < steps - 1))
    src_key = pos[move] * width + mapped[move]
    dst_key = pos[move + 1] * width + mapped[move + 1]
    # how each journey ended: at its last event, or at its last shown step when longer
    last = np.r_[start[1:] - 1, n - 1]
    longer = pos[last] >= steps
    at = np.where(longer, start + steps - 1, last)
    if log.outcome is not None or log.conversions:
        conv = np.asarray(log.converted(), dtype=bool)
        end = np.where(conv, 0, 2) + longer.astype(np.int64)
    else:
        end = np.where(longer, 5, 4)
    src_key = np.r_[src_key, pos[at] * width + mapped[at]]
    dst_key = np.r_[dst_key, steps * width + other + 1 + end]
    pairs, counts = np.unique(np.c_[src_key, dst_key], axis=0, return_counts=True)
    keys, index = np.unique(pairs, return_inverse=True)
    index = index.reshape(pairs.shape)

    def label(key: int) -> str:
        code = key % width
        if code < other:
            return names[code]
        return "other" if code == other else _ENDS[code - other - 1]

    labels = [label(int(k)) for k in keys.tolist()]
    return labels, index[:, 0].tolist(), index[:, 1].tolist(), counts.tolist()


def journey_sankey_html(log: EventLog, *, steps: int = 5, top: int = 8) -> str | None:
    """The interactive Sankey as an HTML fragment (None without plotly).

    The fragment is a ``<div>`` and the figure's JSON, queued for
    :func:`plotly_loader` (which the report adds once, at the end of the page).
    """
    if not available() or log.n_events == 0:
        return None
    import plotly.graph_objects as go
    import plotly.io as pio

    labels, src, dst, counts = sankey_links(log, steps=steps, top=top)
    if not src:
        return None
    colour = {
        "converted": "#3a9d5d",
        "converted later": "#8cc7a0",
        "left": "#c0504d",
        "left later": "#e2a3a1",
        "more steps": "#9aa3b5",
        "ended": "#9aa3b5",
    }
    fig: Any = go.Figure(
        go.Sankey(
            arrangement="snap",
            # the ends (last column) are told by colour, named in the caption and on
            # hover: their labels would sit on the labels of the step before them
            node={
                "label": ["" if lb in _ENDS else lb for lb in labels],
                "customdata": labels,
                "pad": 14,
                "thickness": 14,
                "color": [colour.get(lb, "#5b7bc0") for lb in labels],
                "hovertemplate": "%{customdata}: %{value:,} journeys<extra></extra>",
            },
            link={
                "source": src,
                "target": dst,
                "value": counts,
                "customdata": [[labels[a], labels[b]] for a, b in zip(src, dst, strict=True)],
                "color": "rgba(91,123,192,0.25)",
                "hovertemplate": "%{customdata[0]} → %{customdata[1]}: %{value:,}<extra></extra>",
            },
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=_HEIGHT,
        font={"size": 12},
        autosize=True,
    )
    spec = json.loads(pio.to_json(fig, validate=False))
    spec["config"] = {"displaylogo": False, "responsive": True, "displayModeBar": False}
    data = _script_json(spec)
    div = (
        "touchpoint-plot-"
        + hashlib.sha1(data.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
    )
    ends = [lb for lb in dict.fromkeys(labels) if lb in _ENDS]
    key = "".join(
        f'<span class="end"><span class="swatch" style="background:{colour.get(lb, "#9aa3b5")}">'
        f"</span>{html.escape(lb)} ({sum(c for d, c in zip(dst, counts, strict=True) if labels[d] == lb):,})</span>"
        for lb in ends
    )
    return (
        f'<div id="{div}" class="touchpoint-plot" style="width:100%;height:{_HEIGHT}px"></div>'
        f'<div class="sankey-ends"><strong>Right column, how journeys ended:</strong> {key}</div>'
        f"<script>(window.touchpointPlots = window.touchpointPlots || []).push("
        f'["{div}", {data}]);</script>'
    )


_HEIGHT = 480


def _script_json(obj: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` from a touchpoint's name)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.cache
def _plotly_js_gzip_b64() -> str:
    from plotly.offline import get_plotlyjs

    raw = get_plotlyjs().encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


#: Unpacks plotly.js (gzip, base64) with the browser's DecompressionStream, then
#: draws every queued figure. Browsers without it (before 2023) show a note; the
#: static journey map above stays.
_LOADER = """(async () => {
  const queue = window.touchpointPlots || [];
  const note = text => queue.forEach(([id]) => {
    const el = document.getElementById(id);
    if (el) { el.style.height = "auto"; el.textContent = text; }
  });
  try {
    if (!window.Plotly) {
      const b64 = document.getElementById("touchpoint-plotlyjs").textContent;
      const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      const code = document.createElement("script");
      code.textContent = await new Response(stream).text();
      document.head.appendChild(code);
    }
    for (const [id, spec] of queue) {
      await Plotly.newPlot(id, spec.data, spec.layout, spec.config);
    }
  } catch (err) {
    note("The interactive view needs a newer browser (" + err + "); the journey map above "
         + "shows the same journeys.");
  }
})();"""


def plotly_loader() -> str:
    """plotly.js, gzip-compressed and base64-encoded, with the script that unpacks it.

    Added once per page, after the figures: about 2.0 MB instead of 4.8 MB of
    plain plotly.js, and the page still works offline.
    """
    return (
        '<script type="application/octet-stream" id="touchpoint-plotlyjs">'
        f"{_plotly_js_gzip_b64()}</script><script>{_LOADER}</script>"
    )
