"""Tests for funnels (touchpoint.funnel), drop-off detection (touchpoint.dropoffs)
and path exploration / conformance (touchpoint.explore).

References: a brute-force matcher written here (exhaustive search over all
attempts and all index sequences), scipy.stats (chi2_contingency, binom) and
statsmodels (proportion_confint, proportions_ztest).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import touchpoint as tp
from touchpoint import EventLog, Journey, Touchpoint
from touchpoint.dropoffs import binomial_changepoint

DAY = 86400.0
WEEK = 7 * DAY


def make_log(paths, times=None, extra=None, **kw):
    """A log from {journey: [touchpoints]} (times 0, 1, 2, ... unless given)."""
    j, t_, tm = [], [], []
    for jid, path in paths.items():
        ts = times[jid] if times is not None else range(len(path))
        for name, when in zip(path, ts, strict=True):
            j.append(jid)
            t_.append(name)
            tm.append(float(when))
    return EventLog.from_arrays(j, t_, np.array(tm), extra=extra, **kw)


# ---------------------------------------------------------------------------
# brute-force reference
# ---------------------------------------------------------------------------
def brute_depth(events, steps, mode, window, exclude):
    """Deepest step reached by the best attempt (exhaustive search)."""
    n = len(events)
    win = np.inf if window is None else window
    best = 0
    union = set().union(*steps)
    for s in range(n):
        if mode == "any":
            if events[s][0] not in union:
                continue
            stop = next((i for i in range(s, n) if events[i][0] in exclude), n)
            depth = 0
            for step in steps:
                if any(
                    events[e][0] in step and events[e][1] - events[s][1] <= win
                    for e in range(s, stop)
                ):
                    depth += 1
                else:
                    break
            best = max(best, depth)
            continue
        if events[s][0] not in steps[0]:
            continue
        depth = 1
        if mode == "strict":
            while (
                depth < len(steps)
                and s + depth < n
                and events[s + depth][0] in steps[depth]
                and events[s + depth][1] - events[s][1] <= win
            ):
                depth += 1
        else:  # ordered: exhaustive over index sequences

            def dfs(i, k, t0):
                if k == len(steps):
                    return k
                out = k
                for e in range(i + 1, n):
                    if events[e][0] in exclude:
                        break
                    if events[e][0] in steps[k] and events[e][1] - t0 <= win:
                        out = max(out, dfs(e, k + 1, t0))
                return out

            depth = dfs(s, 1, events[s][1])
        best = max(best, depth)
    return best


def brute_counts(paths, times, steps, mode, window, exclude):
    depths = [
        brute_depth(list(zip(paths[j], times[j], strict=True)), steps, mode, window, exclude)
        for j in paths
    ]
    return [sum(d > k for d in depths) for k in range(len(steps))]


journeys = st.dictionaries(
    st.integers(0, 30),
    st.lists(st.sampled_from("abcdx"), min_size=1, max_size=7),
    min_size=1,
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(
    paths=journeys,
    mode=st.sampled_from(["ordered", "strict", "any"]),
    window=st.sampled_from([None, 1.5, 3.0]),
    use_exclude=st.booleans(),
    steps=st.sampled_from(
        [("a", "b", "c"), ("a", "b"), ("b", "a", "c"), (("a", "b"), "c"), ("a", "a", "b")]
    ),
)
def test_funnel_matches_brute_force(paths, mode, window, use_exclude, steps):
    step_sets = [set(s) if isinstance(s, tuple) else {s} for s in steps]
    if mode == "any" and len(set().union(*step_sets)) < sum(len(s) for s in step_sets):
        return  # any-order needs disjoint steps (tested separately)
    times = {j: [float(i) for i in range(len(p))] for j, p in paths.items()}
    exclude = {"x"} if use_exclude else set()
    log = make_log(paths)
    known = set(log.touchpoint_names)
    spec = [s if isinstance(s, str) else set(s) for s in steps]
    if not all(s <= known for s in step_sets):
        return
    spec = [s if isinstance(s, str) else sorted(s) for s in spec]
    f = tp.funnel(log, spec, mode=mode, window=window, exclude=exclude & known)
    expected = brute_counts(paths, times, step_sets, mode, window, exclude)
    assert [s.reached for s in f.steps] == expected


@settings(max_examples=50, deadline=None)
@given(
    paths=journeys,
    mode=st.sampled_from(["ordered", "strict", "any"]),
    gap=st.sampled_from([0.5, 2.5, 100.0]),
)
def test_invariants(paths, mode, gap):
    log = make_log(paths, extra=None)
    steps = [s for s in ("a", "b", "c") if s in log.touchpoint_names]
    if not steps:
        return
    f = tp.funnel(log, steps, mode=mode)
    reached = [s.reached for s in f.steps]
    assert reached == sorted(reached, reverse=True)  # required steps only shrink
    assert all(s.entered - s.reached == s.dropped for s in f.steps)
    # a wider window never loses conversions; no window is the widest
    narrow = tp.funnel(log, steps, mode=mode, window=1.0)
    wide = tp.funnel(log, steps, mode=mode, window=3.0)
    for a, b, c in zip(narrow.steps, wide.steps, f.steps, strict=True):
        assert a.reached <= b.reached <= c.reached
    # customers made of sessions: same as the unsessionized journeys
    sess = log.sessionize(gap=gap)
    by_customer = tp.funnel(sess, steps, mode=mode, count="customers")
    assert [s.reached for s in by_customer.steps] == reached
    # segments partition the units
    seg = np.array([str(j % 2) for j in log.journey_ids[log.journey]], dtype=object)
    seg_log = EventLog.from_arrays(
        log.journey_ids[log.journey],
        np.array(log.touchpoint_names, dtype=object)[log.touchpoint],
        log.timestamp,
        extra={"seg": seg},
    )
    g = tp.funnel(seg_log, steps, mode=mode, by="seg")
    for k, s in enumerate(f.steps):
        assert sum(x.steps[k].reached for x in g.segments.values()) == s.reached
        assert sum(x.steps[k].entered for x in g.segments.values()) == s.entered


# ---------------------------------------------------------------------------
# hand-built logs with known answers
# ---------------------------------------------------------------------------
PATHS = {
    1: ["a", "b", "c"],  # straight through
    2: ["a", "x", "b", "c"],  # other event between a and b
    3: ["b", "a", "c"],  # out of order
    4: ["a", "b"],  # drops before c
    5: ["x", "a"],  # drops before b
    6: ["c"],  # never starts
}


def test_modes_known_answers():
    log = make_log(PATHS)
    strict = tp.funnel(log, ["a", "b", "c"], mode="strict")
    ordered = tp.funnel(log, ["a", "b", "c"], mode="ordered")
    anyo = tp.funnel(log, ["a", "b", "c"], mode="any")
    assert [s.reached for s in strict.steps] == [5, 2, 1]  # 1, 4 reach b; only 1 reaches c
    assert [s.reached for s in ordered.steps] == [5, 3, 2]  # 1, 2, 4 reach b; 1, 2 reach c
    assert [s.reached for s in anyo.steps] == [5, 4, 3]  # 3 counts in any order
    assert [s.entered for s in ordered.steps] == [6, 5, 3]
    assert [s.dropped for s in ordered.steps] == [1, 2, 1]
    s = ordered["b"]
    assert s.conversion == pytest.approx(3 / 5)
    assert s.conversion_from_first == pytest.approx(3 / 5)
    assert ordered["c"].conversion_from_first == pytest.approx(2 / 5)
    assert ordered["c"].drop_rate == pytest.approx(1 / 3)


def test_window_known_answers():
    paths = {1: ["a", "b", "c"], 2: ["a", "b", "c"], 3: ["a", "a", "b"]}
    times = {1: [0, 1, 2], 2: [0, 5, 50], 3: [0, 100, 101]}
    log = make_log(paths, times)
    f = tp.funnel(log, ["a", "b", "c"], window=10.0)
    # journey 2 reaches b (5 <= 10) but not c (50 > 10); journey 3's second attempt reaches b
    assert [s.reached for s in f.steps] == [3, 3, 1]
    assert tp.funnel(log, ["a", "b"], window=dt.timedelta(seconds=0.5))["b"].reached == 0
    assert tp.funnel(log, ["a", "b", "c"])["c"].reached == 2


def test_window_with_datetimes_and_time_quartiles():
    t0 = np.datetime64("2026-01-05T00:00:00")
    minutes = np.timedelta64(1, "m")
    j = [1, 1, 2, 2, 3, 3, 4, 4]
    names = ["a", "b"] * 4
    t = [t0 + minutes * m for m in (0, 1, 0, 2, 0, 3, 0, 60)]
    log = EventLog.from_arrays(j, names, np.array(t))
    f = tp.funnel(log, ["a", "b"])
    assert f["b"].time_median == pytest.approx(np.median([60, 120, 180, 3600]))
    assert f["b"].time_q1 == pytest.approx(np.percentile([60, 120, 180, 3600], 25))
    assert f.time_unit == "s"
    assert tp.funnel(log, ["a", "b"], window=dt.timedelta(minutes=30))["b"].reached == 3
    assert tp.funnel(log, ["a", "b"], window=np.timedelta64(150, "s"))["b"].reached == 2


def test_exits_and_next_events():
    log = make_log(PATHS)
    f = tp.funnel(log, ["a", "b", "c"])
    # dropped at b: journeys 3 (b a c: a then c... ) and 5 (x a)
    assert dict(f["b"].exits) == {"c": 1, "a": 1}
    assert dict(f["b"].next_events) == {"c": 1, "(end)": 1}
    assert dict(f["c"].exits) == {"b": 1}
    assert f["a"].exits == ()
    t = f.exits("b")
    assert t["share"].sum() == pytest.approx(1.0)
    assert f.next_events("c").to_records() == [{"touchpoint": "(end)", "count": 1, "share": 1.0}]


def test_exclude_disqualifies_between_steps():
    paths = {1: ["a", "x", "b"], 2: ["a", "b", "x"], 3: ["a", "x", "b", "a", "b"]}
    log = make_log(paths)
    f = tp.funnel(log, ["a", "b"], exclude=["x"])
    assert f["b"].reached == 2  # 1 excluded; 2 fine; 3 by its second attempt
    assert tp.funnel(log, ["a", "b"])["b"].reached == 3


def test_optional_steps():
    paths = {1: ["a", "o", "b"], 2: ["a", "b"], 3: ["a", "b", "o"], 4: ["a", "o"]}
    log = make_log(paths)
    f = tp.funnel(log, ["a", "o", "b"], optional=["o"])
    assert f["o"].optional
    assert f["o"].reached == 2  # journey 3's o comes after b; journey 4's counts
    assert f["o"].dropped == 0
    assert f["b"].entered == 4
    assert f["b"].reached == 3
    assert f["b"].dropped == 1
    g = tp.funnel(log, ["a", "o", "b"], optional=[1], mode="strict")
    assert g["b"].reached == 3
    assert g["o"].reached == 2
    with pytest.raises(tp.ValidationError, match="first step"):
        tp.funnel(log, ["a", "b"], optional=[0])
    with pytest.raises(tp.ValidationError, match="unknown step"):
        tp.funnel(log, ["a", "b"], optional=["zz"])


def test_stage_steps_from_design():
    design = Journey(
        stages=tp.stages.CUSTOMER_LIFECYCLE,
        touchpoints=[
            Touchpoint("ad", stage="awareness"),
            Touchpoint("tv", stage="awareness"),
            Touchpoint("site", stage="consideration"),
            Touchpoint("buy", stage="purchase"),
        ],
    )
    paths = {1: ["tv", "site", "buy"], 2: ["ad", "site"], 3: ["site"]}
    log = make_log(paths, design=design)
    f = tp.funnel(log)  # default: the design's stages with touchpoints
    assert [s.label for s in f.steps] == ["awareness", "consideration", "purchase"]
    assert [s.reached for s in f.steps] == [2, 2, 1]
    assert f["awareness"].touchpoints == ("ad", "tv")
    g = tp.funnel(log, [{"ad", "tv"}, "buy"])
    assert g.steps[0].label == "ad | tv"
    assert g["buy"].reached == 1


def test_count_units_customers_and_sessions():
    # customer c has two sessions: a b (session 1), then c much later (session 2)
    log = make_log({"c": ["a", "b", "c"], "d": ["a", "c"]}, {"c": [0, 1, 10_000], "d": [0, 1]})
    sess = log.sessionize(gap=100.0)
    assert sess.n_journeys == 3
    by_session = tp.funnel(sess, ["a", "b", "c"], count="sessions")
    by_customer = tp.funnel(sess, ["a", "b", "c"], count="customers")
    assert by_session.n_units == 3
    assert [s.reached for s in by_session.steps] == [2, 1, 0]
    assert by_customer.n_units == 2
    assert [s.reached for s in by_customer.steps] == [2, 1, 1]
    # without a customer column, journeys are the customers
    assert tp.funnel(log, ["a", "b", "c"], count="customers")["c"].reached == 1
    with pytest.raises(tp.ValidationError, match="sessionize"):
        tp.funnel(log, ["a"], count="sessions")


def test_customers_regrouped_when_not_contiguous():
    j = [1, 1, 2, 2]
    log = EventLog.from_arrays(
        j, ["a", "b", "a", "c"], np.array([0.0, 1, 2, 3]), extra={"customer": ["x", "y", "x", "y"]}
    )
    f = tp.funnel(log, ["a", "c"], count="customers")
    # customer x: a(0) a(2); customer y: b(1) c(3): neither does a then c
    assert f.n_units == 2
    assert f["c"].reached == 0
    g = tp.funnel(log, ["b", "c"], count="customers")
    assert g["c"].reached == 1


def test_confidence_intervals_match_statsmodels():
    sm = pytest.importorskip("statsmodels.stats.proportion")
    f = tp.funnel(make_log(PATHS), ["a", "b", "c"])
    s = f["b"]
    lo, hi = sm.proportion_confint(3, 5, alpha=0.05, method="wilson")
    assert tuple(s.confidence_interval()) == pytest.approx((lo, hi))
    lo, hi = sm.proportion_confint(2, 5, alpha=0.1, method="beta")
    ci = f["c"].confidence_interval(0.9, "exact", of="first")
    assert tuple(ci) == pytest.approx((lo, hi))
    with pytest.raises(tp.ValidationError, match="'of'"):
        s.confidence_interval(of="last")  # type: ignore[arg-type]


def _segmented_log(rng, rates, n=400):
    """Journeys a -> b with conversion rates[g] in segment g."""
    j, names, seg = [], [], []
    jid = 0
    for g, r in rates.items():
        conv = rng.random(n) < r
        for c in conv:
            j += [jid] * (1 + c)
            names += ["a", "b"][: 1 + c]
            seg += [g] * (1 + c)
            jid += 1
    t = np.zeros(len(j))
    t[1:] = np.where(np.diff(j) == 0, 1.0, 0.0)
    return EventLog.from_arrays(j, names, t, extra={"seg": seg})


def test_by_segment_chi_square_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    log = _segmented_log(rng, {"x": 0.5, "y": 0.4, "z": 0.45})
    f = tp.funnel(log, ["a", "b"], by="seg")
    assert set(f.segments) == {"x", "y", "z"}
    table = [[s["b"].reached, s["b"].entered - s["b"].reached] for s in f.segments.values()]
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    row = f.tests.to_records()[1]
    assert row["statistic"] == pytest.approx(chi2)
    assert row["pvalue"] == pytest.approx(p)
    assert row["dof"] == dof == 2
    assert sum(s["b"].reached for s in f.segments.values()) == f["b"].reached
    frame = f.to_table()
    assert "segment" in frame.columns
    assert len(frame) == 6


def test_two_segments_equal_z_test():
    smp = pytest.importorskip("statsmodels.stats.proportion")
    rng = np.random.default_rng(4)
    log = _segmented_log(rng, {"x": 0.5, "y": 0.42}, n=300)
    f = tp.funnel(log, ["a", "b"], by="seg")
    k = [f.segments[g]["b"].reached for g in ("x", "y")]
    n = [f.segments[g]["b"].entered for g in ("x", "y")]
    z, p = smp.proportions_ztest(k, n)
    assert f.tests["statistic"][1] == pytest.approx(z**2)
    assert f.tests["pvalue"][1] == pytest.approx(p)


def test_reprs_and_frames():
    f = tp.funnel(make_log(PATHS), ["a", "b", "c"])
    assert repr(f).startswith("Funnel(ordered, 6 journeys: a: 5, b: 3 (60.0%)")
    assert "<table>" in f._repr_html_()
    assert "conversion" in f.to_text()
    assert f.to_table()["reached"].tolist() == [5, 3, 2]
    pd = pytest.importorskip("pandas")
    df = f.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df["step"]) == ["a", "b", "c"]
    with pytest.raises(tp.UnknownTouchpointError):
        f["zz"]


def test_html_is_escaped():
    rng = np.random.default_rng(1)
    log = _segmented_log(rng, {"<b>x</b>": 0.5, "y&z": 0.4}, n=60)
    f = tp.funnel(log, ["a", "b"], by="seg")
    out = f._repr_html_()
    assert "<b>x</b>" not in out
    assert "&lt;b&gt;x&lt;/b&gt;" in out
    assert "y&amp;z" in out
    assert "y&z" in f.to_text()


def test_plot():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    f = tp.funnel(make_log(PATHS), ["a", "b", "c"])
    ax = f.plot()
    assert len(ax.patches) == 3
    rng = np.random.default_rng(0)
    g = tp.funnel(_segmented_log(rng, {"x": 0.5, "y": 0.4}, n=50), ["a", "b"], by="seg")
    _, ax2 = plt.subplots()
    assert g.plot(ax=ax2) is ax2
    assert len(ax2.patches) == 4
    plt.close("all")


def test_validation_errors():
    log = make_log(PATHS)
    with pytest.raises(tp.UnknownTouchpointError, match="step 1"):
        tp.funnel(log, ["a", "nope"])
    with pytest.raises(tp.ValidationError, match="'mode'"):
        tp.funnel(log, ["a", "b"], mode="loose")  # type: ignore[arg-type]
    with pytest.raises(tp.ValidationError, match="disjoint"):
        tp.funnel(log, ["a", {"a", "b"}], mode="any")
    with pytest.raises(tp.ValidationError, match="also a funnel step"):
        tp.funnel(log, ["a", "b"], exclude=["b"])
    with pytest.raises(tp.ValidationError, match="'window'"):
        tp.funnel(log, ["a", "b"], window=-1)
    with pytest.raises(tp.ValidationError, match="'steps' is required"):
        tp.funnel(log)
    with pytest.raises(tp.ValidationError, match="non-empty"):
        tp.funnel(log, [])


# ---------------------------------------------------------------------------
# drop-off detection
# ---------------------------------------------------------------------------
def simulate(rng, *, weeks=12, groups=("desktop", "mobile", "tablet"), n=750, drop=0.0):
    """Journeys view -> cart -> checkout, one cohort per group and week.

    view -> cart converts 0.8; cart -> checkout 0.5, except in group "mobile",
    weeks 7-9 (0-based), where it is ``0.5 - drop``.
    """
    G, W = len(groups), weeks
    g = np.repeat(np.arange(G), W * n)
    w = np.tile(np.repeat(np.arange(W), n), G)
    cart = rng.random(len(g)) < 0.8
    planted = (g == groups.index("mobile")) & (w >= 7) & (w <= 9)
    checkout = cart & (rng.random(len(g)) < np.where(planted, 0.5 - drop, 0.5))
    nev = 1 + cart + checkout
    j = np.repeat(np.arange(len(g)), nev)
    k = np.arange(len(j)) - np.repeat(np.cumsum(nev) - nev, nev)  # 0, 1, 2 within journey
    start = w * WEEK + rng.random(len(g)) * 6 * DAY
    t = start[j] + k * 60.0
    device = np.array(groups, dtype=object)[g][j]
    return EventLog.from_arrays(j, k, t, extra={"device": device})


def test_ztest_and_expected_match_statsmodels():
    smp = pytest.importorskip("statsmodels.stats.proportion")
    log = simulate(np.random.default_rng(5), weeks=3, n=200, drop=0.0)
    res = tp.detect_dropoffs(log, ["0", "1", "2"], by="device", period=WEEK, baseline="others")
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
    with pytest.raises(tp.ValidationError, match="'test'"):
        tp.detect_dropoffs(log, ["0", "1"], period=WEEK, test="t")  # type: ignore[arg-type]


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
        res = tp.detect_dropoffs(
            log, ["0", "1", "2"], by="device", period=WEEK, changepoint_resamples=0
        )
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
            changepoint_resamples=0,
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
    with pytest.raises(tp.ValidationError, match="'baseline'"):
        tp.detect_dropoffs(log, ["0", "1"], baseline="yesterday")  # type: ignore[arg-type]
    with pytest.raises(tp.ValidationError, match="give 'by'"):
        tp.detect_dropoffs(log, ["0", "1"], period=None)
    with pytest.raises(tp.ValidationError, match="give 'period'"):
        tp.detect_dropoffs(log, ["0", "1"], by="device", period=None, baseline="past")
    with pytest.raises(tp.ValidationError, match="datetime"):
        tp.detect_dropoffs(log, ["0", "1"], period="week")
    with pytest.raises(tp.ValidationError, match="'alpha'"):
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


# ---------------------------------------------------------------------------
# path exploration and conformance
# ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    paths=journeys, depth=st.integers(1, 3), occurrence=st.sampled_from(["first", "all", "last"])
)
def test_next_and_previous_steps_match_brute_force(paths, depth, occurrence):
    log = make_log(paths)
    if "a" not in log.touchpoint_names:
        return
    nxt, prv = Counter(), Counter()
    for p in paths.values():
        idx = [i for i, x in enumerate(p) if x == "a"]
        if occurrence == "first":
            idx = idx[:1]
        elif occurrence == "last":
            idx = idx[-1:]
        for i in idx:
            after = p[i + 1 : i + 1 + depth]
            nxt[" > ".join(after + (["(end)"] if len(after) < depth else []))] += 1
            before = p[max(0, i - depth) : i]
            prv[" > ".join((["(start)"] if len(before) < depth else []) + before)] += 1
    t = tp.next_steps(log, after="a", depth=depth, occurrence=occurrence)
    assert dict(zip(t["next"].tolist(), t["count"].tolist(), strict=True)) == nxt
    assert t["share"].sum() == pytest.approx(1.0)
    assert list(t["count"]) == sorted(t["count"], reverse=True)
    u = tp.previous_steps(log, before="a", depth=depth, occurrence=occurrence)
    assert dict(zip(u["previous"].tolist(), u["count"].tolist(), strict=True)) == prv


def test_explore_errors_and_sets():
    log = make_log(PATHS)
    with pytest.raises(tp.UnknownTouchpointError):
        tp.next_steps(log, after="zz")
    with pytest.raises(tp.ValidationError, match="'depth'"):
        tp.next_steps(log, after="a", depth=0)
    with pytest.raises(tp.ValidationError, match="'occurrence'"):
        tp.next_steps(log, after="a", occurrence="middle")  # type: ignore[arg-type]
    t = tp.next_steps(log, after={"b", "c"}, depth=1)
    assert t["count"].sum() == 5  # journeys with b or c


def _design():
    j = Journey(
        stages=tp.stages.CUSTOMER_LIFECYCLE,
        touchpoints=[
            Touchpoint("ad", stage="awareness"),
            Touchpoint("site", stage="consideration"),
            Touchpoint("reviews", stage="consideration"),
            Touchpoint("checkout", stage="purchase"),
            Touchpoint("onboarding", stage="usage"),
        ],
    )
    for a, b in [
        ("ad", "site"),
        ("site", "reviews"),
        ("reviews", "checkout"),
        ("site", "checkout"),
    ]:
        j.add_transition(a, b)
    j.add_transition("checkout", "onboarding")
    return j


def test_conformance_known_answers():
    design = _design()
    paths = {
        1: ["ad", "site", "checkout", "onboarding"],  # conforming
        2: ["ad", "site", "site", "checkout"],  # repeat ignored: conforming
        3: ["ad", "checkout"],  # skips consideration
        4: ["site", "ad", "site"],  # back to awareness, then fine
        5: ["reviews", "site", "popup"],  # off-design within a stage; unknown touchpoint
        6: ["ad", "onboarding"],  # skip (two stages)
    }
    log = make_log(paths)
    c = tp.conformance(design, log)
    assert c.n_journeys == 6
    assert c.conforming_journeys == 2
    assert c.fitness == pytest.approx(2 / 6)
    dev = {(r["from"], r["to"]): (r["kind"], r["count"]) for r in c.deviations.to_records()}
    assert dev == {
        ("ad", "checkout"): ("skip", 1),
        ("ad", "onboarding"): ("skip", 1),
        ("site", "ad"): ("back", 1),
        ("reviews", "site"): ("off_design", 1),
        ("site", "popup"): ("unknown", 1),
    }
    rows = {r["touchpoint"]: r for r in c.by_touchpoint.to_records()}
    # "ad" leaves 5 times: site x3 (1, 2, 4), checkout, onboarding
    assert rows["ad"]["transitions"] == 5
    assert rows["ad"]["skip"] == 2
    assert rows["ad"]["share"] == pytest.approx(2 / 5)
    assert c.n_transitions == sum(r["transitions"] for r in rows.values())
    assert "conform" in repr(c)
    assert "<table>" in c._repr_html_()


# ---------------------------------------------------------------------------
# key touchpoints, exits, relative weights, report sections
# ---------------------------------------------------------------------------
def test_relative_weights_match_shapley_r2_for_two_predictors():
    # for two predictors the Shapley R^2 decomposition has a closed form:
    # w1 = (R2 - r2y^2 + r1y^2) / 2 (Lipovetsky & Conklin 2001); relative weights agree
    # closely and sum exactly to R^2.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 2)) @ np.array([[1.0, 0.5], [0.0, 1.0]])
    y = x @ np.array([1.0, 0.5]) + rng.normal(size=5000)
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    w = tp.relative_weights(r)
    beta = np.linalg.solve(r[:2, :2], r[:2, 2])
    r2 = float(beta @ r[:2, 2])
    assert w.sum() == pytest.approx(r2)
    shapley1 = (r2 - r[1, 2] ** 2 + r[0, 2] ** 2) / 2
    assert w[0] == pytest.approx(shapley1, abs=0.02)


def test_shapley_r2_matches_permutation_brute_force():
    # independent reference: average over all 4! orders of the incremental R^2 of
    # least-squares fits on the raw data (numpy lstsq with intercept)
    rng = np.random.default_rng(5)
    n, p = 400, 4
    x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p))
    y = x @ np.array([1.0, -0.5, 0.2, 0.0]) + rng.normal(size=n)

    def r2(cols):
        if not cols:
            return 0.0
        a = np.column_stack([np.ones(n), x[:, list(cols)]])
        resid = y - a @ np.linalg.lstsq(a, y, rcond=None)[0]
        return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))

    ref = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        for i, j in enumerate(order):
            ref[j] += r2(order[: i + 1]) - r2(order[:i])
    ref /= len(perms)
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    assert tp.shapley_r2(r) == pytest.approx(ref, abs=1e-10)
    assert tp.relative_weights(r).sum() == pytest.approx(ref.sum())
    assert tp.relative_weights(r) == pytest.approx(ref, abs=0.05)  # an approximation
    with pytest.raises(tp.ValidationError, match="predictors"):
        tp.shapley_r2(np.eye(20))


def test_exit_points_and_key_touchpoints():
    design = _design()
    paths = {i: ["ad", "site", "checkout"] for i in range(40)}
    paths |= {100 + i: ["ad", "reviews"] for i in range(30)}  # reviews: an exit point
    paths |= {200 + i: ["ad", "site"] for i in range(10)}
    log = make_log(paths, design=design, conversions=["checkout"])
    ex = tp.exit_points(log)
    top = ex.to_records()[0]
    assert top["touchpoint"] == "reviews"
    assert top["exit_rate"] == 1.0
    assert top["stage_rate"] == pytest.approx(10 / 50)
    assert top["significant"]
    kt = tp.key_touchpoints(log)
    rows = {r["touchpoint"]: r for r in kt.to_records()}
    assert rows["site"]["conversion_with"] == pytest.approx(40 / 50)
    assert rows["site"]["conversion_without"] == pytest.approx(0 / 30)
    assert rows["reviews"]["exit_significant"]


def _exit_log():
    design = _design()
    paths = {i: ["ad", "site", "checkout"] for i in range(40)}
    paths |= {100 + i: ["ad", "reviews"] for i in range(30)}
    paths |= {200 + i: ["ad", "site"] for i in range(10)}
    return make_log(paths, design=design, conversions=["checkout"])


def test_exit_points_from_a_markov_like_model():
    # a stand-in with the MarkovModel interface (states, counts, source): first-order
    # counts of the log above, journeys absorbed at conversion
    sparse = pytest.importorskip("scipy.sparse")
    log = _exit_log()
    states = ["(start)", "ad", "site", "reviews", "checkout", "(conversion)", "(null)"]
    c = np.zeros((7, 7))
    c[0, 1] = 80
    c[1, 2], c[1, 3] = 50, 30
    c[2, 4], c[2, 6] = 40, 10
    c[3, 6] = 30
    c[4, 5] = 40

    class Model:
        pass

    m = Model()
    m.states, m.counts, m.source = tuple(states), sparse.csr_matrix(c), log
    from_model = tp.exit_points(m).to_records()
    from_log = {r["touchpoint"]: r for r in tp.exit_points(log).to_records()}
    for r in from_model:
        if r["touchpoint"] == "checkout":  # the log counts the checkout event itself
            continue
        assert r["exit_rate"] == pytest.approx(from_log[r["touchpoint"]]["exit_rate"])
        assert r["significant"] == from_log[r["touchpoint"]]["significant"]
    with pytest.raises(tp.ValidationError, match="EventLog or a MarkovModel"):
        tp.exit_points([1, 2])


def test_exit_points_with_fit_markov():
    markov = pytest.importorskip("touchpoint.markov")  # lands with the Markov module
    log = _exit_log()
    got = {r["touchpoint"]: r["exit_rate"] for r in tp.exit_points(markov.fit_markov(log))}
    assert got["reviews"] == 1.0
    assert got["site"] == pytest.approx(10 / 50)
    attribution = pytest.importorskip("touchpoint.attribution")
    re_ = attribution.removal_effects(markov.fit_markov(log))
    kt = {r["touchpoint"]: r["removal_effect"] for r in tp.key_touchpoints(log)}
    for name, effect in zip(re_.names, re_.effect.tolist(), strict=True):
        assert kt[name] == pytest.approx(effect)


def test_key_touchpoints_experience_drivers():
    rng = np.random.default_rng(2)
    n = 600
    paths = {i: ["ad", "site", "support"] for i in range(n)}
    conv = rng.random(n) < 0.5
    j, names, t, out = [], [], [], []
    for i in range(n):
        for k, name in enumerate(paths[i]):
            j.append(i)
            names.append(name)
            t.append(float(k))
            out.append(1.0 if (conv[i] and k == 2) else 0.0)
    log = EventLog.from_arrays(j, names, np.array(t), outcome=out)
    support = rng.normal(size=n)
    site = rng.normal(size=n)
    nps = np.clip(np.round(6 + 2 * support + 0.2 * rng.normal(size=n)), 0, 10)
    rows = []
    for i in range(n):
        rows.append({"journey": i, "touchpoint": "support", "ease": 3 + support[i] + conv[i]})
        rows.append({"journey": i, "touchpoint": "site", "ease": 3 + site[i]})
        rows.append({"journey": i, "touchpoint": "", "ease": np.nan, "nps": nps[i]})
    responses = tp.Table.from_records(rows)
    kt = tp.key_touchpoints(log, responses, metric="ease", n_bootstrap=30)
    r = {x["touchpoint"]: x for x in kt.to_records()}
    rating = 3 + support + conv
    a, b = rating[conv], rating[~conv]
    assert r["support"]["ease_gap"] == pytest.approx(a.mean() - b.mean())
    half = 1.959964 * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert r["support"]["gap_ci_high"] == pytest.approx(a.mean() - b.mean() + half, rel=1e-5)
    assert r["support"]["gap_qvalue"] < 1e-6
    assert r["support"]["driver_share"] > 0.9
    assert r["support"]["driver_ci_low"] <= r["support"]["driver_share"]
    assert np.isnan(r["ad"]["driver_weight"])  # never rated
    sh = tp.key_touchpoints(log, responses, metric="ease", method="shapley", n_bootstrap=10)
    s2 = {x["touchpoint"]: x for x in sh.to_records()}
    assert s2["support"]["driver_share"] == pytest.approx(r["support"]["driver_share"], abs=0.02)
    with pytest.raises(tp.ValidationError, match="'method'"):
        tp.key_touchpoints(log, responses, metric="ease", method="ols")


def test_report_sections_on_simulated_log():
    from touchpoint.report import build_report

    log = simulate(np.random.default_rng(3), weeks=10, n=300, drop=0.25)
    design = Journey(
        stages=tp.stages.CUSTOMER_LIFECYCLE,
        touchpoints=[
            Touchpoint("0", stage="consideration"),
            Touchpoint("1", stage="purchase"),
            Touchpoint("2", stage="usage"),
        ],
    )
    design.add_transition("0", "1")
    design.add_transition("1", "2")
    origin = np.datetime64("2026-01-05T00:00:00", "ns")
    t = origin + (log.timestamp * 1e9).astype("timedelta64[ns]")
    # conversion as an outcome on the checkout event (report.section_markov needs a value
    # column: with conversions= alone it raises KeyError 'value', reported to the lead)
    outcome = (np.array(log.touchpoint_names)[log.touchpoint] == "2").astype(float)
    dlog = EventLog.from_arrays(
        log.journey, log.touchpoint, t, outcome, extra=dict(log.extra), design=design
    )
    text = build_report(dlog).to_text()
    assert "Funnel by stage" in text
    assert "Drop-offs" in text
    assert "1 > 2" in text
    assert "device=mobile" in text
    assert "Key touchpoints" in text


# ---------------------------------------------------------------------------
# the bundled sample data: the planted findings are found
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    return tp.datasets.load_sample()


def test_sample_planted_drop_is_found(sample):
    from touchpoint.datasets import _generator as g

    column, segment = g.DROP_SEGMENT
    cart, checkout = g.DROP_STEP
    start = np.datetime64(g.SampleConfig().start, "D")
    planted = {str(start + 7 * (w - 1)) for w in g.DROP_WEEKS}
    for baseline in ("past", "others"):
        res = tp.detect_dropoffs(
            sample.events, ["product_page", cart, checkout], by=column, baseline=baseline
        )
        assert {(d.step, d.group, d.period) for d in res} == {
            (checkout, segment, week) for week in planted
        }, baseline
        (change,) = res.changes
        assert change.start == min(planted)
        assert change.end == max(planted)
        for d in res:
            assert d.rate < g.DROP_BASE_RATE - 0.1
            assert d.start == min(planted)


def test_sample_recent_cohorts_need_the_horizon(sample):
    # without the horizon, last-week carts have had no time to convert: spurious drops
    steps = ["product_page", "add_to_cart", "checkout_web"]
    raw = tp.detect_dropoffs(sample.events, steps, by="device", horizon=None)
    assert any(d.period == "2026-03-23" and d.step == "add_to_cart" for d in raw)
    fixed = tp.detect_dropoffs(sample.events, steps, by="device", horizon=dt.timedelta(days=3))
    assert all(d.period != "2026-03-23" for d in fixed)


def test_sample_key_drivers_recover_the_planted_drivers(sample):
    from touchpoint.datasets import _generator as g

    kt = tp.key_touchpoints(sample.events, sample.surveys, n_bootstrap=20)
    share = dict(zip(kt["touchpoint"].tolist(), kt["driver_share"].tolist(), strict=True))
    drivers = {t for t in g.LOYALTY_DRIVERS if g.LOYALTY_DRIVERS[t] >= 0.6}
    top = sorted((s for s in share.items() if not np.isnan(s[1])), key=lambda s: -s[1])
    assert {t for t, _ in top[: len(drivers)]} == drivers
    exits = tp.exit_points(sample.events)
    assert exits["touchpoint"][0] == "add_to_cart"
    # CSAT gap: share satisfied (4-5) among buyers minus non-buyers, by hand
    s = sample.surveys
    row = kt[kt["touchpoint"] == "product_page"].row(0)
    buyers = set(sample.events.journey_ids[sample.events.converted()].tolist())
    rated = (s["touchpoint"] == "product_page") & ~np.isnan(s["csat"])
    bought = np.array([c in buyers for c in s["customer_id"].tolist()])
    sat = s["csat"] >= 4
    gap = 100 * (sat[rated & bought].mean() - sat[rated & ~bought].mean())
    assert row["csat_gap"] == pytest.approx(gap)
    assert row["csat_converted"] == pytest.approx(100 * sat[rated & bought].mean())


def test_sample_report_sections(sample):
    from touchpoint.report import build_report

    text = build_report(sample.events, surveys=sample.surveys).to_text()
    assert "Funnel by stage" in text
    assert re.search(r"add_to_cart > checkout_web +device=mobile +2026-02-23", text)
    assert "NPS driver share" in text
