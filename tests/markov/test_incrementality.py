"""Holdout incrementality: intervals against statsmodels and published values."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import ValidationError


def holdout_log(
    n_exposed: int, n_holdout: int, p_exposed: float, p_holdout: float, seed: int = 0
) -> tp.EventLog:
    rng = np.random.default_rng(seed)
    n = n_exposed + n_holdout
    arm = np.array(["exposed"] * n_exposed + ["holdout"] * n_holdout, dtype=object)
    p = np.where(arm == "exposed", p_exposed, p_holdout)
    conv = rng.random(n) < p
    value = np.where(conv, rng.gamma(2.0, 50.0, n), 0.0)
    cell = np.array(["search", "social"], dtype=object)[np.arange(n) % 2]
    return tp.EventLog.from_arrays(
        np.arange(n), cell, np.zeros(n), outcome=value, extra={"arm": arm, "cell": cell}
    )


def test_intervals_equal_statsmodels_score_and_newcombe():
    sm = pytest.importorskip("statsmodels.stats.proportion")
    log = holdout_log(2000, 500, 0.06, 0.04)
    inc = tp.incrementality(log, "arm", holdout="holdout", n_resamples=0)
    r = inc.table.to_records()[0]
    x1, n1, x2, n2 = (
        r["exposed_conversions"],
        r["exposed_journeys"],
        r["holdout_conversions"],
        r["holdout_journeys"],
    )
    assert (n1, n2) == (2000, 500)
    lo, hi = sm.confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert (r["lift_low"], r["lift_high"]) == pytest.approx((lo, hi), abs=1e-12)
    lo, hi = sm.confint_proportions_2indep(
        x1, n1, x2, n2, method="score", compare="ratio", correction=False
    )
    assert (r["relative_low"], r["relative_high"]) == pytest.approx((lo - 1, hi - 1), rel=1e-9)
    assert r["lift"] == pytest.approx(x1 / n1 - x2 / n2)
    assert r["incremental_share"] == pytest.approx(1 - (x2 / n2) / (x1 / n1))
    assert r["incremental_conversions"] == pytest.approx((x1 / n1 - x2 / n2) * n1)


def test_value_lift_and_its_mover_interval():
    log = holdout_log(3000, 1000, 0.08, 0.05, seed=1)
    inc = tp.incrementality(log, "arm", holdout=["holdout"], n_resamples=4000, seed=2)
    r = inc.table.to_records()[0]
    arm = log.journey_column("arm")
    v = np.where(log.converted(), log.value(), 0.0)
    a, b = v[arm == "exposed"], v[arm == "holdout"]
    assert r["value_lift"] == pytest.approx(a.mean() - b.mean())
    # with many conversions the MOVER interval is close to the normal interval
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    d = a.mean() - b.mean()
    assert r["value_lift_low"] == pytest.approx(d - 1.96 * se, abs=0.25 * se)
    assert r["value_lift_high"] == pytest.approx(d + 1.96 * se, abs=0.25 * se)


def test_by_cell_calibration_and_errors():
    log = holdout_log(4000, 1000, 0.10, 0.05, seed=3)
    inc = tp.incrementality(log, "arm", holdout="holdout", by="cell", n_resamples=0)
    assert inc.table["cell"].tolist() == ["search", "social"]
    assert inc.table["exposed_journeys"].sum() == 4000
    m = tp.fit_markov(log)
    re = tp.removal_effects(m)
    cal = inc.calibration(re)
    eff = dict(zip(re.names, re.effect.tolist(), strict=True))
    for row in cal.to_records():
        share = inc.table["incremental_share"][inc.table["cell"] == row["touchpoint"]][0]
        assert row["removal_effect"] == pytest.approx(eff[row["touchpoint"]])
        assert row["calibration_factor"] == pytest.approx(share / eff[row["touchpoint"]])
        assert row["factor_low"] <= row["calibration_factor"] <= row["factor_high"]
    whole = tp.incrementality(log, "arm", holdout="holdout", n_resamples=0)
    with pytest.raises(ValidationError, match="channel="):
        whole.calibration(re)
    assert len(whole.calibration(re, channel="search")) == 1
    with pytest.raises(ValidationError, match="holdout"):
        tp.incrementality(log, "arm", holdout="nobody")


def test_zero_conversions_give_open_bounds_not_errors():
    log = holdout_log(300, 200, 0.0, 0.0)
    r = tp.incrementality(log, "arm", holdout="holdout", n_resamples=50).table.to_records()[0]
    assert r["relative_low"] == -1.0 and r["relative_high"] == np.inf
    assert r["lift_low"] < 0 < r["lift_high"]
