"""Plots: each renders to a non-empty PNG with the Agg backend and carries its labels."""

from __future__ import annotations

import io

import numpy as np
import pytest

import touchpoint as tp

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from touchpoint import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def png(ax) -> bytes:
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=60)
    data = buf.getvalue()
    assert data.startswith(b"\x89PNG")
    return data


def non_blank(data: bytes) -> bool:
    img = plt.imread(io.BytesIO(data))
    return float(np.ptp(img[..., :3])) > 0.1  # more than one colour


def texts(ax) -> set[str]:
    out = {t.get_text() for t in ax.texts}
    out |= {t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()}
    out |= {ax.get_title(), ax.get_xlabel(), ax.get_ylabel()}
    legend = ax.get_legend()
    if legend is not None:
        out |= {t.get_text() for t in legend.get_texts()}
    return out


@pytest.fixture
def journey():
    j = tp.Journey(stages=tp.stages.CUSTOMER_LIFECYCLE, name="shop")
    for name, stage in [
        ("ad", "awareness"),
        ("search", "awareness"),
        ("site", "consideration"),
        ("checkout", "purchase"),
        ("support", "usage"),
    ]:
        j.add_touchpoint(tp.Touchpoint(name, stage=stage, key=name == "checkout"))
    for a, b, c in [
        ("ad", "site", 8),
        ("search", "site", 4),
        ("site", "checkout", 3),
        ("site", "support", 1),
        ("checkout", "support", 2),
        ("support", "site", 1),
    ]:
        j.add_transition(a, b, count=c)
    return j


@pytest.fixture
def log():
    return tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2, 3, 3, 3],
        ["ad", "site", "checkout", "search", "site", "ad", "site", "support"],
        [0.0, 1, 2, 0, 1, 0, 1, 2],
    )


def test_journey_graph_layout_and_labels(journey):
    ax = plot.journey_graph(journey, edge_labels=True)
    assert non_blank(png(ax))
    t = texts(ax)
    assert {"ad", "search", "site", "checkout", "support"} <= t  # node labels
    assert {"awareness", "consideration", "purchase", "usage"} <= t  # stage headers
    assert "shop" in t
    assert "75%" in t  # site -> checkout = 3 / 4 (edge labels)
    # one arrow per edge, wider for likelier edges
    arrows = [p for p in ax.patches if p.__class__.__name__ == "FancyArrowPatch"]
    assert len(arrows) == journey.number_of_edges()
    widths = sorted(a.get_linewidth() for a in arrows)
    assert widths[-1] == pytest.approx(6.0)  # probability 1 edges at max_width
    # nodes of a stage share a column; columns follow stage order
    xy = ax.collections[0].get_offsets()
    assert xy[0][0] == xy[1][0] < xy[2][0] < xy[3][0] < xy[4][0]


def test_journey_graph_from_log_into_given_axes(log):
    _fig, ax = plt.subplots()
    out = plot.journey_graph(log, ax=ax, min_probability=0.5)
    assert out is ax
    assert non_blank(png(ax))
    # no stages: columns are the typical step (median position of the events)
    assert {"step 1", "step 2", "ad", "site"} <= texts(ax)


def test_journey_graph_rejects_other_objects():
    with pytest.raises(tp.ValidationError, match="journey"):
        plot.journey_graph(42)


def test_transition_heatmap(log, journey):
    ax = plot.transition_heatmap(log)
    assert non_blank(png(ax))
    t = texts(ax)
    assert {"ad", "site", "touchpoint (from)", "next touchpoint (to)", "Transitions"} <= t
    # site is left twice: once to checkout, once to support; ad and search always go to site
    assert {"0.50", "1.00"} <= t
    img = ax.images[0].get_array()
    assert np.allclose(np.asarray(img).sum(axis=1)[np.asarray(img).sum(axis=1) > 0], 1.0)
    counts = plot.transition_heatmap(journey, normalize=False)
    assert np.asarray(counts.images[0].get_array()).sum() == 19


def test_funnel_bars_with_wilson_intervals():
    ax = plot.funnel_bars({"step": ["visit", "cart", "buy"], "entered": [200, 50, 10]})
    assert non_blank(png(ax))
    t = texts(ax)
    assert {"visit", "cart", "buy", "Funnel"} <= t
    assert "50 (25.0%)" in t


def test_breakdown_from_table_sorted_with_ci():
    table = tp.Table(
        {
            "channel": ["web", "store", "app"],
            "nps": [12.0, 40.0, -5.0],
            "nps_low": [5.0, 30.0, -20.0],
            "nps_high": [19.0, 50.0, 10.0],
        }
    )
    ax = plot.breakdown(table)
    assert non_blank(png(ax))
    assert [x.get_text() for x in ax.get_yticklabels()] == ["app", "web", "store"]
    assert {
        "NPS by channel",
        "NPS (% promoters minus % detractors) (bars: 95% CI)",
        "channel",
    } <= texts(ax)
    bars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert len(bars) == 1
    segments = bars[0].lines[2][0].get_segments()  # sorted: app, web, store
    assert [tuple(np.round(s[:, 0], 6)) for s in segments] == [(-20, 10), (5, 19), (30, 50)]


