"""Shared statistical building blocks: proportion intervals and FDR control.

Vectorised over numpy arrays so funnels and breakdowns can compute thousands
of intervals at once. Only ``scipy.special`` is imported (lazily), never
``scipy.stats``, to keep ``import touchpoint`` light.

References
----------
Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a
binomial proportion. Statistical Science 16(2), 101-133.

Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
JRSS B 57(1), 289-300.

Tango, T. (1998). Equivalence test and confidence interval for the difference
in proportions for the paired-sample design. Statistics in Medicine 17(8),
891-908 (the score interval used for the NPS and paired proportions).

Liang, K.-Y. and Zeger, S. L. (1986). Longitudinal data analysis using
generalized linear models. Biometrika 73(1), 13-22 (cluster-robust variance).

Bell, R. M. and McCaffrey, D. F. (2002). Bias reduction in standard errors
for linear regression with multi-stage samples. Survey Methodology 28(2),
169-181 (CR2, the bias-reduced cluster-robust variance).

Pustejovsky, J. E. and Tipton, E. (2018). Small-sample methods for
cluster-robust variance estimation and hypothesis testing in fixed effects
models. JBES 36(4), 672-683 (CR2 with Satterthwaite degrees of freedom).

Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete
observations. JASA 53(282), 457-481 (time to convert with units still waiting).

Pitman, E. J. G. (1937). Significance tests which may be applied to samples
from any populations. JRSS Suppl. 4(1), 119-130 (the paired sign-flip test).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import Alternative, ProportionMethod
from touchpoint.exceptions import ValidationError

__all__ = [
    "MAX_RESAMPLES",
    "PROPORTION_METHODS",
    "ConfidenceInterval",
    "KaplanMeier",
    "benjamini_hochberg",
    "bounded_mean_interval",
    "check_resamples",
    "chi2_independence",
    "cluster_cr2",
    "cluster_sums",
    "design_n",
    "normal_quantile",
    "nps_score_interval",
    "proportion_ci",
    "rest_cluster_cr2",
    "rest_cluster_sums",
    "sign_flip_pvalue",
    "small_sample_factor",
    "t_quantile",
    "two_proportion_z",
    "two_sided_pvalue",
]

FloatArray = NDArray[np.float64]

PROPORTION_METHODS: tuple[str, ...] = get_args(ProportionMethod)


@attrs.frozen
class ConfidenceInterval:
    """A confidence interval ``(low, high)``; unpacks like a tuple.

    Examples
    --------
    >>> ci = ConfidenceInterval(0.1, 0.3)
    >>> low, high = ci
    >>> ci
    ConfidenceInterval(low=0.1, high=0.3)
    """

    low: float
    high: float

    def __iter__(self) -> Iterator[float]:
        """``low, high = ci``: both typed ``float`` for a type checker."""
        return iter((self.low, self.high))

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the closed interval."""
        return self.low <= value <= self.high


def check_confidence(confidence_level: float) -> float:
    """Validate a confidence level in (0, 1)."""
    from touchpoint._lib.checks import number

    return number("confidence_level", confidence_level, low=0.0, high=1.0, closed="neither")


#: Most resamples (bootstrap, posterior draws, permutations) a call may ask for: memory
#: and time grow with it (``10**9`` allocated 22 GiB); Monte Carlo error at 10**7 is
#: already below 0.0001 on a tail share
MAX_RESAMPLES = 10**7


def check_resamples(n_resamples: Any, name: str = "n_resamples") -> int:
    """Validate a number of resamples: a whole number from 1 to :data:`MAX_RESAMPLES`.

    Examples
    --------
    >>> check_resamples(2000)
    2000
    """
    if not ck.is_number(n_resamples) or int(n_resamples) != n_resamples or n_resamples < 1:
        raise ck.error(name, "a positive whole number", n_resamples)
    if n_resamples > MAX_RESAMPLES:
        msg = (
            f"`{name}` = {n_resamples:,} is more than {MAX_RESAMPLES:,} resamples: that would "
            f"take about {8 * n_resamples / 2**30:,.1f} GiB per stored draw and hours; "
            f"{MAX_RESAMPLES:,} already gives a Monte Carlo error below 0.0001."
        )
        raise ValidationError(msg)
    return int(n_resamples)


def normal_quantile(p: float | NDArray[np.float64]) -> Any:
    """Standard normal quantile (inverse CDF)."""
    from scipy.special import ndtri

    return ndtri(p)


