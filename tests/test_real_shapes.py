"""Real data shapes give the right answer: each checked against pandas (or pm4py).

The shapes come from ``tests/shapes.py``: item-level baskets, journey-level
flags, mostly-direct conversions, campaign receipts tied on the campaign
start, households with thousands of events, time-zone aware exports. Each
test computes the expected answer independently with pandas on the raw
columns, never with touchpoint.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import touchpoint as tp
from touchpoint.exceptions import DroppedRowsWarning, OutcomeLevelWarning, ValidationError

pd = pytest.importorskip("pandas")

import shapes  # noqa: E402  (tests/shapes.py, after the pandas check)

WEEK = 7 * 86400.0


def build(cols: dict[str, np.ndarray], **kw: object) -> tp.EventLog:
    extra = {k: v for k, v in cols.items() if k not in ("journey", "touchpoint", "time", "outcome")}
    return tp.EventLog.from_arrays(
        cols["journey"], cols["touchpoint"], cols["time"], cols.get("outcome"), extra, **kw
    )


def pandas_transitions(df: pd.DataFrame, converted: pd.Series) -> dict[tuple[str, str], float]:
    """Order-1 transition probabilities of whole paths ending in conversion or null."""
    counts: dict[tuple[str, str], int] = {}
    for j, g in df.groupby("journey", sort=False):
        seq = ["(start)", *g["touchpoint"], "(conversion)" if converted[j] else "(null)"]
        for a, b in itertools.pairwise(seq):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    out: dict[str, int] = {}
    for (a, _), c in counts.items():
        out[a] = out.get(a, 0) + c
    return {k: c / out[k[0]] for k, c in counts.items()}


# ------------------------------------------------------------ journey-level flags
@pytest.mark.parametrize("value", [False, True])
def test_journey_level_flag_counts_once_and_converts_at_the_end(value):
    cols = shapes.journey_flags(600, value=value)
    df = pd.DataFrame(cols).sort_values(["journey", "time"], kind="stable")
    per_journey = df.groupby("journey")["outcome"].first()
    converted = per_journey > 0
    log = build(cols, outcome_level="journey")
    assert log.outcome_level == "journey"
    assert log.converted().sum() == converted.sum()
    np.testing.assert_allclose(log.value(), per_journey.to_numpy())  # once, not per row
    m = tp.fit_markov(log)
    for (a, b), p in pandas_transitions(df, converted).items():
        assert m.probability(a, b) == pytest.approx(p, abs=1e-12), (a, b)
    # whole paths are kept: every event is a transition
    assert m.transition_counts.n_transitions == len(df) + df.journey.nunique()


def test_journey_level_flag_under_the_event_default_warns():
    cols = shapes.journey_flags(300)
    with pytest.warns(OutcomeLevelWarning, match=r"'outcome'.*outcome_level='journey'"):
        build(cols)
    # an event-level outcome (one purchase per converting journey) does not warn
    cols["outcome"] = np.where(cols["touchpoint"] == "cart", cols["outcome"], 0.0)
    build(cols)


def test_journey_level_values_that_disagree_raise():
    with pytest.raises(ValidationError, match=r"journey 7.*10.*20"):
        tp.EventLog.from_arrays(
            [7, 7, 8], ["a", "b", "a"], [0.0, 1, 0], outcome=[10, 20, 0], outcome_level="journey"
        )


def test_journey_level_through_read_csv_and_frames(tmp_path):
    cols = shapes.journey_flags(200)
    df = pd.DataFrame(cols)
    path = tmp_path / "flags.csv"
    df.to_csv(path, index=False)
    a = tp.read_csv(
        path, journey="journey", time="time", outcome="outcome", outcome_level="journey"
    )
    b = tp.EventLog.from_frame(
        df,
        journey="journey",
        touchpoint="touchpoint",
        time="time",
        outcome="outcome",
        outcome_level="journey",
    )
    assert (
        a.converted().sum()
        == b.converted().sum()
        == (df.groupby("journey").outcome.max() > 0).sum()
    )
    assert tp.count_transitions(a) == tp.count_transitions(b)


# ------------------------------------------------------------------ baskets
def test_item_level_baskets_are_kept_and_ties_reported():
    cols = shapes.baskets(200)
    df = pd.DataFrame(cols)
    log = build(cols)  # default duplicates="keep": no error, no warning
    assert log.n_events == len(df)
    assert np.nansum(log.outcome) == pytest.approx(df.outcome.sum())
    key = ["journey", "touchpoint", "time", "outcome"]
    assert log.validation.n_ties == int(df.fillna({"outcome": -1}).duplicated(key).sum())
    assert "tie" in str(log.validation)


def test_duplicates_drop_counts_rows_and_value():
    cols = shapes.baskets(200)
    df = pd.DataFrame(cols).drop(columns="basket")
    key = ["journey", "touchpoint", "time", "outcome"]
    dup = df.fillna({"outcome": -1}).duplicated(key)
    with pytest.warns(DroppedRowsWarning, match="same journey, touchpoint, time and outcome"):
        log = build({k: v for k, v in cols.items() if k != "basket"}, duplicates="drop")
    assert log.validation.counts["duplicate"] == dup.sum()
    assert log.validation.n_input == log.validation.n_kept + log.validation.n_dropped
    assert log.validation.dropped_value == pytest.approx(df.outcome[dup].sum())
    assert np.nansum(log.outcome) == pytest.approx(df.outcome[~dup].sum())


def test_duplicates_raise_states_the_rule():
    with pytest.raises(
        ValidationError, match=r"same journey, touchpoint, time and outcome as row 0"
    ):
        tp.EventLog.from_arrays([1, 1], ["a", "a"], [0.0, 0.0], duplicates="raise")
    with pytest.raises(ValidationError, match="`duplicates` must be"):
        tp.EventLog.from_arrays([1], ["a"], [0.0], duplicates="first")


# --------------------------------------------------- mostly-direct conversions
def pandas_touched(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Converting households and, per touchpoint, those it touched before the first purchase."""
    first = df[df.touchpoint == "purchase"].groupby("journey")["time"].min()
    df = df.join(first.rename("first_buy"), on="journey")
    touched = df[(df.touchpoint != "purchase") & (df.time < df.first_buy)]
    return first, touched.groupby("touchpoint")["journey"].nunique()