def test_attribution_bars_grouped():
    ax = plot.attribution_bars(
        {
            "channel": ["social", "email", "search"],
            "markov": [0.5, 0.2, 0.3],
            "linear": [0.4, 0.3, 0.3],
        }
    )
    assert non_blank(png(ax))
    assert {"social", "email", "search", "markov", "linear", "Attribution"} <= texts(ax)
    assert len(ax.patches) == 6


def test_pandas_frames_are_accepted():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"touchpoint": ["ad", "email"], "credit": [0.7, 0.3]})
    ax = plot.attribution_bars(df)
    assert {"ad", "email", "credit"} <= texts(ax)


def test_figure_svg_is_inline_svg(journey):
    svg = plot.figure_svg(plot.journey_graph(journey))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "checkout" in svg or "<path" in svg
    assert plt.get_fignums() == []  # closed


def test_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, touchpoint.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_heatmap_follows_stage_order(journey):
    log = tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2],
        ["support", "site", "ad", "checkout", "search"],
        [0.0, 1, 2, 0, 1],
        design=journey,
    )
    ax = plot.transition_heatmap(log)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "ad",
        "search",
        "site",
        "checkout",
        "support",
    ]


def test_html_report_embeds_svg_figures(log, tmp_path):
    from touchpoint.report import build_report

    rep = build_report(log, interactive=False)
    page = rep.to_html()
    # no design: the process map and the step matrix stand in for the journey map
    assert page.count("<svg") == 3  # process map, step matrix, transition heatmap
    assert "<figcaption>Process map" in page and "The observed journey" not in page
    assert "Figures" not in rep.to_text()  # HTML only
    assert plt.get_fignums() == []  # report figures never touch pyplot


def test_html_report_without_matplotlib_has_no_figures(log, monkeypatch):
    import importlib.util

    from touchpoint.report import build_report

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    page = build_report(log).to_html()
    assert "<svg" not in page and "Figures" not in page


def test_cli_demo_html_has_figures(tmp_path, capsys):
    from touchpoint.cli import main

    out = tmp_path / "r.html"
    assert main(["demo", "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") >= 2
    assert "checkout_web" in page


# ------------------------------------------------- the analyses' own result objects
@pytest.fixture(scope="module")
def sample():
    return tp.datasets.load_sample()


def test_funnel_bars_from_a_funnel(sample):
    log, _, _ = sample
    f = tp.funnel(log, ["product_page", "add_to_cart", "checkout_web"])
    ax = plot.funnel_bars(f)
    assert non_blank(png(ax))
    assert {"product_page", "add_to_cart", "checkout_web"} <= texts(ax)
    table = f.to_table()
    shares = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(shares, table["from_first"])
    # error bars are the funnel's own intervals
    seg = next(c for c in ax.containers if type(c).__name__ == "ErrorbarContainer")
    lows = [s[0, 0] for s in seg.lines[2][0].get_segments()]
    np.testing.assert_allclose(lows, table["first_ci_low"])
    assert f"{table['reached'][1]:,} ({100 * table['from_first'][1]:.1f}%)" in texts(ax)


def test_breakdown_from_a_metric_table(sample):
    _, surveys, journey = sample
    table = tp.breakdown(surveys, metric="csat", by="channel", design=journey)
    ax = plot.breakdown(table)
    assert non_blank(png(ax))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(table["group"].tolist())
    assert labels[0] == table["group"][np.argmin(table["score"])]  # sorted by score
    assert table.title in texts(ax)


def test_attribution_bars_from_results(sample):
    log, _, _ = sample
    effects = tp.removal_effects(tp.fit_markov(log))
    ax = plot.attribution_bars(effects)
    assert non_blank(png(ax))
    assert {"Removal effects", "conversions lost without the touchpoint"} <= texts(ax)
    heights = sorted((p.get_width() for p in ax.patches), reverse=True)
    np.testing.assert_allclose(heights, np.sort(effects.effect[effects.effect != 0])[::-1])
    models = {m: tp.attribution(log, model=m) for m in ("markov", "last_touch", "linear")}
    ax = plot.attribution_bars(models)
    assert {"markov", "last touch", "linear", "Attribution by model"} <= texts(ax)
    # touchpoints no model credits (after the purchase) are left out
    assert "app_usage" not in texts(ax)


def test_heatmap_of_a_markov_model(sample):
    log, _, _ = sample
    model = tp.fit_markov(log)
    ax = plot.transition_heatmap(model)
    assert non_blank(png(ax))
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert "(start)" in names and "(conversion)" in names
    m = np.asarray(ax.images[0].get_array())
    i, j = names.index("add_to_cart"), names.index("checkout_web")
    assert m[i, j] == pytest.approx(model.probability("add_to_cart", "checkout_web"))


def test_funnel_plot_is_funnel_bars(sample):
    """One funnel chart: the method and the function draw the same bars on the same basis."""
    log = sample[0]
    f = tp.funnel(log, ["product_page", "add_to_cart", "checkout_web"])
    a = f.plot()
    b = plot.funnel_bars(f)
    widths_a = [p.get_width() for p in a.patches]
    widths_b = [p.get_width() for p in b.patches]
    np.testing.assert_allclose(widths_a, widths_b)
    np.testing.assert_allclose(widths_a, f.to_table()["from_first"])  # % of the first step
    assert texts(a) == texts(b)
    assert a.get_xlim() == b.get_xlim() == (0.0, 1.0)
    plt.close("all")
