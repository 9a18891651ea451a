"""Comparisons of two NPS, CSAT or CES samples, independent or paired (see :mod:`touchpoint.metrics`)."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import CESVersion
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.stats import (
    ConfidenceInterval,
    check_confidence,
    normal_quantile,
    nps_score_interval,
    sign_flip_pvalue,
    small_sample_factor,
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
    top_two_box,
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
        else:
            q = (
                normal_quantile(1 - (1 - c) / 2)
                if self.df is None
                else t_quantile(self.df, 1 - (1 - c) / 2)
            )
            lo, hi = self.difference - q * self.se, self.difference + q * self.se
        # an interval always contains its own estimate (adjusted intervals may not, else)
        d = float(self.difference)
        return ConfidenceInterval(min(float(lo), d), max(float(hi), d))

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether ``pvalue < alpha``."""
        alpha = ck.number("alpha", alpha, low=0.0, high=1.0, closed="neither")
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
    # exact sign-flip (permutation) test: the two answers of a person are
    # exchangeable under the null; on 0/1 flags this is the exact McNemar test
    exact = sign_flip_pvalue(d)
    if exact is not None:
        p = exact
        test = "exact McNemar" if metric == "csat" else "exact paired permutation"
    else:
        p = float(two_sided_pvalue(stat, df))
        test = "paired t" if use_t else "paired z"
    ci = _paired_t_interval(d, step=100.0 if metric == "nps" else _lattice_step(d))
    if metric == "csat":  # Tango's score interval for a paired difference of proportions
        up, down = float(np.mean(d > 0)), float(np.mean(d < 0))

        ci = partial(_paired_score_ci, up=up, down=down, n=n)

        if exact is not None:  # the McNemar z of the discordant pairs, for reference
            k = float(np.count_nonzero(d))
            stat = (up - down) * n / np.sqrt(k) if k > 0 else 0.0
    return Comparison(
        metric=metric,
        difference=mean,
        se=se,
        statistic=float(stat),
        pvalue=p,
        df=df,
        test=test,
        n=n,
        paired=True,
        ci=ci,
    )


#: Pseudo-pairs added to a paired t-interval: half a pair changing by one step up,
#: half a pair by one step down (mean unchanged, variance never zero)
PAIRED_PSEUDO = 0.5


def _lattice_step(d: FloatArray) -> float:
    """The smallest non-zero absolute difference (1 when every difference is 0)."""
    nz = np.abs(d[d != 0])
    return float(nz.min()) if len(nz) else 1.0


def _paired_t_interval(d: FloatArray, *, step: float) -> Any:
    """t-interval (df = n - 1) of the mean difference with a pseudo-count adjustment.

    The variance is that of the differences plus :data:`PAIRED_PSEUDO` pseudo-pairs
    at ``+step`` and as many at ``-step`` (``step``: one lattice step, 100 NPS
    points or one scale point); the centre stays the observed mean. When most
    people do not change, ``mean +- z * se`` was zero-width at 0 for a sample of
    all-zero differences (83% coverage at n=20 for NPS, 81% at n=15 for CES);
    this interval covers at least 95% from n=10 with 85% unchanged (see the
    Validation page).
    """
    n = len(d)
    k = PAIRED_PSEUDO
    vals = np.r_[d, step, -step]
    wts = np.r_[np.ones(n), k, k]
    mu = float(np.average(vals, weights=wts))
    var = float(np.average((vals - mu) ** 2, weights=wts)) * (n + 2 * k) / (n + 2 * k - 1)
    se = np.sqrt(var / n)
    return partial(_t_ci, centre=float(d.mean()), se=float(se), df=n - 1)


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


def _cluster_df(*results: Any) -> float | None:
    """The smaller t degrees of freedom of clustered results (None when neither is clustered).

    With few respondents a z (or Welch on respondents) test is liberal; the
    statistic is referred to t on the Bell-McCaffrey df of the CR2 variance of
    the side with fewer effective respondents, as :func:`breakdown` does.
    """
    dfs = []
    for r in results:
        if isinstance(r, CESResult):
            part = r._mean_part
            if part is not None and part._mom.clustered:
                dfs.append(float(part._mom.df[0]))
        elif getattr(r, "cluster_df", None) is not None:
            dfs.append(float(r.cluster_df))
    finite = [d for d in dfs if np.isfinite(d)]
    return min(finite) if finite else None


def _df_n(r: CESResult) -> float:
    """The size behind a mean's degrees of freedom: respondents when clustered, else Kish n."""
    return float(r.n_clusters) if r.n_clusters is not None else r.effective_n


