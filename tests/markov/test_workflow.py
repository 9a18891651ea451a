"""Attribution workflow: lookback windows, all methods side by side, spend, pickling."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import ValidationError

DAY = 86400.0


def dated_log() -> tp.EventLog:
    # j1: display (day 0) > search (day 20) > buy (day 25, 100)
    # j2: email (day 0) > search (day 2) > buy (day 3, 50)
    # j3: display (day 0) > email (day 40): no conversion
    return tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2, 2, 3, 3],
        ["display", "search", "buy", "email", "search", "buy", "display", "email"],
        np.array([0, 20, 25, 0, 2, 3, 0, 40]) * DAY,
        outcome=[0, 0, 100, 0, 0, 50, 0, 0],
        conversions=["buy"],
    )


def credit(att: tp.Attribution) -> dict[str, float]:
    return dict(zip(att.table[att.states].tolist(), att.table["conversions"].tolist()))


def test_lookback_drops_touches_older_than_the_window_before_conversion():
    log = dated_log()
    full = credit(tp.attribution(log, "first_touch"))
    assert full == {"display": 1.0, "email": 1.0, "search": 0.0}
    # 10 days: j1 keeps only search (5 days before), j2 keeps email and search
    short = credit(tp.attribution(log, "first_touch", lookback=10 * DAY))
    assert short == {"search": 1.0, "email": 1.0, "display": 0.0}
    lin = credit(tp.attribution(log, "linear", lookback=10 * DAY))
    assert lin == pytest.approx({"search": 1.5, "email": 0.5, "display": 0.0})
    # a window shorter than every gap leaves j1 and j2 without touches: unattributed
    tiny = tp.attribution(log, "last_touch", lookback=3600.0)
    assert tiny.unattributed == 2 and tiny.unattributed_value == 150
    assert tiny.lookback == 3600.0
    # every method takes it, the Markov chain is fitted on the windowed journeys
    mk = tp.attribution(log, lookback=10 * DAY)
    assert mk.table["conversions"].sum() == pytest.approx(2)
    assert credit(mk)["display"] == 0.0
    with pytest.raises(ValidationError, match="lookback"):
        tp.attribution(log, lookback=-1.0)
    # plain-number times (seconds here) take plain numbers, not a timedelta
    with pytest.raises(ValidationError, match="plain numbers"):
        tp.attribution(log, lookback=dt.timedelta(days=10))


def test_compare_attribution_columns_equal_attribution():
    log = dated_log()
    methods = list(tp.ATTRIBUTION_METHODS)
    cmp = tp.compare_attribution(log, methods, n_resamples=0)
    assert cmp.methods == tuple(methods)
    for m in methods:
        want = credit(tp.attribution(log, m))
        got = dict(zip(cmp.table["touchpoint"].tolist(), cmp.table[m].tolist()))
        assert got == pytest.approx(want), m
        assert cmp.attributions[m].table["conversions"].tolist() == pytest.approx(
            tp.attribution(log, m).table["conversions"].tolist()
        )
    with pytest.warns(DeprecationWarning, match="methods"):
        tp.compare_attribution(log, models=["linear"], n_resamples=0)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="methods"):
        tp.compare_attribution(log, ["linear", "magic"])


def test_spend_gives_cost_per_conversion_and_roas_with_bootstrap_intervals():
    rng = np.random.default_rng(0)
    n = 600
    lengths = rng.integers(1, 4, n)
    j = np.repeat(np.arange(n), lengths)
    tps = rng.choice(np.array(["search", "social", "email"], dtype=object), size=len(j))
    last = np.r_[j[1:] != j[:-1], True]
    conv = rng.random(n) < 0.2
    out = np.where(last & conv[j], 80.0, 0.0)
    log = tp.EventLog.from_arrays(j, tps, np.arange(len(j), dtype=float), outcome=out)
    spend = {
        "channel": ["search", "search", "social", "email"],
        "period": ["w1", "w2", "w1", "w1"],
        "cost": [300.0, 200.0, 400.0, 100.0],
    }
    cmp = tp.compare_attribution(
        log, ["last_touch", "markov"], spend=spend, n_resamples=300, seed=1
    )
    sp = cmp.spend
    assert sp is not None
    for r in sp.to_records():
        att = tp.attribution(log, r["method"])
        c = att.credit(r["touchpoint"])
        cost = {"search": 500.0, "social": 400.0, "email": 100.0}[r["touchpoint"]]
        assert r["cost"] == cost
        assert r["cost_per_conversion"] == pytest.approx(cost / c)
        v = att.table["value"][att.table["touchpoint"] == r["touchpoint"]][0]
        assert r["roas"] == pytest.approx(v / cost)
        assert r["cpa_low"] <= r["cost_per_conversion"] <= r["cpa_high"]
        assert r["roas_low"] <= r["roas"] <= r["roas_high"]
    # last touch: the bootstrap of a sum of journey credits is close to the normal interval
    lt = next(
        r for r in sp.to_records() if r["method"] == "last_touch" and r["touchpoint"] == "search"
    )
    credits = np.zeros(n)
    for jj in range(n):
        credits[jj] = float(conv[jj] and tps[np.flatnonzero(j == jj)[-1]] == "search")
    se = credits.std(ddof=1) * np.sqrt(n)
    total = credits.sum()
    assert 500 / lt["cpa_high"] == pytest.approx(total - 1.96 * se, rel=0.15)
    assert 500 / lt["cpa_low"] == pytest.approx(total + 1.96 * se, rel=0.15)
    with pytest.raises(ValidationError, match="cost"):
        tp.compare_attribution(log, ["linear"], spend={"channel": ["search"], "cost": [-1.0]})
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    ax = cmp.plot()
    assert len(ax.patches) == 2 * len(cmp.table)


def test_markov_results_pickle_and_deepcopy_after_use():
    log = dated_log()
    m = tp.fit_markov(log)
    m.conversion_probability()  # fills the cache (a SuperLU factorisation)
    m.expected_steps()
    results = [
        m,
        m.what_if({("search", "(conversion)"): 0.1}),
        tp.removal_effects(m),
        tp.attribution(log),
        tp.count_transitions(log),
        tp.select_order(log, max_order=2, n_resamples=0),
        tp.compare_transitions(m, tp.fit_markov(log)),
        tp.compare_attribution(log, ["linear", "markov"], n_resamples=0),
    ]
    for r in results:
        for back in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
            assert type(back) is type(r)
            assert repr(back) == repr(r)
    back = pickle.loads(pickle.dumps(m))
    assert back.conversion_probability() == m.conversion_probability()
    assert back.transition_counts == m.transition_counts


def test_probabilities_stay_in_the_unit_interval_on_a_million_event_chain():
    # one journey of a million events over five touchpoints: the solve gives 1 + 6.5e-12
    n = 1_000_000
    names = np.array([f"t{i}" for i in range(5)], dtype=object)
    log = tp.EventLog.from_arrays(
        np.zeros(n, dtype=np.int64),
        names[np.random.default_rng(0).integers(0, 5, n)],
        np.arange(n, dtype=float),
        outcome=np.r_[np.zeros(n - 1), 1.0],
    )
    m = tp.fit_markov(log)
    p = m.conversion_probability()
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(1.0)
    table = m.absorption_probabilities()
    for col in table.columns[1:3]:
        assert np.all((table[col] >= 0) & (table[col] <= 1))
    re = tp.removal_effects(m)
    assert np.all((re.without >= 0) & (re.without <= 1)) and 0 <= re.conversion_probability <= 1
