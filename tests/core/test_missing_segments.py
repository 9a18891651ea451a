"""Missing segment values form a counted "(missing)" group in every by= analysis.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp

# ---------------------------------------------------------------------------------
# missing segment values are a "(missing)" group, never silently dropped
# ---------------------------------------------------------------------------------
SEGMENTS = {
    "object_none": np.array(["u", None, "v", "u"], dtype=object),
    "float_nan": np.array([1.0, np.nan, 2.0, 1.0]),
    "object_nan": np.array(["u", np.nan, "v", "u"], dtype=object),
}


def _segment_log(seg):
    return tp.EventLog.from_arrays(
        ["a", "b", "c", "d"], ["x", "x", "x", "y"], [1.0, 2.0, 3.0, 4.0], extra={"seg": seg}
    )


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_split_counts_missing_segment(case):
    parts = _segment_log(SEGMENTS[case]).split("seg")
    assert sum(p.n_journeys for p in parts.values()) == 4
    assert "(missing)" in parts
    assert parts["(missing)"].journey_ids.tolist() == ["b"]


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_funnel_by_counts_missing_segment(case):
    f = tp.funnel(_segment_log(SEGMENTS[case]), ["x"], by="seg")
    text = f.to_text()
    assert "(missing)" in text
    assert f.steps[0].entered == 4
    assert f.segments["(missing)"].steps[0].entered == 1  # journey b, counted in its group
    assert sum(s.steps[0].entered for s in f.segments.values()) == 4


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_breakdown_counts_missing_segment(case):
    seg = SEGMENTS[case]
    answers = tp.Table.from_records(
        [{"seg": s, "nps": v} for s, v in zip(seg.tolist(), [10, 0, 9, 7], strict=True)]
    )
    table = tp.breakdown(answers, "nps", by="seg")
    groups = [str(g) for g in table.to_dict()["group"].tolist()]
    assert "(missing)" in groups
    n = table.to_dict()["n"]
    assert int(np.sum(n)) == 4


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_dropoffs_by_counts_missing_segment(case):
    seg = np.repeat(SEGMENTS[case], 30)  # 120 journeys, 30 of them without a segment
    n = len(seg)
    converts = np.arange(n) % 3 > 0
    j = np.repeat(np.arange(n), 2)
    t = np.array([["x", "y" if c else "z"] for c in converts]).ravel()
    log = tp.EventLog.from_arrays(j, t, np.tile([1.0, 2.0], n), extra={"seg": np.repeat(seg, 2)})
    res = tp.detect_dropoffs(log, ["x", "y"], by="seg", period=None, min_count=5, horizon=None)
    rows = {r["group"]: r for r in res.tests.to_records()}
    assert "(missing)" in rows
    assert rows["(missing)"]["entered"] == 30
    assert sum(r["entered"] for r in rows.values()) == n
