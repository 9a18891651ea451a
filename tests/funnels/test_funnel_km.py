"""Censoring-aware time to convert on funnel steps (Kaplan-Meier).

Checked against a hand-written product-limit estimate (not scipy), against the
plain share when nothing is censored, and against a simulated truth: half of the
visitors convert after an exponential delay with a 7-day median, in a 12-week log.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

import touchpoint as tp
from touchpoint import EventLog

DAY = 86400.0


def _product_limit_steps(events: np.ndarray, censored: np.ndarray, t: float):
    """(event count, at risk) at each event time <= t (events before censoring at ties)."""
    for u in np.unique(events):
        if u > t:
            break
        yield (
            np.count_nonzero(events == u),
            np.count_nonzero(events >= u) + np.count_nonzero(censored >= u),
        )


def product_limit(events: np.ndarray, censored: np.ndarray, t: float = math.inf) -> float:
    """1 - S(t): Kaplan and Meier's product over event times <= t (events before censoring at ties)."""
    s = 1.0
    for d, at_risk in _product_limit_steps(events, censored, t):
        s *= 1 - d / at_risk
    return 1 - s


def greenwood_var(events: np.ndarray, censored: np.ndarray, t: float) -> float:
    s, acc = 1.0, 0.0
    for d, n in _product_limit_steps(events, censored, t):
        s *= 1 - d / n
        acc += d / (n * (n - d)) if n > d else 0.0
    return s * s * acc


def visits_log(rng: np.random.Generator, units: int, *, weeks: int = 12, datetime: bool = False):
    """Visits uniform over the log; half buy after an exponential delay (median 7 days)."""
    end = weeks * 7 * DAY
    start = rng.uniform(0, end, units)
    delay = rng.exponential(7 / math.log(2), units) * DAY
    seen = (rng.random(units) < 0.5) & (start + delay <= end)
    j = np.concatenate([np.arange(units), np.flatnonzero(seen)])
    names = np.array(["visit"] * units + ["buy"] * int(seen.sum()))
    t = np.concatenate([start, (start + delay)[seen]])
    order = np.lexsort((t, j))
    j, names, t = j[order], names[order], t[order]
    if datetime:
        t0 = np.datetime64("2026-01-05T00:00:00", "ns")
        return EventLog.from_arrays(j, names, t0 + (t * 1e9).astype("timedelta64[ns]"))
    return EventLog.from_arrays(j, names, t)


def delays_and_followup(log: EventLog, end: float | None = None):
    """Directly from the events: per journey the delay to "buy" or the time waited until the end."""
    t = np.asarray(log.timestamp, dtype=np.float64)
    names = np.asarray(log.touchpoint_names)[log.touchpoint]
    end = float(t.max()) if end is None else end
    events, censored = [], []
    for jn in np.unique(log.journey):
        mine = log.journey == jn
        tv = t[mine & (names == "visit")].min()
        buys = t[mine & (names == "buy") & (t >= tv)]
        if len(buys):
            events.append(buys.min() - tv)
        else:
            censored.append(end - tv)
    return np.array(events), np.array(censored)


def test_matches_a_hand_written_product_limit_estimate():
    rng = np.random.default_rng(12)
    log = visits_log(rng, 400)
    step = tp.funnel(log, ["visit", "buy"])["buy"]
    events, censored = delays_and_followup(log)
    assert step.reached == len(events)
    assert step.conversion_km == pytest.approx(product_limit(events, censored), abs=1e-12)
    for w in (0.5 * DAY, 7 * DAY, 14 * DAY, 40 * DAY):
        assert step.conversion_within(w) == pytest.approx(
            product_limit(events, censored, w), abs=1e-12
        )
        assert step.conversion_within(dt.timedelta(seconds=w)) == step.conversion_within(w)
    # the median among converters: the first event time where F reaches half its end value
    half = product_limit(events, censored) / 2
    first = min(u for u in np.unique(events) if product_limit(events, censored, u) >= half - 1e-12)
    assert step.time_median_km == pytest.approx(first)
    # the interval: Greenwood variance on the log-log scale, by hand
    w = 14 * DAY
    f = product_limit(events, censored, w)
    s = 1 - f
    se = math.sqrt(greenwood_var(events, censored, w)) / (s * abs(math.log(s)))
    z = 1.959963984540054
    lo_s, hi_s = s ** math.exp(z * se), s ** math.exp(-z * se)
    ci = step.km_interval(w)
    assert (ci.low, ci.high) == pytest.approx((1 - hi_s, 1 - lo_s), abs=1e-9)
    assert ci.low < step.conversion_within(w) < ci.high


def test_kaplan_meier_recovers_the_truth_the_plain_share_misses():
    # truth: 50% eventually, 37.5% within 14 days, median delay 7 days
    rng = np.random.default_rng(2026)
    step = tp.funnel(visits_log(rng, 20000), ["visit", "buy"])["buy"]
    assert step.conversion < 0.45  # units still on their way counted as lost
    assert step.time_median < 6.6 * DAY  # only the fast ones had time to show up
    assert step.conversion_km == pytest.approx(0.5, abs=0.015)
    assert step.conversion_within(14 * DAY) == pytest.approx(0.375, abs=0.012)
    assert step.time_median_km / DAY == pytest.approx(7.0, abs=0.35)
    assert step.censored > 0


