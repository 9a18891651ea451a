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
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchpoint.exceptions import ValidationError

__all__ = [
    "PROPORTION_METHODS",
    "ConfidenceInterval",
    "benjamini_hochberg",
    "normal_quantile",
    "proportion_ci",
    "t_quantile",
    "two_proportion_z",
    "two_sided_pvalue",
]

ProportionMethod = Literal["wilson", "jeffreys", "agresti_coull", "exact"]
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

    def __iter__(self) -> Any:
        return iter((self.low, self.high))

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the closed interval."""
        return self.low <= value <= self.high


def check_confidence(confidence_level: float) -> float:
    """Validate a confidence level in (0, 1)."""
    c = float(confidence_level)
    if not 0.0 < c < 1.0:
        msg = f"`confidence_level` must be strictly between 0 and 1 (got {confidence_level!r})."
        raise ValidationError(msg)
    return c


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
            msg = f"`method` must be one of {PROPORTION_METHODS} (got {method!r})."
            raise ValidationError(msg)
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
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
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
