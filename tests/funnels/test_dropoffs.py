"""Tests for drop-off detection (tp.detect_dropoffs) and change points.

References: scipy.stats (binom, fisher_exact), statsmodels (proportions_ztest),
brute-force change-point search."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import numpy as np
import pytest

import touchpoint as tp
from funnel_logs import (
    DAY,
    WEEK,
    make_log,
    simulate,
)
from touchpoint import EventLog
from touchpoint.funnels._dropoffs import binomial_changepoint

# ---------------------------------------------------------------------------
# drop-off detection
# ---------------------------------------------------------------------------


def test_ztest_and_expected_match_statsmodels():
    smp = pytest.importorskip("statsmodels.stats.proportion")
    log = simulate(np.random.default_rng(5), weeks=3, n=200, drop=0.0)
    res = tp.detect_dropoffs(
        log, ["0", "1", "2"], by="device", period=WEEK, baseline="others", test="z"
    )
    tests = res.tests
    assert res.n_tests == len(tests) == 2 * 3 * 3
    for row in tests.to_records()[:5]:
        _z, p = smp.proportions_ztest(
            [row["reached"], row["baseline_reached"]],
            [row["entered"], row["baseline_entered"]],
            alternative="smaller",
        )
        assert row["pvalue"] == pytest.approx(p)
        assert row["expected"] == pytest.approx(row["baseline_reached"] / row["baseline_entered"])


def test_exact_test_matches_scipy_fisher():
    stats = pytest.importorskip("scipy.stats")
    log = simulate(np.random.default_rng(6), weeks=3, n=40, drop=0.0)
    for alternative, alt in (("less", "less"), ("greater", "greater")):
        res = tp.detect_dropoffs(
            log,
            ["0", "1", "2"],
            by="device",
            period=WEEK,
            baseline="others",
            test="exact",
            alternative=alternative,
        )
        for row in res.tests.to_records()[:6]:
            a, n1 = row["reached"], row["entered"]
            b, n2 = row["baseline_reached"], row["baseline_entered"]
            _, p = stats.fisher_exact([[a, n1 - a], [b, n2 - b]], alternative=alt)
            assert row["pvalue"] == pytest.approx(p)
    with pytest.raises(tp.ValidationError, match="`test`"):
        tp.detect_dropoffs(log, ["0", "1"], period=WEEK, test="t")  # type: ignore[arg-type]


def test_midp_default_matches_an_independent_hypergeometric_sum():
    # mid-p: P(X < x) + P(X = x) / 2 for X ~ hypergeometric, summed term by term
    from math import comb

    log = simulate(np.random.default_rng(6), weeks=3, n=40, drop=0.0)
    res = tp.detect_dropoffs(log, ["0", "1", "2"], by="device", period=WEEK, baseline="others")
    for row in res.tests.to_records()[:6]:
        a, n1 = row["reached"], row["entered"]
        b, n2 = row["baseline_reached"], row["baseline_entered"]
        N, K = n1 + n2, a + b
        pmf = [comb(K, i) * comb(N - K, n1 - i) / comb(N, n1) for i in range(a + 1)]
        assert row["pvalue"] == pytest.approx(sum(pmf[:-1]) + pmf[-1] / 2, rel=1e-9)


def _segment_log(rng, n=6000, drop=0.3):
    """Units with device and region; a planted drop at step 2 for mobile from week 4.

    Region "west" is mostly mobile, so its rate falls too: an echo of the mobile drop.
    """
    device = rng.choice(["desktop", "mobile"], n)
    west = np.where(device == "mobile", rng.random(n) < 0.6, rng.random(n) < 0.05)
    region = np.where(west, "west", rng.choice(["north", "south"], n))
    week = rng.integers(0, 8, n)
    rate = np.where((device == "mobile") & (week >= 4), 0.6 - drop, 0.6)
    buy = rng.random(n) < rate
    nev = 1 + buy
    j = np.repeat(np.arange(n), nev)
    k = np.arange(len(j)) - np.repeat(np.cumsum(nev) - nev, nev)
    t = (week * WEEK + rng.random(n) * 5 * DAY)[j] + k * 60.0
    extra = {"device": device[j], "region": region[j]}
    return EventLog.from_arrays(j, np.array(["visit", "buy"])[k], t, extra=extra)


def test_several_segment_columns_form_one_family_and_echoes_are_explained():
    log = _segment_log(np.random.default_rng(3))
    both = tp.detect_dropoffs(log, ["visit", "buy"], by=["device", "region"], period=WEEK)
    one = tp.detect_dropoffs(log, ["visit", "buy"], by="device", period=WEEK)
    two = tp.detect_dropoffs(log, ["visit", "buy"], by="region", period=WEEK)
    # one Benjamini-Hochberg family over both columns' tests
    assert both.n_tests == one.n_tests + two.n_tests
    from touchpoint._lib.stats import benjamini_hochberg

    np.testing.assert_allclose(both.tests["qvalue"], benjamini_hochberg(both.tests["pvalue"]))
    assert set(both.tests["group"]) >= {"device=mobile", "region=west"}
    # the mobile drop is a finding; west (mostly mobile) is explained by it
    groups = {d.group for d in both}
    assert groups == {"device=mobile"}
    assert both.explained
    assert {d.explained_by for d in both.explained} == {"device=mobile"}
    # west, and any other region whose mobile customers carry a drop, are echoes
    assert "region=west" in {d.group for d in both.explained}
    row = both.tests.to_records()
    assert any(r["explained_by"] == "device=mobile" for r in row if r["group"] == "region=west")
    # alone, the region call reports west as a drop (nothing to explain it)
    assert "west" in {d.group for d in two}
    assert "explained" in repr(both)
    with pytest.raises(tp.ValidationError, match="`by`"):
        tp.detect_dropoffs(log, ["visit", "buy"], by=[], period=WEEK)


def test_next_steps_long_paths_fallback():
    paths = {i: list("abcabcabcabcab"[i % 3 :]) for i in range(6)}
    log = make_log(paths)
    t = tp.next_steps(log, after="a", depth=40, occurrence="all")  # 40 * log2(5) > 62 bits
    expected = Counter()
    for p in paths.values():
        for i, x in enumerate(p):
            if x == "a":
                expected[" > ".join([*p[i + 1 :], "(end)"])] += 1
    assert dict(zip(t["next"].tolist(), t["count"].tolist(), strict=True)) == expected


def test_steps_given_as_codes():
    # integer touchpoints become names "0", "1", "2"; steps may name them
    log = simulate(np.random.default_rng(0), weeks=2, n=50)
    assert log.touchpoint_names == ("0", "1", "2")
    assert tp.funnel(log, ["0", "1", "2"])["1"].entered == log.n_journeys


@pytest.mark.slow
def test_planted_drop_recall():
    # planted: mobile, weeks 7-9, cart -> checkout falls from 50% to 38% (about 600
    # cart entries per cell); recall = share of the 3 planted cells discovered.
    found, fdp, onsets = [], [], []
    for seed in range(50):
        log = simulate(np.random.default_rng(seed), n=750, drop=0.12)
        res = tp.detect_dropoffs(log, ["0", "1", "2"], by="device", period=WEEK, n_resamples=0)
        hits = {(d.step, d.group, d.period) for d in res}
        planted = {("2", "mobile", w * WEEK) for w in (7, 8, 9)}
        found.append(len(hits & planted) / 3)
        fdp.append(len(hits - planted) / max(len(hits), 1))
        onsets += [c.start for c in res.changes if c.group == "mobile" and c.step == "2"]
    assert np.mean(found) >= 0.9
    # false discovery proportion averages about alpha (0.051 over 300 runs when written)
    assert np.mean(fdp) <= 0.10
    assert Counter(onsets).most_common(1)[0][0] == 7 * WEEK  # the onset is found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("baseline", "test"), [("past", "z"), ("others", "z"), ("rest", "z"), ("past", "exact")]
)
def test_null_false_discovery_control(baseline, test):
    # 200 null runs: BH at alpha=0.05 bounds P(any discovery) by about alpha under the
    # global null. Tolerance: alpha + 3 binomial standard errors, 0.05 + 3 * 0.0154 = 0.096.
    # Measured when written: past 0.04, others 0.07, rest 0.05; exact test: past 0.025.
    any_found = 0
    for seed in range(200):
        log = simulate(np.random.default_rng(1000 + seed), weeks=8, n=150, drop=0.0)
        res = tp.detect_dropoffs(
            log,
            ["0", "1", "2"],
            by="device",
            period=WEEK,
            baseline=baseline,
            test=test,
            n_resamples=0,
        )
        any_found += len(res) > 0
    assert any_found / 200 <= 0.096


def test_baselines_and_alternatives():
    log = simulate(np.random.default_rng(7), weeks=10, n=400, drop=0.2)
    steps = ["0", "1", "2"]
    for baseline in ("others", "past", "rest"):
        res = tp.detect_dropoffs(log, steps, by="device", period=WEEK, baseline=baseline)
        assert {(d.group, d.step) for d in res} == {("mobile", "2")}, baseline
        assert res.baseline == baseline
        assert all(d.effect < 0 for d in res)
        effects = [d.effect for d in res]
        assert effects == sorted(effects)
    up = tp.detect_dropoffs(log, steps, by="device", period=WEEK, alternative="greater")
    assert all(d.effect > 0 for d in up)
    two = tp.detect_dropoffs(log, steps, by="device", period=WEEK, alternative="two-sided")
    assert len(two) >= 3
    no_time = tp.detect_dropoffs(log, steps, by="device", period=None)
    assert no_time.baseline == "others"
    assert all(d.period is None for d in no_time)
    d = two[0]
    assert d.ci.contains(d.rate)
    assert tuple(d.confidence_interval()) == tuple(d.ci)
    assert "DropOff(1 -> 2" in repr(d)
    assert "since=" in repr(d)
    assert "drop-offs among" in res._repr_html_()
    assert res.to_table()["group"].tolist() == [x.group for x in res]
    assert "expected" in res.to_text()


def test_detect_dropoffs_datetime_weeks():
    log = simulate(np.random.default_rng(8), weeks=12, n=400, drop=0.2)
    origin = np.datetime64("2026-01-05T00:00:00", "ns")  # a Monday
    t = origin + (log.timestamp * 1e9).astype("timedelta64[ns]")
    dlog = EventLog.from_arrays(log.journey, log.touchpoint, t, extra=dict(log.extra))
    res = tp.detect_dropoffs(dlog, ["0", "1", "2"], by="device", period="week")
    weeks = {d.period for d in res}
    assert weeks == {"2026-02-23", "2026-03-02", "2026-03-09"}  # weeks 7-9 of 2026-01-05
    assert res.changes[0].start == "2026-02-23"
    assert res.changes[0].end == "2026-03-09"
    daily = tp.detect_dropoffs(dlog, ["0", "1", "2"], by="device", period="day")
    assert daily.n_tests > res.n_tests
    monthly = tp.detect_dropoffs(dlog, ["0", "1", "2"], by="device", period="month")
    assert {str(p)[:4] for p in monthly.tests["period"]} == {"2026"}


def test_detect_dropoffs_timedelta_period_on_datetimes():
    log = simulate(np.random.default_rng(8), weeks=12, n=400, drop=0.2)
    origin = np.datetime64("2026-01-05T00:00:00", "ns")
    t = origin + (log.timestamp * 1e9).astype("timedelta64[ns]")
    dlog = EventLog.from_arrays(log.journey, log.touchpoint, t, extra=dict(log.extra))
    res = tp.detect_dropoffs(dlog, ["0", "1", "2"], by="device", period=dt.timedelta(days=7))
    # periods are counted from the epoch (a Thursday): 2026-02-19 starts the week of week 7
    strong = [d for d in res if d.qvalue < 0.01]
    assert {(d.group, d.step) for d in strong} == {("mobile", "2")}
    assert min(d.period for d in strong) == "2026-02-19T00:00:00"


def test_detect_dropoffs_errors():
    log = simulate(np.random.default_rng(0), weeks=2, n=50)
    with pytest.raises(tp.ValidationError, match="`baseline`"):
        tp.detect_dropoffs(log, ["0", "1"], baseline="yesterday")  # type: ignore[arg-type]
    with pytest.raises(tp.ValidationError, match="give 'by'"):
        tp.detect_dropoffs(log, ["0", "1"], period=None)
    with pytest.raises(tp.ValidationError, match="give 'period'"):
        tp.detect_dropoffs(log, ["0", "1"], by="device", period=None, baseline="past")
    with pytest.raises(tp.ValidationError, match="datetime"):
        tp.detect_dropoffs(log, ["0", "1"], period="week")
    with pytest.raises(tp.ValidationError, match="`alpha`"):
        tp.detect_dropoffs(log, ["0", "1"], period=WEEK, alpha=2)


def test_changepoint_matches_brute_force():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(11)
    n = rng.integers(20, 200, 9)
    x = rng.binomial(n, np.where(np.arange(9) >= 5, 0.3, 0.5))
    best = (-np.inf, None)
    p0 = x.sum() / n.sum()
    l0 = stats.binom.logpmf(x, n, p0).sum()
    for a, b in itertools.combinations_with_replacement(range(9), 2):
        if (a, b) == (0, 8):
            continue
        inside = (np.arange(9) >= a) & (np.arange(9) <= b)
        pin, pout = x[inside].sum() / n[inside].sum(), x[~inside].sum() / n[~inside].sum()
        if pin >= pout:
            continue
        l1 = stats.binom.logpmf(x, n, np.where(inside, pin, pout)).sum()
        best = max(best, (2 * (l1 - l0), (a, b)))
    a, b, stat, p = binomial_changepoint(x, n, n_resamples=99, seed=1)
    assert (a, b) == best[1]
    assert stat == pytest.approx(best[0])
    assert 0 < p <= 1
    _, _, _, p_none = binomial_changepoint([5, 5, 5], [10, 10, 10])
    assert p_none == 1.0
    with pytest.raises(tp.ValidationError):
        binomial_changepoint([1], [2])