@ck.validate_params(
    {
        "paired": ck.Boolean(),
        "method": ck.Options("adjusted_wald", "wald"),
        "promoters": ck.Pair(),
        "detractors": ck.Pair(),
    }
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
        one person): the exact sign-flip test on the per-person change of
        ``y`` in {-1, 0, 1} and a t-interval of the changes with half a
        pseudo-pair at +100 and half at -100 points (never zero-width when
        nobody changed); pairs with a missing answer are dropped.
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
            np.array([ra.design_n, rb.design_n]),
        )
        (sa, sb), (sea, seb) = c_.tolist(), s_.tolist()
    elif method == "wald":
        (sa, sea), (sb, seb) = (ra.score, ra.se), (rb.score, rb.se)
    else:
        raise ck.error("method", "'adjusted_wald' or 'wald'", method)
    centre = float(sa - sb)
    se = float(np.hypot(sea, seb))
    stat = centre / se if se > 0 else 0.0
    df = _cluster_df(ra, rb)
    ci = partial(_nps_diff_ci, centre=centre, se=se, df=df)

    return _independent(
        "nps",
        ra,
        rb,
        ci=ci,
        se=se,
        statistic=stat,
        pvalue=float(two_sided_pvalue(stat, df)),
        df=df,
        test=f"{'z' if df is None else 't'} ({method.replace('_', ' ')})",
    )


@deprecated_params(renamed={"interval": "method"})
@ck.validate_params(
    {
        "paired": ck.Boolean(),
        "method": ck.Options("newcombe", "wald"),
        "scale": ck.Pair(),
        "satisfied": ck.Pair(none=True),
    }
)
def compare_csat(
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    method: Literal["newcombe", "wald"] = "newcombe",
    weights_a: Any = None,
    weights_b: Any = None,
    scale: tuple[float, float] = (1, 5),
    satisfied: tuple[float, float] | None = None,
) -> Comparison:
    """Test whether two CSAT shares differ (percentage points, ``a - b``).

    Independent samples: pooled two-proportion z test, and a Newcombe
    (hybrid Wilson score, ``method="newcombe"``) or Wald (``"wald"``) interval; weighted samples use effective
    counts (t on the Bell-McCaffrey df for results with ``cluster``). Paired:
    exact McNemar test and Tango's score interval.

    Examples
    --------
    >>> c = compare_csat([5] * 80 + [2] * 20, [5] * 65 + [2] * 35)
    >>> round(c.difference, 1), round(c.pvalue, 4)
    (15.0, 0.0175)
    """
    sc0 = (float(scale[0]), float(scale[1]))
    band = _check_band(top_two_box(sc0) if satisfied is None else satisfied, sc0, "satisfied")
    if paired:

        def s(x: FloatArray) -> FloatArray:
            return 100 * ((x >= band[0]) & (x <= band[1])).astype(np.float64)

        sc = (float(scale[0]), float(scale[1]))
        return _paired("csat", a, b, s, scale=sc, integer=False, use_t=False)
    ra, rb = _results(
        a, b, CSATResult, csat, (weights_a, weights_b), scale=scale, satisfied=satisfied
    )
    pa, pb = np.array([ra.satisfied]), np.array([rb.satisfied])
    na, nb = np.array([ra.design_n]), np.array([rb.design_n])
    z, p = two_proportion_z(pa, na, pb, nb)
    df = _cluster_df(ra, rb)
    if df is not None:
        p = two_sided_pvalue(z, df)
    se = float(np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)[0])

    ci = partial(_csat_diff_ci, method=method, df=df, pa=pa, na=na, pb=pb, nb=nb, se=se)

    if method not in ("newcombe", "wald"):
        raise ck.error("method", "'newcombe' or 'wald'", method)
    return _independent(
        "csat",
        ra,
        rb,
        se=100 * se,
        statistic=float(z[0]),
        pvalue=float(p[0]),
        df=df,
        test="two-proportion z" if df is None else "two-proportion t",
        ci=ci,
    )


