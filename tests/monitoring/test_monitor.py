"""`tp.monitor`: confidence sequences and the change alarm, checked against direct computations.

The sequence and the e-process are recomputed here the slow way (observation by
observation, change point by change point); small simulations with fixed seeds check
coverage at every look and the false-alarm rate; the per-look values are checked
against `tp.funnel`, `tp.csat`, `tp.nps` and `tp.ces` on each look's data.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import ValidationError
from touchpoint.monitoring import _sequences as seq

DAY = 86400.0


def _counts(rng: np.random.Generator, looks: int, size: int, p: float) -> np.ndarray:
    x = rng.binomial(size, p, looks)
    return np.stack([size - x, x], axis=1).astype(np.float64)


def test_sequence_equals_a_grid_search_over_single_observations():
    rng = np.random.default_rng(4)
    sizes = rng.integers(5, 60, 12)
    support = np.array([0.0, 0.5, 1.0])
    counts = np.array([rng.multinomial(n, [0.3, 0.3, 0.4]) for n in sizes], dtype=np.float64)
    low, high = seq.betting_cs(counts, support, 0.1)
    lam = seq.bets(counts, support, 0.1)
    grid = np.linspace(0, 1, 100_001)
    kept_lo, kept_hi = 0.0, 1.0
    up = np.zeros_like(grid)
    down = np.zeros_like(grid)
    for k in range(len(sizes)):
        # every observation of the look, one at a time, in a shuffled order
        xs = rng.permutation(np.repeat(support, counts[k].astype(int)))
        for x in xs:
            up += np.log(1 + lam[k] * (x - grid))
            down += np.log(1 - lam[k] * (x - grid))
        inside = np.maximum(up, down) < math.log(2 / 0.1)
        kept_lo = max(kept_lo, grid[inside].min())
        kept_hi = min(kept_hi, grid[inside].max())
        assert low[k] <= kept_lo + 1e-9 and kept_lo - low[k] < 2e-5
        assert high[k] >= kept_hi - 1e-9 and high[k] - kept_hi < 2e-5


def test_bets_follow_the_plug_in_formula():
    counts = np.array([[3.0, 1.0], [10.0, 10.0]])
    lam = seq.bets(counts, np.array([0.0, 1.0]), 0.05)
    # look 1: no data before, variance 1/4; look 2: 4 answers before, mean 1/4
    assert lam[0] == pytest.approx(min(0.5, math.sqrt(2 * math.log(40) / (0.25 * 4 * math.log(5)))))
    var = (0.25 + 3 * 0.25**2 + 1 * 0.75**2) / 5
    assert lam[1] == pytest.approx(
        min(0.5, math.sqrt(2 * math.log(40) / (var * 24 * math.log(25))))
    )


def test_coverage_at_every_look_and_the_vectorised_check_agree():
    rng = np.random.default_rng(7)
    runs, looks = 300, 300
    counts = np.stack([_counts(rng, looks, 200, 0.08) for _ in range(runs)])
    cover = seq.covers_everywhere(counts, np.array([0.0, 1.0]), 0.05, 0.08)
    assert cover.mean() >= 0.93  # nominal 95%; the full figure is on the Validation page
    for r in range(5):  # the shortcut says what the sequence itself says
        lo, hi = seq.betting_cs(counts[r], np.array([0.0, 1.0]), 0.05)
        assert bool(np.all((lo <= 0.08) & (hi >= 0.08))) == bool(cover[r])
    # a daily fixed-horizon 95% interval, looked at every day, misses far more often
    cum = np.cumsum(counts[:, :, 1], axis=1)
    n = np.arange(1, looks + 1) * 200.0
    half = 1.96 * np.sqrt(cum / n * (1 - cum / n) / n)
    fixed = np.all(np.abs(cum / n - 0.08) <= half, axis=1)
    assert fixed.mean() < 0.8


def _slow_evidence(counts, support, low, high, var, sizes):
    """Sum over change points j of w_j prod_{i>=j} e_i, plus the weight not started, mean over z."""
    looks = len(counts)
    fall = np.zeros(looks)
    rise = np.zeros(looks)
    for z in seq._SIZES:
        for sign, edge, out in ((-1, low, fall), (1, high, rise)):
            room = edge if sign > 0 else 1 - edge
            for k in range(looks):
                total = 1 / (k + 2)  # changes starting after look k
                for j in range(k + 1):
                    prod = 1.0
                    for i in range(j, k + 1):
                        lam = min(z * math.sqrt(var / sizes[i]) / var, 0.9 / room)
                        prod *= np.prod((1 + lam * sign * (support - edge)) ** counts[i])
                    total += prod / ((j + 1) * (j + 2))
                out[k] += total / len(seq._SIZES)
    return fall, rise


def test_change_evidence_equals_the_sum_over_change_points():
    rng = np.random.default_rng(2)
    support = np.array([0.0, 1.0])
    counts = np.vstack([_counts(rng, 6, 40, 0.3), _counts(rng, 6, 40, 0.15)])
    fall, rise = seq.change_evidence(
        counts, support, low=0.25, high=0.32, variance=0.2, look_size=counts.sum(axis=1)
    )
    want_fall, want_rise = _slow_evidence(counts, support, 0.25, 0.32, 0.2, counts.sum(axis=1))
    np.testing.assert_allclose(np.exp(fall), want_fall, rtol=1e-9)
    np.testing.assert_allclose(np.exp(rise), want_rise, rtol=1e-9)


def test_false_alarms_over_many_looks_stay_below_alpha():
    rng = np.random.default_rng(11)
    runs, looks = 400, 400
    support = np.array([0.0, 1.0])
    counts = np.stack([_counts(rng, looks, 300, 0.05) for _ in range(runs)])
    base = counts[:, :28]
    edges = np.array([seq.baseline_interval(b, support, 0.025) for b in base])
    var = np.array([0.05 * 0.95] * runs)
    fall, rise = seq.change_evidence(
        counts[:, 28:],
        support,
        low=edges[:, 0],
        high=edges[:, 1],
        variance=var,
        look_size=counts[0, 28:].sum(axis=1),
    )
    alarms = (np.logaddexp(fall, rise) - math.log(2) >= math.log(40)).any(axis=1)
    # under the null each run's probability is <= 5%; with 400 runs, 10% is ~5 SE above
    assert alarms.mean() <= 0.1
    # the baseline interval covers the truth in at least 97.5% - 3 SE of runs
    assert np.mean((edges[:, 0] <= 0.05) & (edges[:, 1] >= 0.05)) >= 0.95


def _daily_log(rates, size, seed, datetime=False):
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(len(rates)), size)
    bought = rng.random(len(day)) < np.asarray(rates)[day]
    t = day * DAY + rng.random(len(day)) * 3600
    if datetime:
        t = np.datetime64("2026-03-01T00:00:00") + (t * 1e9).astype("timedelta64[ns]")
    return tp.EventLog.from_arrays(
        np.arange(len(day)), np.full(len(day), "visit"), t, outcome=bought.astype(float)
    )


def test_conversion_monitor_finds_a_planted_fall_and_its_table_is_right():
    log = _daily_log([0.1] * 40 + [0.06] * 30, 600, seed=5)
    m = tp.monitor(log, period=DAY, baseline=28)
    t = m.table
    assert len(t) == 70 and list(t["look"]) == list(range(1, 71))
    conv = log.converted()
    day = np.floor(log.timestamp[log.offsets[:-1]] / DAY).astype(int)
    np.testing.assert_allclose(t["rate"], [conv[day == d].mean() for d in range(70)])
    np.testing.assert_allclose(t["estimate"][-1], conv.mean())
    assert np.all(t["n"] == 600)
    assert m.alarm and m.direction == "fall" and 40 < m.alarm_look <= 50
    assert np.all(t["alarm"] == (t["look"] >= m.alarm_look))
    assert np.all(np.isnan(t["evidence"][:28])) and np.all(t["evidence"][28:] > 0)
    lo, hi = m.baseline_interval
    assert lo < 0.1 < hi
    # the same counts through the arithmetic directly
    counts = np.stack([600 - t["rate"] * 600, t["rate"] * 600], axis=1).round()
    fall, rise = seq.change_evidence(
        counts[28:],
        np.array([0.0, 1.0]),
        low=lo,
        high=hi,
        variance=_base_var(counts),
        look_size=np.full(42, 600.0),
    )
    first = int(np.argmax(np.logaddexp(fall, rise) - math.log(2) >= math.log(40))) + 29
    assert first == m.alarm_look


def _base_var(counts):
    p = counts[:28, 1].sum() / counts[:28].sum()
    return p * (1 - p)


def test_no_alarm_without_a_change_and_reference_alarms_when_far():
    log = _daily_log([0.1] * 60, 500, seed=8)
    m = tp.monitor(log, period=DAY)
    assert not m.alarm and m.alarm_look is None and m.direction is None
    assert np.all(m.table["low"] <= 0.1) and np.all(m.table["high"] >= 0.1)
    far = tp.monitor(log, period=DAY, reference=0.13)
    assert far.alarm and far.direction == "fall" and far.alarm_look < 10
    assert far.baseline_interval == (0.13, 0.13)


def test_update_equals_one_monitor_over_everything_and_looks_are_never_rewritten():
    log = _daily_log([0.1] * 35, 200, seed=9, datetime=True)
    day = np.floor(
        (log.timestamp[log.offsets[:-1]] - np.datetime64("2026-03-01")) / np.timedelta64(1, "D")
    )
    whole = tp.monitor(log)
    first = tp.monitor(log.select_journeys(day < 20))
    # day 19 arrives in two parts: the second joins the last look
    part = log.select_journeys((day == 19) & (np.arange(len(day)) % 2 == 0))
    rest = log.select_journeys((day == 19) & (np.arange(len(day)) % 2 == 1) | (day >= 20))
    first = tp.monitor(log.select_journeys(day < 19)).update(part)
    both = first.update(rest)
    assert both.to_dict() == whole.to_dict()
    assert both.table["time"][0] == "2026-03-01"
    with pytest.raises(ValidationError, match=r"2026-03-05.*never rewritten"):
        both.update(log.select_journeys(day == 4))


def test_to_dict_survives_json():
    log = _daily_log([0.1] * 30 + [0.05] * 10, 300, seed=1)
    m = tp.monitor(log, period=DAY, baseline=20)
    back = tp.Monitor.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back.to_dict() == m.to_dict()
    for col in ("n", "rate", "estimate", "low", "high", "alarm"):
        np.testing.assert_array_equal(back.table[col], m.table[col])
    assert back.alarm_look == m.alarm_look
    with pytest.raises(ValidationError, match="format"):
        tp.Monitor.from_dict({"format": 99})


def test_step_monitor_rates_equal_funnel_per_day():
    rng = np.random.default_rng(3)
    rows = []
    for j in range(3000):
        d = j % 10
        t0 = d * DAY + rng.random() * 1000
        rows += [(j, "cart", t0)]
        if rng.random() < 0.6:
            rows += [(j, "checkout", t0 + 50)]
            if rng.random() < 0.5:
                rows += [(j, "buy", t0 + 100)]
    ids, tps, ts = zip(*rows, strict=True)
    log = tp.EventLog.from_arrays(list(ids), list(tps), list(ts))
    m = tp.monitor(log, "step", steps=["cart", "buy"], period=DAY, baseline=5)
    start = np.floor(log.timestamp[log.offsets[:-1]] / DAY)
    for d in range(10):
        f = tp.funnel(log.select_journeys(start == d), ["cart", "buy"])
        assert m.table["n"][d] == f.steps[0].reached
        assert m.table["rate"][d] == pytest.approx(f.steps[1].reached / f.steps[0].reached)
    with pytest.raises(ValidationError, match="steps"):
        tp.monitor(log, "step", period=DAY)


def test_survey_monitors_equal_the_score_functions_per_look():
    rng = np.random.default_rng(6)
    n = 1200
    time = np.repeat(np.arange(6), n // 6) * 1.0
    nps_answers = rng.integers(0, 11, n).astype(float)
    nps_answers[5] = np.nan
    m = tp.monitor({"score": nps_answers, "time": time}, "nps", period=1.0, baseline=3)
    for d in range(6):
        assert m.table["rate"][d] == pytest.approx(tp.nps(nps_answers[time == d]).score)
    csat_answers = rng.integers(1, 6, n)
    c = tp.monitor({"score": csat_answers, "time": time}, "csat", period=1.0, baseline=3)
    for d in range(6):
        assert c.table["rate"][d] == pytest.approx(tp.csat(csat_answers[time == d]).score / 100)
    ces_answers = rng.integers(1, 8, n)
    e = tp.monitor(
        {"rating": ces_answers, "at": time}, "ces", score="rating", time="at", period=1.0
    )
    for d in range(6):
        assert e.table["rate"][d] == pytest.approx(tp.ces(ces_answers[time == d]).score)
    assert np.all((e.table["low"] >= 1) & (e.table["high"] <= 7))


def test_bad_input_names_column_row_and_value():
    with pytest.raises(
        ValidationError, match=r"'score', row 2: 11 is not a whole number on the scale 0-10"
    ):
        tp.monitor({"score": [1, 2, 11], "time": [0.0, 0.0, 0.0]}, "nps", period=1.0)
    with pytest.raises(ValidationError, match="no 'when' column"):
        tp.monitor({"score": [1, 2]}, "csat", time="when", period=1.0)
    with pytest.raises(ValidationError, match="bucket width"):
        tp.monitor({"score": [1, 2], "time": [0.0, 1.0]}, "csat")
    with pytest.raises(ValidationError, match="EventLog"):
        tp.monitor({"score": [1]}, "conversion")
    with pytest.raises(ValidationError, match="reference"):
        tp.monitor(_daily_log([0.1], 10, 0), period=DAY, reference=1.5)


def test_plot_marks_the_alarm():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    m = tp.monitor(_daily_log([0.1] * 30 + [0.04] * 10, 500, seed=2), period=DAY)
    ax = m.plot()
    assert any("alarm" in t.get_text() for t in ax.get_legend().get_texts())
    plt.close(ax.figure)


def test_beta_binomial_sequence_equals_the_integrated_mixture():
    from scipy import integrate, optimize, stats

    counts = np.array([[22.0, 8.0]])  # one look: 8 successes in 30
    low, high = seq.beta_binomial_cs(counts, 0.1)

    def log_m(p):  # the mixture of likelihood ratios over the Beta(1/2, 1/2) prior
        f = lambda q: (q / p) ** 8 * ((1 - q) / (1 - p)) ** 22 * stats.beta.pdf(q, 0.5, 0.5)  # noqa: E731
        return math.log(integrate.quad(f, 0, 1, points=[8 / 30], limit=200)[0]) - math.log(10)

    assert low[0] == pytest.approx(optimize.brentq(log_m, 1e-6, 8 / 30), abs=1e-6)
    assert high[0] == pytest.approx(optimize.brentq(log_m, 8 / 30, 1 - 1e-6), abs=1e-6)


def test_beta_binomial_monitor_covers_and_refuses_scores():
    rng = np.random.default_rng(21)
    runs = 150
    miss = 0
    for _ in range(runs):
        c = _counts(rng, 150, 100, 0.2)
        lo, hi = seq.beta_binomial_cs(c, 0.05)
        miss += bool(np.any((lo > 0.2) | (hi < 0.2)))
    assert miss / runs <= 0.08
    log = _daily_log([0.1] * 30, 300, seed=4)
    m = tp.monitor(log, period=DAY, method="beta-binomial")
    assert m.method == "beta-binomial"
    assert tp.Monitor.from_dict(json.loads(json.dumps(m.to_dict()))).method == "beta-binomial"
    lo, hi = seq.beta_binomial_cs(np.asarray(m.counts, dtype=float), 0.05)
    np.testing.assert_allclose(m.table["low"], lo)
    with pytest.raises(ValidationError, match="for rates"):
        tp.monitor({"score": [1, 5], "time": [0.0, 1.0]}, "ces", period=1.0, method="beta-binomial")
