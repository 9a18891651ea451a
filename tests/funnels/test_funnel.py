"""Tests for tp.funnel: a brute-force matcher (exhaustive search over all attempts and
all index sequences), hand-built logs with known answers, scipy and statsmodels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import touchpoint as tp
from funnel_logs import (
    PATHS,
    brute_counts,
    journeys,
    make_log,
)
from touchpoint import EventLog, Journey, Touchpoint

# ---------------------------------------------------------------------------
# brute-force reference
# ---------------------------------------------------------------------------


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
    assert tp.funnel(log, ["a", "b"], window=0.5)["b"].reached == 0
    with pytest.raises(tp.InvalidParameterError, match="plain numbers, not datetimes"):
        tp.funnel(log, ["a", "b"], window=dt.timedelta(seconds=0.5))  # no unit to convert to
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
    with pytest.raises(tp.ValidationError, match="`optional` must be"):
        tp.funnel(log, ["a", "b"], optional=["zz"])


def test_stage_steps_fromdesign():
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
    with pytest.raises(tp.ValidationError, match="`of`"):
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
    assert row["df"] == dof == 2
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
    with pytest.raises(tp.ValidationError, match="`mode`"):
        tp.funnel(log, ["a", "b"], mode="loose")  # type: ignore[arg-type]
    with pytest.raises(tp.ValidationError, match="disjoint"):
        tp.funnel(log, ["a", {"a", "b"}], mode="any")
    with pytest.raises(tp.ValidationError, match="not funnel steps"):
        tp.funnel(log, ["a", "b"], exclude=["b"])
    with pytest.raises(tp.ValidationError, match="`window`"):
        tp.funnel(log, ["a", "b"], window=-1)
    with pytest.raises(tp.ValidationError, match="'steps' is required"):
        tp.funnel(log)
    with pytest.raises(tp.ValidationError, match="non-empty"):
        tp.funnel(log, [])
