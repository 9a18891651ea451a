"""The report's optional interactive journey view: a step-by-step Sankey (plotly).

Installed with the ``interactive`` extra (``pip install "touchpoint-journeys[interactive]"``);
without plotly the report keeps its static SVG figures only. The view shows the
first steps of every journey: column *i* is the *i*-th touchpoint (consecutive
repeats of one touchpoint collapsed into one step), links are journeys moving on,
and the last column says how journeys ended (converted or left, within the
steps shown or later). Hover shows counts; nodes can be dragged. plotly.js is inlined,
so the page stays one self-contained file that works offline.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["available", "journey_sankey_html", "sankey_links"]


_ENDS = (
    "converted",
    "converted later",
    "left without converting",
    "left without converting later",
    "journey ended",
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
    """The interactive Sankey as an HTML fragment with plotly.js inlined (None without plotly)."""
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
        "left without converting": "#c0504d",
        "left without converting later": "#e2a3a1",
        "more steps": "#9aa3b5",
        "journey ended": "#9aa3b5",
    }
    fig: Any = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 12,
                "thickness": 14,
                "color": [colour.get(lb, "#5b7bc0") for lb in labels],
                "hovertemplate": "%{label}: %{value:,} journeys<extra></extra>",
            },
            link={
                "source": src,
                "target": dst,
                "value": counts,
                "color": "rgba(91,123,192,0.25)",
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>",
            },
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=460,
        font={"size": 11},
        autosize=True,
    )
    out: str = pio.to_html(
        fig,
        include_plotlyjs=True,
        full_html=False,
        default_width="100%",
        default_height="460px",
        config={"displaylogo": False, "responsive": True},
    )
    return out
