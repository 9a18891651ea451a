"""Markov models: state names, what_if, simulate, bad inputs, probabilities in [0, 1].

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import inspect
import math
import tracemalloc

import numpy as np
import pytest

import touchpoint as tp
from bad_input import _converting_log


# ---------------------------------------------------------------------------------
# Markov: model state names, what_if, simulate
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["(start)", "(null)", "(conversion)"])
@pytest.mark.parametrize("fn", ["count_transitions", "fit_markov", "attribution"])
def test_error_touchpoint_named_like_a_model_state(name, fn):
    log = tp.EventLog.from_arrays(["a", "a"], [name, "x"], [1.0, 2.0], outcome=[0, 1])
    with pytest.raises(tp.ValidationError, match=re_escape(name) + r".*(state|reserved)"):
        getattr(tp, fn)(log)


def re_escape(s):
    import re

    return re.escape(s)


def test_error_channel_named_like_a_model_state():
    log = tp.EventLog.from_arrays(
        ["a", "a"], ["x", "y"], [1.0, 2.0], outcome=[0, 1], extra={"channel": ["(null)", "c"]}
    )
    with pytest.raises(tp.ValidationError, match=r"\(null\)"):
        tp.fit_markov(log, states="channel")


def _model():
    return tp.fit_markov(_converting_log())


WHAT_IF_ERRORS = [
    ("above_one", {("x", "y"): 2.0}, r"`changes`.*\[-1, 1\].*2\.0"),
    ("below_minus_one", {("x", "y"): -1.5}, r"`changes`.*-1\.5"),
    ("nan", {("x", "y"): math.nan}, r"`changes`.*nan"),
    ("inf", {("x", "y"): math.inf}, r"`changes`.*inf"),
    ("bool", {("x", "y"): True}, r"`changes`.*True"),
    ("text", {("x", "y"): "0.5"}, r"`changes`.*'0\.5'"),
    ("unknown_state", {("x", "zz"): 0.5}, r"zz"),
    ("not_pair", {"x": 0.5}, r"`changes`"),
    ("from_absorbing", {("(conversion)", "x"): 0.5}, r"(conversion)"),
    ("trap", {("x", "x"): 1.0}, r"never reach"),
]


@pytest.mark.parametrize(
    ("case", "changes", "pattern"), WHAT_IF_ERRORS, ids=[c[0] for c in WHAT_IF_ERRORS]
)
def test_error_what_if(case, changes, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        _model().what_if(changes)


def test_ok_what_if_matches_dense_computation():
    m = _model()
    w = m.what_if({("x", "y"): 1.0})
    # from x the journey then always goes to y; y converts 3 of 3 times
    assert w.after >= w.before
    assert 0.0 <= w.after <= 1.0


SIMULATE_ERRORS = [
    ("n_zero", {"n": 0}, r"`n` must be"),
    ("n_bool", {"n": True}, r"`n` must be"),
    ("n_float", {"n": 2.5}, r"`n` must be"),
    ("n_nan", {"n": math.nan}, r"`n` must be"),
    ("max_steps_neg", {"n": 2, "max_steps": -1}, r"`max_steps` must be"),
    ("max_steps_zero", {"n": 2, "max_steps": 0}, r"`max_steps` must be"),
    ("max_steps_float", {"n": 2, "max_steps": 1.5}, r"`max_steps` must be"),
    ("seed_text", {"n": 2, "seed": "x"}, r"`seed` must be"),
    ("seed_negative", {"n": 2, "seed": -1}, r"`seed` must be"),
]


@pytest.mark.parametrize(
    ("case", "kw", "pattern"), SIMULATE_ERRORS, ids=[c[0] for c in SIMULATE_ERRORS]
)
def test_error_simulate(case, kw, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        _model().simulate(**kw)


def test_error_simulate_too_big():
    with pytest.raises(tp.TouchpointError, match=r"`n` must be an integer in \[1, 1e\+08\]"):
        _model().simulate(10**12)


def test_error_simulate_too_many_events_is_refused_before_any_work():
    m = _model()
    per = m.expected_steps() - 1  # events per journey
    tracemalloc.start()
    try:
        with pytest.raises(
            tp.ValidationError, match=r"`n` must be at most [\d,]+ journeys.*in batches"
        ):
            m.simulate(10**7)  # ~1.4e7 events: GBs if drawn
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # refused up front, nothing allocated per journey
    from touchpoint.markov._model import MAX_SIMULATED_EVENTS

    ok = int(MAX_SIMULATED_EVENTS / per) // 4
    sim = m.simulate(ok, seed=1)  # a quarter of the limit runs
    assert sim.n_journeys == ok


MARKOV_ERRORS = [
    ("order_zero", lambda lg: tp.fit_markov(lg, order=0), r"`order` must be"),
    ("order_bool", lambda lg: tp.fit_markov(lg, order=True), r"`order` must be"),
    ("order_float", lambda lg: tp.fit_markov(lg, order=1.5), r"`order` must be"),
    ("smoothing_nan", lambda lg: tp.fit_markov(lg, smoothing=math.nan), r"`smoothing` must be"),
    ("smoothing_neg", lambda lg: tp.fit_markov(lg, smoothing=-1), r"`smoothing` must be"),
    ("smoothing_inf", lambda lg: tp.fit_markov(lg, smoothing=math.inf), r"`smoothing` must be"),
    ("states_typo", lambda lg: tp.fit_markov(lg, states="touchpionts"), r"`states` must be"),
    ("select_heldout_nan", lambda lg: tp.select_order(lg, heldout=math.nan), r"`heldout` must be"),
    ("select_max_order_0", lambda lg: tp.select_order(lg, max_order=0), r"`max_order` must be"),
    (
        "cp_max_steps_neg",
        lambda lg: tp.fit_markov(lg).conversion_probability(max_steps=-1),
        r"`max_steps` must be",
    ),
    ("cp_unknown_state", lambda lg: tp.fit_markov(lg).conversion_probability("zz"), r"zz"),
    (
        "ci_level_nan",
        lambda lg: tp.fit_markov(lg).confidence_interval("x", "y", math.nan),
        r"`confidence_level` must be",
    ),
    (
        "compare_alpha",
        lambda lg: tp.compare_transitions(tp.fit_markov(lg), tp.fit_markov(lg), alpha=-1),
        r"`alpha` must be",
    ),
    (
        "without_unknown",
        lambda lg: tp.fit_markov(lg).conversion_probability_without(touchpoints=["zz"]),
        r"zz",
    ),
]


@pytest.mark.parametrize(
    ("case", "fn", "pattern"), MARKOV_ERRORS, ids=[c[0] for c in MARKOV_ERRORS]
)
def test_error_markov_inputs(case, fn, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        fn(_converting_log())


ATTRIBUTION_ERRORS = [
    ("model_typo", {"model": "markvo"}, r"`model` must be"),
    ("half_life_nan", {"model": "time_decay", "half_life": math.nan}, r"`half_life` must be"),
    ("half_life_neg", {"model": "time_decay", "half_life": -5}, r"`half_life` must be"),
    ("half_life_zero", {"model": "time_decay", "half_life": 0}, r"`half_life` must be"),
    ("half_life_inf", {"model": "time_decay", "half_life": math.inf}, r"`half_life` must be"),
    ("half_life_text", {"model": "time_decay", "half_life": "a week"}, r"`half_life` must be"),
    (
        "pos_nan",
        {"model": "position", "position_weights": (math.nan, 0.2)},
        r"`position_weights` must be",
    ),
    (
        "pos_neg",
        {"model": "position", "position_weights": (-0.1, 0.2)},
        r"`position_weights` must be",
    ),
    (
        "pos_sum",
        {"model": "position", "position_weights": (0.7, 0.7)},
        r"`position_weights` must be",
    ),
    (
        "pos_three",
        {"model": "position", "position_weights": (0.1, 0.1, 0.1)},
        r"`position_weights` must be",
    ),
    (
        "pos_bool",
        {"model": "position", "position_weights": (True, 0.1)},
        r"`position_weights` must be",
    ),
    ("order_zero", {"order": 0}, r"`order` must be"),
    ("states_typo", {"states": "touchpiont"}, r"`states` must be"),
    ("resamples_neg", {"n_resamples": -1}, r"`n_resamples` must be"),
    ("seed_float", {"n_resamples": 2, "seed": 1.5}, r"`seed` must be"),
]


def _kw(kw):
    """Use the vocabulary the installed version has (`n_resamples` or `n_bootstrap`)."""
    params = inspect.signature(tp.attribution).parameters
    if "n_resamples" in kw and "n_resamples" not in params:
        kw = dict(kw)
        kw["n_bootstrap"] = kw.pop("n_resamples")
    return kw


@pytest.mark.parametrize(
    ("case", "kw", "pattern"), ATTRIBUTION_ERRORS, ids=[c[0] for c in ATTRIBUTION_ERRORS]
)
def test_error_attribution_inputs(case, kw, pattern):
    kw = _kw(kw)
    if "n_bootstrap" in kw:
        pattern = pattern.replace("n_resamples", "n_bootstrap")
    with pytest.raises(tp.TouchpointError, match=pattern):
        tp.attribution(_converting_log(), **kw)


def test_ok_million_event_journey_probability_at_most_one():
    n = 1_000_000
    tps = np.where(np.arange(n) % 2 == 0, "a", "b").astype(object)
    log = tp.EventLog.from_arrays(
        np.zeros(n, dtype=np.int64),
        tps,
        np.arange(n, dtype=float),
        outcome=np.r_[np.zeros(n - 1), 1.0],
    )
    m = tp.fit_markov(log)
    for s in (None, "a", "b"):
        p = m.conversion_probability(s)
        assert 0.0 <= p <= 1.0
        assert p == pytest.approx(1.0, abs=1e-9)  # the only journey converts
