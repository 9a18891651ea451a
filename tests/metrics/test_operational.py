"""response_times() and repeat_rate() against brute-force loops over journeys."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import touchpoint as tp
from touchpoint._lib.stats import ConfidenceInterval
from touchpoint.exceptions import UnknownTouchpointError, ValidationError
from touchpoint.metrics._operational import median_ci


def random_log(n_journeys: int = 300, seed: int = 0, datetime: bool = True) -> tp.EventLog:
    rng = np.random.default_rng(seed)
    names = np.array(["visit", "ticket", "reply", "buy"])
    j, t, tpn = [], [], []
    for i in range(n_journeys):
        k = rng.integers(1, 12)
        times = np.sort(rng.uniform(0, 90 * 86400, k)).round()
        j += [i] * k
        t += times.tolist()
        tpn += names[rng.choice(4, k, p=[0.4, 0.2, 0.2, 0.2])].tolist()
    time = np.array(t)
    if datetime:
        time = np.datetime64("2026-01-01", "ns") + (time * 1e9).astype("timedelta64[ns]")
    return tp.EventLog.from_arrays(j, tpn, time, outcome=None)


def brute_response(log: tp.EventLog, req: str, resp: str) -> tuple[list[float], int, list[float]]:
    """Answered waits, open requests, and how long each open request had waited at the end."""
    durations, unanswered, waited = [], 0, []
    paths = log.paths()
    t = log.timestamp
    secs = t.astype("datetime64[ns]").astype(np.int64) / 1e9 if log.is_datetime else t
    end = float(np.max(secs))
    for i, path in enumerate(paths):
        start = log.offsets[i]
        open_at = None
        for k, name in enumerate(path):
            if name == req and open_at is None:
                open_at = secs[start + k]
            elif name == resp and open_at is not None:
                durations.append(secs[start + k] - open_at)
                open_at = None
        unanswered += open_at is not None
        if open_at is not None:
            waited.append(end - open_at)
    return sorted(durations), unanswered, waited


def product_limit(events: list[float], censored: list[float], t: float) -> float:
    """Kaplan-Meier 1 - S(t) by hand (events before censoring at ties)."""
    ev, ce, s = np.asarray(events), np.asarray(censored), 1.0
    for u in np.unique(ev[ev <= t]):
        s *= 1 - np.count_nonzero(ev == u) / (np.count_nonzero(ev >= u) + np.count_nonzero(ce >= u))
    return 1 - s


@pytest.mark.parametrize("datetime", [True, False])
def test_response_times_match_brute_force(datetime):
    log = random_log(datetime=datetime)
    target = dt.timedelta(days=3) if datetime else 3 * 86400  # a number in a numeric log's unit
    rt = tp.response_times(log, request="ticket", response="reply", target=target)
    ref, unanswered, waited = brute_response(log, "ticket", "reply")
    np.testing.assert_allclose(rt.durations, ref)
    assert rt.n == len(ref)
    assert rt.n_unanswered == unanswered
    assert rt.median_answered == pytest.approx(np.median(ref))
    # with open requests the percentiles are product-limit ones: the first answered
    # wait by which the hand-computed Kaplan-Meier share reaches q (NaN if never)
    for q in (50, 90):
        reach = [u for u in sorted(set(ref)) if product_limit(ref, waited, u) >= q / 100 - 1e-12]
        want = reach[0] if reach else float("nan")
        assert rt.percentile(q) == pytest.approx(want, nan_ok=True)
    lo, hi = rt.confidence_interval()
    assert lo <= rt.median
    assert np.isnan(hi) or rt.median <= hi
    assert rt.within_target_answered == pytest.approx(np.mean(np.array(ref) <= 3 * 86400))
    # open requests censored at their waiting time when the log ends
    assert unanswered > 0
    assert rt.within_target == pytest.approx(product_limit(ref, waited, 3 * 86400), abs=1e-12)
    assert rt.within_target < rt.within_target_answered
    ci = rt.target_confidence_interval()
    assert ci.low < rt.within_target < ci.high
    assert rt.unit == ("s" if datetime else "")
    assert "median" in repr(rt)
    assert rt.to_table()["n"][0] == rt.n
    assert rt.to_table()["within_target"][0] == rt.within_target


def test_open_requests_are_censored_not_lost():
    # 3 answered (waits 1, 2, 10); two open requests: one opened 1.5 before the end
    # (could still be answered within 5: censored), one 20 before (not within 5)
    log = tp.EventLog.from_arrays(
        [1, 1, 2, 2, 3, 3, 4, 5, 6],
        ["ask", "reply", "ask", "reply", "ask", "reply", "ask", "ask", "visit"],
        [0.0, 1.0, 0.0, 2.0, 0.0, 10.0, 20.5, 2.0, 22.0],
    )
    rt = tp.response_times(log, request="ask", response="reply", target=5.0)
    assert rt.n == 3 and rt.n_unanswered == 2
    assert rt.within_target_answered == pytest.approx(2 / 3)
    # at risk at 1: 5 -> 4/5; at 2: 3 (the one waiting 1.5 is gone) -> 2/3
    assert rt.within_target == pytest.approx(1 - 4 / 5 * 2 / 3)
    assert rt.within_target == pytest.approx(product_limit([1, 2, 10], [1.5, 20.0], 5.0))
    lo, hi = rt.target_confidence_interval()
    assert lo < rt.within_target < hi


def test_median_interval_is_distribution_free():
    # Exact order-statistic interval: for n = 100 and 95%, the 40th and 61st values
    # (Conover, Practical Nonparametric Statistics, binomial(100, 1/2) quantiles)
    assert median_ci(np.arange(1.0, 101.0), 0.95) == ConfidenceInterval(40.0, 61.0)
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(400):
        x = np.sort(rng.exponential(1.0, 25))
        hits += median_ci(x, 0.9).contains(np.log(2))
    assert hits / 400 >= 0.87


def test_response_times_errors():
    log = random_log(20)
    with pytest.raises(UnknownTouchpointError, match="'nope'"):
        tp.response_times(log, request="nope", response="reply")
    with pytest.raises(ValidationError, match="different"):
        tp.response_times(log, request="reply", response=["reply"])
    with pytest.raises(ValidationError, match="target"):
        tp.response_times(log, request="ticket", response="reply", target="soon")
    with pytest.raises(ValidationError, match="target"):
        tp.response_times(log, request="ticket", response="reply").target_confidence_interval()


def brute_repeat(
    log: tp.EventLog, conv: str, window: float | None, end: float
) -> tuple[int, int, int]:
    secs = log.timestamp.astype("datetime64[ns]").astype(np.int64) / 1e9
    n = k = censored = 0
    for i, path in enumerate(log.paths()):
        start = log.offsets[i]
        times = [secs[start + j] for j, name in enumerate(path) if name == conv]
        if not times:
            continue
        if window is not None and times[0] + window > end:
            censored += 1
            continue
        n += 1
        if len(times) > 1 and (window is None or times[1] - times[0] <= window):
            k += 1
    return n, k, censored


def test_repeat_rate_matches_brute_force():
    log = random_log(500, seed=4)
    end = float(log.timestamp.astype(np.int64).max() / 1e9)
    for window in (None, 14 * 86400.0):
        r = tp.repeat_rate(log, "buy", window=window)
        n, k, censored = brute_repeat(log, "buy", window, end)
        assert (r.n, r.repeaters, r.n_censored) == (n, k, censored)
        assert r.rate == pytest.approx(k / n)
    r = tp.repeat_rate(log, "buy", window=dt.timedelta(days=14))
    lo, hi = r.confidence_interval()
    assert lo < r.rate < hi
    assert "RepeatRate(" in repr(r)
    uncensored = tp.repeat_rate(log, "buy", window=14 * 86400, censor=False)
    assert uncensored.n_censored == 0
    assert uncensored.n == r.n + r.n_censored


def test_repeat_rate_uses_outcome_customer_column_and_periods():
    rng = np.random.default_rng(7)
    n = 4000
    cust = rng.integers(0, 600, n)
    days = rng.integers(0, 120, n)
    secs = days * 86400.0 + np.arange(n)  # unique times: no duplicate events
    time = np.datetime64("2026-01-01", "ns") + (secs * 1e9).astype("timedelta64[ns]")
    outcome = (rng.random(n) < 0.3).astype(float)
    session = cust * 10 + rng.integers(0, 3, n)
    log = tp.EventLog.from_arrays(
        session, ["x"] * n, time, outcome=outcome, extra={"customer": cust}
    )
    r = tp.repeat_rate(log, window=30 * 86400, customer="customer", period="month")
    # brute force per customer
    conv_t = {}
    for c, s, o in zip(cust.tolist(), secs.tolist(), outcome.tolist(), strict=True):
        if o > 0:
            conv_t.setdefault(c, []).append(s)
    last, win = secs.max(), 30 * 86400
    eligible = {c: sorted(v) for c, v in conv_t.items() if min(v) + win <= last}
    k = sum(1 for v in eligible.values() if len(v) > 1 and v[1] - v[0] <= win)
    assert (r.n, r.repeaters) == (len(eligible), k)
    per = r.periods
    assert per is not None
    assert list(per["period"]) == ["2026-01", "2026-02", "2026-03"]
    assert per["n"].sum() == r.n
    assert np.isnan(per["change"][0])
    assert {"pvalue", "qvalue", "significant"} <= set(per.columns)


def test_repeat_rate_needs_conversions():
    log = tp.EventLog.from_arrays([1, 1], ["a", "b"], [0.0, 1.0])
    with pytest.raises(ValidationError, match="conversion"):
        tp.repeat_rate(log)


def _tickets(log: tp.EventLog) -> list[tuple[int, int | None]]:
    """(row of a ticket, row of its reply or None) by walking each path by hand."""
    out: list[tuple[int, int | None]] = []
    for i, path in enumerate(log.paths()):
        start, open_at = log.offsets[i], None
        for k, name in enumerate(path):
            if name == "ticket" and open_at is None:
                open_at = start + k
            elif name == "reply" and open_at is not None:
                out.append((open_at, start + k))
                open_at = None
        if open_at is not None:
            out.append((open_at, None))
    return out


def test_response_times_per_period():
    from scipy import stats

    log = random_log(600, seed=5)
    rt = tp.response_times(log, request="ticket", response="reply", target=86400, period="month")
    per = rt.periods
    assert per is not None
    assert per["n"].sum() == rt.n
    assert list(per["period"]) == sorted(per["period"])
    assert {"median", "p90", "within_target", "change_median", "qvalue"} <= set(per.columns)
    # recompute the second period's test by hand
    secs = log.timestamp.astype(np.int64) / 1e9
    months = log.timestamp.astype("datetime64[M]").astype(str)
    waits = {m: [] for m in per["period"]}
    for opened_at, replied_at in _tickets(log):
        if replied_at is not None:
            waits[months[opened_at]].append(secs[replied_at] - secs[opened_at])
    a, b = waits[per["period"][1]], waits[per["period"][0]]
    assert per["median"][1] == pytest.approx(np.median(a))
    assert per["pvalue"][1] == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    # open requests, censored per period of the request
    assert per["open"].sum() == rt.n_unanswered > 0
    end = secs.max()
    opened = {m: [] for m in per["period"]}
    for opened_at, replied_at in _tickets(log):
        if replied_at is None:
            opened[months[opened_at]].append(end - secs[opened_at])
    for i, m in enumerate(per["period"]):
        assert per["open"][i] == len(opened[m])
        want = product_limit(waits[m], opened[m], 86400)
        assert per["within_target"][i] == pytest.approx(want, abs=1e-12)
        assert per["within_target_answered"][i] == pytest.approx(
            np.mean(np.array(waits[m]) <= 86400)
        )
    with pytest.raises(ValidationError, match="datetime"):
        tp.response_times(random_log(20, datetime=False), "ticket", "reply", period="week")
