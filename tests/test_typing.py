"""What a user's editor sees: the public API's annotations.

``log, responses, design = tp.datasets.load_sample()`` (the docs' first line) must
give typed names, ``to_frame`` the frame type of the backend asked for, and the
plot functions ``matplotlib.axes.Axes`` (they were all ``Any``). Checked on the
annotations themselves (mypy on user code reveals the same types, but a fresh
mypy run over pandas' stubs costs 40 s).
"""

from __future__ import annotations

import inspect
import sys
import typing

import numpy as np
import pytest

import touchpoint as tp
from touchpoint import plot
from touchpoint.core._results import ScalarResult, TableResult


def test_load_sample_is_a_typed_named_tuple():
    hints = typing.get_type_hints(tp.datasets.SampleData)
    assert list(hints) == ["events", "responses", "design"]
    assert hints["events"] is tp.EventLog
    assert hints["responses"] is tp.Table
    assert hints["design"] is tp.Journey
    assert inspect.signature(tp.datasets.load_sample).return_annotation == "SampleData"


@pytest.mark.parametrize(
    "name", ["journey_graph", "transition_heatmap", "funnel_bars", "breakdown", "attribution_bars"]
)
def test_plot_functions_return_axes(name):
    fn = getattr(plot, name)
    assert inspect.signature(fn).return_annotation == "Axes"
    assert "Axes | None" in str(inspect.signature(fn).parameters["ax"].annotation)
    assert inspect.signature(tp.Funnel.plot).return_annotation == "Axes"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is 3.11+")
@pytest.mark.parametrize(
    "method", [tp.Table.to_frame, tp.EventLog.to_frame, ScalarResult.to_frame, TableResult.to_frame]
)
def test_to_frame_is_typed_per_backend(method):
    overloads = typing.get_overloads(method)
    returns = [
        (
            str(inspect.signature(o).parameters["backend"].annotation),
            inspect.signature(o).return_annotation,
        )
        for o in overloads
    ]
    assert returns == [
        ("Literal['pandas']", "pd.DataFrame"),
        ("Literal['polars']", "pl.DataFrame"),
        ("Literal['pyarrow']", "pa.Table"),
    ]


def test_interval_unpacks_to_floats():
    """``lo, hi = r.confidence_interval()`` was untyped: ``__iter__`` returned Any."""
    from touchpoint._lib.stats import ConfidenceInterval

    assert inspect.signature(ConfidenceInterval.__iter__).return_annotation == "Iterator[float]"
    lo, hi = tp.nps([9, 10, 3, 8]).confidence_interval()
    assert isinstance(lo, float) and isinstance(hi, float)


@pytest.mark.parametrize(
    ("fn", "param", "alias"),
    [
        (tp.funnel, "window", "DurationLike"),
        (tp.detect_dropoffs, "window", "DurationLike"),
        (tp.attribution, "half_life", "DurationLike"),
        (tp.nps, "scores", "ArrayLike"),
        (tp.nps, "weights", "ArrayLike"),
        (tp.csat, "cluster", "ArrayLike"),
        (tp.ces, "weights", "ArrayLike"),
    ],
)
def test_public_parameters_have_a_type_not_any(fn, param, alias):
    hint = str(inspect.signature(fn).parameters[param].annotation)
    assert alias in hint and "Any" not in hint, hint


@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("funnel_bars", "Funnel"),
        ("attribution_bars", "Attribution"),
        ("attribution_bars", "RemovalEffects"),
        ("dropoff_lines", "DropOffs"),
        ("transition_heatmap", "MarkovModel"),
    ],
)
def test_plot_functions_take_the_result_types(name, result):
    first = next(iter(inspect.signature(getattr(plot, name)).parameters.values()))
    assert result in str(first.annotation) and first.annotation != "Any", first.annotation


@pytest.mark.parametrize("cls", [tp.Funnel, tp.DropOffs, tp.Attribution, tp.RemovalEffects])
def test_results_with_a_picture_have_plot(cls):
    assert inspect.signature(cls.plot).return_annotation == "Axes"


def test_window_text_is_a_duration():
    import datetime

    day = np.timedelta64(86400, "s")
    t0 = np.datetime64("2026-01-05T00:00", "s")
    log = tp.EventLog.from_arrays(
        [1, 1, 2, 2], ["a", "b", "a", "b"], [t0, t0 + 3 * day, t0, t0 + 9 * day]
    )
    week = [s.reached for s in tp.funnel(log, ["a", "b"], window="7D").steps]
    assert week == [s.reached for s in tp.funnel(log, ["a", "b"], window="7 days").steps]
    assert week == [
        s.reached for s in tp.funnel(log, ["a", "b"], window=datetime.timedelta(days=7)).steps
    ]
    assert week == [2, 1]  # 3 days in, 9 days out
    with pytest.raises(tp.ValidationError, match="'7D' or '7 days'"):
        tp.funnel(log, ["a", "b"], window="soon")