@ck.validate_params(
    {"paired": ck.Boolean(), "scale": ck.Pair(none=True), "version": ck.Options(1, 2)}
)
def compare_ces(
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    weights_a: Any = None,
    weights_b: Any = None,
    scale: tuple[float, float] | None = None,
    version: CESVersion = 2,
) -> Comparison:
    """Test whether two mean CES differ (scale points, ``a - b``).

    Independent samples: Welch's t statistic (weighted: the difference of
    weighted means over their linearisation standard errors); up to
    :data:`PERMUTATION_MAX` answers in all (one answer per respondent, with or
    without weights) its p-value is the permutation p-value of that statistic
    (the answers and their weights shuffled between the samples; exact under
    the null of one distribution; 9,999 seeded resamples or all splits when
    fewer), since the t distribution misses with skewed answers and unequal
    sizes (19% size at 10 vs 40 top-heavy answers, 9.5% at 10 vs 40 weighted
    skewed answers and at 30 vs 300 bimodal ones). With ``cluster`` results
    Welch's t is referred to t on the Bell-McCaffrey df of the CR2 variance. The interval
    combines the two samples' Dirichlet intervals (MOVER, Zou and Donner
    2008). Paired: the exact sign-flip permutation test on the per-person
    differences (t test beyond 20 million sign patterns' worth of work).

    Examples
    --------
    >>> c = compare_ces([7, 6, 6, 5, 7, 6], [4, 5, 3, 5, 4, 6])
    >>> round(c.statistic, 3), round(c.pvalue, 4)
    (3.162, 0.0281)
    >>> compare_ces([7] * 5, [6] * 5).pvalue  # 2 of the 252 splits are as extreme
    0.0079...
    """
    if paired:
        sc = _CES_VERSIONS[version][0] if scale is None else (float(scale[0]), float(scale[1]))
        return _paired("ces", a, b, lambda x: x, scale=sc, integer=False, use_t=True)
    ra, rb = _results(a, b, CESResult, ces, (weights_a, weights_b), scale=scale, version=version)
    se, t, df, p = welch(
        (np.array([ra.score]), np.array([ra.se]), np.array([_df_n(ra)])),
        (np.array([rb.score]), np.array([rb.se]), np.array([_df_n(rb)])),
    )
    stat, pval, test = float(t[0]), float(p[0]), "Welch t"
    cdf = _cluster_df(ra, rb)
    if cdf is not None:
        pval, df = float(two_sided_pvalue(stat, cdf)), np.array([cdf])
    pa, pb = _plain_answers(ra), _plain_answers(rb)
    if pa is not None and pb is not None and len(pa[0]) + len(pb[0]) <= PERMUTATION_MAX:
        (xa, wa), (xb, wb) = pa, pb
        if (wa is None) != (wb is None):  # one side weighted: the other has unit weights
            wa = np.ones(len(xa)) if wa is None else wa
            wb = np.ones(len(xb)) if wb is None else wb
        stat, pval = _welch_permutation(xa, xb, wa=wa, wb=wb)
        test = "Welch t (permutation)"
    ci = partial(_ces_diff_ci, ra=ra, rb=rb)

    return _independent(
        "ces",
        ra,
        rb,
        se=float(se[0]),
        statistic=stat,
        pvalue=pval,
        df=float(df[0]),
        test=test,
        ci=ci,
    )


#: Independent CES samples up to this many answers in all get a permutation p-value
#: (beyond it Welch's t, whose size holds at such sizes)
PERMUTATION_MAX = 5000
#: Kept for compatibility: before 0.5 only samples smaller than this were permuted.
PERMUTATION_BELOW = 30


def _plain_answers(r: CESResult) -> tuple[FloatArray, FloatArray | None] | None:
    """The answers and weights of a result without respondents (None otherwise)."""
    part = r._mean_part
    if part is None or part._g is not None or part._x is None:
        return None
    return part._x, part._w


def _welch_t(
    pooled: FloatArray, w: FloatArray | None, idx: NDArray[np.int64], na: int
) -> FloatArray:
    """Welch's t of the answers at ``idx`` (rows) against the rest of ``pooled``.

    Unweighted: the textbook t (variances with ``n - 1``). Weighted: the
    difference of weighted means over the root of the two linearisation
    variances ``sum w^2 (x - m)^2 / (sum w)^2``.
    """
    n = len(pooled)
    nb = n - na
    if w is None:
        tot, tot2 = float(pooled.sum()), float(np.dot(pooled, pooled))
        sa = pooled[idx].sum(axis=1)
        sa2 = (pooled[idx] ** 2).sum(axis=1)
        sb, sb2 = tot - sa, tot2 - sa2
        va = np.maximum(sa2 - sa * sa / na, 0.0) / (na - 1) / na
        vb = np.maximum(sb2 - sb * sb / nb, 0.0) / (nb - 1) / nb
        diff = sa / na - sb / nb
    else:
        cols = (w, w * pooled, w * w, w * w * pooled, w * w * pooled * pooled)
        tots = [float(c.sum()) for c in cols]
        a = [c[idx].sum(axis=1) for c in cols]
        b = [t - x for t, x in zip(tots, a, strict=True)]

        def mean_var(s: list[FloatArray]) -> tuple[FloatArray, FloatArray]:
            with np.errstate(divide="ignore", invalid="ignore"):
                m = s[1] / s[0]
                v = np.maximum(s[4] - 2 * m * s[3] + m * m * s[2], 0.0) / s[0] ** 2
            return m, v

        (ma, va), (mb, vb) = mean_var(a), mean_var(b)
        diff = ma - mb
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(va + vb > 1e-14, diff / np.sqrt(va + vb), np.sign(diff) * np.inf)
    out: FloatArray = np.nan_to_num(t, nan=0.0, posinf=np.inf, neginf=-np.inf)
    return out


