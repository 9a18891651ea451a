"""Comparisons of two NPS, CSAT or CES samples, independent or paired (see :mod:`touchpoint.metrics`)."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np

from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.stats import (
    ConfidenceInterval,
    check_confidence,
    normal_quantile,
    t_quantile,
    two_sided_pvalue,
)
from touchpoint.core._results import IntervalResult, ScalarResult
from touchpoint.exceptions import ValidationError
from touchpoint.metrics._core import (
    FloatArray,
    _check_band,
    _check_scale,
    as_scores,
    newcombe_interval,
    nps_adjusted,
    two_proportion_z,
    welch,
)
from touchpoint.metrics._scores import (
    _CES_VERSIONS,
    CESResult,
    CSATResult,
    NPSResult,
    _nps_y,
    ces,
    csat,
    nps,
)

__all__ = [
    "Comparison",
    "compare_ces",
    "compare_csat",
    "compare_nps",
]


@attrs.frozen(kw_only=True)
class Comparison(IntervalResult, ScalarResult):
    """The difference ``a - b`` between two scores, with its test.

    Attributes
    ----------
    metric : str
        ``"nps"``, ``"csat"`` or ``"ces"``.
    difference : float
        ``a - b`` on the metric's scale (NPS points, CSAT percentage points,
        CES scale points).
    se : float
        Standard error of the difference.
    statistic, pvalue : float
        z (or t) statistic and two-sided p-value.
    df : float or None
        Degrees of freedom of a t statistic (None for z).
    test : str
        Which test was run.
    a, b : result or None
        The two one-sample results (independent samples only).
    n : int
        Pairs used (paired) or total answers (independent).
    """

    metric: str
    difference: float
    se: float
    statistic: float
    pvalue: float
    df: float | None
    test: str
    n: int
    paired: bool = False
    a: Any = attrs.field(default=None, repr=False)
    b: Any = attrs.field(default=None, repr=False)
    _ci: Any = attrs.field(default=None, repr=False, eq=False, alias="ci")

    def confidence_interval(
        self, confidence_level: float = 0.95, method: str | None = None
    ) -> ConfidenceInterval:
        """Interval for the difference, by the method that fits the test.

        ``method`` is None (or the comparison's ``test``): the interval always
        comes from the test that was run, so it agrees with the p-value.
        """
        if method is not None and method != self.test:
            msg = (
                f"`method` must be None or {self.test!r}, the test this comparison ran "
                f"(got {method!r})."
            )
            raise ValidationError(msg)
        c = check_confidence(confidence_level)
        if self._ci is not None:
            lo, hi = self._ci(c)
            return ConfidenceInterval(float(lo), float(hi))
        q = (
            normal_quantile(1 - (1 - c) / 2)
            if self.df is None
            else t_quantile(self.df, 1 - (1 - c) / 2)
        )
        return ConfidenceInterval(
            float(self.difference - q * self.se), float(self.difference + q * self.se)
        )

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether ``pvalue < alpha``."""
        return bool(self.pvalue < alpha)

    def __repr__(self) -> str:
        lo, hi = self.confidence_interval()
        kind = "paired " if self.paired else ""
        stat = "z" if self.df is None else "t"
        return (
            f"{self.metric.upper()} {kind}difference {self.difference:+.2f} "
            f"(95% CI {lo:+.2f} to {hi:+.2f}; {stat}={self.statistic:.2f}, "
            f"p={self.pvalue:.3g}, n={self.n:,})"
        )


def _paired(
    metric: str,
    a: Any,
    b: Any,
    transform: Any,
    *,
    scale: tuple[float, float],
    integer: bool,
    use_t: bool,
) -> Comparison:
    xa, xb = as_scores(a, "a"), as_scores(b, "b")
    if len(xa) != len(xb):
        msg = f"paired samples must have equal lengths (got {len(xa)} and {len(xb)})."
        raise ValidationError(msg)
    _check_scale(xa, scale, "a", integer)
    _check_scale(xb, scale, "b", integer)
    ok = ~(np.isnan(xa) | np.isnan(xb))
    d = transform(xa[ok]) - transform(xb[ok])
    n = len(d)
    if n < 2:
        msg = f"paired comparison needs at least 2 complete pairs (got {n})."
        raise ValidationError(msg)
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = mean / se if se > 0 else (0.0 if mean == 0 else float(np.sign(mean)) * np.inf)
    df = float(n - 1) if use_t else None
    p = float(two_sided_pvalue(stat, df))
    return Comparison(
        metric=metric,
        difference=mean,
        se=se,
        statistic=float(stat),
        pvalue=p,
        df=df,
        test="paired t" if use_t else "paired z",
        n=n,
        paired=True,
    )


def _results(a: Any, b: Any, kind: type, fn: Any, weights: tuple[Any, Any], **kw: Any) -> Any:
    """The one-sample results of ``a`` and ``b`` (results of ``kind`` are used as given)."""
    return tuple(
        x if isinstance(x, kind) else fn(x, w, **kw) for x, w in zip((a, b), weights, strict=True)
    )


def _independent(metric: str, ra: Any, rb: Any, **fields: Any) -> Comparison:
    """A comparison of two independent one-sample results ``ra - rb``."""
    return Comparison(
        metric=metric, difference=ra.score - rb.score, n=ra.n + rb.n, a=ra, b=rb, **fields
    )


def compare_nps(
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    method: Literal["adjusted_wald", "wald"] = "adjusted_wald",
    weights_a: Any = None,
    weights_b: Any = None,
    promoters: tuple[float, float] = (9, 10),
    detractors: tuple[float, float] = (0, 6),
) -> Comparison:
    """Test whether two NPS differ: ``a - b`` with a z test.

    Parameters
    ----------
    a, b : array-like or NPSResult
        The two samples (raw answers or :func:`nps` results).
    paired : bool
        The same respondents answered twice (``a[i]`` and ``b[i]`` belong to
        one person): a z test on the per-person change of ``y`` in
        {-1, 0, 1}; pairs with a missing answer are dropped.
    method : {"adjusted_wald", "wald"}
        Independent samples: both NPS and variances from the adjusted counts
        (Rocks 2016; as ``NPS::nps_test(test = "adjusted.wald")`` in R) or
        from the raw shares. ``difference`` is always the raw ``a - b``; the
        test and interval use the adjusted estimates (as R does).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> c = compare_nps([10] * 60 + [8] * 20 + [3] * 20, [10] * 40 + [8] * 30 + [3] * 30)
    >>> round(c.difference, 2), round(c.pvalue, 3)
    (30.0, 0.01)
    """
    bands = {"promoters": promoters, "detractors": detractors}
    if paired:
        pro, det = promoters, detractors

        def y(x: FloatArray) -> FloatArray:
            p, d = _nps_y(x, det, pro)
            out: FloatArray = 100 * (p.astype(np.float64) - d)
            return out

        return _paired("nps", a, b, y, scale=(0, 10), integer=True, use_t=False)
    ra, rb = _results(a, b, NPSResult, nps, (weights_a, weights_b), **bands)
    if method == "adjusted_wald":
        c_, s_ = nps_adjusted(
            np.array([ra.promoters, rb.promoters]),
            np.array([ra.detractors, rb.detractors]),
            np.array([ra.effective_n, rb.effective_n]),
        )
        (sa, sb), (sea, seb) = c_.tolist(), s_.tolist()
    elif method == "wald":
        (sa, sea), (sb, seb) = (ra.score, ra.se), (rb.score, rb.se)
    else:
        msg = f"`method` must be 'adjusted_wald' or 'wald' (got {method!r})."  # type: ignore[unreachable]
        raise ValidationError(msg)
    centre = float(sa - sb)
    se = float(np.hypot(sea, seb))
    stat = centre / se if se > 0 else 0.0

    def ci(c: float) -> tuple[float, float]:
        q = float(normal_quantile(1 - (1 - c) / 2))
        return max(centre - q * se, -200.0), min(centre + q * se, 200.0)

    return _independent(
        "nps",
        ra,
        rb,
        ci=ci,
        se=se,
        statistic=stat,
        pvalue=float(two_sided_pvalue(stat)),
        df=None,
        test=f"z ({method.replace('_', ' ')})",
    )


@deprecated_params(renamed={"interval": "method"})
def compare_csat(
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    method: Literal["newcombe", "wald"] = "newcombe",
    weights_a: Any = None,
    weights_b: Any = None,
    scale: tuple[float, float] = (1, 5),
    satisfied: tuple[float, float] = (4, 5),
) -> Comparison:
    """Test whether two CSAT shares differ (percentage points, ``a - b``).

    Independent samples: pooled two-proportion z test, and a Newcombe
    (hybrid Wilson score, ``method="newcombe"``) or Wald (``"wald"``) interval; weighted samples use effective
    counts. Paired: z test on the per-person change of the satisfied flag.

    Examples
    --------
    >>> c = compare_csat([5] * 80 + [2] * 20, [5] * 65 + [2] * 35)
    >>> round(c.difference, 1), round(c.pvalue, 4)
    (15.0, 0.0175)
    """
    band = _check_band(satisfied, (float(scale[0]), float(scale[1])), "satisfied")
    if paired:

        def s(x: FloatArray) -> FloatArray:
            return 100 * ((x >= band[0]) & (x <= band[1])).astype(np.float64)

        sc = (float(scale[0]), float(scale[1]))
        return _paired("csat", a, b, s, scale=sc, integer=False, use_t=False)
    ra, rb = _results(
        a, b, CSATResult, csat, (weights_a, weights_b), scale=scale, satisfied=satisfied
    )
    pa, pb = np.array([ra.satisfied]), np.array([rb.satisfied])
    na, nb = np.array([ra.effective_n]), np.array([rb.effective_n])
    z, p = two_proportion_z(pa, na, pb, nb)
    se = float(np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)[0])

    def ci(c: float) -> tuple[float, float]:
        if method == "newcombe":
            lo, hi = newcombe_interval(pa, na, pb, nb, c)
        else:
            q = normal_quantile(1 - (1 - c) / 2)
            lo, hi = pa - pb - q * se, pa - pb + q * se
        return 100 * float(lo[0]), 100 * float(hi[0])

    if method not in ("newcombe", "wald"):
        msg = f"`method` must be 'newcombe' or 'wald' (got {method!r})."
        raise ValidationError(msg)
    return _independent(
        "csat",
        ra,
        rb,
        se=100 * se,
        statistic=float(z[0]),
        pvalue=float(p[0]),
        df=None,
        test="two-proportion z",
        ci=ci,
    )


def compare_ces(
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    weights_a: Any = None,
    weights_b: Any = None,
    scale: tuple[float, float] | None = None,
    version: Literal[1, 2] = 2,
) -> Comparison:
    """Test whether two mean CES differ: Welch t test (independent) or paired t test.

    Examples
    --------
    >>> c = compare_ces([7, 6, 6, 5, 7, 6], [4, 5, 3, 5, 4, 6])
    >>> round(c.statistic, 3), round(c.pvalue, 4)
    (3.162, 0.0114)
    """
    if paired:
        sc = _CES_VERSIONS[version][0] if scale is None else (float(scale[0]), float(scale[1]))
        return _paired("ces", a, b, lambda x: x, scale=sc, integer=False, use_t=True)
    ra, rb = _results(a, b, CESResult, ces, (weights_a, weights_b), scale=scale, version=version)
    se, t, df, p = welch(
        (np.array([ra.score]), np.array([ra.se]), np.array([ra.effective_n])),
        (np.array([rb.score]), np.array([rb.se]), np.array([rb.effective_n])),
    )
    return _independent(
        "ces",
        ra,
        rb,
        se=float(se[0]),
        statistic=float(t[0]),
        pvalue=float(p[0]),
        df=float(df[0]),
        test="Welch t",
    )
