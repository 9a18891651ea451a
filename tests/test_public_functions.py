"""Every public function checks every parameter, with one message style (issue 9, item 5).

In the manner of scikit-learn's ``tests/test_public_functions.py``: each function
of ``touchpoint.__all__`` declares its parameter constraints with
``touchpoint._lib.checks.validate_params``; this test feeds every constraint's bad
values to the function (with otherwise valid data) and asserts the one message
"`name` must be ... (got ...)." and the error class. A new public function, or a
new parameter, fails here until it is checked (or listed below as data).
"""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import InvalidParameterError

#: Parameters that are data (checked by the function against the data itself, with
#: messages naming column, row and value), not settings with a fixed range.
DATA = {
    "log",
    "scores",
    "weights",
    "a",
    "b",
    "weights_a",
    "weights_b",
    "responses",
    "design",
    "steps",
    "exclude",
    "optional",
    "options",
    "model",
    "model_a",
    "model_b",
    "groups",
    "after",
    "before",
    "request",
    "response",
    "conversion",
    "data",
    "corr",
    "path",
    "extra",
    "conversions",
    "source",
    "cluster",
    "table",
    "spend",
    "holdout",
    "group",
}
#: Public functions whose every parameter is data (nothing to declare).
ALL_DATA = {"conformance", "read_journey", "relative_weights", "shapley_r2"}


def _log():
    return tp.EventLog.from_arrays(
        ["a", "a", "b", "b", "c"],
        ["x", "y", "x", "z", "y"],
        [1.0, 2.0, 1.0, 2.0, 1.0],
        outcome=[0, 1, 0, 0, 1],
    )


def _arm_log():
    return tp.EventLog.from_arrays(
        ["a", "b", "c", "d"],
        ["x", "x", "y", "y"],
        [1.0, 1.0, 1.0, 1.0],
        outcome=[1, 0, 1, 0],
        extra={"arm": ["exposed", "exposed", "holdout", "holdout"]},
    )