def test_markov_attribution_leaves_direct_conversions_unattributed():
    cols = shapes.mostly_direct(800)
    df = pd.DataFrame(cols)
    first, per_tp = pandas_touched(df)
    n_touched = (
        df.join(first.rename("fb"), on="journey")
        .query("touchpoint != 'purchase' and time < fb")
        .journey.nunique()
    )
    log = build(cols, conversions=["purchase"])
    att = tp.attribution(log, "markov", allocation="journey", per_journey=True)
    lin = tp.attribution(log, "linear")
    assert att.unattributed == lin.unattributed == len(first) - n_touched
    assert att.table["conversions"].sum() == pytest.approx(n_touched)
    assert att.per_journey["conversions"].sum() == pytest.approx(n_touched)
    assert lin.table["conversions"].sum() == pytest.approx(n_touched)
    for name, c in zip(att.table["touchpoint"].tolist(), att.table["conversions"].tolist()):
        assert c <= per_tp.get(name, 0) + 1e-9, name
    assert "purchase" in att.conversion
    re = att.removal_effects
    assert re is not None and re.n_conversions == n_touched


@st.composite
def small_logs(draw: st.DrawFn) -> tp.EventLog:
    n = draw(st.integers(1, 12))
    j, t, tps, out = [], [], [], []
    for i in range(n):
        path = draw(st.lists(st.sampled_from(["a", "b", "c", "buy"]), min_size=1, max_size=5))
        for k, name in enumerate(path):
            j.append(i)
            t.append(float(k))
            tps.append(name)
            out.append(draw(st.sampled_from([0.0, 0.0, 5.0])) if name == "buy" else 0.0)
    conv = ["buy"] if "buy" in tps else []
    return tp.EventLog.from_arrays(j, tps, t, outcome=out, conversions=conv)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_logs())
def test_markov_credit_never_exceeds_the_converting_journeys_touched(log):
    att = tp.attribution(log, "markov", allocation="journey", per_journey=True)
    lin = tp.attribution(log, "linear")
    total = att.table["conversions"].sum()
    assert total == pytest.approx(lin.table["conversions"].sum(), abs=1e-9)
    assert att.unattributed == lin.unattributed
    pj = att.per_journey["conversions"].sum() if att.per_journey is not None else 0.0
    assert pj == pytest.approx(total, abs=1e-9)
    # independent count: converting journeys with the touchpoint before their first conversion
    touched: dict[str, int] = {}
    for path, conv in zip(log.paths(), log.converted()):
        if not conv:
            continue
        before = set(itertools.takewhile(lambda s: s != "buy", path))
        for s in before:
            touched[s] = touched.get(s, 0) + 1
    for name, c in zip(att.table["touchpoint"].tolist(), att.table["conversions"].tolist()):
        assert c <= touched.get(name, 0) + 1e-9


