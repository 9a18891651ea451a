"""Tests for path exploration (next_steps, previous_steps) and conformance,
against brute-force references."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import touchpoint as tp
from funnel_logs import (
    PATHS,
    brute_counts,
    journeys,
    make_log,
    small_design,
)
from touchpoint import EventLog

# ---------------------------------------------------------------------------
# brute-force reference
# ---------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    paths=journeys,
    mode=st.sampled_from(["ordered", "strict", "any"]),
    window=st.sampled_from([None, 1.5, 3.0]),
    use_exclude=st.booleans(),
    steps=st.sampled_from(
        [("a", "b", "c"), ("a", "b"), ("b", "a", "c"), (("a", "b"), "c"), ("a", "a", "b")]
    ),
)
def test_funnel_matches_brute_force(paths, mode, window, use_exclude, steps):
    step_sets = [set(s) if isinstance(s, tuple) else {s} for s in steps]
    if mode == "any" and len(set().union(*step_sets)) < sum(len(s) for s in step_sets):
        return  # any-order needs disjoint steps (tested separately)
    times = {j: [float(i) for i in range(len(p))] for j, p in paths.items()}
    exclude = {"x"} if use_exclude else set()
    log = make_log(paths)
    known = set(log.touchpoint_names)
    spec = [s if isinstance(s, str) else set(s) for s in steps]
    if not all(s <= known for s in step_sets):
        return
    spec = [s if isinstance(s, str) else sorted(s) for s in spec]
    f = tp.funnel(log, spec, mode=mode, window=window, exclude=exclude & known)
    expected = brute_counts(paths, times, step_sets, mode, window, exclude)
    assert [s.reached for s in f.steps] == expected


@settings(max_examples=50, deadline=None)
@given(
    paths=journeys,
    mode=st.sampled_from(["ordered", "strict", "any"]),
    gap=st.sampled_from([0.5, 2.5, 100.0]),
)
def test_invariants(paths, mode, gap):
    log = make_log(paths, extra=None)
    steps = [s for s in ("a", "b", "c") if s in log.touchpoint_names]
    if not steps:
        return
    f = tp.funnel(log, steps, mode=mode)
    reached = [s.reached for s in f.steps]
    assert reached == sorted(reached, reverse=True)  # required steps only shrink
    assert all(s.entered - s.reached == s.dropped for s in f.steps)
    # a wider window never loses conversions; no window is the widest
    narrow = tp.funnel(log, steps, mode=mode, window=1.0)
    wide = tp.funnel(log, steps, mode=mode, window=3.0)
    for a, b, c in zip(narrow.steps, wide.steps, f.steps, strict=True):
        assert a.reached <= b.reached <= c.reached
    # customers made of sessions: same as the unsessionized journeys
    sess = log.sessionize(gap=gap)
    by_customer = tp.funnel(sess, steps, mode=mode, count="customers")
    assert [s.reached for s in by_customer.steps] == reached
    # segments partition the units
    seg = np.array([str(j % 2) for j in log.journey_ids[log.journey]], dtype=object)
    seg_log = EventLog.from_arrays(
        log.journey_ids[log.journey],
        np.array(log.touchpoint_names, dtype=object)[log.touchpoint],
        log.timestamp,
        extra={"seg": seg},
    )
    g = tp.funnel(seg_log, steps, mode=mode, by="seg")
    for k, s in enumerate(f.steps):
        assert sum(x.steps[k].reached for x in g.segments.values()) == s.reached
        assert sum(x.steps[k].entered for x in g.segments.values()) == s.entered


# ---------------------------------------------------------------------------
# path exploration and conformance
# ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    paths=journeys, depth=st.integers(1, 3), occurrence=st.sampled_from(["first", "all", "last"])
)
def test_next_and_previous_steps_match_brute_force(paths, depth, occurrence):
    log = make_log(paths)
    if "a" not in log.touchpoint_names:
        return
    nxt, prv = Counter(), Counter()
    for p in paths.values():
        idx = [i for i, x in enumerate(p) if x == "a"]
        if occurrence == "first":
            idx = idx[:1]
        elif occurrence == "last":
            idx = idx[-1:]
        for i in idx:
            after = p[i + 1 : i + 1 + depth]
            nxt[" > ".join(after + (["(end)"] if len(after) < depth else []))] += 1
            before = p[max(0, i - depth) : i]
            prv[" > ".join((["(start)"] if len(before) < depth else []) + before)] += 1
    t = tp.next_steps(log, after="a", depth=depth, occurrence=occurrence)
    assert dict(zip(t["next"].tolist(), t["count"].tolist(), strict=True)) == nxt
    assert t["share"].sum() == pytest.approx(1.0)
    assert list(t["count"]) == sorted(t["count"], reverse=True)
    u = tp.previous_steps(log, before="a", depth=depth, occurrence=occurrence)
    assert dict(zip(u["previous"].tolist(), u["count"].tolist(), strict=True)) == prv


def test_explore_errors_and_sets():
    log = make_log(PATHS)
    with pytest.raises(tp.UnknownTouchpointError):
        tp.next_steps(log, after="zz")
    with pytest.raises(tp.ValidationError, match="`depth`"):
        tp.next_steps(log, after="a", depth=0)
    with pytest.raises(tp.ValidationError, match="`occurrence`"):
        tp.next_steps(log, after="a", occurrence="middle")  # type: ignore[arg-type]
    t = tp.next_steps(log, after={"b", "c"}, depth=1)
    assert t["count"].sum() == 5  # journeys with b or c


def test_conformance_known_answers():
    design = small_design()
    paths = {
        1: ["ad", "site", "checkout", "onboarding"],  # conforming
        2: ["ad", "site", "site", "checkout"],  # repeat ignored: conforming
        3: ["ad", "checkout"],  # skips consideration
        4: ["site", "ad", "site"],  # back to awareness, then fine
        5: ["reviews", "site", "popup"],  # off-design within a stage; unknown touchpoint
        6: ["ad", "onboarding"],  # skip (two stages)
    }
    log = make_log(paths)
    c = tp.conformance(log, design)
    assert c.n_journeys == 6
    assert c.conforming_journeys == 2
    assert c.fitness == pytest.approx(2 / 6)
    dev = {(r["from"], r["to"]): (r["kind"], r["count"]) for r in c.deviations.to_records()}
    assert dev == {
        ("ad", "checkout"): ("skip", 1),
        ("ad", "onboarding"): ("skip", 1),
        ("site", "ad"): ("back", 1),
        ("reviews", "site"): ("off_design", 1),
        ("site", "popup"): ("unknown", 1),
    }
    rows = {r["touchpoint"]: r for r in c.by_touchpoint.to_records()}
    # "ad" leaves 5 times: site x3 (1, 2, 4), checkout, onboarding
    assert rows["ad"]["transitions"] == 5
    assert rows["ad"]["skip"] == 2
    assert rows["ad"]["share"] == pytest.approx(2 / 5)
    assert c.n_transitions == sum(r["transitions"] for r in rows.values())
    assert "conform" in repr(c)
    assert "<table>" in c._repr_html_()
