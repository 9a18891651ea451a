"""CX metrics with honest statistics: NPS, CSAT and CES, their intervals and comparisons.

Each metric returns a small frozen result carrying the score, the number of
answers ``n``, Kish's effective sample size, the parts the score is made of
and a standard error; ``.confidence_interval(confidence_level, method)``
returns a :class:`~touchpoint._stats.ConfidenceInterval`. ``compare_*``
test whether two scores differ (independent samples or the same
respondents answering twice).

Only ``scipy.special`` is used (lazily), so importing this module stays light.

References
----------
Rocks, B. (2016). Interval estimation for the "net promoter score". The
American Statistician 70(4), 365-372.

Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a
binomial proportion. Statistical Science 16(2), 101-133.

Kish, L. (1965). Survey Sampling. New York: Wiley.

Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._columns import _is_missing, as_array
from touchpoint._stats import (
    PROPORTION_METHODS,
    ConfidenceInterval,
    check_confidence,
    normal_quantile,
    proportion_ci,
    t_quantile,
    two_sided_pvalue,
)
from touchpoint.exceptions import ValidationError

__all__ = [
    "CESResult",
    "CSATResult",
    "Comparison",
    "NPSResult",
    "ces",
    "compare_ces",
    "compare_csat",
    "compare_nps",
    "csat",
    "nps",
]

NPSMethod = Literal["adjusted_wald", "wald", "bootstrap", "bayes"]
NPS_METHODS: tuple[str, ...] = ("adjusted_wald", "wald", "bootstrap", "bayes")
MeanMethod = Literal["t", "bootstrap"]
MEAN_METHODS: tuple[str, ...] = ("t", "bootstrap")
ProportionMethod = Literal["wilson", "jeffreys", "agresti_coull", "exact"]

#: Rocks (2016) pseudo-observations added by the adjusted Wald interval:
#: (detractors, passives, promoters), as in the R ``NPS`` package.
ADJUSTED_WALD_PSEUDO = (0.75, 1.5, 0.75)

FloatArray = NDArray[np.float64]


# ----------------------------------------------------------------------------- input
def as_scores(scores: Any, name: str = "scores") -> FloatArray:
    """Answers as a 1-D float64 array; None/NaN/NA become NaN.

    Accepts lists, tuples, numpy arrays and pandas/polars/pyarrow series.
    """
    arr = as_array(scores)
    if arr.ndim != 1:
        msg = f"`{name}` must be one-dimensional (got shape {arr.shape})."
        raise ValidationError(msg)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64, copy=False)
    out = np.empty(len(arr), dtype=np.float64)
    for i, v in enumerate(arr.tolist()):
        if _is_missing(v) or (isinstance(v, str) and not v.strip()):
            out[i] = np.nan
            continue
        try:
            if isinstance(v, bool):
                raise TypeError
            out[i] = float(v)
        except (TypeError, ValueError):
            msg = f"`{name}` at position {i}: not a number {v!r}."
            raise ValidationError(msg) from None
    return out


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
    return w


def _check_scale(x: FloatArray, scale: tuple[float, float], name: str, integer: bool) -> None:
    lo, hi = scale
    if x.size == 0 or bool(np.isnan(x).all()):
        return
    xmin, xmax = float(np.nanmin(x)), float(np.nanmax(x))
    if xmin < lo or xmax > hi:
        bad = np.flatnonzero((x < lo) | (x > hi))
        i = int(bad[0])
        msg = f"`{name}` at position {i}: {float(x[i])!r} is outside the scale {lo:g}-{hi:g}."
        raise ValidationError(msg)
    if integer:
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
    scores: Any, weights: Any, scale: tuple[float, float], integer: bool
) -> tuple[FloatArray, FloatArray | None, int]:
    """Validate; return (answers without NaN, their weights, n_missing)."""
    x = as_scores(scores)
    w = as_weights(weights, len(x))
    if len(x) and x.dtype.kind == "f":
        missing = np.isnan(x)
        n_missing = int(np.count_nonzero(missing))
    else:
        missing, n_missing = None, 0
    # positions in messages refer to the input, so check before dropping NaN
    _check_scale(x, scale, "scores", integer)
    if n_missing:
        assert missing is not None
        keep = ~missing
        x = x[keep]
        w = None if w is None else w[keep]
    if len(x) == 0:
        msg = f"`scores` has no answers ({n_missing} missing)."
        raise ValidationError(msg)
    if w is not None and not float(w.sum()) > 0:
        msg = "`weights` of the answered scores sum to zero."
        raise ValidationError(msg)
    return x, w, n_missing


# ----------------------------------------------------------------------------- moments
@attrs.frozen(kw_only=True)
class Moments:
    """Weighted sufficient statistics of a variable ``v`` per group (arrays).

    ``n`` answers, ``sw``/``sw2`` sums of weights and squared weights,
    ``swv``/``swv2`` weighted sums of ``v`` and ``v**2``, ``sw2v``/``sw2v2``
    the same with squared weights (for the linearisation variance).
    """

    n: FloatArray
    sw: FloatArray
    sw2: FloatArray
    swv: FloatArray
    swv2: FloatArray
    sw2v: FloatArray
    sw2v2: FloatArray

    @classmethod
    def one(cls, v: FloatArray, w: FloatArray | None) -> Moments:
        """Moments of a single sample."""
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
        names = [f.name for f in attrs.fields(cls)]
        return cls(**{k: np.array([x]) for k, x in zip(names, vals, strict=True)})

    @classmethod
    def grouped(
        cls, v: FloatArray, w: FloatArray | None, codes: NDArray[np.int64], k: int
    ) -> Moments:
        """Moments per group ``codes`` in ``0..k-1`` (vectorised with bincount)."""

        def bc(x: FloatArray | None) -> FloatArray:
            return np.bincount(codes, weights=x, minlength=k).astype(np.float64)

        n = bc(None)
        if w is None:
            s1, s2 = bc(v), bc(v * v)
            return cls(n=n, sw=n, sw2=n, swv=s1, swv2=s2, sw2v=s1, sw2v2=s2)
        w2 = w * w
        return cls(
            n=n,
            sw=bc(w),
            sw2=bc(w2),
            swv=bc(w * v),
            swv2=bc(w * v * v),
            sw2v=bc(w2 * v),
            sw2v2=bc(w2 * v * v),
        )

    def __sub__(self, other: Moments) -> Moments:
        return Moments(
            **{
                f.name: getattr(self, f.name) - getattr(other, f.name)
                for f in attrs.fields(Moments)
            }
        )

    def total(self) -> Moments:
        """The moments of all groups pooled."""
        return Moments(
            **{f.name: np.array([getattr(self, f.name).sum()]) for f in attrs.fields(Moments)}
        )

    @property
    def mean(self) -> FloatArray:
        """Weighted mean of ``v``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.swv / self.sw

    @property
    def effective_n(self) -> FloatArray:
        """Kish effective sample size ``(sum w)^2 / sum w^2``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sw2 > 0, self.sw**2 / self.sw2, 0.0)

    def se(self, *, ddof: bool) -> FloatArray:
        """Linearisation (sandwich) standard error of the weighted mean.

        ``ddof=True`` multiplies the variance by ``n / (n - 1)`` so that with
        unit weights it is the usual ``s / sqrt(n)`` of a t-interval.
        """
        m = self.mean
        num = np.maximum(self.sw2v2 - 2 * m * self.sw2v + m * m * self.sw2, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = num / self.sw**2
            if ddof:
                var = var * self.n / (self.n - 1)
        return np.sqrt(var)


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
    """Vectorised adjusted-Wald or Wald NPS interval on the -100..100 scale."""
    z = normal_quantile(1 - (1 - check_confidence(confidence_level)) / 2)
    if method == "wald":
        centre = 100 * (promoters - detractors)
        half = z * 100 * se
    elif method == "adjusted_wald":
        centre, se_adj = nps_adjusted(promoters, detractors, effective_n)
        half = z * se_adj
    else:
        msg = f"`method` must be one of {NPS_METHODS} (got {method!r})."
        raise ValidationError(msg)
    return np.clip(centre - half, -100, 100), np.clip(centre + half, -100, 100)


def _percentile_ci(draws: FloatArray, confidence_level: float) -> ConfidenceInterval:
    a = (1 - confidence_level) / 2
    lo, hi = np.quantile(draws, [a, 1 - a])
    return ConfidenceInterval(float(lo), float(hi))


def _bootstrap_means(
    v: FloatArray, w: FloatArray | None, n_resamples: int, seed: int | None
) -> FloatArray:
    """Weighted means of ``n_resamples`` row resamples (chunked to bound memory)."""
    rng = np.random.default_rng(seed)
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


# ----------------------------------------------------------------------------- NPS
@attrs.frozen(kw_only=True)
class NPSResult:
    """A Net Promoter Score with its parts and uncertainty.

    Attributes
    ----------
    score : float
        NPS on the -100..100 scale: ``100 * (promoters - detractors)``.
    n, n_missing : int
        Answers used and answers skipped (NaN).
    effective_n : float
        Kish effective sample size (equals ``n`` without weights).
    promoters, passives, detractors : float
        Weighted shares of each group (sum to 1).
    se : float
        Standard error of ``score`` (linearisation on ``y`` in {-1, 0, 1};
        without weights ``sqrt((pP + pD - (pP - pD)^2) / n)``).
    bands : tuple
        ``(detractors, promoters)`` ranges used; the rest are passives.
    """

    score: float
    n: int
    n_missing: int
    effective_n: float
    promoters: float
    passives: float
    detractors: float
    se: float
    bands: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 6.0), (9.0, 10.0))
    weighted: bool = False
    _y: FloatArray | None = attrs.field(default=None, repr=False, eq=False, alias="y")
    _w: FloatArray | None = attrs.field(default=None, repr=False, eq=False, alias="w")

    @property
    def variance(self) -> float:
        """Per-answer variance of ``y`` in {-1, 0, 1}: ``pP + pD - (pP - pD)^2``."""
        d = self.promoters - self.detractors
        return self.promoters + self.detractors - d * d

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: NPSMethod = "adjusted_wald",
        *,
        n_resamples: int = 2000,
        seed: int | None = 0,
        prior: float = 1.0,
    ) -> ConfidenceInterval:
        """Confidence interval for the NPS (on the -100..100 scale).

        Parameters
        ----------
        confidence_level : float
            Two-sided coverage.
        method : {"adjusted_wald", "wald", "bootstrap", "bayes"}
            ``"adjusted_wald"`` (Rocks 2016): add 0.75 detractors, 1.5
            passives and 0.75 promoters (to the effective counts when
            weighted), then a Wald interval; good coverage even for small n.
            ``"wald"``: estimate +- z * se. ``"bootstrap"``: percentile
            bootstrap (seeded). ``"bayes"``: equal-tailed credible interval
            from the Dirichlet(prior + counts) posterior of the three shares
            (Monte Carlo, seeded).
        n_resamples : int
            Bootstrap resamples or posterior draws.
        seed : int or None
            Random seed for ``"bootstrap"`` and ``"bayes"``.
        prior : float
            Dirichlet concentration per group for ``"bayes"``.

        Examples
        --------
        >>> r = nps([10] * 5 + [8] * 3 + [3] * 2)
        >>> r.confidence_interval().low < r.score < r.confidence_interval().high
        True
        """
        c = check_confidence(confidence_level)
        if method in ("adjusted_wald", "wald"):
            lo, hi = nps_interval(
                np.array([self.promoters]),
                np.array([self.detractors]),
                np.array([self.effective_n]),
                np.array([self.se / 100]),
                confidence_level=c,
                method=method,
            )
            return ConfidenceInterval(float(lo[0]), float(hi[0]))
        if n_resamples < 1:
            msg = f"`n_resamples` must be a positive integer (got {n_resamples!r})."
            raise ValidationError(msg)
        rng = np.random.default_rng(seed)
        shares = np.clip([self.detractors, self.passives, self.promoters], 0.0, 1.0)
        if method == "bootstrap":
            if self._y is not None and self._w is not None:
                draws = 100 * _bootstrap_means(self._y, self._w, n_resamples, seed)
            else:
                counts = rng.multinomial(self.n, shares / shares.sum(), size=n_resamples)
                draws = 100 * (counts[:, 2] - counts[:, 0]) / self.n
            return _percentile_ci(draws, c)
        if method == "bayes":
            if prior <= 0:
                msg = f"`prior` must be positive (got {prior!r})."
                raise ValidationError(msg)
            alpha = shares * self.effective_n + prior
            p = rng.dirichlet(alpha, size=n_resamples)
            return _percentile_ci(100 * (p[:, 2] - p[:, 0]), c)
        msg = f"`method` must be one of {NPS_METHODS} (got {method!r})."
        raise ValidationError(msg)

    def __repr__(self) -> str:
        lo, hi = self.confidence_interval()
        return "NPS " + _fmt_ci(f"{self.score:+.1f}", f"{lo:+.1f}", f"{hi:+.1f}", 0.95, self.n)


def _nps_y(x: FloatArray, detractors: tuple[float, float], promoters: tuple[float, float]) -> Any:
    return (x >= promoters[0]) & (x <= promoters[1]), (x >= detractors[0]) & (x <= detractors[1])


def nps(
    scores: Any,
    weights: Any = None,
    *,
    promoters: tuple[float, float] = (9, 10),
    detractors: tuple[float, float] = (0, 6),
    scale: tuple[float, float] = (0, 10),
) -> NPSResult:
    """Net Promoter Score of "how likely are you to recommend" answers.

    Parameters
    ----------
    scores : array-like
        Answers on ``scale`` (0-10): list, numpy array, pandas or polars
        series. NaN/None are skipped and counted in ``n_missing``.
    weights : array-like, optional
        Non-negative survey weights (e.g. post-stratification); the result
        then carries Kish's effective sample size.
    promoters, detractors : (low, high)
        Inclusive bands; the default 9-10 and 0-6 follow Reichheld. The
        answers in neither band are passives.
    scale : (low, high)
        The answer scale; answers outside it, or not whole numbers, raise.

    Returns
    -------
    NPSResult

    Raises
    ------
    ValidationError
        Naming the position and value of an out-of-scale or non-integer answer
        or a negative weight.

    Examples
    --------
    >>> r = nps([10, 9, 9, 8, 7, 7, 6, 3, 10, 10])
    >>> r.score, r.n, r.promoters, r.detractors
    (30.0, 10, 0.5, 0.2)
    >>> r
    NPS +30.0 (95% CI -19.1 to +65.2, n=10)
    >>> nps([10, 9, float("nan"), 0]).n_missing
    1
    """
    sc = (float(scale[0]), float(scale[1]))
    det = _check_band(detractors, sc, "detractors")
    pro = _check_band(promoters, sc, "promoters")
    if det[1] >= pro[0]:
        msg = f"`detractors` {detractors!r} must lie below `promoters` {promoters!r}."
        raise ValidationError(msg)
    x, w, n_missing = _prepare(scores, weights, sc, integer=True)
    is_p, is_d = _nps_y(x, det, pro)
    n = len(x)
    if w is None:
        n_p, n_d = int(np.count_nonzero(is_p)), int(np.count_nonzero(is_d))
        pp, pd = n_p / n, n_d / n
        d = pp - pd
        se = float(np.sqrt(max(pp + pd - d * d, 0.0) / n))
        return NPSResult(
            score=100 * d,
            n=n,
            n_missing=n_missing,
            effective_n=float(n),
            promoters=pp,
            passives=(n - n_p - n_d) / n,
            detractors=pd,
            se=100 * se,
            bands=(det, pro),
        )
    y = is_p.astype(np.float64) - is_d
    mom = Moments.one(y, w)
    sw = float(mom.sw[0])
    pp = float(np.dot(w, is_p)) / sw
    pd = float(np.dot(w, is_d)) / sw
    pa = float(np.dot(w, ~(is_p | is_d))) / sw
    return NPSResult(
        score=100 * (pp - pd),
        n=n,
        n_missing=n_missing,
        effective_n=float(mom.effective_n[0]),
        promoters=pp,
        passives=pa,
        detractors=pd,
        se=100 * float(mom.se(ddof=False)[0]),
        bands=(det, pro),
        weighted=True,
        y=y,
        w=w,
    )


# ----------------------------------------------------------------------------- means
def mean_interval(
    mean: FloatArray, se: FloatArray, effective_n: FloatArray, confidence_level: float
) -> tuple[FloatArray, FloatArray]:
    """Vectorised t-interval ``mean +- t(df = n_eff - 1) * se``."""
    c = check_confidence(confidence_level)
    with np.errstate(invalid="ignore"):
        q = t_quantile(np.where(effective_n > 1, effective_n - 1, np.nan), 1 - (1 - c) / 2)
    return mean - q * se, mean + q * se


@attrs.frozen(kw_only=True)
class _MeanPart:
    """Shared machinery for results that carry a mean rating."""

    mean: float
    mean_se: float
    effective_n: float
    scale: tuple[float, float]
    _x: FloatArray | None
    _w: FloatArray | None

    def interval(
        self, c: float, method: str, n_resamples: int, seed: int | None
    ) -> ConfidenceInterval:
        if method == "t":
            lo, hi = mean_interval(
                np.array([self.mean]), np.array([self.mean_se]), np.array([self.effective_n]), c
            )
            lo, hi = np.clip(lo, *self.scale), np.clip(hi, *self.scale)
            return ConfidenceInterval(float(lo[0]), float(hi[0]))
        if method == "bootstrap":
            if self._x is None:  # pragma: no cover - results always carry their data
                msg = "this result carries no answers to resample."
                raise ValidationError(msg)
            return _percentile_ci(_bootstrap_means(self._x, self._w, n_resamples, seed), c)
        msg = f"`method` must be one of {MEAN_METHODS} (got {method!r})."
        raise ValidationError(msg)


def _proportion_interval(
    share: float, effective_n: float, c: float, method: str
) -> ConfidenceInterval:
    if method not in PROPORTION_METHODS:
        msg = f"`method` must be one of {PROPORTION_METHODS} (got {method!r})."
        raise ValidationError(msg)
    lo, hi = proportion_ci(share * effective_n, effective_n, c, method)  # type: ignore[arg-type]
    return ConfidenceInterval(float(lo), float(hi))


@attrs.frozen(kw_only=True)
class CSATResult:
    """Customer satisfaction: the share of satisfied answers (top-2-box).

    Attributes
    ----------
    score : float
        Percentage satisfied (0-100).
    satisfied : float
        Share satisfied (0-1), weighted when weights are given.
    mean : float
        Mean rating on ``scale``.
    n, n_missing, effective_n, se :
        Answers used, skipped, Kish effective n, standard error of ``score``.
    """

    score: float
    n: int
    n_missing: int
    effective_n: float
    satisfied: float
    mean: float
    se: float
    scale: tuple[float, float] = (1.0, 5.0)
    satisfied_band: tuple[float, float] = (4.0, 5.0)
    weighted: bool = False
    _mean_part: _MeanPart | None = attrs.field(
        default=None, repr=False, eq=False, alias="mean_part"
    )

    def confidence_interval(
        self, confidence_level: float = 0.95, method: ProportionMethod = "wilson"
    ) -> ConfidenceInterval:
        """Interval for ``score`` (percent): Wilson (default), Jeffreys, Agresti-Coull or exact.

        With weights the share is treated as ``satisfied * effective_n``
        successes out of ``effective_n`` (Kish).

        Examples
        --------
        >>> csat([5, 4, 4, 3, 2, 5, 5, 4]).confidence_interval().low
        40.9...
        """
        ci = _proportion_interval(self.satisfied, self.effective_n, confidence_level, method)
        return ConfidenceInterval(100 * ci.low, 100 * ci.high)

    def mean_confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: MeanMethod = "t",
        *,
        n_resamples: int = 2000,
        seed: int | None = 0,
    ) -> ConfidenceInterval:
        """Interval for the mean rating: t-interval (default) or percentile bootstrap."""
        assert self._mean_part is not None
        return self._mean_part.interval(
            check_confidence(confidence_level), method, n_resamples, seed
        )

    def __repr__(self) -> str:
        lo, hi = self.confidence_interval()
        return "CSAT " + _fmt_ci(f"{self.score:.1f}%", f"{lo:.1f}%", f"{hi:.1f}%", 0.95, self.n)


def _mean_part(
    x: FloatArray, w: FloatArray | None, scale: tuple[float, float]
) -> tuple[_MeanPart, Moments]:
    mom = Moments.one(x, w)
    part = _MeanPart(
        scale=scale,
        mean=float(mom.mean[0]),
        mean_se=float(mom.se(ddof=True)[0]) if len(x) > 1 else float("nan"),
        effective_n=float(mom.effective_n[0]),
        x=x,
        w=w,
    )
    return part, mom


def _share(x: FloatArray, w: FloatArray | None, band: tuple[float, float]) -> tuple[float, float]:
    """(share of answers in band, its linearisation se)."""
    s = ((x >= band[0]) & (x <= band[1])).astype(np.float64)
    mom = Moments.one(s, w)
    return float(mom.mean[0]), float(mom.se(ddof=False)[0])


def csat(
    scores: Any,
    weights: Any = None,
    *,
    scale: tuple[float, float] = (1, 5),
    satisfied: tuple[float, float] = (4, 5),
) -> CSATResult:
    """Customer satisfaction score: the percentage of answers in the ``satisfied`` band.

    Parameters
    ----------
    scores : array-like
        Ratings on ``scale``; NaN/None are skipped and counted.
    weights : array-like, optional
        Non-negative survey weights.
    scale : (low, high)
        The rating scale (default 1-5); answers outside it raise.
    satisfied : (low, high)
        The band counted as satisfied (default 4-5, "top-2-box").

    Returns
    -------
    CSATResult

    Examples
    --------
    >>> r = csat([5, 4, 4, 3, 2, 5, 5, 4, 1, 5])
    >>> r.score, r.mean
    (70.0, 3.8)
    >>> r
    CSAT 70.0% (95% CI 39.7% to 89.2%, n=10)
    """
    sc = (float(scale[0]), float(scale[1]))
    band = _check_band(satisfied, sc, "satisfied")
    x, w, n_missing = _prepare(scores, weights, sc, integer=False)
    share, se = _share(x, w, band)
    part, mom = _mean_part(x, w, sc)
    return CSATResult(
        score=100 * share,
        n=len(x),
        n_missing=n_missing,
        effective_n=float(mom.effective_n[0]),
        satisfied=share,
        mean=part.mean,
        se=100 * se,
        scale=sc,
        satisfied_band=band,
        weighted=w is not None,
        mean_part=part,
    )


@attrs.frozen(kw_only=True)
class CESResult:
    """Customer effort score: the mean answer, and the share of easy answers.

    Attributes
    ----------
    score : float
        Mean answer on ``scale``.
    agree : float
        Share of "easy" answers: 5-7 ("agree that it was easy") on CES 2.0,
        1-2 ("low effort") on CES 1.0.
    higher_is_better : bool
        True on CES 2.0 (agreement), False on CES 1.0 (effort).
    se : float
        Standard error of the mean (``s / sqrt(n)`` without weights).
    """

    score: float
    n: int
    n_missing: int
    effective_n: float
    agree: float
    se: float
    version: int = 2
    scale: tuple[float, float] = (1.0, 7.0)
    agree_band: tuple[float, float] = (5.0, 7.0)
    higher_is_better: bool = True
    weighted: bool = False
    _mean_part: _MeanPart | None = attrs.field(
        default=None, repr=False, eq=False, alias="mean_part"
    )

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: MeanMethod = "t",
        *,
        n_resamples: int = 2000,
        seed: int | None = 0,
    ) -> ConfidenceInterval:
        """Interval for the mean: t-interval (df = effective n - 1) or percentile bootstrap.

        The t-interval is clipped to the scale (a mean cannot leave it).

        Examples
        --------
        >>> r = ces([7, 6, 6, 5, 3, 7])
        >>> low, high = r.confidence_interval()
        >>> round(low, 3), round(high, 3)
        (4.087, 7.0)
        """
        assert self._mean_part is not None
        return self._mean_part.interval(
            check_confidence(confidence_level), method, n_resamples, seed
        )

    def agree_confidence_interval(
        self, confidence_level: float = 0.95, method: ProportionMethod = "wilson"
    ) -> ConfidenceInterval:
        """Interval for the share ``agree`` (0-1), by a proportion method."""
        return _proportion_interval(self.agree, self.effective_n, confidence_level, method)

    def __repr__(self) -> str:
        lo, hi = self.confidence_interval()
        return f"CES {self.version}.0 " + _fmt_ci(
            f"{self.score:.2f}", f"{lo:.2f}", f"{hi:.2f}", 0.95, self.n
        )


_CES_VERSIONS = {1: ((1.0, 5.0), (1.0, 2.0), False), 2: ((1.0, 7.0), (5.0, 7.0), True)}


def ces(
    scores: Any,
    weights: Any = None,
    *,
    scale: tuple[float, float] | None = None,
    version: Literal[1, 2] = 2,
    agree: tuple[float, float] | None = None,
) -> CESResult:
    """Customer effort score (CES), version stated explicitly.

    Parameters
    ----------
    scores : array-like
        Answers; NaN/None are skipped and counted.
    weights : array-like, optional
        Non-negative survey weights.
    scale : (low, high), optional
        Defaults to the version's scale: 1-7 for CES 2.0 ("the company made
        it easy to handle my issue": 1 strongly disagree .. 7 strongly agree;
        higher is better), 1-5 for CES 1.0 ("how much effort did you have to
        put forth": 1 very low .. 5 very high; higher is worse).
    version : {1, 2}
        Which CES; never guessed from the data.
    agree : (low, high), optional
        The "easy" band; defaults to 5-7 (v2) or 1-2 (v1).

    Returns
    -------
    CESResult

    Examples
    --------
    >>> r = ces([7, 6, 6, 5, 3, 7])
    >>> round(r.score, 3), round(r.agree, 3)
    (5.667, 0.833)
    >>> r
    CES 2.0 5.67 (95% CI 4.09 to 7.00, n=6)
    >>> ces([1, 2, 2, 4], version=1).higher_is_better
    False
    """
    if version not in _CES_VERSIONS:
        msg = f"`version` must be 1 or 2 (got {version!r})."
        raise ValidationError(msg)
    default_scale, default_agree, better = _CES_VERSIONS[version]
    sc = default_scale if scale is None else (float(scale[0]), float(scale[1]))
    band = _check_band(agree if agree is not None else default_agree, sc, "agree")
    x, w, n_missing = _prepare(scores, weights, sc, integer=False)
    share, _ = _share(x, w, band)
    part, mom = _mean_part(x, w, sc)
    return CESResult(
        score=part.mean,
        n=len(x),
        n_missing=n_missing,
        effective_n=float(mom.effective_n[0]),
        agree=share,
        se=part.mean_se,
        version=version,
        scale=sc,
        agree_band=band,
        higher_is_better=better,
        weighted=w is not None,
        mean_part=part,
    )


# ----------------------------------------------------------------------------- comparisons
@attrs.frozen(kw_only=True)
class Comparison:
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

    def confidence_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Interval for the difference (the method that fits the test)."""
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
    ra = a if isinstance(a, NPSResult) else nps(a, weights_a, **bands)
    rb = b if isinstance(b, NPSResult) else nps(b, weights_b, **bands)
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

    return Comparison(
        metric="nps",
        difference=ra.score - rb.score,
        ci=ci,
        se=se,
        statistic=stat,
        pvalue=float(two_sided_pvalue(stat)),
        df=None,
        test=f"z ({method.replace('_', ' ')})",
        n=ra.n + rb.n,
        a=ra,
        b=rb,
    )


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


def two_proportion_z(
    pa: FloatArray, na: FloatArray, pb: FloatArray, nb: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Pooled two-proportion z test: (z, two-sided p), vectorised."""
    pool = (pa * na + pb * nb) / (na + nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
        z = np.where(se > 0, (pa - pb) / se, 0.0)
    return z, two_sided_pvalue(z)


def compare_csat(
    a: Any,
    b: Any,
    *,
    paired: bool = False,
    interval: Literal["newcombe", "wald"] = "newcombe",
    weights_a: Any = None,
    weights_b: Any = None,
    scale: tuple[float, float] = (1, 5),
    satisfied: tuple[float, float] = (4, 5),
) -> Comparison:
    """Test whether two CSAT shares differ (percentage points, ``a - b``).

    Independent samples: pooled two-proportion z test, and a Newcombe
    (hybrid Wilson score) or Wald interval; weighted samples use effective
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
    kw = {"scale": scale, "satisfied": satisfied}
    ra = a if isinstance(a, CSATResult) else csat(a, weights_a, **kw)
    rb = b if isinstance(b, CSATResult) else csat(b, weights_b, **kw)
    pa, pb = np.array([ra.satisfied]), np.array([rb.satisfied])
    na, nb = np.array([ra.effective_n]), np.array([rb.effective_n])
    z, p = two_proportion_z(pa, na, pb, nb)
    se = float(np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)[0])

    def ci(c: float) -> tuple[float, float]:
        if interval == "newcombe":
            lo, hi = newcombe_interval(pa, na, pb, nb, c)
        else:
            q = normal_quantile(1 - (1 - c) / 2)
            lo, hi = pa - pb - q * se, pa - pb + q * se
        return 100 * float(lo[0]), 100 * float(hi[0])

    if interval not in ("newcombe", "wald"):
        msg = f"`interval` must be 'newcombe' or 'wald' (got {interval!r})."
        raise ValidationError(msg)
    return Comparison(
        metric="csat",
        difference=ra.score - rb.score,
        se=100 * se,
        statistic=float(z[0]),
        pvalue=float(p[0]),
        df=None,
        test="two-proportion z",
        n=ra.n + rb.n,
        a=ra,
        b=rb,
        ci=ci,
    )


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
    kw: dict[str, Any] = {"scale": scale, "version": version}
    ra = a if isinstance(a, CESResult) else ces(a, weights_a, **kw)
    rb = b if isinstance(b, CESResult) else ces(b, weights_b, **kw)
    se, t, df, p = welch(
        (np.array([ra.score]), np.array([ra.se]), np.array([ra.effective_n])),
        (np.array([rb.score]), np.array([rb.se]), np.array([rb.effective_n])),
    )
    return Comparison(
        metric="ces",
        difference=ra.score - rb.score,
        se=float(se[0]),
        statistic=float(t[0]),
        pvalue=float(p[0]),
        df=float(df[0]),
        test="Welch t",
        n=ra.n + rb.n,
        a=ra,
        b=rb,
    )
