"""Conformance of a log to its design: unknown touchpoints, wrong arguments.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import pytest

import touchpoint as tp
from bad_input import _arrays, _conformance, _design


# ---------------------------------------------------------------------------------
# conformance
# ---------------------------------------------------------------------------------
def test_ok_conformance_unknown_touchpoints_do_not_conform():
    log = tp.EventLog.from_arrays(["a", "b", "b"], ["zz", "p", "q"], [1.0, 1.0, 2.0])
    c = _conformance(log, _design("p", "q", edges=[("p", "q")]))
    assert c.n_journeys == 2
    assert c.conforming_journeys == 1


def test_ok_conformance_only_unknown_touchpoints():
    log = tp.EventLog.from_arrays(["a", "a", "b"], ["zz", "yy", "zz"], [1.0, 2.0, 1.0])
    c = _conformance(log, _design("p", "q", edges=[("p", "q")]))
    assert c.conforming_journeys == 0


@pytest.mark.parametrize("args", ["log_log", "design_design", "log_dict"])
def test_error_conformance_wrong_arguments(args):
    log = _arrays()
    design = _design("x", "y", edges=[("x", "y")])
    a, b = {"log_log": (log, log), "design_design": (design, design), "log_dict": (log, {})}[args]
    with pytest.raises(TypeError, match=r"needs a(n EventLog| designed Journey).*\(got"):
        tp.conformance(a, b)


def test_ok_conformance_old_argument_order_warns():
    log = _arrays()
    design = _design("x", "y", edges=[("x", "y")])
    with pytest.warns(DeprecationWarning, match="log comes first"):
        old = tp.conformance(design, log)
    assert old == tp.conformance(log, design)