def _responses():
    return tp.Table.from_records(
        [
            {"touchpoint": t, "channel": c, "stage": s, "nps": v, "csat": v // 2 or 1}
            for t, c, s, v in [
                ("x", "web", "s1", 9),
                ("y", "app", "s1", 3),
                ("x", "app", "s2", 10),
                ("y", "web", "s2", 7),
                ("z", "web", "s1", 8),
                ("z", "app", "s2", 2),
            ]
        ]
    )


def _csv(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("journey_id,touchpoint,timestamp\n1,x,1\n1,y,2\n")
    return p


def _parquet(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    p = tmp_path / "e.parquet"
    table = {"journey_id": [1, 1], "touchpoint": ["x", "y"], "timestamp": [1.0, 2.0]}
    pq.write_table(pa.table(table), p)
    return p


def _ibis_table(tmp_path):
    ibis = pytest.importorskip("ibis")
    with warnings.catch_warnings():  # ibis 12 calls a method DuckDB 2 deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return ibis.read_parquet(_parquet(tmp_path))


#: Valid positional data for each public function.
ARGS = {
    "attribution": lambda t: (_log(),),
    "breakdown": lambda t: (_responses(),),
    "ces": lambda t: ([1, 5, 7],),
    "compare_attribution": lambda t: (_log(),),
    "compare_ces": lambda t: ([1, 5, 7], [2, 6, 7]),
    "compare_csat": lambda t: ([1, 5, 4], [2, 5, 5]),
    "compare_nps": lambda t: ([9, 10, 3], [0, 10, 8]),
    "compare_transitions": lambda t: (tp.fit_markov(_log()), tp.fit_markov(_log())),
    "consistency": lambda t: (_responses(),),
    "count_transitions": lambda t: (_log(),),
    "csat": lambda t: ([1, 5, 4],),
    "detect_dropoffs": lambda t: (_log(), ["x", "y"]),
    "exit_points": lambda t: (_log(),),
    "fit_markov": lambda t: (_log(),),
    "funnel": lambda t: (_log(), ["x", "y"]),
    "incrementality": lambda t: (_arm_log(), "arm"),
    "key_touchpoints": lambda t: (_log(),),
    "monitor": lambda t: (_log(),),
    "next_steps": lambda t: (_log(), "x"),
    "nps": lambda t: ([9, 10, 3],),
    "previous_steps": lambda t: (_log(), "y"),
    "read_csv": lambda t: (_csv(t),),
    "read_parquet": lambda t: (_parquet(t),),
    "removal_effects": lambda t: (tp.fit_markov(_log()),),
    "repeat_rate": lambda t: (_log(), "y"),
    "response_times": lambda t: (_log(), "x", "y"),
    "select_order": lambda t: (_log(),),
    "scan_parquet": lambda t: (_parquet(t),),
    "scan_table": lambda t: (_ibis_table(t),),
    "read_ga4": lambda t: (_export("ga4"),),
    "read_segment": lambda t: (_export("segment.jsonl"),),
    "read_snowplow": lambda t: (_export("snowplow_events.parquet"),),
    "read_amplitude": lambda t: (_export("amplitude_export.zip"),),
    "read_mixpanel": lambda t: (_export("mixpanel_export.jsonl.gz"),),
    "stitch_identities": lambda t: (
        {"anonymous_id": ["d1", "d1"], "user_id": [None, "u1"], "time": [1.0, 2.0]},
    ),
    "step_matrix": lambda t: (_log(),),
    "process_map": lambda t: (_log(),),
    "cluster_journeys": lambda t: (_log(),),
    "retention": lambda t: (_log(),),
    "path_prefixes": lambda t: (_log(),),
}


def _export(name):
    return tp.datasets.sample_path(f"exports/{name}")


def _public_functions():
    return sorted(
        n for n in tp.__all__ if inspect.isfunction(getattr(tp, n)) and not n.startswith("_")
    )


def _constraints(fn):
    return getattr(fn, "__touchpoint_constraints__", None) or getattr(
        inspect.unwrap(fn), "__touchpoint_constraints__", {}
    )


def test_every_public_function_declares_every_setting():
    missing = {}
    for name in _public_functions():
        if name in ALL_DATA:
            continue
        fn = getattr(tp, name)
        declared = set(_constraints(fn))
        params = {
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
        lacking = params - declared - DATA
        if lacking:
            missing[name] = sorted(lacking)
        assert name in ARGS, f"add valid data for {name} to ARGS"
    assert not missing, missing


def _cases():
    for name in _public_functions():
        if name in ALL_DATA:
            continue
        for param, constraint in _constraints(getattr(tp, name)).items():
            for k, bad in enumerate(constraint.bad):
                yield pytest.param(name, param, bad, id=f"{name}-{param}-{k}")


@pytest.mark.parametrize(("name", "param", "bad"), list(_cases()))
def test_bad_values_give_the_one_message(tmp_path, name, param, bad):
    fn = getattr(tp, name)
    args = ARGS[name](tmp_path)
    with pytest.raises(InvalidParameterError) as info:
        fn(*args, **{param: bad})
    msg = str(info.value)
    assert re.fullmatch(rf"`{re.escape(param)}` must be .+ \(got .+\)\.", msg, re.S), msg
    # both built-in kinds, as scikit-learn's InvalidParameterError
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("name", sorted(ARGS))
def test_defaults_pass_their_own_checks(tmp_path, name):
    fn = getattr(tp, name)
    sig = inspect.signature(fn)
    for param, constraint in _constraints(fn).items():
        default = sig.parameters[param].default
        if default is not inspect.Parameter.empty:
            constraint(param, default)  # raises if a default breaks its own rule


def test_message_style_examples():
    from touchpoint._lib import checks as ck

    with pytest.raises(
        InvalidParameterError, match=r"^`alpha` must be a number in \(0, 1\) \(got 5\)\.$"
    ):
        ck.number("alpha", 5, low=0, high=1, closed="neither")
    with pytest.raises(InvalidParameterError, match=r"^`alpha` must be a finite number"):
        ck.number("alpha", np.nan, low=0, high=1)
    with pytest.raises(
        InvalidParameterError, match=r"^`n` must be an integer >= 1 \(got True\)\.$"
    ):
        ck.integer("n", True, low=1)
    with pytest.raises(tp.UnknownTouchpointError, match=r"did you mean 'checkout'"):
        ck.known_names("exclude", ["chekout"], ["ad", "checkout"])
