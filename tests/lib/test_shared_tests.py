"""The shared tests of _lib.stats (one implementation, used by metrics, markov and funnels).

References: scipy.stats.chi2_contingency (no continuity correction) and a direct
computation of the pooled two-proportion z from its textbook formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from touchpoint._lib.stats import chi2_independence, two_proportion_z


@pytest.mark.parametrize("seed", range(6))
def test_chi2_independence_matches_scipy(seed):
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 40, size=(rng.integers(2, 5), rng.integers(2, 6)))
    table[:, 0] += 1  # no empty row
    table[0, :] += 1  # no empty column
    ref = stats.chi2_contingency(table, correction=False)
    stat, df, p = chi2_independence(table)
    assert stat == pytest.approx(ref.statistic, rel=1e-12)
    assert df == ref.dof
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_chi2_independence_drops_empty_rows_and_columns():
    stats = pytest.importorskip("scipy.stats")
    table = np.array([[10, 0, 5], [0, 0, 0], [3, 0, 9]])
    ref = stats.chi2_contingency(table[[0, 2]][:, [0, 2]], correction=False)
    stat, df, p = chi2_independence(table)
    assert (stat, df) == (pytest.approx(ref.statistic), 1)
    assert p == pytest.approx(ref.pvalue)
    assert chi2_independence([[3, 4]]) == (0.0, 0, 1.0)  # one row: nothing to test
    assert chi2_independence([[3, 0], [4, 0]]) == (0.0, 0, 1.0)


def test_two_proportion_z_matches_the_formula_and_its_edges():
    from scipy.special import ndtr

    pa, na, pb, nb = np.array([0.3, 0.5]), np.array([200.0, 50]), np.array([0.45, 0.5]), 120.0
    pool = (pa * na + pb * nb) / (na + nb)
    z_ref = (pa - pb) / np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
    z, p = two_proportion_z(pa, na, pb, nb)
    np.testing.assert_allclose(z, z_ref, rtol=1e-12)
    np.testing.assert_allclose(p, 2 * ndtr(-np.abs(z_ref)), rtol=1e-12)
    np.testing.assert_allclose(two_proportion_z(pa, na, pb, nb, "less")[1], ndtr(z_ref))
    np.testing.assert_allclose(two_proportion_z(pa, na, pb, nb, "greater")[1], ndtr(-z_ref))
    # chi-square on the 2 x 2 table is z squared (one test, two spellings)
    table = [[60, 140], [54, 66]]
    z1, _ = two_proportion_z(60 / 200, 200, 54 / 120, 120)
    assert chi2_independence(table)[0] == pytest.approx(float(z1) ** 2)
    # no variance (both sides all-or-nothing) or an empty side: z 0, p 1, on every side
    for alt in ("two-sided", "less", "greater"):
        z0, p0 = two_proportion_z(np.array([1.0, 0.5]), np.array([10.0, 0]), 1.0, 5.0, alt)
        assert z0.tolist() == [0.0, 0.0] and p0.tolist() == [1.0, 1.0]
