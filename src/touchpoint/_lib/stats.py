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
    "PROPORTION_METHODS",
    "ConfidenceInterval",
    "KaplanMeier",
    "benjamini_hochberg",
    "bounded_mean_interval",
    "chi2_independence",
    "cluster_sums",
    "design_n",
    "normal_quantile",
    "nps_score_interval",
    "proportion_ci",
    "rest_cluster_sums",
    "sign_flip_pvalue",
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
    method : {"wilson", "jeffreys", "agresti_coull", "exact"}
        Wilson score; Jeffreys (Beta(1/2, 1/2) prior, equal tails);
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
        if method == "wilson":
            z = normal_quantile(1 - alpha / 2)
            denom = 1 + z**2 / m
            centre = (p + z**2 / (2 * m)) / denom
            half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
            lo, hi = centre - half, centre + half
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
