"""Small-number-of-clusters inference: CR2 variance and Bell-McCaffrey df.

Checked against a brute-force matrix computation of the textbook formulas
(Bell and McCaffrey 2002; Pustejovsky and Tipton 2018): for the mean as a
regression on an intercept, ``A_g = (I - H_gg)^(-1/2)`` by eigendecomposition,
``V = (X'WX)^-1 sum_g X_g' W_g A_g e_g e_g' A_g W_g X_g (X'WX)^-1`` and
``df = tr(C)^2 / tr(C^2)`` with the full ``N x N`` matrices.
"""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint._lib.stats import cluster_cr2, rest_cluster_cr2


def _brute_cr2(v: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """CR2 variance numerator (sum_g (w_g' A_g e_g)^2) and BM df, with N x N matrices."""
    n = len(v)
    W = w.sum()
    m = np.dot(w, v) / W
    e = v - m
    H = np.outer(np.ones(n), w) / W  # hat matrix of the weighted intercept fit
    num = 0.0
    bs = []
    for c in np.unique(g):
        idx = np.flatnonzero(g == c)
        Igh = np.eye(len(idx)) - H[np.ix_(idx, idx)]
        # (I - H_gg) is not symmetric with weights: its inverse square root by eigendecomposition
        vals, vecs = np.linalg.eig(Igh)
        A = np.real(vecs @ np.diag(vals**-0.5) @ np.linalg.inv(vecs))
        num += float(w[idx] @ A @ e[idx]) ** 2
        # b_g: the linear map eps -> w_g' A_g ((I - H) eps)_g
        sel = np.zeros((len(idx), n))
        sel[np.arange(len(idx)), idx] = 1.0
        bs.append(w[idx] @ A @ sel @ (np.eye(n) - H))
    B = np.array(bs)
    C = B @ B.T
    return num, float(np.trace(C) ** 2 / np.trace(C @ C))


@pytest.mark.parametrize("weighted", [False, True])
def test_cr2_and_df_match_the_matrix_formulas(weighted):
    rng = np.random.default_rng(3)
    sizes = np.array([1, 2, 3, 9, 4, 2])  # one dominant respondent
    g = np.repeat(np.arange(len(sizes)), sizes)
    v = rng.normal(size=len(g))
    w = rng.uniform(0.5, 2.0, len(g)) if weighted else np.ones(len(g))
    num, df = cluster_cr2(v, w if weighted else None, np.zeros(len(g), np.int64), 1, g)
    ref_num, ref_df = _brute_cr2(v, w, g)
    assert num[0] == pytest.approx(ref_num, rel=1e-9)
    assert df[0] == pytest.approx(ref_df, rel=1e-9)


def test_equal_respondents_give_g_minus_one_df_and_the_cr1_variance():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(7), 4)
    v = rng.normal(size=len(g))
    num, df = cluster_cr2(v, None, np.zeros(len(g), np.int64), 1, g)
    assert df[0] == pytest.approx(6.0)
    u = np.bincount(g, weights=v - v.mean())
    assert num[0] == pytest.approx(7 / 6 * np.sum(u * u))  # G/(G-1) sandwich


def test_rest_cr2_equals_cr2_of_the_rest_rows():
    rng = np.random.default_rng(5)
    n = 300
    cl = rng.integers(0, 40, n)
    periods = rng.integers(0, 3, n)
    group = rng.integers(0, 4, n)
    cells = group * 3 + periods
    v = rng.normal(size=n)
    w = rng.uniform(0.5, 2, n)
    pidx = np.arange(12) % 3
    num, df = rest_cluster_cr2(
        v, w, cells, 12, periods=periods, period_of_cell=pidx, cluster=cl, block=50
    )
    for c in range(12):
        rest = (periods == c % 3) & (cells != c)
        ref_num, ref_df = cluster_cr2(v[rest], w[rest], np.zeros(rest.sum(), np.int64), 1, cl[rest])
        assert num[c] == pytest.approx(ref_num[0], rel=1e-9)
        assert df[c] == pytest.approx(ref_df[0], rel=1e-9)


def test_few_respondents_widen_the_interval_by_the_t_quantile():
    from scipy import stats

    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(5), 4)
    x = rng.integers(1, 8, len(g)).astype(float)
    r = tp.ces(x, cluster=g)
    lo, hi = r.confidence_interval(method="t")
    ref_num, ref_df = _brute_cr2(x, np.ones(len(x)), g)
    se = np.sqrt(ref_num) / len(x)
    q = stats.t.ppf(0.975, ref_df)
    assert (lo, hi) == pytest.approx((x.mean() - q * se, x.mean() + q * se))
