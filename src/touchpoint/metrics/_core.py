"""Building blocks of the CX metrics: input checks, weighted moments, vectorised intervals.

Everything here works on numpy arrays of groups at once, so :mod:`touchpoint.metrics`
(one sample) and :func:`touchpoint.breakdown` (many groups) share one implementation.
Only ``scipy.special`` is used (lazily).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.columns import IdCollisionError, _is_missing, as_array, factorize
from touchpoint._lib.stats import (
    PROPORTION_METHODS,
    ConfidenceInterval,
    bounded_mean_interval,
    check_confidence,
    cluster_cr2,
    cluster_sums,
    design_n,
    normal_quantile,
    nps_score_interval,
    proportion_ci,
    small_sample_factor,
    t_quantile,
    two_proportion_z,
    two_sided_pvalue,
)
from touchpoint.exceptions import ValidationError

__all__ = [
    "ADJUSTED_WALD_PSEUDO",
    "MEAN_METHODS",
    "NPS_METHODS",
    "Moments",
    "as_clusters",
    "as_scores",
    "as_weights",
    "mean_interval",
    "newcombe_interval",
    "nps_adjusted",
    "nps_interval",
    "rating_interval",
    "two_proportion_z",
    "welch",
]

NPSMethod = Literal["score", "adjusted_wald", "wald", "bootstrap", "bayes"]
NPS_METHODS: tuple[str, ...] = get_args(NPSMethod)

MeanMethod = Literal["dirichlet", "t", "bootstrap"]
MEAN_METHODS: tuple[str, ...] = get_args(MeanMethod)


ADJUSTED_WALD_PSEUDO = (0.75, 1.5, 0.75)


FloatArray = NDArray[np.float64]


def as_scores(scores: Any, name: str = "scores") -> FloatArray:
    """Answers as a 1-D float64 array; None/NaN/NA become NaN.

    Accepts lists, tuples, numpy arrays and pandas/polars/pyarrow series.
    A single number, a mapping, None or booleans (an answer is never True/False)
    are refused naming the parameter.
    """
    _require_sequence(scores, name)
    arr = as_array(scores)
    if arr.ndim != 1:
        msg = f"`{name}` must be one-dimensional (got shape {arr.shape})."
        raise ValidationError(msg)
    if arr.dtype.kind == "b":
        raise ck.error(name, "numbers, not booleans", scores)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64, copy=False)
    out = np.empty(len(arr), dtype=np.float64)
    for i, v in enumerate(arr.tolist()):
        if _is_missing(v) or (isinstance(v, str) and not v.strip()):
            out[i] = np.nan
            continue
        try:
            if isinstance(v, bool | np.bool_):
                msg = f"`{name}` at position {i}: a boolean {v!r} is not an answer."
                raise ValidationError(msg)
            if isinstance(v, list | tuple | np.ndarray):
                msg = f"`{name}` must be one-dimensional (got a sequence at position {i})."
                raise ValidationError(msg)
            out[i] = float(v)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise

            msg = f"`{name}` at position {i}: not a number {v!r}."
            raise ValidationError(msg) from None
    return out


def _require_sequence(values: Any, name: str) -> None:
    if values is None or isinstance(values, str | bytes | Mapping) or np.ndim(values) == 0:
        raise ck.error(name, "a one-dimensional sequence of answers", values)


def as_weights(weights: Any, n: int, name: str = "weights") -> FloatArray | None:
    """Validated non-negative finite weights of length ``n`` (or None)."""
    if weights is None:
        return None
    w = as_scores(weights, name)
    if len(w) != n:
        msg = f"`{name}` has {len(w)} values but the scores have {n}."
        raise ValidationError(msg)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"`{name}` at position {i}: weights must be finite and non-negative (got {float(w[i])!r})."
        raise ValidationError(msg)
    top = float(w.max()) if len(w) else 0.0
    if top > WEIGHT_RESCALE or 0 < top < 1 / WEIGHT_RESCALE:
        # every statistic is invariant to the weights' scale: dividing by the largest
        # keeps squares and sums finite (one weight of 1e200 gave a (nan, nan) interval).
        # Ordinary weights keep their scale: a permutation test pools two samples' weights.
        w = w / top
    return w


#: Weights whose largest is above this (or below its inverse) are divided by the largest
WEIGHT_RESCALE = 1e100


def as_clusters(cluster: Any, n: int, name: str = "cluster") -> NDArray[np.int64] | None:
    """Respondent codes ``0..G-1`` of ``cluster`` (ids of any kind), or None.

    Raises naming the first position with a missing or empty id.
    """
    if cluster is None:
        return None
    if isinstance(cluster, str | bytes):
        msg = (
            f"`{name}` must be one respondent id per answer (an array), not the column "
            f"name {cluster!r}; pass the column's values (e.g. df[{cluster!r}])."
        )
        raise ValidationError(msg)
    arr = as_array(cluster)
    if arr.ndim != 1 or len(arr) != n:
        msg = f"`{name}` has {len(arr)} values but the scores have {n}."
        raise ValidationError(msg)
    try:
        coded = factorize(arr)
    except IdCollisionError as exc:
        msg = f"`{name}`: {exc}"
        raise ValidationError(msg) from None
    except TypeError:  # unhashable ids: lists, dicts
        i, v = next((i, v) for i, v in enumerate(arr.tolist()) if not _hashable(v))
        msg = f"`{name}` at position {i}: {v!r} is not a respondent id (a list or mapping)."
        raise ValidationError(msg) from None
    bad = coded.codes < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"`{name}` at position {i}: missing respondent id {arr[i]!r}."
        raise ValidationError(msg)
    return coded.codes


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _check_scale(
    x: FloatArray,
    scale: tuple[float, float],
    name: str,
    integer: bool,
    *,
    answered: FloatArray | None = None,
) -> None:
    """Raise, naming the position in ``x``, on an answer off the scale or not whole.

    ``answered`` (``x`` without NaN, when the caller has it) makes the
    common, valid case one pass of min/max; positions are always those of ``x``.
    """
    lo, hi = scale
    vals = answered
    if vals is None:
        vals = x[~np.isnan(x)] if x.dtype.kind == "f" else x
    if vals.size == 0:
        return
    xmin, xmax = float(vals.min()), float(vals.max())
    if xmin < lo or xmax > hi:
        bad = np.flatnonzero((x < lo) | (x > hi))
        i = int(bad[0])
        msg = f"`{name}` at position {i}: {float(x[i])!r} is outside the scale {lo:g}-{hi:g}."
        raise ValidationError(msg)
    if integer and bool(np.any(vals != np.floor(vals))):
        frac = x != np.floor(x)
        frac &= ~np.isnan(x)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            msg = f"`{name}` at position {i}: {float(x[i])!r} is not a whole number on the {lo:g}-{hi:g} scale."
            raise ValidationError(msg)


def _check_band(
    band: Sequence[float], scale: tuple[float, float], name: str
) -> tuple[float, float]:
    if len(band) != 2 or band[0] > band[1] or band[0] < scale[0] or band[1] > scale[1]:
        msg = f"`{name}` must be (low, high) inside the scale {scale} (got {band!r})."
        raise ValidationError(msg)
    return (float(band[0]), float(band[1]))


def _prepare(
    scores: Any,
    weights: Any,
    scale: tuple[float, float],
    integer: bool,
    cluster: Any = None,
) -> tuple[FloatArray, FloatArray | None, int, NDArray[np.int64] | None]:
    """Validate; return (answers without NaN, their weights, n_missing, respondent codes)."""
    _require_sequence(scores, "scores")
    raw = as_array(scores)
    whole = raw.dtype.kind in "biu"  # integer input: no NaN, no fractions to look for
    x = as_scores(raw)
    w = as_weights(weights, len(x))
    g = as_clusters(cluster, len(x))
    n_missing = 0
    answered = x
    if not whole:
        missing = np.isnan(x)
        n_missing = int(np.count_nonzero(missing))
        if n_missing:
            answered = x[~missing]
            w = None if w is None else w[~missing]
            g = None if g is None else g[~missing]
    # positions in messages refer to the input
    _check_scale(x, scale, "scores", integer and not whole, answered=answered)
    x = answered
    if len(x) == 0:
        msg = f"`scores` has no answers ({n_missing} missing)."
        raise ValidationError(msg)
    if w is not None and not float(w.sum()) > 0:
        msg = "`weights` of the answered scores sum to zero."
        raise ValidationError(msg)
    if g is not None:
        g = np.unique(g, return_inverse=True)[1].astype(np.int64)
    return x, w, n_missing, g


@attrs.frozen(kw_only=True)
class Moments:
    """Weighted sufficient statistics of a variable ``v`` per group (arrays).

    ``n`` answers, ``sw``/``sw2`` sums of weights and squared weights,
    ``swv``/``swv2`` weighted sums of ``v`` and ``v**2``, ``sw2v``/``sw2v2``
    the same with squared weights (for the linearisation variance). With
    clusters (several answers per respondent) ``c2``/``c2v``/``c2v2`` are the
    sums over respondents of ``B^2``, ``A B`` and ``A^2`` (``A = sum w v``,
    ``B = sum w`` within a respondent), and ``n_clusters`` counts them; without
    clusters they equal ``sw2``/``sw2v``/``sw2v2`` and ``n``.
    """

    n: FloatArray
    sw: FloatArray
    sw2: FloatArray
    swv: FloatArray
    swv2: FloatArray
    sw2v: FloatArray
    sw2v2: FloatArray
    c2: FloatArray = attrs.field(default=None)
    c2v: FloatArray = attrs.field(default=None)
    c2v2: FloatArray = attrs.field(default=None)
    n_clusters: FloatArray = attrs.field(default=None)
    clustered: bool = False
    cr2: FloatArray | None = None
    cr2_df: FloatArray | None = None

    def __attrs_post_init__(self) -> None:
        for name, src in (("c2", "sw2"), ("c2v", "sw2v"), ("c2v2", "sw2v2"), ("n_clusters", "n")):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(self, src))

    @classmethod
    def one(
        cls, v: FloatArray, w: FloatArray | None, cluster: NDArray[np.int64] | None = None
    ) -> Moments:
        """Moments of a single sample (``cluster``: respondent codes ``0..G-1``)."""
        if cluster is not None:
            return cls.grouped(v, w, np.zeros(len(v), dtype=np.int64), 1, cluster)
        n = float(len(v))
        if w is None:
            s1, s2 = float(v.sum()), float(np.dot(v, v))
            vals = (n, n, n, s1, s2, s1, s2)
        else:
            wv = w * v
            w2 = w * w
            vals = (
                n,
                float(w.sum()),
                float(w2.sum()),
                float(wv.sum()),
                float(np.dot(wv, v)),
                float(np.dot(w2, v)),
                float(np.dot(w2 * v, v)),
            )
        a = [np.array([x]) for x in vals]
        return cls(n=a[0], sw=a[1], sw2=a[2], swv=a[3], swv2=a[4], sw2v=a[5], sw2v2=a[6])

    @classmethod
    def grouped(
        cls,
        v: FloatArray,
        w: FloatArray | None,
        codes: NDArray[np.int64],
        k: int,
        cluster: NDArray[np.int64] | None = None,
    ) -> Moments:
        """Moments per group ``codes`` in ``0..k-1`` (vectorised with bincount)."""

        def bc(x: FloatArray | None) -> FloatArray:
            return np.bincount(codes, weights=x, minlength=k).astype(np.float64)

        n = bc(None)
        if w is None:
            s1, s2 = bc(v), bc(v * v)
            base = cls(n=n, sw=n, sw2=n, swv=s1, swv2=s2, sw2v=s1, sw2v2=s2)
        else:
            w2 = w * w
            base = cls(
                n=n,
                sw=bc(w),
                sw2=bc(w2),
                swv=bc(w * v),
                swv2=bc(w * v * v),
                sw2v=bc(w2 * v),
                sw2v2=bc(w2 * v * v),
            )
        if cluster is None:
            return base
        saa, sab, sbb, g = cluster_sums(v, w, codes, k, cluster)
        cr2, df = cluster_cr2(v, w, codes, k, cluster)
        return attrs.evolve(
            base, c2=sbb, c2v=sab, c2v2=saa, n_clusters=g, clustered=True, cr2=cr2, cr2_df=df
        )

    def __sub__(self, other: Moments) -> Moments:
        if self.clustered or other.clustered:  # pragma: no cover - guarded by callers
            msg = "clustered moments do not subtract; use rest_cluster_sums."
            raise TypeError(msg)
        names = ("n", "sw", "sw2", "swv", "swv2", "sw2v", "sw2v2")
        return Moments(**{f: getattr(self, f) - getattr(other, f) for f in names})

    def take(self, idx: NDArray[np.int64]) -> Moments:
        """The moments of groups ``idx``."""
        return Moments(
            **{
                f.name: (v if f.name == "clustered" or v is None else v[idx])
                for f in attrs.fields(Moments)
                for v in [getattr(self, f.name)]
            }
        )

    @property
    def mean(self) -> FloatArray:
        """Weighted mean of ``v``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.swv / self.sw

    @property
    def variance(self) -> FloatArray:
        """Weighted population variance of ``v`` (per answer)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            m = self.swv / self.sw
            return np.maximum(self.swv2 / self.sw - m * m, 0.0)

    @property
    def effective_n(self) -> FloatArray:
        """Kish effective sample size ``(sum w)^2 / sum w^2``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sw2 > 0, self.sw**2 / self.sw2, 0.0)

    @property
    def effective_clusters(self) -> FloatArray:
        """Kish effective number of respondents ``(sum w)^2 / sum_g B_g^2``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.c2 > 0, self.sw**2 / self.c2, 0.0)

    @property
    def df(self) -> FloatArray:
        """Degrees of freedom of the mean's t quantile.

        With clusters: the Bell-McCaffrey (Satterthwaite) df of the CR2
        variance (``G - 1`` for equal respondents, fewer when one dominates),
        or ``G - 1`` where only the plain sandwich is known; else Kish's
        effective n minus 1.
        """
        if self.clustered:
            if self.cr2_df is not None:
                return self.cr2_df
            return self.n_clusters - 1
        return self.effective_n - 1

    def small_sample(self, confidence_level: float) -> FloatArray:
        """``(z / t_df)^2`` with clusters (see :func:`small_sample_factor`), else 1."""
        if not self.clustered:
            return np.ones_like(self.n)
        return small_sample_factor(self.df, confidence_level)

    def se(self, *, ddof: bool) -> FloatArray:
        """Linearisation (sandwich) standard error of the weighted mean.

        With clusters the sandwich sums over respondents (cluster-robust,
        Liang and Zeger 1986) in its bias-reduced form CR2 (Bell and McCaffrey
        2002): each respondent's residual sum is scaled by ``(1 - h_g)^(-1/2)``,
        ``h_g`` their share of the weight (``G / (G - 1)`` for equal
        respondents). Where only the plain sums are known (the rest of a
        breakdown's period) the factor is ``G / (G - 1)``. ``ddof=True``
        applies ``n / (n - 1)`` without clusters, so that with unit weights it
        is the usual ``s / sqrt(n)`` of a t-interval.
        """
        m = self.mean
        raw = self.c2v2 - 2 * m * self.c2v + m * m * self.c2
        # the expanded square cancels: below its rounding error the sum of squares is 0
        # (all answers equal gave se 6e-7 instead of 0, depending on the weights' scale)
        tol = (
            64 * np.finfo(np.float64).eps * (self.c2v2 + 2 * np.abs(m * self.c2v) + m * m * self.c2)
        )
        num = np.where(np.abs(raw) <= tol, 0.0, np.maximum(raw, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.clustered and self.cr2 is not None:
                return np.sqrt(np.where(num > 0, self.cr2, 0.0) / self.sw**2)
            var = num / self.sw**2
            if ddof or self.clustered:
                g = self.n_clusters
                var = var * g / (g - 1)
        return np.sqrt(var)

    def design_n(self, unit_variance: FloatArray, *, ddof: bool = False) -> FloatArray:
        """Variance-equivalent sample size of the mean (see :func:`design_n`)."""
        fallback = self.effective_clusters if self.clustered else self.effective_n
        return design_n(unit_variance, self.se(ddof=ddof), fallback, self.n)


def nps_adjusted(
    promoters: FloatArray, detractors: FloatArray, effective_n: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Adjusted-Wald NPS and standard error in points (Rocks 2016), vectorised.

    Adds 0.75 detractors, 1.5 passives and 0.75 promoters to the (effective)
    counts, as ``NPS::nps_test(test = "adjusted.wald")`` in R.
    """
    d0, _, p0 = ADJUSTED_WALD_PSEUDO
    m = effective_n + sum(ADJUSTED_WALD_PSEUDO)
    pp = (promoters * effective_n + p0) / m
    pd = (detractors * effective_n + d0) / m
    return 100 * (pp - pd), 100 * np.sqrt(np.maximum(pp + pd - (pp - pd) ** 2, 0.0) / m)


def nps_interval(
    promoters: FloatArray,
    detractors: FloatArray,
    effective_n: FloatArray,
    se: FloatArray,
    *,
    confidence_level: float,
    method: str,
) -> tuple[FloatArray, FloatArray]:
    """Vectorised score, adjusted-Wald or Wald NPS interval on the -100..100 scale.

    ``effective_n`` is the variance-equivalent (design) sample size; ``se`` the
    design-based standard error of the mean of ``y`` (Wald only). Every interval
    is widened where needed to contain the (unadjusted) estimate, as the docs
    promise (the adjusted-Wald one is centred on the adjusted estimate).
    """
    c = check_confidence(confidence_level)
    estimate = 100 * (promoters - detractors)
    if method == "score":
        lo, hi = nps_score_interval(promoters, detractors, effective_n, c)
        return np.minimum(lo, estimate), np.maximum(hi, estimate)
    z = normal_quantile(1 - (1 - c) / 2)
    if method == "wald":
        centre = 100 * (promoters - detractors)
        half = z * 100 * se
    elif method == "adjusted_wald":
        centre, se_adj = nps_adjusted(promoters, detractors, effective_n)
        half = z * se_adj
    else:
        raise ck.error("method", f"one of {NPS_METHODS}", method)
    low = np.minimum(np.clip(centre - half, -100, 100), estimate)
    high = np.maximum(np.clip(centre + half, -100, 100), estimate)
    return low, high


def _percentile_ci(draws: FloatArray, confidence_level: float) -> ConfidenceInterval:
    a = (1 - confidence_level) / 2
    lo, hi = np.quantile(draws, [a, 1 - a])
    return ConfidenceInterval(float(lo), float(hi))


def _bootstrap_means(
    v: FloatArray,
    w: FloatArray | None,
    n_resamples: int,
    seed: int | None,
    cluster: NDArray[np.int64] | None = None,
) -> FloatArray:
    """Weighted means of ``n_resamples`` resamples of rows, or of respondents with ``cluster``.

    Chunked to bound memory. Resampling respondents keeps each one's answers
    together (the cluster bootstrap).
    """
    rng = np.random.default_rng(seed)
    if cluster is not None:
        k = int(cluster.max()) + 1
        ww = np.ones(len(v)) if w is None else w
        tot_w = np.bincount(cluster, weights=ww, minlength=k).astype(np.float64)
        tot_v = np.bincount(cluster, weights=ww * v, minlength=k).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = tot_v / tot_w  # each respondent's mean, resampled with their total weight
        w = tot_w
    n = len(v)
    out = np.empty(n_resamples)
    chunk = max(1, 4_000_000 // max(n, 1))
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        if w is None:
            out[start : start + b] = v[idx].mean(axis=1)
        else:
            ww = w[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[start : start + b] = (ww * v[idx]).sum(axis=1) / ww.sum(axis=1)
    return out[~np.isnan(out)]


def _fmt_ci(score: str, lo: str, hi: str, c: float, n: int) -> str:
    return f"{score} ({100 * c:g}% CI {lo} to {hi}, n={n:,})"


def mean_interval(
    mean: FloatArray, se: FloatArray, effective_n: FloatArray, confidence_level: float
) -> tuple[FloatArray, FloatArray]:
    """Vectorised t-interval ``mean +- t(df = n_eff - 1) * se``."""
    c = check_confidence(confidence_level)
    with np.errstate(invalid="ignore"):
        q = t_quantile(np.where(effective_n > 1, effective_n - 1, np.nan), 1 - (1 - c) / 2)
    return mean - q * se, mean + q * se


def rating_interval(
    mom: Moments, scale: tuple[float, float], confidence_level: float, method: str
) -> tuple[FloatArray, FloatArray]:
    """Vectorised interval for mean ratings: ``"dirichlet"`` (default) or ``"t"``.

    Both use the design-based standard error (weights, respondents); the
    Dirichlet interval runs on the variance-equivalent sample size.
    """
    c = check_confidence(confidence_level)
    if method == "dirichlet":
        n_star = mom.design_n(mom.variance) * mom.small_sample(c)
        return bounded_mean_interval(mom.mean, mom.variance, n_star, scale, c)
    if method == "t":
        se = mom.se(ddof=True)
        lo, hi = mean_interval(mom.mean, se, mom.df + 1, c)
        return np.clip(lo, *scale), np.clip(hi, *scale)
    msg = f"`method` must be one of {MEAN_METHODS} (got {method!r})."
    raise ValidationError(msg)


def _proportion_interval(
    share: float, effective_n: float, c: float, method: str
) -> ConfidenceInterval:
    if method not in PROPORTION_METHODS:
        raise ck.error("method", f"one of {PROPORTION_METHODS}", method)
    lo, hi = proportion_ci(share * effective_n, effective_n, c, method)  # type: ignore[arg-type]
    return ConfidenceInterval(float(lo), float(hi))


def newcombe_interval(
    pa: FloatArray, na: FloatArray, pb: FloatArray, nb: FloatArray, confidence_level: float
) -> tuple[FloatArray, FloatArray]:
    """Newcombe (1998) hybrid score interval for ``pa - pb`` (Wilson limits), vectorised."""
    la, ua = proportion_ci(pa * na, na, confidence_level, "wilson")
    lb, ub = proportion_ci(pb * nb, nb, confidence_level, "wilson")
    d = pa - pb
    lo = d - np.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    hi = d + np.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return lo, hi


def welch(
    a: tuple[FloatArray, FloatArray, FloatArray], b: tuple[FloatArray, FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Welch t test from ``(mean, se, effective n)`` of two samples: (se, t, df, p)."""
    (ma, sea, na), (mb, seb, nb) = a, b
    va, vb = sea**2, seb**2
    se = np.sqrt(va + vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
        t = np.where(se > 0, (ma - mb) / se, 0.0)
    return se, t, df, two_sided_pvalue(t, df)