# ------------------------------------------------------- campaign receipts
def test_campaign_receipts_tied_at_the_start_keep_input_order():
    cols = shapes.baskets(150)
    df = pd.DataFrame(cols)
    log = build(cols)
    # pandas: stable sort by journey then time keeps tied rows in input order
    srt = df.sort_values(["journey", "time"], kind="stable")
    expected = [tuple(g) for _, g in srt.groupby("journey", sort=True)["touchpoint"]]
    assert list(log.paths()) == expected
    both = df[df.touchpoint.str.startswith("campaign")].groupby("journey").size()
    counts = np.bincount(log.touchpoint, minlength=log.n_touchpoints)
    for name in ("campaign_A", "campaign_B"):
        assert counts[log.touchpoint_code(name)] == (df.touchpoint == name).sum()
    assert (both == 2).sum() > 0  # the shape really has two receipts at one time


# ---------------------------------------------------------- big households
def test_households_with_thousands_of_events_match_pm4py():
    pm4py = pytest.importorskip("pm4py")
    cols = shapes.big_households(4, events=3000)
    log = build(cols)
    df = pd.DataFrame(
        {
            "case:concept:name": cols["journey"].astype(str),
            "concept:name": cols["touchpoint"].astype(str),
            "time:timestamp": cols["time"],
        }
    )
    dfg, start, end = pm4py.discover_dfg(df)
    a, b = log.transition_pairs()
    names = np.array(log.touchpoint_names, dtype=object)
    ours: dict[tuple[str, str], int] = {}
    for x, y in zip(names[a].tolist(), names[b].tolist()):
        ours[(x, y)] = ours.get((x, y), 0) + 1
    assert ours == dict(dfg)
    firsts = pd.Series(cols["touchpoint"][np.arange(4) * 3000])  # the generator sorts per household
    assert dict(start) == firsts.value_counts().to_dict()
    assert sum(end.values()) == log.n_journeys
    assert np.diff(log.offsets).tolist() == [3000] * 4
    r = tp.repeat_rate(log, "purchase", window=WEEK, censor=False)
    p = pd.DataFrame(cols)
    p = p[p.touchpoint == "purchase"].sort_values(["journey", "time"])
    gap = p.groupby("journey")["time"].apply(lambda s: (s.iloc[1] - s.iloc[0]).total_seconds())
    assert r.repeaters == int((gap <= WEEK).sum())


# ------------------------------------------------------------------ time zones


# ------------------------------------------------------------------ drop-offs


def test_removal_effects_on_touched_paths_equal_the_chain_without_direct_journeys():
    cols = shapes.mostly_direct(500)
    log = build(cols, conversions=["purchase"])
    re = tp.removal_effects(tp.fit_markov(log))
    assert re.n_direct > 0 and re.direct_probability > 0
    # second method: drop the direct journeys, then the classic 1 - P(without) / P(conv)
    df = pd.DataFrame(cols)
    first, _ = pandas_touched(df)
    df = df.join(first.rename("fb"), on="journey")
    touched = set(df[(df.touchpoint != "purchase") & ~(df.time >= df.fb)].journey)
    keep = np.isin(log.journey_ids, sorted(touched))
    m = tp.fit_markov(log.select_journeys(keep))
    base = m.conversion_probability()
    for name, e in zip(re.names, re.effect.tolist()):
        assert e == pytest.approx(
            1 - m.conversion_probability_without(touchpoints=[name]) / base, abs=1e-12
        )
    assert re.n_conversions == m.transition_counts.n_conversions


def test_repeat_rate_counts_baskets_not_items():
    cols = shapes.baskets(300)
    log = build(cols)
    df = pd.DataFrame(cols)
    b = df[df.touchpoint == "purchase"].drop_duplicates(["journey", "time"]).sort_values("time")
    first = b.groupby("journey")["time"].min()
    second = b.groupby("journey")["time"].apply(lambda s: s.iloc[1] if len(s) > 1 else pd.NaT)
    gaps = (second - first).dt.total_seconds()
    r = tp.repeat_rate(log, "purchase", window=WEEK, censor=False)
    assert r.n == len(first)
    assert r.repeaters == int((gaps <= WEEK).sum())
    # min_gap: a repeat must come strictly more than min_gap later
    r2 = tp.repeat_rate(log, "purchase", window=WEEK, censor=False, min_gap=86400.0)
    later = b.merge(first.rename("t0"), left_on="journey", right_index=True)
    d = (later.time - later.t0).dt.total_seconds()
    ok = later[(d > 86400.0) & (d <= WEEK)].journey.nunique()
    assert r2.repeaters == ok


def pandas_local_weeks(cols: dict[str, np.ndarray]) -> dict[str, int]:
    df = pd.DataFrame(cols)
    local = pd.to_datetime(df.time, utc=True).dt.tz_convert("America/New_York")
    monday = local.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    first = df.assign(w=monday, t=local).sort_values("t").groupby("journey")["w"].first()
    return {str(k.date()): int(v) for k, v in first.value_counts().sort_index().items()}


