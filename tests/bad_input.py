"""Shared helpers of the hostile-input tests (imported by tests/*/test_*_inputs.py and others)."""

from __future__ import annotations

import inspect

import touchpoint as tp

ENGINES = ["python", "pyarrow", "polars"]
H = "journey_id,touchpoint,timestamp\n"


def _arrays(**kw):
    return tp.EventLog.from_arrays(["a", "a", "b"], ["x", "y", "x"], [1.0, 2.0, 3.0], **kw)


def _converting_log():
    return tp.EventLog.from_arrays(
        ["a", "a", "b", "b", "c", "d", "d"],
        ["x", "y", "x", "z", "y", "z", "y"],
        [1.0, 2.0, 1.0, 2.0, 1.0, 1.0, 2.0],
        outcome=[0, 1, 0, 0, 1, 0, 1],
    )


def _conformance(log, design):
    """Call conformance in the documented order (data first after the vocabulary change)."""
    first = next(iter(inspect.signature(tp.conformance).parameters))
    return tp.conformance(log, design) if first == "log" else tp.conformance(design, log)


def _write(tmp_path, text, name="e.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def _summary(log):
    return (
        log.journey_ids.tolist(),
        [list(p) for p in log.paths()],
        log.timestamp.tolist(),
    )


def _design(*names, edges=()):
    j = tp.Journey()
    for n in names:
        j.add_touchpoint(n)
    for a, b in edges:
        j.add_transition(a, b)
    return j