def t_quantile(df: float | NDArray[np.float64], p: float) -> Any:
    """Student t quantile (inverse CDF) with ``df`` degrees of freedom (vectorised).

    Examples
    --------
    >>> round(float(t_quantile(10, 0.975)), 4)
    2.2281
    """
    from scipy.special import stdtrit

    return stdtrit(np.asarray(df, dtype=np.float64), p)


def two_sided_pvalue(
    statistic: float | NDArray[np.float64], df: float | NDArray[np.float64] | None = None
) -> Any:
    """Two-sided p-value of a z statistic (``df=None``) or a t statistic (vectorised).

    Examples
    --------
    >>> round(float(two_sided_pvalue(1.959963984540054)), 4)
    0.05
    >>> round(float(two_sided_pvalue(2.2281388519649385, df=10)), 4)
    0.05
    """
    from scipy.special import ndtr, stdtr

    a = -np.abs(np.asarray(statistic, dtype=np.float64))
    if df is None:
        return 2.0 * ndtr(a)
    return 2.0 * stdtr(np.asarray(df, dtype=np.float64), a)


def proportion_ci(
    successes: ArrayLike,
    n: ArrayLike,
    confidence_level: float = 0.95,
    method: ProportionMethod = "wilson",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Confidence interval for binomial proportions, vectorised.

    ``successes`` and ``n`` may be non-integer (effective counts for weighted
    data). Where ``n == 0`` both bounds are NaN.

    Parameters
    ----------
    successes, n : array-like
        Successes and trials.
    confidence_level : float
        Two-sided coverage.
    method : {"wilson", "jeffreys", "agresti_coull", "exact", "modified_wilson"}
        Wilson score; ``"modified_wilson"``: Wilson with Brown, Cai and
        DasGupta's (2001) boundary modification (Poisson limits at 1-2
        successes or failures, 1-3 above n=50), which holds 95% within 0.005
        of 0 and 1 where plain Wilson covers 84-86%; Jeffreys (Beta(1/2, 1/2) prior, equal tails);
        Agresti-Coull ("add z^2/2 successes and failures"); exact =
        Clopper-Pearson. The same definitions as statsmodels'
        ``proportion_confint`` (``"beta"`` there is ``"exact"`` here), except
        that Jeffreys uses Brown, Cai & DasGupta's (2001) boundary fix: the
        lower limit is 0 when ``successes == 0`` and the upper 1 when
        ``successes == n``.

    Examples
    --------
    >>> lo, hi = proportion_ci(8, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4902, 0.9433)
    """
    conf = check_confidence(confidence_level)
    k = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if np.any(k < 0) or np.any(m < 0) or np.any(k > m * (1 + 1e-12)):
        msg = "`successes` must lie between 0 and `n` (and `n` must be non-negative)."
        raise ValidationError(msg)
    alpha = 1.0 - conf
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(m > 0, k / m, np.nan)
        if method in ("wilson", "modified_wilson"):
            z = normal_quantile(1 - alpha / 2)
            denom = 1 + z**2 / m
            centre = (p + z**2 / (2 * m)) / denom
            half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
            # at 0 or n successes the limit is exactly the end (not centre - half's 5e-15)
            lo = np.where(k <= 0, 0.0, centre - half)
            hi = np.where(k >= m, 1.0, centre + half)
            if method == "modified_wilson":
                lo, hi = _bcd_modification(k, m, alpha, lo, hi)
        elif method == "agresti_coull":
            z = normal_quantile(1 - alpha / 2)
            mt = m + z**2
            pt = (k + z**2 / 2) / mt
            half = z * np.sqrt(pt * (1 - pt) / mt)
            lo, hi = pt - half, pt + half
        elif method in ("jeffreys", "exact"):
            from scipy.special import betaincinv

            if method == "jeffreys":
                lo = betaincinv(k + 0.5, m - k + 0.5, alpha / 2)
                hi = betaincinv(k + 0.5, m - k + 0.5, 1 - alpha / 2)
                lo = np.where(k > 0, lo, 0.0)
                hi = np.where(k < m, hi, 1.0)
            else:
                lo = np.where(k > 0, betaincinv(k, m - k + 1, alpha / 2), 0.0)
                hi = np.where(k < m, betaincinv(k + 1, m - k, 1 - alpha / 2), 1.0)
        else:
            raise ck.error("method", f"one of {PROPORTION_METHODS}", method)
        lo = np.where(m > 0, np.clip(lo, 0.0, 1.0), np.nan)
        hi = np.where(m > 0, np.clip(hi, 0.0, 1.0), np.nan)
    return lo.astype(np.float64), hi.astype(np.float64)


def _bcd_modification(
    k: FloatArray, m: FloatArray, alpha: float, lo: FloatArray, hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Brown, Cai and DasGupta's (2001, sec. 4.1.1) boundary modification of Wilson limits.

    For ``1 <= k <= x*`` successes the lower limit becomes the Poisson one,
    ``chi2_{2k}(alpha) / (2 n)``, and symmetrically the upper limit for
    ``1 <= n - k <= x*``; ``x* = 2`` for ``n <= 50`` and 3 above. Only ever
    widens the interval: plain Wilson covers 84-86% at n = 8-30 for true shares
    within 0.02 of 0 or 1, where its lower limit at 1 or 2 successes lies
    above the truth.
    """
    from scipy.special import gammaincinv

    xs = np.where(m <= 50, 2.0, 3.0)
    f = m - k
    low_k = (k >= 1 - 1e-9) & (k <= xs)
    low_f = (f >= 1 - 1e-9) & (f <= xs)
    poisson_lo = gammaincinv(np.where(low_k, k, 1.0), alpha) / m
    poisson_hi = 1 - gammaincinv(np.where(low_f, f, 1.0), alpha) / m
    lo = np.where(low_k, np.minimum(lo, poisson_lo), lo)
    hi = np.where(low_f, np.maximum(hi, poisson_hi), hi)
    return lo, hi


