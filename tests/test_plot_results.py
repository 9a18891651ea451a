"""``.plot()`` on every result with a natural picture, drawn with the one chart kit.

Each method and its ``touchpoint.plot`` function draw the same marks; the marks
are checked against the result's own numbers recomputed here (bar lengths, the
weekly rates from the raw events).
"""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from touchpoint import plot  # noqa: E402


def _ax():
    return Figure().subplots()


@pytest.fixture(scope="module")
def log():
    rng = np.random.default_rng(3)
    n = 600
    t0 = np.datetime64("2026-01-05T00:00", "s")
    start = t0 + (rng.integers(0, 28, n) * 86400).astype("timedelta64[s]")
    seg = rng.choice(["a", "b"], n)
    first = rng.choice(["ad", "mail"], n)
    p = np.where((seg == "b") & (start >= t0 + np.timedelta64(14 * 86400, "s")), 0.2, 0.6)
    go = rng.random(n) < p
    j = np.r_[np.arange(n), np.arange(n), np.flatnonzero(go)]
    tps = np.r_[first, np.full(n, "cart"), np.full(int(go.sum()), "buy")]
    ts = np.r_[start, start + np.timedelta64(60, "s"), start[go] + np.timedelta64(120, "s")]
    out = np.r_[np.zeros(2 * n), np.full(int(go.sum()), 10.0)]
    return tp.EventLog.from_arrays(j, tps, ts, outcome=out, extra={"seg": seg[j]})


def _bars(ax):
    return sorted(round(float(r.get_width()), 9) for r in ax.patches)


def test_removal_effects_plot_draws_the_positive_effects(log):
    effects = tp.removal_effects(tp.fit_markov(log))
    ax = effects.plot(ax=_ax())
    expected = sorted(round(float(e), 9) for e in effects.table["removal_effect"] if e > 0)
    assert _bars(ax) == expected and expected
    assert _bars(plot.attribution_bars(effects, ax=_ax())) == expected


def test_attribution_plot_draws_each_share(log):
    att = tp.attribution(log, "linear")
    ax = att.plot(ax=_ax())
    shares = sorted(round(float(x), 9) for x in att.table["share"] if x != 0)
    assert _bars(ax) == shares
    assert abs(sum(shares) - 1) < 1e-9  # the credit shares sum to one


def test_dropoffs_plot_is_the_weekly_rate_of_each_segment(log):
    res = tp.detect_dropoffs(
        log, ["cart", "buy"], by="seg", period="week", baseline="others", n_resamples=0
    )
    ax = res.plot(ax=_ax())
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"a", "b"}
    # segment b's weekly rate, counted from the raw events: cart -> buy within the journey
    paths = log.paths()
    seg = log.journey_column("seg")
    week = (log.timestamp[log.offsets[:-1]] - np.datetime64("2026-01-05", "s")).astype(
        "timedelta64[D]"
    ).astype(int) // 7
    rate = [
        np.mean(["buy" in paths[i] for i in range(len(paths)) if seg[i] == "b" and week[i] == w])
        for w in range(4)
    ]
    np.testing.assert_allclose(lines["b"].get_ydata()[:4], rate)
    assert ax.get_legend() is not None
    assert plot.dropoff_lines(res, ax=_ax()).get_lines()[0].get_ydata().tolist() == (
        lines["a"].get_ydata().tolist()
    )


def test_markov_model_plot_is_its_transition_matrix(log):
    m = tp.fit_markov(log)
    ax = m.plot(ax=_ax())
    shown = ax.get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(shown), m.transition_matrix.toarray())
    rows = np.asarray(shown).sum(axis=1)
    assert np.all((np.abs(rows - 1) < 1e-9) | (rows == 0))  # each row a distribution
