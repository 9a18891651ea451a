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