def test_week_buckets_in_the_users_time_zone():
    cols = shapes.aware_times(150)
    log = build(cols)
    utc = tp.repeat_rate(log, "purchase", period="week")
    assert utc.tz == "UTC"
    local = tp.repeat_rate(log, "purchase", period="week", tz="America/New_York")
    assert local.tz == "America/New_York"
    got = dict(zip(local.periods["period"].tolist(), local.periods["n"].tolist()))
    assert {k: int(v) for k, v in got.items()} == pandas_local_weeks(cols)
    # in UTC the Sunday-evening purchases fall into the next ISO week (a Monday)
    first_utc = sorted(utc.periods["period"].tolist())[0]
    assert first_utc == "2026-01-12"
    with pytest.raises(ValidationError, match="`tz`"):
        tp.repeat_rate(log, "purchase", period="week", tz="Mars/Olympus")


def test_detect_dropoffs_reports_horizon_and_left_out_cells():
    import warnings

    sample = tp.datasets.load_sample()
    log = sample.events
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a first month per region has no past: no warning
        res = tp.detect_dropoffs(log, ["add_to_cart", "checkout_web"], by="region", period="month")
    df = log.to_frame()
    cart = df[df.touchpoint == "add_to_cart"].groupby("customer_id")["timestamp"].min()
    region = df.groupby("customer_id")["region"].first()
    cells = pd.DataFrame(
        {"m": cart.dt.to_period("M").astype(str), "r": region[cart.index].to_numpy()}
    )
    h = res.horizon["checkout_web"]
    # pandas: the 95th percentile of the observed cart -> checkout delays
    paid = df[df.touchpoint == "checkout_web"].groupby("customer_id")["timestamp"].min()
    both = cart.index.intersection(paid.index)
    delay = (paid[both] - cart[both]).dt.total_seconds()
    delay = delay[delay >= 0]
    assert h == pytest.approx(float(np.quantile(delay, 0.95)), rel=0.05)
    assert res.n_tests + len(res.left_out) == len(cells.drop_duplicates())
    first_month = cells.groupby("r")["m"].min()
    no_past = res.left_out[res.left_out["reason"] == "no_past"]
    assert sorted(zip(no_past["group"].tolist(), no_past["period"].tolist())) == sorted(
        first_month.items()
    )
    # a four-week horizon leaves the last weeks out: named, and warned about
    weeks = 28 * 86400.0
    with pytest.warns(tp.exceptions.StatisticalWarning, match="left out"):
        res = tp.detect_dropoffs(
            log, ["add_to_cart", "checkout_web"], by="device", period="week", horizon=weeks
        )
    assert res.horizon == {"checkout_web": weeks}
    t_end = df.timestamp.max()
    monday = cart.dt.to_period("W-SUN").dt.start_time
    late = monday[cart > t_end - pd.Timedelta(seconds=weeks)]
    early = monday[cart <= t_end - pd.Timedelta(seconds=weeks)]
    gone = sorted(set(late.dt.strftime("%Y-%m-%d")) - set(early.dt.strftime("%Y-%m-%d")))
    assert [p for _, p in res.periods_left_out] == gone
    assert len(gone) >= 3


def test_removal_effects_with_direct_conversions_match_dp6_on_touched_paths():
    """DP6 marketing-attribution-models sees only paths with a channel: the touched ones."""
    mam = pytest.importorskip("mam")
    import warnings

    cols = shapes.mostly_direct(600)
    log = build(cols, conversions=["purchase"])
    re = tp.removal_effects(tp.fit_markov(log))
    df = pd.DataFrame(cols).sort_values(["journey", "time"], kind="stable")
    paths, conv = [], []
    for _, g in df.groupby("journey"):
        seq = list(g.touchpoint)
        if "purchase" in seq:
            seq, converted = seq[: seq.index("purchase")], True
            if not seq:  # direct: no path for DP6
                continue
        else:
            converted = False
        paths.append(" > ".join(seq))
        conv.append(converted)
    frame = pd.DataFrame(
        {
            "journey_id": np.arange(len(paths)),
            "path": paths,
            "times": [" > ".join(["0"] * (p.count(">") + 1)) for p in paths],
            "has_conv": conv,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peer's own deprecation noise
        res = mam.MAM(
            frame,
            format_type="journey",
            channels_colname="path",
            journey_with_conv_colname="has_conv",
            time_till_conv_colname="times",
            user_id_colname="journey_id",
        ).run_markov()
    theirs = res.metadata["removal_effect"]["removal_effect"].to_dict()
    ours = dict(zip(re.names, re.effect.tolist()))
    assert ours.keys() == theirs.keys()
    for name, e in ours.items():
        assert e == pytest.approx(theirs[name], abs=1e-12), name
    assert re.n_conversions == sum(conv)
