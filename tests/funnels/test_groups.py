"""One meaning for `by=` (issue 18, item 4): one or several columns, one group order, one missing label.

`funnel`, `breakdown` and `detect_dropoffs` group through `_lib.groups`; here the
order and the missing label are checked on the kernel and through each function, and
several columns are checked against one call per column (segments equal, q-values
recomputed over the stack with scipy's Benjamini-Hochberg).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

import touchpoint as tp
from touchpoint._lib.groups import MISSING, group_codes
from touchpoint.exceptions import InvalidParameterError


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ([10, 9, 2, 9], [2, 9, 10]),  # numbers by value, not by text ("10" < "2")
        ([10.0, np.nan, 2.5], [2.5, 10.0, MISSING]),
        (["b", None, "a", "", "  "], ["a", "b", MISSING]),
        (np.array(["web", "app", ""]), ["app", "web", MISSING]),
        ([2, "x", None, 1.5], [1.5, 2, "x", MISSING]),
    ],
)
def test_group_order_numbers_then_text_then_missing(values, want):
    arr = np.array(values, dtype=object) if not isinstance(values, np.ndarray) else values
    codes, labels = group_codes(arr)
    assert labels == want
    # every row's code points at its own value
    for v, c in zip(arr.tolist(), codes.tolist(), strict=True):
        missing = v is None or (isinstance(v, float) and v != v) or str(v).strip() == ""
        assert labels[c] == (MISSING if missing else v)


def test_explicit_order_goes_first():
    codes, labels = group_codes(
        np.array(["buy", "aware", "x", "consider"], dtype=object),
        {"aware": 0, "consider": 1, "buy": 2},
    )
    assert labels == ["aware", "consider", "buy", "x"]
    assert codes.tolist() == [2, 0, 3, 1]


def _log():
    rng = np.random.default_rng(5)
    rows, dev, reg = [], [], []
    for j in range(600):
        d = rng.choice(["web", "app", None])
        r = rng.choice(["north", "south"])
        p = 0.3 if d == "app" else 0.6
        rows += [(j, "a", 0.0)]
        dev += [d]
        reg += [r]
        if rng.random() < p:
            rows += [(j, "b", 1.0)]
            dev += [d]
            reg += [r]
    ids, tps, ts = zip(*rows, strict=True)
    return tp.EventLog.from_arrays(
        list(ids),
        list(tps),
        list(ts),
        extra={"device": np.array(dev, dtype=object), "region": np.array(reg, dtype=object)},
    )


def test_funnel_with_several_columns_equals_one_call_per_column():
    log = _log()
    both = tp.funnel(log, ["a", "b"], by=["device", "region"])
    dev = tp.funnel(log, ["a", "b"], by="device")
    reg = tp.funnel(log, ["a", "b"], by="region")
    assert list(dev.segments) == ["app", "web", MISSING]
    assert list(both.segments) == [f"device={g}" for g in dev.segments] + [
        f"region={g}" for g in reg.segments
    ]
    for g, f in dev.segments.items():
        assert both.segments[f"device={g}"].steps[1].reached == f.steps[1].reached
    t = both.tests
    assert t["by"].tolist() == ["device", "device", "region", "region"]
    np.testing.assert_allclose(
        t["statistic"][[1, 3]], [dev.tests["statistic"][1], reg.tests["statistic"][1]]
    )
    p = np.asarray(t["pvalue"], dtype=float)
    ok = ~np.isnan(p)
    np.testing.assert_allclose(t["qvalue"][ok], false_discovery_control(p[ok]))
    assert both.by == ("device", "region")
    assert "conversion by region:" in both.to_text()
    assert "Conversion by device" in both._repr_html_()


def test_breakdown_with_several_columns_is_one_family():
    rng = np.random.default_rng(2)
    n = 400
    answers = tp.Table(
        {
            "touchpoint": rng.choice(["web", "app", "store"], n).astype(object),
            "region": rng.choice(["north", "south", None], n).astype(object),
            "csat": rng.integers(1, 6, n).astype(float),
        }
    )
    both = tp.breakdown(answers, "csat", by=["touchpoint", "region"])
    tps = tp.breakdown(answers, "csat", by="touchpoint")
    reg = tp.breakdown(answers, "csat", by="region")
    assert both["group"].tolist() == [f"touchpoint={g}" for g in tps["group"]] + [
        f"region={g}" for g in reg["group"]
    ]
    assert reg["group"].tolist() == ["north", "south", MISSING]
    np.testing.assert_allclose(both["score"], np.concatenate([tps["score"], reg["score"]]))
    np.testing.assert_allclose(both["qvalue"], false_discovery_control(both["pvalue"]))
    assert "by touchpoint, region" in both.title


def test_every_by_function_gives_the_same_group_order():
    log = _log()
    f = tp.funnel(log, ["a", "b"], by="device")
    d = tp.detect_dropoffs(log, ["a", "b"], by="device", period=None, min_count=5, alpha=0.5)
    groups_d = list(dict.fromkeys(d.tests["group"].tolist()))
    assert groups_d == list(f.segments) == ["app", "web", MISSING]


@pytest.mark.parametrize("fn", ["funnel", "detect_dropoffs"])
def test_by_check_is_one_message(fn):
    with pytest.raises(
        InvalidParameterError, match=r"^`by` must be a column name, a non-empty list"
    ):
        getattr(tp, fn)(_log(), ["a", "b"], by=[])


def test_merged_counts_group_like_the_in_memory_funnel():
    from touchpoint.funnels._merge import segmented_counts

    seg = np.array(["u", "", None, "v", "  ", "u"], dtype=object)
    log = tp.EventLog.from_arrays(
        ["a", "b", "c", "d", "e", "f"],
        ["x", "x", "x", "x", "x", "x"],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        extra={"seg": seg},
    )
    merged = segmented_counts(log, by="seg", steps=["x"]).to_funnel("seg")
    direct = tp.funnel(log, ["x"], by="seg")
    assert list(merged.segments) == list(direct.segments) == ["u", "v", MISSING]
    assert [f.steps[0].reached for f in merged.segments.values()] == [2, 1, 3]
    assert [f.steps[0].reached for f in direct.segments.values()] == [2, 1, 3]
