"""The journey map as the report draws it: readable in an 800 px page, no text on text.

The sample log (with its design: one column per stage) and the same events
without a design (one column per typical step) are drawn at the report's size;
every text and every node is measured after layout. "Readable" is the label's
height in CSS pixels once the SVG is scaled to the 752 px content column of an
800 px page (the SVG is ``bbox_inches="tight"``, so its natural width is read
from the SVG itself).
"""

from __future__ import annotations

import itertools
import re

import pytest

import touchpoint as tp

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from touchpoint import plot  # noqa: E402
from touchpoint.datasets import load_sample, sample_path  # noqa: E402

COLUMN_PX = 752  # the report's content width in an 800 px window (measured in Chromium)


def _report_map(log, design):
    observed = tp.Journey.from_events(log, design=design)
    steps = plot.step_positions(log)
    size = plot._journey_size(*plot._journey_layout(observed, steps))
    ax = Figure(figsize=size, layout="constrained").subplots()
    plot.journey_graph(observed, ax=ax, min_probability=0.05, edge_labels=True, steps=steps)
    return ax, observed


@pytest.fixture(scope="module")
def maps():
    sample = load_sample()
    bare = tp.read_csv(sample_path("events.csv.gz"), journey="customer_id")  # no design
    return {
        "by stage": _report_map(sample.events, sample.design),
        "by step": _report_map(bare, None),
    }


@pytest.mark.parametrize("kind", ["by stage", "by step"])
def test_journey_map_labels_are_readable_at_800px(maps, kind):
    ax, observed = maps[kind]
    svg = plot.figure_svg(ax)
    natural_px = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1)) * 96 / 72
    scale = min(1.0, COLUMN_PX / natural_px)  # max-width: 100% shrinks, never grows
    node_labels = [
        t
        for t in ax.texts
        if t.get_text().replace("\n", "").rstrip("…")[:6] in {n[:6] for n in observed.nodes}
    ]
    assert len(node_labels) >= len(observed.nodes)
    px = [t.get_fontsize() * 96 / 72 * scale for t in node_labels]
    assert min(px) >= 11.0, (natural_px, min(px))  # was 5.9 px (7.5 pt in a 13 in figure)
    every = [t.get_fontsize() * 96 / 72 * scale for t in ax.texts]
    assert min(every) >= 9.0  # edge labels and repeat marks too (were 5.1 px)


@pytest.mark.parametrize("kind", ["by stage", "by step"])
def test_journey_map_has_no_text_on_text_or_nodes(maps, kind):
    ax, observed = maps[kind]
    fig = ax.figure
    fig.draw_without_rendering()
    boxes = [(t.get_text(), t.get_window_extent()) for t in ax.texts if t.get_visible()]
    assert len(boxes) > len(observed.nodes)  # names, headers and edge labels
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        assert not ba.overlaps(bb), (a, b)
    # no text covers a node (each label sits beside its own circle; node area: traffic)
    offsets = ax.collections[0].get_offsets()
    sizes = ax.collections[0].get_sizes()
    assert len(set(sizes.tolist())) > 3  # nodes differ in size (every node was one size)
    for (x, y), s in zip(ax.transData.transform(offsets), sizes.tolist()):
        r = s**0.5 / 2 * fig.dpi / 72
        circle = Bbox.from_extents(x - r, y - r, x + r, y + r)
        for text, box in boxes:
            assert not box.overlaps(circle), text
    # and everything stays inside the figure
    page = fig.bbox
    for text, box in boxes:
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, text


def test_step_columns_are_capped():
    bare = tp.read_csv(sample_path("events.csv.gz"), journey="customer_id")
    steps = plot.step_positions(bare)
    pos, headers = plot._journey_layout(tp.Journey.from_events(bare), steps)
    distinct = sorted({round(v) for v in steps.values()})
    assert len(distinct) > 8  # the sample's typical steps need the cap
    # seven columns of their own, then the later steps share the eighth
    assert headers == [f"step {v + 1}" for v in distinct[:7]] + [f"step {distinct[7] + 1}+"]
    late = {n for n, v in steps.items() if round(v) >= distinct[7]}
    assert {n for n, (x, _) in pos.items() if x == 7} == late


def test_long_names_wrap_after_separators():
    assert plot._wrap("onboarding_email", 11) == "onboarding_\nemail"
    assert plot._wrap("ad", 11) == "ad"
    assert plot._wrap("pre-awareness", 11, cut=False) == "pre-\nawareness"
    assert plot._wrap("a_b_c_d_e_f_g_h_i_j_k_l_m_n", 4, 3).count("\n") == 2
    assert plot._wrap("supercalifragilistic", 10) == "supercalifr…"
