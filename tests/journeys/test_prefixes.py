"""Path prefixes: cut at k steps or at the first conversion, grouped, with conversion."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp


def test_prefixes_by_hand():
    log = tp.EventLog.from_arrays(
        [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4],
        ["ad", "site", "buy", "site", "ad", "site", "faq", "ad", "ad", "site", "faq", "mail"],
        [0.0, 1, 2, 3, 0, 1, 2, 0, 1, 2, 3, 0],
        conversions=["buy"],
    )
    t = tp.path_prefixes(log, 2)
    rows = {r["path"]: r for r in t.to_records()}
    # journey 1 is cut at its conversion (step 3 > 2 first: cut at 2 steps, converted later)
    # journeys 1, 2, 3 (repeat of ad collapsed) begin "ad > site" and go on
    assert rows["ad > site ..."]["journeys"] == 3
    assert rows["ad > site ..."]["converted"] == 1
    assert rows["mail"]["journeys"] == 1 and rows["mail"]["steps"] == 1
    assert t["share"].sum() == pytest.approx(1.0)
    t3 = {r["path"]: r for r in tp.path_prefixes(log, 3).to_records()}
    assert t3["ad > site > buy"]["journeys"] == 1  # stops at the conversion
    assert t3["ad > site > faq"]["journeys"] == 2
    raw = {r["path"] for r in tp.path_prefixes(log, 3, collapse_repeats=False).to_records()}
    assert "ad > ad > site ..." in raw


def test_prefixes_interval_is_wilson():
    from statsmodels.stats.proportion import proportion_confint

    log = tp.datasets.load_sample().events
    t = tp.path_prefixes(log, 3)
    r = t.to_records()[0]
    lo, hi = proportion_confint(r["converted"], r["journeys"], method="wilson")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))
    assert t["journeys"].sum() == log.n_journeys
    assert np.all(np.diff(t["journeys"]) <= 0)