def benjamini_hochberg(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN p-values stay NaN.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q)
    ranked = q[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.clip(ranked, 0.0, 1.0)
    out[ok] = adj
    return out


def two_proportion_z(
    pa: Any,
    na: Any,
    pb: Any,
    nb: Any,
    alternative: Alternative = "two-sided",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pooled two-proportion z test of ``pa`` (of ``na``) against ``pb`` (of ``nb``), vectorised.

    Returns ``(z, pvalue)``; where the pooled standard error is 0 (or a side is
    empty) ``z`` is 0 and the p-value 1.

    Examples
    --------
    >>> z, p = two_proportion_z(0.6, 100, 0.5, 100)
    >>> round(float(z), 4), round(float(p), 4)
    (1.4213, 0.1552)
    >>> round(float(two_proportion_z(0.6, 100, 0.5, 100, "greater")[1]), 4)
    0.0776
    """
    from scipy.special import ndtr

    pa, na, pb, nb = (np.asarray(v, dtype=np.float64) for v in (pa, na, pb, nb))
    with np.errstate(divide="ignore", invalid="ignore"):
        pool = (pa * na + pb * nb) / (na + nb)
        se = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
        ok = se > 0
        z = np.where(ok, (pa - pb) / se, 0.0)
    if alternative == "less":
        p = ndtr(z)
    elif alternative == "greater":
        p = ndtr(-z)
    else:
        p = 2.0 * ndtr(-np.abs(z))
    return z, np.where(ok, np.minimum(p, 1.0), 1.0).astype(np.float64)


#: continuity correction of the NPS score interval, in answers (half a lattice step)
NPS_SCORE_CORRECTION = 0.5


def nps_score_interval(
    promoters: Any,
    detractors: Any,
    n: Any,
    confidence_level: float,
    *,
    correction: float = NPS_SCORE_CORRECTION,
) -> tuple[FloatArray, FloatArray]:
    """Continuity-corrected score interval for ``pP - pD`` of a trinomial, on -100..100.

    Tango's (1998) score interval for a difference of two multinomial shares:
    ``theta`` is inside when ``(|d - theta| - correction / n) / sqrt(V(theta) / n)``
    is below the normal quantile, with ``V(theta) = pP + pD - theta^2`` at the
    maximum-likelihood shares under ``pP - pD = theta`` (a closed-form root).
    ``n`` may be an effective (design-based) sample size. Vectorised (bisection).
    """
    from scipy.special import ndtri

    pp = np.asarray(promoters, dtype=np.float64)
    pd = np.asarray(detractors, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    pp, pd, m = np.broadcast_arrays(pp, pd, m)
    z = float(ndtri(1 - (1 - confidence_level) / 2))
    ok = m > 0
    m = np.where(ok, m, 1.0)
    b, c = pp * m, pd * m
    d = pp - pd

    def outside(th: FloatArray) -> Any:
        bb = b + c - th * (2 * m - b + c)
        q = (bb + np.sqrt(np.maximum(bb * bb + 8 * m * c * th * (1 - th), 0.0))) / (4 * m)
        q = np.clip(q, np.maximum(0.0, -th), np.maximum((1 - th) / 2, 0.0))
        var = np.maximum(2 * q + th - th * th, 0.0) / m
        dev = np.maximum(np.abs(d - th) - correction / m, 0.0)
        return dev * dev > z * z * var

    lo_a, lo_b = np.full(d.shape, -1.0), d.copy()  # lower limit in [-1, d]
    hi_a, hi_b = d.copy(), np.full(d.shape, 1.0)
    for _ in range(50):
        mid = (lo_a + lo_b) / 2
        out = outside(mid)
        lo_a, lo_b = np.where(out, mid, lo_a), np.where(out, lo_b, mid)
        mid = (hi_a + hi_b) / 2
        out = outside(mid)
        hi_a, hi_b = np.where(out, hi_a, mid), np.where(out, mid, hi_b)
    lo = np.where(ok, 100 * lo_b, np.nan)
    hi = np.where(ok, 100 * hi_a, np.nan)
    return lo, hi


def bounded_mean_interval(
    mean: Any,
    var: Any,
    n: Any,
    scale: tuple[float, float],
    confidence_level: float,
    *,
    prior: float = 1.0,
) -> tuple[FloatArray, FloatArray]:
    """Interval for the mean of answers on a bounded scale (Dirichlet posterior, Beta quantiles).

    The answers' distribution gets a Dirichlet posterior with ``prior / 2``
    pseudo-answers at each end of the scale (for 0/1 answers and the default
    prior this is the Jeffreys interval); the mean's posterior is matched by a
    Beta on the scale with the same two moments. ``var`` is the (weighted)
    population variance of the answers and ``n`` the (effective) sample size.
    Never zero-width, always inside the scale.
    """
    from scipy.special import betaincinv

    lo_s, hi_s = scale
    width = hi_s - lo_s
    m = (np.asarray(mean, dtype=np.float64) - lo_s) / width
    v = np.asarray(var, dtype=np.float64) / width**2
    k = np.asarray(n, dtype=np.float64)
    a0 = k + prior
    pm = (k * m + prior / 2) / a0
    second = (k * (v + m * m) + prior / 2) / a0
    pv = np.maximum(second - pm * pm, 0.0) / (a0 + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        conc = pm * (1 - pm) / pv - 1
        a, b = pm * conc, (1 - pm) * conc
        alpha = 1 - confidence_level
        lo = betaincinv(a, b, alpha / 2)
        hi = betaincinv(a, b, 1 - alpha / 2)
    ok = k > 0
    return np.where(ok, lo_s + width * lo, np.nan), np.where(ok, lo_s + width * hi, np.nan)


def cluster_sums(
    v: FloatArray,
    w: FloatArray | None,
    codes: NDArray[np.int64],
    k: int,
    cluster: NDArray[np.int64],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per group: sums over clusters of ``A^2``, ``A B``, ``B^2`` and the number of clusters.

    ``A = sum w v`` and ``B = sum w`` within each (group, cluster); the
    sandwich variance of the group's weighted mean ``m`` is then
    ``G / (G - 1) * (SAA - 2 m SAB + m^2 SBB) / (sum w)^2``.
    """
    width = int(cluster.max()) + 1 if len(cluster) else 1
    key = codes.astype(np.int64) * width + cluster
    uniq, inv = np.unique(key, return_inverse=True)
    A = np.bincount(inv, weights=v if w is None else w * v, minlength=len(uniq))
    B = np.bincount(inv, weights=w, minlength=len(uniq)).astype(np.float64)
    g = uniq // width
    saa = np.bincount(g, weights=A * A, minlength=k).astype(np.float64)
    sab = np.bincount(g, weights=A * B, minlength=k).astype(np.float64)
    sbb = np.bincount(g, weights=B * B, minlength=k).astype(np.float64)
    G = np.bincount(g, minlength=k).astype(np.float64)
    return saa, sab, sbb, G


def cluster_cr2(
    v: FloatArray,
    w: FloatArray | None,
    codes: NDArray[np.int64],
    k: int,
    cluster: NDArray[np.int64],
) -> tuple[FloatArray, FloatArray]:
    """Per group: the CR2 sandwich numerator of the weighted mean, and its Bell-McCaffrey df.

    For the mean ``m`` of group ``j`` (an intercept-only weighted regression)
    the bias-reduced linearisation (CR2; Bell and McCaffrey 2002, Pustejovsky
    and Tipton 2018) scales each respondent's residual sum
    ``u_g = sum_i w_i (v_i - m)`` by ``(1 - h_g)^(-1/2)``, with leverage
    ``h_g = W_g / W`` the respondent's share of the weight:
    ``Var(m) = sum_g u_g^2 / (1 - h_g) / W^2`` (the first returned array is
    the numerator). With equal respondents it is the usual ``G / (G - 1)``
    sandwich; a respondent with 41% of the answers gets a much larger share.
    The degrees of freedom are Satterthwaite's for this estimator under
    independent answers of equal variance, ``tr(C)^2 / tr(C^2)``, computed in
    closed form from per-respondent sums (``G - 1`` for equal respondents,
    fewer when one dominates). A group with a single respondent gets NaN.
    """
    width = int(cluster.max()) + 1 if len(cluster) else 1
    key = codes.astype(np.int64) * width + cluster
    uniq, inv = np.unique(key, return_inverse=True)
    ww = np.ones(len(v)) if w is None else w
    A = np.bincount(inv, weights=ww * v, minlength=len(uniq)).astype(np.float64)
    B = np.bincount(inv, weights=ww, minlength=len(uniq)).astype(np.float64)
    S = np.bincount(inv, weights=ww * ww, minlength=len(uniq)).astype(np.float64)
    return _cr2_from_sums(A, B, S, uniq // width, k)


def _cr2_from_sums(
    A: FloatArray, B: FloatArray, S: FloatArray, g: NDArray[np.int64], k: int
) -> tuple[FloatArray, FloatArray]:
    """CR2 numerator and Bell-McCaffrey df per group from per-respondent sums.

    ``A = sum w v``, ``B = sum w``, ``S = sum w^2`` of each respondent, ``g``
    its group in ``0..k-1`` (see :func:`cluster_cr2`).
    """

    def per(x: FloatArray) -> FloatArray:
        return np.bincount(g, weights=x, minlength=k).astype(np.float64)

    W, S_tot = per(B), per(S)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = per(A) / W
        h = B / W[g]
        one = np.where(h < 1 - 1e-12, 1 - h, np.nan)
        u = A - m[g] * B
        num = per(u * u / one)
        r = 1 / np.sqrt(one)
        d, p, q = S / one, S * r, h * r
        pp, pq, qq = per(p * p), per(p * q), per(q * q)
        tr = per(d) - 2 * pq + S_tot * qq
        tr_dl = per(d * (2 * p * q - S_tot[g] * q * q))
        # tr(L^2) with L = U M U', U = [p q], M = [[0, 1], [1, -S]]: tr((M K)^2), K = U'U
        a11, a12 = pq, qq  # M K = [[pq, qq], [pp - S pq, pq - S qq]]
        a21, a22 = pp - S_tot * pq, pq - S_tot * qq
        tr_l2 = a11 * a11 + 2 * a12 * a21 + a22 * a22
        tr2 = per(d * d) - 2 * tr_dl + tr_l2
        df = tr * tr / tr2
    return num, np.where(np.isfinite(df) & (df > 0), df, np.nan)


def rest_cluster_cr2(
    v: FloatArray,
    w: FloatArray | None,
    cells: NDArray[np.int64],
    k: int,
    *,
    periods: NDArray[np.int64],
    period_of_cell: NDArray[np.int64],
    cluster: NDArray[np.int64],
    block: int = 2_000_000,
    max_pairs: int | None = None,
) -> tuple[FloatArray, FloatArray] | None:
    """:func:`cluster_cr2` of each cell's *rest*: the rows of its period outside the cell.

    Per cell, the period's respondent sums minus the cell's own (respondents
    with no rows left drop out); cells are processed in blocks of about
    ``block`` (cell, respondent) pairs to bound memory. Returns None when there
    are more than ``max_pairs`` (cell, respondent) pairs: then every rest has
    many respondents and the plain ``G / (G - 1)`` sandwich differs from CR2
    by the largest respondent's share of the rest's weight.
    """
    width = int(cluster.max()) + 1 if len(cluster) else 1
    ww = np.ones(len(v)) if w is None else w

    def sums(key: NDArray[np.int64]) -> tuple[Any, ...]:
        uq, inv = np.unique(key, return_inverse=True)
        out = [np.bincount(inv, weights=x, minlength=len(uq)) for x in (ww * v, ww, ww * ww, None)]
        return (uq, *[np.asarray(o, dtype=np.float64) for o in out])

    pu, pA, pB, pS, pN = sums(periods.astype(np.int64) * width + cluster)
    cu, cA, cB, cS, cN = sums(cells.astype(np.int64) * width + cluster)
    p_start = np.searchsorted(pu // width, np.arange(period_of_cell.max() + 2 if k else 1))
    sizes = (p_start[period_of_cell + 1] - p_start[period_of_cell]) if k else np.zeros(0, int)
    if max_pairs is not None and int(sizes.sum()) > max_pairs:
        return None
    num = np.full(k, np.nan)
    df = np.full(k, np.nan)
    lo = 0
    while lo < k:
        hi = lo + 1
        total = int(sizes[lo])
        while hi < k and total + sizes[hi] <= block:
            total += int(sizes[hi])
            hi += 1
        idx = np.arange(lo, hi)
        owner = np.repeat(idx, sizes[idx])
        starts = p_start[period_of_cell[idx]]
        pos = np.repeat(starts - np.cumsum(np.r_[0, sizes[idx][:-1]]), sizes[idx]) + np.arange(
            total
        )
        A, B, S, N = pA[pos].copy(), pB[pos].copy(), pS[pos].copy(), pN[pos].copy()
        # subtract each cell's own sums from its period's row of the same respondent
        sel = (cu // width >= lo) & (cu // width < hi)
        c_cell = cu[sel] // width
        c_key = period_of_cell[c_cell] * width + cu[sel] % width
        at_p = np.searchsorted(pu, c_key)  # index into the period arrays
        offset = np.cumsum(np.r_[0, sizes[idx]])[c_cell - lo]
        at = offset + (at_p - starts[c_cell - lo])
        A[at] -= cA[sel]
        B[at] -= cB[sel]
        S[at] -= cS[sel]
        N[at] -= cN[sel]
        keep = N > 0
        n_, d_ = _cr2_from_sums(A[keep], B[keep], S[keep], owner[keep] - lo, hi - lo)
        num[lo:hi], df[lo:hi] = n_, d_
        lo = hi
    return num, df


def small_sample_factor(df: Any, confidence_level: float) -> FloatArray:
    """``(z / t_df)^2``: shrinks a variance-equivalent sample size so a z interval is a t one.

    Intervals that run on a sample size (score, Wilson, Dirichlet) take the
    design-based variance through ``n* = unit variance / se^2``; with few
    respondents the t quantile on ``df`` degrees of freedom is the right
    multiplier, and ``n* (z / t)^2`` makes the z-based interval that wide.
    NaN or infinite ``df`` gives 1.

    Examples
    --------
    >>> round(float(small_sample_factor(4.0, 0.95)), 4)
    0.4983
    """
    d = np.asarray(df, dtype=np.float64)
    a = 1 - (1 - confidence_level) / 2
    z = normal_quantile(a)
    with np.errstate(invalid="ignore"):
        t = t_quantile(np.where(np.isfinite(d) & (d > 0), d, np.inf), a)
    return np.asarray(np.where(np.isfinite(t), (z / t) ** 2, 1.0), dtype=np.float64)


def rest_cluster_sums(
    v: FloatArray,
    w: FloatArray | None,
    cells: NDArray[np.int64],
    k: int,
    *,
    periods: NDArray[np.int64],
    n_periods: int,
    period_of_cell: NDArray[np.int64],
    cluster: NDArray[np.int64],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Cluster sums of each cell's *rest*: the rows of its period outside the cell."""
    width = int(cluster.max()) + 1 if len(cluster) else 1
    wv = v if w is None else w * v
    ww = np.ones(len(v)) if w is None else w
    # period x cluster totals
    pkey = periods.astype(np.int64) * width + cluster
    pu, pinv = np.unique(pkey, return_inverse=True)
    pA = np.bincount(pinv, weights=wv, minlength=len(pu))
    pB = np.bincount(pinv, weights=ww, minlength=len(pu))
    pN = np.bincount(pinv, minlength=len(pu))
    pg = pu // width
    p_saa = np.bincount(pg, weights=pA * pA, minlength=n_periods)
    p_sab = np.bincount(pg, weights=pA * pB, minlength=n_periods)
    p_sbb = np.bincount(pg, weights=pB * pB, minlength=n_periods)
    p_G = np.bincount(pg, minlength=n_periods).astype(np.float64)
    # cell x cluster totals, and the period x cluster totals of the same cluster
    ckey = cells.astype(np.int64) * width + cluster
    cu, cinv = np.unique(ckey, return_inverse=True)
    cA = np.bincount(cinv, weights=wv, minlength=len(cu))
    cB = np.bincount(cinv, weights=ww, minlength=len(cu))
    cN = np.bincount(cinv, minlength=len(cu))
    cc = cu // width
    at = np.searchsorted(pu, period_of_cell[cc] * width + cu % width)
    PA, PB = pA[at], pB[at]
    rA, rB = PA - cA, PB - cB
    # rest sums = period sums - (period pair - rest pair) over the cell's clusters
    saa = p_saa[period_of_cell] - np.bincount(cc, weights=PA * PA - rA * rA, minlength=k)
    sab = p_sab[period_of_cell] - np.bincount(cc, weights=PA * PB - rA * rB, minlength=k)
    sbb = p_sbb[period_of_cell] - np.bincount(cc, weights=PB * PB - rB * rB, minlength=k)
    gone = np.bincount(cc, weights=(pN[at] == cN).astype(np.float64), minlength=k)
    G = p_G[period_of_cell] - gone
    return saa.astype(np.float64), sab.astype(np.float64), sbb.astype(np.float64), G


def sign_flip_pvalue(d: FloatArray) -> float | None:
    """Exact two-sided p-value of the paired sign-flip (Fisher-Pitman) test on ``sum(d)``.

    Every ``d_i`` keeps its size and takes either sign with probability 1/2 under
    the null (the two answers of a pair are exchangeable). The null distribution
    of the sum is built by convolution when the differences are whole numbers
    (scaled by their greatest common step) and their total is at most
    ``100_000``; otherwise None (the caller falls back to a normal test).
    """
    a = np.abs(np.asarray(d, dtype=np.float64))
    a = a[a > 0]
    if len(a) == 0:
        return 1.0
    whole = np.round(a)
    if np.allclose(a, whole, atol=1e-9):
        step = float(np.gcd.reduce(whole.astype(np.int64)))
    else:
        step = float(a.min())
    units = a / step
    r = np.round(units)
    if not np.allclose(units, r, atol=1e-9) or r.sum() * len(r) > 20_000_000:
        return None
    ints = r.astype(np.int64)
    total = int(ints.sum())
    # distribution of sum of s_i * ints_i: track T = sum of the positive ones (0..total)
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    top = 0
    for k in np.sort(ints):
        nxt = dist.copy()
        nxt[k : top + k + 1] += dist[: top + 1]
        dist = nxt * 0.5
        top += k
    s_obs = float(np.sum(np.asarray(d, dtype=np.float64)[np.asarray(d) != 0]) / step)
    # sum = 2T - total
    sums = 2 * np.arange(total + 1) - total
    p = float(dist[np.abs(sums) >= abs(s_obs) - 1e-9].sum())
    return min(p, 1.0)


def design_n(unit_variance: Any, se: Any, fallback: Any, cap: Any) -> FloatArray:
    """Variance-equivalent sample size ``unit_variance / se**2`` (vectorised).

    The size of a simple random sample whose textbook variance equals the
    design-based one (linearisation with weights, cluster-robust with several
    answers per respondent); every interval method then runs on this size. Where
    the answers carry no variance (all equal) ``fallback`` is used (Kish's
    effective n, or the number of respondents); never more than ``cap`` (the
    number of answers).
    """
    uv = np.asarray(unit_variance, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where((s > 0) & (uv > 0), uv / (s * s), np.asarray(fallback, dtype=np.float64))
    return np.minimum(n, np.asarray(cap, dtype=np.float64)).astype(np.float64)


def chi2_independence(counts: ArrayLike) -> tuple[float, int, float]:
    """Pearson chi-square test of independence on an ``r x c`` table of counts.

    All-zero rows and columns are left out first; a table with fewer than two
    rows or columns left gives ``(0.0, 0, 1.0)``. No continuity correction (as
    ``scipy.stats.chi2_contingency(correction=False)``). Used for segments of
    a funnel (reached / not reached per segment), channels of a stage and the
    outgoing transitions of a state in two logs. Returns
    ``(statistic, df, pvalue)``.

    Examples
    --------
    >>> stat, df, p = chi2_independence([[30, 70], [45, 55]])
    >>> round(stat, 4), df, round(p, 4)
    (4.8, 1, 0.0285)
    """
    from scipy.special import chdtrc

    table = np.asarray(counts, dtype=np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, c = table.shape
    if r < 2 or c < 2:
        return 0.0, 0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    df = (r - 1) * (c - 1)
    return stat, df, float(chdtrc(df, stat))


@attrs.frozen(eq=False)
class KaplanMeier:
    """Product-limit estimate of the share that has had the event (converted, been answered).

    ``events`` are the times of the units that had it; ``censored`` the
    follow-up of those still waiting when observation ended (right-censored).
    Backed by :func:`scipy.stats.ecdf` on :class:`scipy.stats.CensoredData`;
    with nothing censored it is the plain empirical share.

    Examples
    --------
    >>> km = KaplanMeier(np.array([1.0, 3.0]), np.array([2.0, 4.0]))
    >>> km.share(1.0), km.share(3.0), km.share()
    (0.25, 0.625, 0.625)
    >>> km.median_of_events()
    3.0
    """

    events: FloatArray
    censored: FloatArray
    _cache: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    @property
    def n(self) -> int:
        """Units (events and censored)."""
        return len(self.events) + len(self.censored)

    def _fit(self) -> tuple[FloatArray, FloatArray]:
        """The curve: sorted distinct event times and the share by each."""
        got = self._cache.get("fit")
        if got is None:
            if len(self.events) == 0:
                got = (np.empty(0), np.empty(0))
            else:
                from scipy import stats

                res = stats.ecdf(stats.CensoredData(uncensored=self.events, right=self.censored))
                t = np.unique(self.events)
                got = (t, np.asarray(res.cdf.evaluate(t), dtype=np.float64))
                self._cache["res"] = res
            self._cache["fit"] = got
        return got

    def share(self, within: float | None = None) -> float:
        """Estimated share with the event by ``within`` (default: by the last event time).

        Past the longest follow-up the estimate stays at its last value.
        """
        if self.n == 0:
            return float("nan")
        t, f = self._fit()
        if len(t) == 0:
            return 0.0
        if within is None:
            return float(f[-1])
        i = int(np.searchsorted(t, within, side="right")) - 1
        return float(f[i]) if i >= 0 else 0.0

    def median_of_events(self) -> float:
        """The time by which half of the eventual events (:meth:`share`) have happened."""
        t, f = self._fit()
        if len(t) == 0:
            return float("nan")
        i = int(np.searchsorted(f, f[-1] / 2 * (1 - 1e-12), side="left"))
        return float(t[min(i, len(t) - 1)])

    def quantile(self, q: float) -> float:
        """The time by which a share ``q`` of *all* units had the event (NaN if never reached).

        The product-limit quantile: the smallest event time with share ``>= q``;
        units still waiting count as censored, not as answered.
        """
        t, f = self._fit()
        if len(t) == 0 or f[-1] < q * (1 - 1e-12):
            return float("nan")
        return float(t[int(np.searchsorted(f, q * (1 - 1e-12), side="left"))])

    def quantile_interval(self, q: float, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Interval for :meth:`quantile` by inverting the pointwise log-log band of the curve.

        Brookmeyer and Crowley's (1982) construction: the times whose
        confidence interval of the share contains ``q``; the lower limit is
        the first event time whose upper band reaches ``q``, the upper limit
        the first whose lower band does (NaN, "not reached", when it never does).
        """
        import warnings

        level = check_confidence(confidence_level)
        t, f = self._fit()
        if len(t) == 0:
            return ConfidenceInterval(float("nan"), float("nan"))
        res = self._cache["res"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ci = res.cdf.confidence_interval(level, method="log-log")
            lo_band = np.nan_to_num(np.asarray(ci.low.evaluate(t), dtype=np.float64), nan=0.0)
            hi_band = np.asarray(ci.high.evaluate(t), dtype=np.float64)
        # where the share is 0 or 1 the log-log band is undefined: use the estimate
        hi_band = np.where(np.isfinite(hi_band), hi_band, f)
        lo_band = np.where((f >= 1.0) & (lo_band == 0.0), f, lo_band)
        tol = q * (1 - 1e-12)
        i_lo = np.flatnonzero(hi_band >= tol)
        i_hi = np.flatnonzero(lo_band >= tol)
        low = float(t[i_lo[0]]) if len(i_lo) else float("nan")
        high = float(t[i_hi[0]]) if len(i_hi) else float("nan")
        return ConfidenceInterval(low, high)

    def interval(
        self, within: float | None = None, confidence_level: float = 0.95
    ) -> ConfidenceInterval:
        """Greenwood interval on the log-log scale for :meth:`share` at ``within``.

        Where the estimate is 0 or 1 (the log-log interval is undefined) the
        Wilson interval of the units still followed at that time is used.
        """
        import warnings

        level = check_confidence(confidence_level)
        share = self.share(within)
        if not np.isfinite(share):
            return ConfidenceInterval(float("nan"), float("nan"))
        t, _ = self._fit()
        at = (t[-1] if len(t) else 0.0) if within is None else float(within)
        if 0.0 < share < 1.0:
            res = self._cache["res"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ci = res.cdf.confidence_interval(level, method="log-log")
                lo, hi = float(ci.low.evaluate(at)), float(ci.high.evaluate(at))
            if np.isfinite(lo) and np.isfinite(hi):
                return ConfidenceInterval(lo, hi)
        followed = int(np.count_nonzero(self.events <= at) + np.count_nonzero(self.censored >= at))
        followed = max(followed, 1)
        k = round(share * followed)
        lo_a, hi_a = proportion_ci(k, followed, level, "wilson")
        return ConfidenceInterval(float(lo_a), float(hi_a))