def test_datetime_log_gives_the_same_estimates_in_seconds():
    a = tp.funnel(visits_log(np.random.default_rng(5), 300), ["visit", "buy"])["buy"]
    b = tp.funnel(visits_log(np.random.default_rng(5), 300, datetime=True), ["visit", "buy"])["buy"]
    assert b.censored == a.censored
    assert b.conversion_km == pytest.approx(a.conversion_km, abs=1e-9)
    assert b.time_median_km == pytest.approx(a.time_median_km, abs=1e-3)
    assert b.conversion_within(dt.timedelta(days=3)) == pytest.approx(
        a.conversion_within(3 * DAY), abs=1e-9
    )


def test_without_censoring_it_is_the_plain_share():
    # every non-converter waited longer than the slowest conversion took: nothing is open
    log = EventLog.from_arrays(
        [1, 1, 2, 2, 3, 4, 5, 5, 6],
        ["visit", "buy", "visit", "buy", "visit", "visit", "visit", "buy", "end"],
        [0.0, 1.0, 0.0, 3.0, 0.0, 1.0, 2.0, 4.0, 50.0],
    )
    step = tp.funnel(log, ["visit", "buy"])["buy"]
    assert step.censored == 0
    assert step.conversion == pytest.approx(3 / 5)
    assert step.conversion_km == pytest.approx(3 / 5)
    assert step.conversion_within(1.5) == pytest.approx(1 / 5)
    assert step.time_median_km == 2.0  # delays 1, 2, 3: the middle one


def test_a_window_closed_inside_the_log_is_a_loss_not_censoring():
    # window 5: journey 3 (visit at 0) had its whole window inside the log (end 20)
    # and never bought: it counts as not converted, like in `conversion`; journey 4
    # (visit at 18) is still inside its window when the log ends: censored at 2.
    log = EventLog.from_arrays(
        [1, 1, 2, 2, 3, 4, 5],
        ["visit", "buy", "visit", "buy", "visit", "visit", "other"],
        [0.0, 1.0, 0.0, 3.0, 0.0, 18.0, 20.0],
    )
    f = tp.funnel(log, ["visit", "buy"], window=5.0)
    step = f["buy"]
    assert (step.entered, step.reached, step.censored) == (4, 2, 1)
    events, censored = np.array([1.0, 3.0]), np.array([math.inf, 2.0])
    assert step.conversion_km == pytest.approx(product_limit(events, censored))
    assert step.conversion_km == pytest.approx(1 - 3 / 4 * 1 / 2)
    # without the window journey 3 is censored at 20: still waiting, not lost
    plain = tp.funnel(log, ["visit", "buy"])["buy"]
    assert plain.conversion_km == pytest.approx(product_limit(events, np.array([20.0, 2.0])))


def test_first_and_optional_steps_have_no_estimate_and_the_table_has_the_columns():
    log = EventLog.from_arrays(
        [1, 1, 1, 2, 2, 3], ["ad", "site", "buy", "ad", "buy", "ad"], [0.0, 1, 2, 0, 4, 1]
    )
    f = tp.funnel(log, ["ad", "site", "buy"], optional=["site"])
    assert math.isnan(f["ad"].conversion_km) and math.isnan(f["site"].conversion_km)
    assert math.isnan(f["ad"].conversion_within(1.0))
    assert math.isnan(f["ad"].km_interval().low)
    assert f["buy"].conversion_km == pytest.approx(
        product_limit(np.array([2.0, 4.0]), np.array([3.0]))
    )
    t = f.table
    assert {"conversion_km", "time_median_km", "censored"} <= set(t.columns)
    assert t["censored"].tolist() == [0, 0, 1]
    d = f["buy"].to_dict()
    assert d["conversion_km"] == f["buy"].conversion_km and d["censored"] == 1
    assert "eventually (KM)" in f.to_text() and "Kaplan-Meier" in f.to_text()
    with pytest.raises(tp.ValidationError, match="within"):
        f["buy"].conversion_within(-1.0)
    with pytest.raises(tp.ValidationError, match="within"):
        f["buy"].conversion_within("a week")


def test_segments_censor_at_the_end_of_the_whole_log():
    # segment b's own last event is at 2, but the log runs to 10: its waiting
    # journey (entered at 1) has waited 9, not 1
    log = EventLog.from_arrays(
        [1, 1, 2, 3, 3, 4],
        ["visit", "buy", "visit", "visit", "buy", "visit"],
        [0.0, 8.0, 1.0, 0.0, 2.0, 10.0],
        extra={"seg": ["a", "a", "b", "b", "b", "a"]},
    )
    f = tp.funnel(log, ["visit", "buy"], by="seg")
    b = f.segments["b"]["buy"]
    assert b.conversion_km == pytest.approx(product_limit(np.array([2.0]), np.array([9.0])))
    a = f.segments["a"]["buy"]
    assert a.conversion_km == pytest.approx(product_limit(np.array([8.0]), np.array([0.0])))
