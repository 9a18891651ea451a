"""Metric inputs to refuse or count, and estimates inside their own intervals.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import touchpoint as tp

# ---------------------------------------------------------------------------------
# metrics: values that must be refused
# ---------------------------------------------------------------------------------
METRIC_ERRORS = [
    ("nps_scalar", lambda: tp.nps(4), r"`scores` must be"),
    ("nps_bools", lambda: tp.nps([True, False, True]), r"boolean"),
    ("nps_bool_array", lambda: tp.nps(np.array([True, False])), r"boolean"),
    ("csat_bools", lambda: tp.csat([True, True]), r"boolean"),
    ("ces_bools", lambda: tp.ces([True, False], scale=(1, 7)), r"boolean"),
    ("nps_nan_scale", lambda: tp.nps([1, 2, 11], scale=(0, math.nan)), r"`scale` must be"),
    ("nps_inf_scale", lambda: tp.nps([1, 2], scale=(0, math.inf)), r"`scale` must be"),
    ("nps_reversed_scale", lambda: tp.nps([1, 2], scale=(10, 0)), r"`scale` must be"),
    ("csat_nan_scale", lambda: tp.csat([1, 2, 11], scale=(1, math.nan)), r"`scale` must be"),
    ("ces_nan_scale", lambda: tp.ces([1, 2], scale=(math.nan, 7)), r"`scale` must be"),
    ("nps_nan_band", lambda: tp.nps([1, 2], promoters=(math.nan, 10)), r"`promoters` must be"),
    ("csat_nan_band", lambda: tp.csat([1, 2], satisfied=(4, math.nan)), r"`satisfied` must be"),
    ("nps_inf_answer", lambda: tp.nps([9, math.inf]), r"position 1"),
    ("nps_text_answers", lambda: tp.nps(["nine", "ten"]), r"`scores`"),
    ("nps_2d", lambda: tp.nps([[9, 10], [1, 2]]), r"one-dimensional"),
    ("nps_dict", lambda: tp.nps({"a": 9}), r"`scores` must be"),
    ("nps_none", lambda: tp.nps(None), r"`scores` must be"),
    ("nps_weight_nan", lambda: tp.nps([9, 10], weights=[1, math.nan]), r"position 1"),
    ("nps_weight_bool", lambda: tp.nps([9, 10], weights=[True, False]), r"`weights`"),
    ("nps_weight_len", lambda: tp.nps([9, 10], weights=[1.0]), r"`weights`"),
    (
        "nps_ci_level_nan",
        lambda: tp.nps([9, 10, 3]).confidence_interval(math.nan),
        r"`confidence_level` must be",
    ),
    (
        "nps_ci_level_5",
        lambda: tp.nps([9, 10, 3]).confidence_interval(5),
        r"`confidence_level` must be",
    ),
    (
        "nps_ci_level_bool",
        lambda: tp.nps([9, 10, 3]).confidence_interval(True),
        r"`confidence_level` must be",
    ),
    (
        "nps_ci_method",
        lambda: tp.nps([9, 10, 3]).confidence_interval(method="wild"),
        r"`method` must be",
    ),
    ("ces_version", lambda: tp.ces([1, 2], scale=(1, 7), version=3), r"`version` must be"),
    (
        "csat_ci_method",
        lambda: tp.csat([4, 5]).confidence_interval(method="x"),
        r"`method` must be",
    ),
    ("compare_nps_method", lambda: tp.compare_nps([9, 1], [9, 9], method="x"), r"`method` must be"),
    ("compare_nps_scalar", lambda: tp.compare_nps(4, [9, 9]), r"`(a|scores)` must be"),
    ("compare_nps_bools", lambda: tp.compare_nps([True], [9, 9]), r"boolean"),
    ("compare_nps_paired_len", lambda: tp.compare_nps([9, 1], [9], paired=True), r"paired|length"),
    (
        "significant_alpha",
        lambda: tp.compare_nps([9, 1, 5], [9, 9, 10]).significant(math.nan),
        r"`alpha` must be",
    ),
    (
        "breakdown_metric",
        lambda: tp.breakdown(tp.Table.from_records([{"touchpoint": "a", "nps": 9}]), "zz"),
        r"`metric` must be",
    ),
    (
        "breakdown_alpha",
        lambda: tp.breakdown(
            tp.Table.from_records([{"touchpoint": "a", "nps": 9}]), "nps", alpha=2
        ),
        r"`alpha` must be",
    ),
]


@pytest.mark.parametrize(
    ("case", "fn", "pattern"), METRIC_ERRORS, ids=[c[0] for c in METRIC_ERRORS]
)
def test_error_metric_inputs(case, fn, pattern):
    with pytest.raises((tp.TouchpointError, TypeError, ValueError), match=pattern) as info:
        fn()
    assert isinstance(info.value, tp.TouchpointError), type(info.value)


def test_drop_nps_missing_answers_are_counted():
    r = tp.nps([9, math.nan, 10, 3])
    assert r.n == 3
    assert r.n_missing == 1


# ---------------------------------------------------------------------------------
# numerics: estimates inside their own interval; probabilities in [0, 1]
# ---------------------------------------------------------------------------------
rng_cases = np.random.default_rng(11)
WEIGHTED = [
    (rng_cases.integers(0, 11, n).tolist(), rng_cases.uniform(0.01, 50, n).tolist())
    for n in (2, 3, 5, 8, 13, 40)
] + [([10, 10], [1.0, 1e6]), ([0, 10], [1e-6, 1.0]), ([0, 0, 10], [1.0, 1.0, 1e5])]


@pytest.mark.parametrize(("scores", "weights"), WEIGHTED)
def test_ok_weighted_nps_inside_its_interval(scores, weights):
    r = tp.nps(scores, weights=weights)
    for method in ("adjusted_wald", "wald"):
        lo, hi = r.confidence_interval(method=method)
        assert -100 <= lo <= r.score <= hi <= 100, (method, lo, r.score, hi)


TWO_SAMPLE = [
    ([10, 10], [0, 0]),
    ([10], [0]),
    ([10, 10, 10], [10, 10, 10]),
    ([0, 0, 0, 10], [10, 10, 10, 10, 10, 10]),
    ([9, 10], [0, 1, 2, 3, 4, 5, 6]),
]


@pytest.mark.parametrize(("a", "b"), TWO_SAMPLE)
@pytest.mark.parametrize("method", ["adjusted_wald", "wald"])
def test_ok_two_sample_nps_inside_its_interval(a, b, method):
    c = tp.compare_nps(a, b, method=method)
    lo, hi = c.confidence_interval()
    assert -200 <= lo <= c.difference <= hi <= 200, (lo, c.difference, hi)
