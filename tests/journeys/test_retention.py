"""Retention against a hand computation, with censoring, the three kinds and cohort comparison."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp

DAY = np.timedelta64(1, "D")


def _log():
    """Five customers; the data end on 2026-01-20 (the last event).

    a: starts Mon 01-05, returns +1.5 d and +8 d   (week cohort 2026-01-05)
    b: starts Tue 01-06, returns +2.2 d            (2026-01-05)
    c: starts Sun 01-11, returns never             (2026-01-05)
    d: starts Mon 01-12, returns +1.2 d (buy), +7.5 d (2026-01-12)
    e: starts Mon 01-19, no return, ends the data  (2026-01-19)
    """
    t0 = np.datetime64("2026-01-05T00:00")
    rows = [
        ("a", "visit", t0),
        ("a", "visit", t0 + 36 * np.timedelta64(1, "h")),
        ("a", "buy", t0 + 8 * DAY),
        ("b", "visit", t0 + DAY),
        ("b", "visit", t0 + DAY + np.timedelta64(53, "h")),
        ("c", "visit", t0 + 6 * DAY),
        ("d", "visit", t0 + 7 * DAY),
        ("d", "buy", t0 + 7 * DAY + np.timedelta64(29, "h")),
        ("d", "visit", t0 + 7 * DAY + np.timedelta64(180, "h")),
        ("e", "visit", t0 + 14 * DAY),
        ("e", "visit", t0 + 15 * DAY),
    ]
    j, t, times = zip(*rows, strict=True)
    return tp.EventLog.from_arrays(list(j), list(t), np.array(times, dtype="datetime64[ns]"))


def _cells(r):
    return {(x["cohort"], x["period"]): (x["at_risk"], x["retained"]) for x in r.table.to_records()}


def test_n_day_by_hand_with_censoring():
    r = tp.retention(_log(), cohort="week", period="day", max_periods=9)
    cells = _cells(r)
    # data end 2026-01-20 00:00. Lived days: a 15, b 14, c 9, d 8, e 1.
    # e (cohort 01-19) lived 1 day: at risk for no period >= 1 (needs 2 days for period 1)
    assert not any(c == "2026-01-19" for c, _ in cells)
    # day 1 = [1, 2) days after start: a (1.5 d) yes, b (2.2 d) no, c no
    assert cells[("2026-01-05", 1)] == (3, 1)
    assert cells[("2026-01-05", 2)] == (3, 1)  # b at 2.2 days
    assert cells[("2026-01-12", 1)] == (1, 1)  # d's buy at 1.2 days
    # day 8 = [8, 9): a returns at exactly 8 d; c lived 9 days: at risk
    assert cells[("2026-01-05", 8)] == (3, 1)
    # day 9: c has lived only 9 days, not 10: no longer at risk (not counted as lost)
    assert cells[("2026-01-05", 9)] == (2, 0)
    # d (lived 8 days) is at risk up to day 7, where it returns (7.5 days)
    assert cells[("2026-01-12", 7)] == (1, 1)
    assert ("2026-01-12", 8) not in cells
    # the pooled curve: day 1 at risk a, b, c, d (e lived 1 day): 2 of 4
    curve = {x["period"]: (x["at_risk"], x["retained"]) for x in r.curve.to_records()}
    assert curve[1] == (4, 2)
    lo, hi = r.curve["ci_low"][0], r.curve["ci_high"][0]
    from statsmodels.stats.proportion import proportion_confint

    assert (lo, hi) == pytest.approx(proportion_confint(2, 4, method="wilson"))


def test_unbounded_and_bracket():
    r = tp.retention(_log(), cohort="week", period="day", kind="unbounded", max_periods=3)
    cells = _cells(r)
    # unbounded day 2: returned on day 2 or later: a (8 d), b (2.2 d); c no
    assert cells[("2026-01-05", 2)] == (3, 2)
    # at risk once day 2 itself is observed (lived >= 3): a, b, c
    b = tp.retention(
        _log(), cohort="week", period="day", kind="bracket", brackets=[(1, 3), (3, 10)]
    )
    cells = _cells(b)
    assert cells[("2026-01-05", 1)] == (3, 2)  # a (1.5), b (2.2) within [1, 3)
    assert cells[("2026-01-05", 3)] == (2, 1)  # [3, 10) needs 10 lived days: a, b; a at 8 d
    assert cells[("2026-01-12", 1)] == (1, 1)


def test_start_and_return_touchpoints():
    r = tp.retention(_log(), cohort="week", period="day", return_="buy", max_periods=8)
    cells = _cells(r)
    assert cells[("2026-01-05", 1)] == (3, 0)  # a's day-1 event is a visit
    assert cells[("2026-01-05", 8)] == (3, 1)  # a's buy at day 8
    s = tp.retention(_log(), cohort="week", period="day", start="buy", max_periods=7)
    # only a and d bought; d's clock starts at its buy (01-13 05:00), returns +6.2 d
    assert set(s.cohorts["cohort"].tolist()) == {"2026-01-12"}
    assert s.cohorts["journeys"].tolist() == [2]


def test_compare_two_cohorts():
    from statsmodels.stats.proportion import proportions_ztest

    r = tp.retention(_log(), cohort="week", period="day", max_periods=7)
    t = r.compare("2026-01-05", "2026-01-12")
    row = t.to_records()[0]
    assert row["period"] == 1
    assert row["difference"] == pytest.approx(1 / 3 - 1)
    assert row["pvalue"] == pytest.approx(proportions_ztest([1, 1], [3, 1])[1])
    with pytest.raises(tp.ValidationError, match="unknown cohort"):
        r.compare("2026-01-05", "1999-01-01")


def test_numeric_times_and_plot():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    day = 86_400.0
    log = tp.EventLog.from_arrays(
        [1, 1, 2, 3, 3], ["a"] * 5, [0.0, 1.5 * day, 0.0, 2 * day, 4 * day]
    )
    r = tp.retention(log, cohort="day", max_periods=2)
    # data end at 4 d; lived 4, 4, 2 days; journey 3 returns 2 d after its start (period 2)
    assert _cells(r) == {("0", 1): (2, 1), ("0", 2): (2, 0), ("2", 1): (1, 0)}
    assert r.plot().get_xlabel() == "days after the start"
    assert r.plot(kind="cohorts") is not None
    plt.close("all")