def _welch_permutation(
    xa: FloatArray,
    xb: FloatArray,
    n_resamples: int = 9999,
    seed: int = 0,
    *,
    wa: FloatArray | None = None,
    wb: FloatArray | None = None,
) -> tuple[float, float]:
    """Welch's t and its two-sided permutation p-value (studentized permutation test).

    The answers (with their weights) are exchangeable under the null of one
    distribution; studentizing keeps the test's size near nominal when the
    variances differ too (Janssen 1997). Exact (every split of the pooled
    answers) when there are at most ``n_resamples`` splits, else Monte Carlo
    with ``(1 + hits) / (1 + n_resamples)``, in blocks of bounded memory.
    """
    from itertools import combinations
    from math import comb

    pooled = np.concatenate([xa, xb])
    w = None if wa is None or wb is None else np.concatenate([wa, wb])
    n, na = len(pooled), len(xa)
    if np.ptp(pooled) == 0:
        return 0.0, 1.0
    observed = float(_welch_t(pooled, w, np.arange(na)[None, :], na)[0])
    target = abs(observed) * (1 - 1e-12)
    total = comb(n, na)
    if total <= n_resamples:
        idx = np.array(list(combinations(range(n), na)), dtype=np.int64)
        hits = int(np.sum(np.abs(_welch_t(pooled, w, idx, na)) >= target))
        return observed, hits / total
    rng = np.random.default_rng(seed)
    block = max(1, 2_000_000 // n)
    hits = 0
    for start in range(0, n_resamples, block):
        b = min(block, n_resamples - start)
        idx = np.argsort(rng.random((b, n)), axis=1)[:, :na]
        hits += int(np.sum(np.abs(_welch_t(pooled, w, idx, na)) >= target))
    return observed, (1 + hits) / (1 + n_resamples)


# Interval functions of the comparisons, module-level so that results pickle
# (a ``partial`` of these is stored on the result and called with the level).


def _paired_score_ci(c: float, *, up: float, down: float, n: int) -> tuple[float, float]:
    """Tango's score interval for a paired difference of proportions."""
    lo, hi = nps_score_interval(up, down, n, c)
    return float(lo), float(hi)


def _t_ci(c: float, *, centre: float, se: float, df: float) -> tuple[float, float]:
    q = float(t_quantile(df, 1 - (1 - c) / 2))
    return centre - q * se, centre + q * se


def _nps_diff_ci(c: float, *, centre: float, se: float, df: float | None) -> tuple[float, float]:
    a = 1 - (1 - c) / 2
    q = float(normal_quantile(a) if df is None else t_quantile(df, a))
    return max(centre - q * se, -200.0), min(centre + q * se, 200.0)


def _csat_diff_ci(
    c: float,
    *,
    method: str,
    df: float | None,
    pa: FloatArray,
    na: FloatArray,
    pb: FloatArray,
    nb: FloatArray,
    se: float,
) -> tuple[float, float]:
    if method == "newcombe":
        shrink = 1.0 if df is None else small_sample_factor(df, c)
        lo, hi = newcombe_interval(pa, na * shrink, pb, nb * shrink, c)
    else:
        q = normal_quantile(1 - (1 - c) / 2)
        lo, hi = pa - pb - q * se, pa - pb + q * se
    return 100 * float(lo[0]), 100 * float(hi[0])


def _ces_diff_ci(c: float, *, ra: Any, rb: Any) -> tuple[float, float]:
    la, ua = ra.confidence_interval(c) if c != 0.95 else ra.ci
    lb, ub = rb.confidence_interval(c) if c != 0.95 else rb.ci
    d = ra.score - rb.score
    lo = d - np.hypot(ra.score - la, ub - rb.score)
    hi = d + np.hypot(ua - ra.score, rb.score - lb)
    return float(lo), float(hi)
