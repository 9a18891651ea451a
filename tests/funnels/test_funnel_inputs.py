"""Funnels, drop-offs and exploration given hostile inputs and sizes.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest

import touchpoint as tp
from bad_input import _converting_log, _design

# ---------------------------------------------------------------------------------
# funnels, drop-offs, exploration
# ---------------------------------------------------------------------------------
FUNNEL_ERRORS = [
    ("exclude_typo", lambda lg: tp.funnel(lg, ["x", "y"], exclude=["zz"]), r"`exclude`.*'zz'"),
    ("exclude_close_typo", lambda lg: tp.funnel(lg, ["x", "y"], exclude=["zx"]), r"`exclude`"),
    ("exclude_string", lambda lg: tp.funnel(lg, ["x", "y"], exclude="zz"), r"`exclude`.*'zz'"),
    ("step_unknown", lambda lg: tp.funnel(lg, ["x", "qq"]), r"qq"),
    ("steps_empty", lambda lg: tp.funnel(lg, []), r"`steps` must be"),
    ("window_nan", lambda lg: tp.funnel(lg, ["x", "y"], window=math.nan), r"`window` must be"),
    ("window_neg", lambda lg: tp.funnel(lg, ["x", "y"], window=-1), r"`window` must be"),
    ("window_inf", lambda lg: tp.funnel(lg, ["x", "y"], window=math.inf), r"`window` must be"),
    (
        "window_nat",
        lambda lg: tp.funnel(lg, ["x", "y"], window=np.timedelta64("NaT")),
        r"`window` must be",
    ),
    ("mode_typo", lambda lg: tp.funnel(lg, ["x", "y"], mode="strcit"), r"`mode` must be"),
    ("count_typo", lambda lg: tp.funnel(lg, ["x", "y"], count="people"), r"`count` must be"),
    (
        "optional_unknown",
        lambda lg: tp.funnel(lg, ["x", "y"], optional=["zz"]),
        r"`optional`.*'zz'",
    ),
    ("by_unknown", lambda lg: tp.funnel(lg, ["x", "y"], by="zz"), r"zz"),
    (
        "dropoffs_alpha_nan",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], alpha=math.nan),
        r"`alpha` must be",
    ),
    (
        "dropoffs_period_nan",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], period=math.nan),
        r"`period` must be",
    ),
    (
        "dropoffs_period_neg",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], period=-1.0),
        r"`period` must be",
    ),
    (
        "dropoffs_min_count",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], min_count=-1),
        r"`min_count` must be",
    ),
    ("dropoffs_test", lambda lg: tp.detect_dropoffs(lg, ["x", "y"], test="t"), r"`test` must be"),
    (
        "dropoffs_exclude_typo",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], exclude=["zz"]),
        r"`exclude`.*'zz'",
    ),
    ("next_depth_zero", lambda lg: tp.next_steps(lg, "x", depth=0), r"`depth` must be"),
    ("next_depth_nan", lambda lg: tp.next_steps(lg, "x", depth=math.nan), r"`depth` must be"),
    ("next_unknown", lambda lg: tp.next_steps(lg, "zz"), r"zz"),
    (
        "previous_occurrence",
        lambda lg: tp.previous_steps(lg, "y", occurrence="middle"),
        r"`occurrence` must be",
    ),
    ("exit_alpha", lambda lg: tp.exit_points(lg, alpha=2), r"`alpha` must be"),
    ("sessionize_nan", lambda lg: lg.sessionize(math.nan), r"`gap` must be"),
    ("sessionize_inf", lambda lg: lg.sessionize(math.inf), r"`gap` must be"),
    ("sessionize_zero", lambda lg: lg.sessionize(0), r"`gap` must be"),
    ("iter_chunks_zero", lambda lg: list(lg.iter_chunks(0)), r"`journeys` must be"),
    ("repeat_alpha", lambda lg: tp.repeat_rate(lg, "y", alpha=math.nan), r"`alpha` must be"),
    ("response_unknown", lambda lg: tp.response_times(lg, "x", "qq"), r"qq"),
]


@pytest.mark.parametrize(
    ("case", "fn", "pattern"), FUNNEL_ERRORS, ids=[c[0] for c in FUNNEL_ERRORS]
)
def test_error_funnel_inputs(case, fn, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        fn(_converting_log())


def _many_periods_log(n_journeys=2000, days=730):
    rng = np.random.default_rng(0)
    start = rng.uniform(0, days * 86400.0, n_journeys)
    jid = np.repeat(np.arange(n_journeys), 2)
    tps = np.tile(np.array(["x", "y"], dtype=object), n_journeys)
    times = np.repeat(start, 2) + np.tile([0.0, 60.0], n_journeys)
    keep = np.ones(2 * n_journeys, dtype=bool)
    keep[1::2] = rng.random(n_journeys) < 0.6
    return tp.EventLog.from_arrays(jid[keep], tps[keep], times[keep])


def test_ok_dropoffs_730_daily_periods_bounded_memory():
    log = _many_periods_log()
    tracemalloc.start()
    try:
        d = tp.detect_dropoffs(log, ["x", "y"], period=86400.0, min_count=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, peak
    assert isinstance(d, tp.DropOffs)


def test_error_dropoffs_tiny_period_refused():
    log = _many_periods_log(200)
    with pytest.raises(tp.ValidationError, match=r"`period`.*periods"):
        tp.detect_dropoffs(log, ["x", "y"], period=1e-3)


def test_error_journey_paths_bounded():
    j = _design(*[f"t{i}" for i in range(11)])
    for a, b in itertools.permutations(range(11), 2):
        j.add_transition(f"t{a}", f"t{b}")
    with pytest.raises(tp.ValidationError, match=r"paths|cutoff"):
        j.paths("t0", "t10")


def test_ok_journey_paths_with_cutoff():
    j = _design(*[f"t{i}" for i in range(11)])
    for a, b in itertools.permutations(range(11), 2):
        j.add_transition(f"t{a}", f"t{b}")
    paths = j.paths("t0", "t10", cutoff=2)
    assert len(paths) == 1 + 9  # direct, and through each of the 9 others
