"""Shared statistics helpers, checked against statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pytest

from touchpoint._lib.stats import (
    benjamini_hochberg,
    proportion_ci,
    t_quantile,
    two_sided_pvalue,
)
from touchpoint.exceptions import ValidationError

METHODS = [
    ("wilson", "wilson"),
    ("jeffreys", "jeffreys"),
    ("agresti_coull", "agresti_coull"),
    ("exact", "beta"),
]


@pytest.mark.parametrize(("ours", "theirs"), METHODS)
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_proportion_ci_matches_statsmodels(ours, theirs, confidence):
    # Expected results here are from statsmodels.stats.proportion.proportion_confint
    smp = pytest.importorskip("statsmodels.stats.proportion")
    n = np.array([1, 2, 5, 10, 10, 10, 37, 100, 100, 1000, 1000, 12345])
    k = np.array([0, 1, 5, 0, 3, 10, 20, 1, 99, 500, 2, 7000])
    lo, hi = proportion_ci(k, n, confidence, ours)
    ref_lo, ref_hi = smp.proportion_confint(k, n, alpha=1 - confidence, method=theirs)
    if ours == "jeffreys":
        # Brown, Cai & DasGupta (2001, sec. 4.1.2) set the Jeffreys lower limit to 0 at
        # x = 0 and the upper to 1 at x = n; statsmodels does not, so compare inside
        ref_lo = np.where(k == 0, 0.0, ref_lo)
        ref_hi = np.where(k == n, 1.0, ref_hi)
    np.testing.assert_allclose(lo, ref_lo, atol=1e-10)
    np.testing.assert_allclose(hi, ref_hi, atol=1e-10)


def test_proportion_ci_zero_n_and_errors():
    lo, hi = proportion_ci([0, 1], [0, 2])
    assert np.isnan(lo[0])
    assert np.isnan(hi[0])
    assert 0 < lo[1] < hi[1] < 1
    with pytest.raises(ValidationError, match="successes"):
        proportion_ci(3, 2)
    with pytest.raises(ValidationError, match="method"):
        proportion_ci(1, 2, method="bogus")  # type: ignore[arg-type]


def test_benjamini_hochberg_matches_statsmodels():
    mt = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(0).uniform(0, 0.2, 40)
    _, ref, _, _ = mt.multipletests(p, method="fdr_bh")
    np.testing.assert_allclose(benjamini_hochberg(p), ref, atol=1e-12)
    out = benjamini_hochberg([0.01, np.nan, 0.03])
    assert np.isnan(out[1])


def test_t_and_normal_helpers_match_scipy():
    from scipy import stats

    assert t_quantile(7.5, 0.9) == pytest.approx(stats.t.ppf(0.9, 7.5))
    assert two_sided_pvalue(2.1) == pytest.approx(2 * stats.norm.sf(2.1))
    assert two_sided_pvalue(-2.1, df=4) == pytest.approx(2 * stats.t.sf(2.1, 4))
