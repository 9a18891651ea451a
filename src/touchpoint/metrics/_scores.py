"""NPS, CSAT and CES results and the functions that compute them (see :mod:`touchpoint.metrics`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import CESVersion, ProportionMethod
from touchpoint._lib.stats import (
    ConfidenceInterval,
    check_confidence,
    check_resamples,
    design_n,
    small_sample_factor,
)
from touchpoint._lib.types import ArrayLike
from touchpoint.core._results import ScalarResult
from touchpoint.exceptions import ScaleWarning, ValidationError
from touchpoint.metrics._core import (
    MEAN_METHODS,
    NPS_METHODS,
    FloatArray,
    MeanMethod,
    Moments,
    NPSMethod,
    _bootstrap_means,
    _check_band,
    _fmt_ci,
    _percentile_ci,
    _prepare,
    _proportion_interval,
    nps_interval,
    rating_interval,
)

__all__ = [
    "CESResult",
    "CSATResult",
    "NPSResult",
    "ces",
    "csat",
    "nps",
]


def _around(ci: ConfidenceInterval, estimate: float) -> ConfidenceInterval:
    """``ci`` widened, where needed, to contain its own ``estimate``.

    Methods that shrink towards the middle of the scale (the Dirichlet mean
    interval, the Bayes and bootstrap NPS intervals) could leave an estimate at
    the end of the scale outside: ``ces([1, 1])`` gave 1.00 with (1.0013, 5.0009).
    """
    if not (np.isfinite(ci.low) and np.isfinite(ci.high) and np.isfinite(estimate)):
        return ci
    return ConfidenceInterval(min(ci.low, estimate), max(ci.high, estimate))


class _ScoreResult(ScalarResult):
    """Mixin: the ``ci`` property and the one-line ``__repr__`` of a score result."""

    __slots__ = ()

    if TYPE_CHECKING:
        score: float
        n: int

        def confidence_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval: ...

    def _repr_head(self) -> tuple[str, str]:
        """The label and the format of the score and its bounds."""
        raise NotImplementedError

    @property
    def ci(self) -> ConfidenceInterval:
        """The default 95% interval, ``confidence_interval()``."""
        return self.confidence_interval()

    def __repr__(self) -> str:
        lo, hi = self.confidence_interval()
        label, fmt = self._repr_head()
        return f"{label} " + _fmt_ci(
            fmt.format(self.score), fmt.format(lo), fmt.format(hi), 0.95, self.n
        )


@attrs.frozen(kw_only=True, repr=False)
class NPSResult(_ScoreResult):
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
        Standard error of ``score``: design-based (linearisation on ``y`` in
        {-1, 0, 1} with weights, cluster-robust over respondents with
        ``cluster``); without either ``sqrt((pP + pD - (pP - pD)^2) / n)``.
    bands : tuple
        ``(detractors, promoters)`` ranges used; the rest are passives.
    n_clusters : int or None
        Respondents, when the answers were clustered.
    cluster_df : float or None
        With ``cluster``: the Bell-McCaffrey degrees of freedom of the CR2
        standard error (``n_clusters - 1`` for equal respondents, fewer when
        one respondent gives many answers); the intervals use its t quantile.
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
    n_clusters: int | None = None
    cluster_df: float | None = None
    _x: FloatArray | None = attrs.field(default=None, repr=False, eq=False, alias="x")
    _w: FloatArray | None = attrs.field(default=None, repr=False, eq=False, alias="w")
    _g: NDArray[np.int64] | None = attrs.field(default=None, repr=False, eq=False, alias="g")
    _fallback_n: float | None = attrs.field(default=None, repr=False, eq=False, alias="fallback_n")

    @property
    def variance(self) -> float:
        """Per-answer variance of ``y`` in {-1, 0, 1}: ``pP + pD - (pP - pD)^2``."""
        d = self.promoters - self.detractors
        return self.promoters + self.detractors - d * d

    @property
    def design_n(self) -> float:
        """Variance-equivalent sample size ``variance / se^2`` that the intervals use.

        Equals ``n`` for unweighted answers from distinct respondents; smaller
        when weights or several answers per respondent add variance.
        """
        fallback = self.effective_n if self._fallback_n is None else self._fallback_n
        return float(design_n(self.variance, self.se / 100, fallback, self.n))

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: NPSMethod = "score",
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
        method : {"score", "adjusted_wald", "wald", "bootstrap", "bayes"}
            ``"score"`` (default): Tango's score interval for the difference
            of two shares of a trinomial with a continuity correction of half
            an answer; it covers at least 94.5% (exactly computed) at every
            n from 10 to 200 and every true mix, absent groups included.
            ``"adjusted_wald"`` (Rocks 2016): add 0.75 detractors, 1.5
            passives and 0.75 promoters, then a Wald interval; covers 89% at
            n=10 and 92% at n=20-50 for some mixes (see the Validation page).
            ``"wald"``: estimate +- z * se; fails near the ends of the scale
            (a sample of all passives gives a zero-width interval).
            ``"bootstrap"``: percentile bootstrap of answers (of respondents
            with ``cluster``); as poor as Wald at small n. ``"bayes"``:
            equal-tailed credible interval from the Dirichlet(prior + counts)
            posterior of the three shares (Monte Carlo, seeded); it misses
            near the ends of the scale at small n. With weights or clusters
            every method runs on the design-based variance (``se``, or the
            variance-equivalent sample size :attr:`design_n`).
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
        if method in ("score", "adjusted_wald", "wald"):
            shrink = (
                1.0 if self.cluster_df is None else float(small_sample_factor(self.cluster_df, c))
            )
            lo, hi = nps_interval(
                np.array([self.promoters]),
                np.array([self.detractors]),
                np.array([self.design_n * shrink]),
                np.array([self.se / 100 / np.sqrt(shrink)]),
                confidence_level=c,
                method=method,
            )
            return _around(ConfidenceInterval(float(lo[0]), float(hi[0])), self.score)
        n_resamples = check_resamples(n_resamples)
        rng = np.random.default_rng(seed)
        shares = np.clip([self.detractors, self.passives, self.promoters], 0.0, 1.0)
        if method == "bootstrap":
            if self._x is not None:
                is_p, is_d = _nps_y(self._x, *self.bands)
                y = is_p.astype(np.float64) - is_d
                draws = 100 * _bootstrap_means(y, self._w, n_resamples, seed, self._g)
            else:
                counts = rng.multinomial(self.n, shares / shares.sum(), size=n_resamples)
                draws = 100 * (counts[:, 2] - counts[:, 0]) / self.n
            return _around(_percentile_ci(draws, c), self.score)
        if method == "bayes":
            if not (ck.is_number(prior) and 0 < prior < float("inf")):
                raise ck.error("prior", "positive", prior)
            alpha = shares * self.design_n + prior
            p = rng.dirichlet(alpha, size=n_resamples)
            return _around(_percentile_ci(100 * (p[:, 2] - p[:, 0]), c), self.score)
        raise ck.error("method", f"one of {NPS_METHODS}", method)

    _SHARES = ("promoters", "passives", "detractors")

    def _repr_head(self) -> tuple[str, str]:
        return "NPS", "{:+.1f}"


#: NPS answers all from 1 to this (with at least :data:`SCALE_CHECK_MIN` answers) warn
NPS_LOOKS_LIKE_1_5 = 5.0
#: Answers needed before a scale mismatch is warned about
SCALE_CHECK_MIN = 5


def _warn_scale(message: str) -> None:
    import warnings

    warnings.warn(message, ScaleWarning, stacklevel=4)


def _check_nps_answers(x: FloatArray, scale: tuple[float, float]) -> None:
    """Warn when at least 5 NPS answers on 0-10 all lie within 1-5: likely a 1-5 question."""
    if (
        scale == (0.0, 10.0)
        and len(x) >= SCALE_CHECK_MIN
        and float(x.min()) >= 1.0
        and float(x.max()) <= NPS_LOOKS_LIKE_1_5
    ):
        _warn_scale(
            f"nps(): all {len(x)} answers are between {x.min():g} and {x.max():g} on the "
            "0-10 scale, so every one counts as a detractor. Were these 1-5 satisfaction "
            "answers? Use csat(scores) for those; if they are 0-10 recommendation answers, "
            "the score is right (silence this ScaleWarning with warnings.filterwarnings)."
        )


def top_two_box(scale: tuple[float, float]) -> tuple[float, float]:
    """The top-2-box band of a rating scale: its two highest whole answers.

    Examples
    --------
    >>> top_two_box((1, 5)), top_two_box((0, 10)), top_two_box((1, 7))
    ((4.0, 5.0), (9.0, 10.0), (6.0, 7.0))
    """
    hi = float(scale[1])
    return (max(hi - 1.0, float(scale[0])), hi)


def _nps_y(x: FloatArray, detractors: tuple[float, float], promoters: tuple[float, float]) -> Any:
    return (x >= promoters[0]) & (x <= promoters[1]), (x >= detractors[0]) & (x <= detractors[1])


@ck.validate_params({"promoters": ck.Pair(), "detractors": ck.Pair(), "scale": ck.Pair()})
def nps(
    scores: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    cluster: ArrayLike | None = None,
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
        then carries Kish's effective sample size and design-based intervals.
        When the weights depend strongly on the answer (non-response
        weighting where detractors answer 1 in 10 and weigh 10) and there are
        only about 30 answers, every interval method covers just 85-87%
        (simulated, see the Validation page); from about 200 answers they hold.
    cluster : array-like, optional
        The respondent of each answer (any ids), when a respondent may answer
        more than once: the standard error is then cluster-robust (the
        bias-reduced CR2 sandwich over respondents), so repeated answers of one
        person do not count as independent evidence, and the interval uses
        the t quantile on its Bell-McCaffrey df (:attr:`NPSResult.cluster_df`):
        with 5 respondents of 4 answers, or one giving 41% of the answers,
        it covers 96-100% (see the Validation page).
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
        Naming the position and value of an out-of-scale or non-integer answer,
        a negative weight or a missing respondent id.

    Warns
    -----
    ScaleWarning
        When at least 5 answers on the default 0-10 scale all lie within 1-5:
        likely 1-5 satisfaction answers, every one a detractor here.

    Examples
    --------
    >>> r = nps([10, 9, 9, 8, 7, 7, 6, 3, 10, 10])
    >>> r.score, r.n, r.promoters, r.detractors
    (30.0, 10, 0.5, 0.2)
    >>> r
    NPS +30.0 (95% CI -26.3 to +70.9, n=10)
    >>> nps([10, 9, float("nan"), 0]).n_missing
    1
    >>> nps([10, 10, 3, 3], cluster=["ann", "ann", "bo", "bo"]).n_clusters
    2

    Notes
    -----
    With ``y = +1`` for promoters, ``-1`` for detractors and 0 otherwise, NPS
    is ``100 * mean(y)`` and the per-answer variance is
    ``pP + pD - (pP - pD)**2`` (as in the R package ``NPS``). With weights,
    the shares are weighted and the standard error is the linearisation
    estimate ``sqrt(sum w**2 (y - ybar)**2) / sum w``; with ``cluster`` the
    sums run over respondents (``sum_g (sum_i w (y - ybar))^2``, times
    ``G / (G - 1)``). Intervals use the variance-equivalent sample size
    ``variance / se**2`` (:attr:`NPSResult.design_n`).

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The
    American Statistician 70(4), 365-372.

    Tango, T. (1998). Equivalence test and confidence interval for the
    difference in proportions for the paired-sample design. Statistics in
    Medicine 17(8), 891-908.

    Kish, L. (1965). Survey Sampling. Wiley.
    """
    sc = (float(scale[0]), float(scale[1]))
    det = _check_band(detractors, sc, "detractors")
    pro = _check_band(promoters, sc, "promoters")
    if det[1] >= pro[0]:
        msg = f"`detractors` {detractors!r} must lie below `promoters` {promoters!r}."
        raise ValidationError(msg)
    x, w, n_missing, g = _prepare(scores, weights, sc, integer=True, cluster=cluster)
    _check_nps_answers(x, sc)
    is_p, is_d = _nps_y(x, det, pro)
    n = len(x)
    if w is None and g is None:
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
    mom = Moments.one(y, w, g)
    absm = Moments.one(np.abs(y), w)
    m, a = float(mom.mean[0]), float(absm.mean[0])
    pp, pd = (a + m) / 2, (a - m) / 2
    return NPSResult(
        score=100 * m,
        n=n,
        n_missing=n_missing,
        effective_n=float(mom.effective_n[0]),
        promoters=pp,
        passives=max(1.0 - a, 0.0),
        detractors=pd,
        se=100 * float(mom.se(ddof=False)[0]),
        bands=(det, pro),
        weighted=w is not None,
        n_clusters=None if g is None else int(mom.n_clusters[0]),
        cluster_df=None if g is None else float(mom.df[0]),
        x=x,
        w=w,
        g=g,
        fallback_n=float(mom.effective_clusters[0]) if g is not None else None,
    )


@attrs.frozen(kw_only=True)
class _MeanPart:
    """Shared machinery for results that carry a mean rating."""

    mean: float
    mean_se: float
    effective_n: float
    scale: tuple[float, float]
    _mom: Moments
    _x: FloatArray | None
    _w: FloatArray | None
    _g: NDArray[np.int64] | None = None

    def interval(
        self, c: float, method: str, n_resamples: int, seed: int | None
    ) -> ConfidenceInterval:
        if method in ("dirichlet", "t"):
            lo, hi = rating_interval(self._mom, self.scale, c, method)
            return _around(ConfidenceInterval(float(lo[0]), float(hi[0])), self.mean)
        if method == "bootstrap":
            if self._x is None:  # pragma: no cover - results always carry their data
                msg = "this result carries no answers to resample."
                raise ValidationError(msg)
            n_resamples = check_resamples(n_resamples)
            draws = _bootstrap_means(self._x, self._w, n_resamples, seed, self._g)
            return _around(_percentile_ci(draws, c), self.mean)
        raise ck.error("method", f"one of {MEAN_METHODS}", method)


@attrs.frozen(kw_only=True, repr=False)
class CSATResult(_ScoreResult):
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
        Answers used, skipped, Kish effective n, standard error of ``score``
        (design-based with weights or ``cluster``).
    n_clusters : int or None
        Respondents, when the answers were clustered.
    cluster_df : float or None
        With ``cluster``: Bell-McCaffrey degrees of freedom of the CR2
        standard error of the share, whose t quantile the interval uses.
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
    n_clusters: int | None = None
    cluster_df: float | None = None
    _mean_part: _MeanPart | None = attrs.field(
        default=None, repr=False, eq=False, alias="mean_part"
    )
    _fallback_n: float | None = attrs.field(default=None, repr=False, eq=False, alias="fallback_n")

    @property
    def design_n(self) -> float:
        """Variance-equivalent sample size ``s (1 - s) / se^2`` that the intervals use."""
        s = self.satisfied
        fallback = self.effective_n if self._fallback_n is None else self._fallback_n
        return float(design_n(s * (1 - s), self.se / 100, fallback, self.n))

    def confidence_interval(
        self, confidence_level: float = 0.95, method: ProportionMethod = "modified_wilson"
    ) -> ConfidenceInterval:
        """Interval for ``score`` (percent): modified Wilson (default), Wilson, Jeffreys, Agresti-Coull or exact.

        The default is Wilson's score interval with Brown, Cai and DasGupta's
        (2001) boundary modification: at 1-2 satisfied (or unsatisfied)
        answers the limit is the Poisson one. It covers at least 95.0% at every
        n from 8 to 30 for true shares within 0.005 of 0 or 1 (exactly
        computed), where plain ``"wilson"`` covered 85% at n=8, p=0.98 and 86%
        at n=30, p=0.995; elsewhere both oscillate around 95% (worst 91% at
        n=13, p=0.77). ``"exact"`` (Clopper-Pearson) never covers less than
        95% and is wider. With weights or clusters the share is treated as
        ``satisfied * n`` successes out of ``n``, the variance-equivalent
        sample size :attr:`design_n` (with clusters, shrunk for the
        few-respondents t quantile; see :func:`csat`).

        Examples
        --------
        >>> csat([5, 4, 4, 3, 2, 5, 5, 4]).confidence_interval().low
        40.9...
        """
        c = check_confidence(confidence_level)
        shrink = 1.0 if self.cluster_df is None else float(small_sample_factor(self.cluster_df, c))
        ci = _proportion_interval(self.satisfied, self.design_n * shrink, c, method)
        return _around(ConfidenceInterval(100 * ci.low, 100 * ci.high), self.score)

    def mean_confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: MeanMethod = "dirichlet",
        *,
        n_resamples: int = 2000,
        seed: int | None = 0,
    ) -> ConfidenceInterval:
        """Interval for the mean rating: ``"dirichlet"`` (default), ``"t"`` or ``"bootstrap"``.

        See :meth:`CESResult.confidence_interval` for the methods.
        """
        assert self._mean_part is not None
        return self._mean_part.interval(
            check_confidence(confidence_level), method, n_resamples, seed
        )

    def _repr_head(self) -> tuple[str, str]:
        return "CSAT", "{:.1f}%"


def _rating(
    scores: Any,
    weights: Any,
    scale: tuple[float, float],
    band: tuple[float, float],
    cluster: Any = None,
) -> tuple[float, float, _MeanPart, dict[str, Any]]:
    """Share of ``scores`` in ``band`` and its se, the mean part, and the fields CSAT and CES share."""
    x, w, n_missing, g = _prepare(scores, weights, scale, integer=False, cluster=cluster)
    s = ((x >= band[0]) & (x <= band[1])).astype(np.float64)
    smom = Moments.one(s, w, g)
    share, se = float(smom.mean[0]), float(smom.se(ddof=False)[0])
    mom = Moments.one(x, w, g)
    part = _MeanPart(
        scale=scale,
        mean=float(mom.mean[0]),
        mean_se=float(mom.se(ddof=True)[0]) if len(x) > 1 else float("nan"),
        effective_n=float(mom.effective_n[0]),
        mom=mom,
        x=x,
        w=w,
        g=g,
    )
    common = {
        "n": len(x),
        "n_missing": n_missing,
        "effective_n": part.effective_n,
        "scale": scale,
        "weighted": w is not None,
        "n_clusters": None if g is None else int(mom.n_clusters[0]),
        "mean_part": part,
        "fallback_n": None if g is None else float(mom.effective_clusters[0]),
        "share_df": None if g is None else float(smom.df[0]),
    }
    return share, se, part, common


@ck.validate_params({"scale": ck.Pair(), "satisfied": ck.Pair(none=True)})
def csat(
    scores: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    cluster: ArrayLike | None = None,
    scale: tuple[float, float] = (1, 5),
    satisfied: tuple[float, float] | None = None,
) -> CSATResult:
    """Customer satisfaction score: the percentage of answers in the ``satisfied`` band.

    Parameters
    ----------
    scores : array-like
        Ratings on ``scale``; NaN/None are skipped and counted.
    weights : array-like, optional
        Non-negative survey weights.
    cluster : array-like, optional
        The respondent of each answer, when respondents answer more than once:
        standard errors and intervals become cluster-robust over respondents.
    scale : (low, high)
        The rating scale (default 1-5); answers outside it raise.
    satisfied : (low, high), optional
        The band counted as satisfied. By default the top-2-box of ``scale``:
        its two highest answers (4-5 on 1-5, 9-10 on 0-10, 6-7 on 1-7; see
        :func:`top_two_box`). Give it to count another band, e.g.
        ``satisfied=(8, 10)`` for a top-3-box on 0-10.

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

    The satisfied band follows the scale (top-2-box):

    >>> csat([10, 9, 8, 3], scale=(0, 10)).satisfied_band
    (9.0, 10.0)
    """
    sc = (float(scale[0]), float(scale[1]))
    band = _check_band(top_two_box(sc) if satisfied is None else satisfied, sc, "satisfied")
    share, se, part, common = _rating(scores, weights, sc, band, cluster)
    share_df = common.pop("share_df")
    return CSATResult(
        score=100 * share,
        satisfied=share,
        mean=part.mean,
        se=100 * se,
        satisfied_band=band,
        cluster_df=share_df,
        **common,
    )


@attrs.frozen(kw_only=True, repr=False)
class CESResult(_ScoreResult):
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
    n_clusters: int | None = None
    _mean_part: _MeanPart | None = attrs.field(
        default=None, repr=False, eq=False, alias="mean_part"
    )
    _fallback_n: float | None = attrs.field(default=None, repr=False, eq=False, alias="fallback_n")

    @property
    def design_n(self) -> float:
        """Variance-equivalent sample size of the mean that the intervals use."""
        assert self._mean_part is not None
        mom = self._mean_part._mom
        return float(mom.design_n(mom.variance)[0])

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: MeanMethod = "dirichlet",
        *,
        n_resamples: int = 2000,
        seed: int | None = 0,
    ) -> ConfidenceInterval:
        """Interval for the mean answer.

        ``"dirichlet"`` (default): the answers' distribution gets a Dirichlet
        posterior with half a pseudo-answer at each end of the scale (the
        Jeffreys interval on a 0/1 scale) and the mean's posterior is matched
        by a Beta on the scale; it covers 94-98% at n=10 and n=30 for
        symmetric, top-heavy and bimodal answers and is never zero-width.
        ``"t"``: t-interval (df = effective n - 1) clipped to the scale; it
        covers only 80-89% at n=10 for top-heavy answers and is zero-width
        when all answers are equal. ``"bootstrap"``: percentile bootstrap
        (of respondents with ``cluster``), which covers 75-90% for top-heavy
        answers at n=30. All use the design-based standard error with
        weights or clusters.

        Examples
        --------
        >>> r = ces([7, 6, 6, 5, 3, 7])
        >>> low, high = r.confidence_interval()
        >>> round(low, 3), round(high, 3)
        (4.039, 6.485)
        >>> ces([7] * 5).confidence_interval().low < 7
        True
        """
        assert self._mean_part is not None
        return self._mean_part.interval(
            check_confidence(confidence_level), method, n_resamples, seed
        )

    def agree_confidence_interval(
        self, confidence_level: float = 0.95, method: ProportionMethod = "modified_wilson"
    ) -> ConfidenceInterval:
        """Interval for the share ``agree`` (0-1), by a proportion method."""
        assert self._mean_part is not None
        x, w, g = self._mean_part._x, self._mean_part._w, self._mean_part._g
        n = self.effective_n
        if x is not None and (w is not None or g is not None):
            s = ((x >= self.agree_band[0]) & (x <= self.agree_band[1])).astype(np.float64)
            mom = Moments.one(s, w, g)
            c = check_confidence(confidence_level)
            n = float(mom.design_n(mom.variance)[0] * mom.small_sample(c)[0])
        return _around(_proportion_interval(self.agree, n, confidence_level, method), self.agree)

    def _repr_head(self) -> tuple[str, str]:
        lo, hi = (f"{v:g}" for v in self.scale)
        # "CES 2.0 5.02" read as two numbers: the version and scale go in words
        return f"CES (version {self.version}, {lo}-{hi} scale)", "{:.2f}"


#: Widest CES scale (points from low to high) accepted without a ScaleWarning: 1-7
CES_WIDEST = 6.0


def _check_ces_scale(scale: tuple[float, float]) -> None:
    """Warn when CES is asked on a scale wider than 1-7 (e.g. 0-10, a likelihood question)."""
    if scale[1] - scale[0] > CES_WIDEST:
        _warn_scale(
            f"ces(): scale {scale[0]:g}-{scale[1]:g} is not a CES scale (CES 2.0 is asked on "
            "1-7, CES 1.0 on 1-5). Answers on 0-10 are usually a recommendation question: "
            "use nps(scores) for those."
        )


_CES_VERSIONS = {1: ((1.0, 5.0), (1.0, 2.0), False), 2: ((1.0, 7.0), (5.0, 7.0), True)}


@ck.validate_params(
    {
        "scale": ck.Pair(none=True),
        "version": ck.Options(1, 2),
        "agree": ck.Pair(none=True),
    }
)
def ces(
    scores: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    cluster: ArrayLike | None = None,
    scale: tuple[float, float] | None = None,
    version: CESVersion = 2,
    agree: tuple[float, float] | None = None,
) -> CESResult:
    """Customer effort score (CES), version stated explicitly.

    Parameters
    ----------
    scores : array-like
        Answers; NaN/None are skipped and counted.
    weights : array-like, optional
        Non-negative survey weights.
    cluster : array-like, optional
        The respondent of each answer, when respondents answer more than once:
        standard errors and intervals become cluster-robust over respondents.
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
    CES (version 2, 1-7 scale) 5.67 (95% CI 4.04 to 6.49, n=6)
    >>> ces([1, 2, 2, 4], version=1).higher_is_better
    False
    """
    if version not in _CES_VERSIONS:
        raise ck.error("version", "1 or 2", version)
    default_scale, default_agree, better = _CES_VERSIONS[version]
    sc = default_scale if scale is None else (float(scale[0]), float(scale[1]))
    _check_ces_scale(sc)
    band = _check_band(agree if agree is not None else default_agree, sc, "agree")
    share, _, part, common = _rating(scores, weights, sc, band, cluster)
    common.pop("share_df")
    return CESResult(
        score=part.mean,
        agree=share,
        se=part.mean_se,
        version=version,
        agree_band=band,
        higher_is_better=better,
        **common,
    )
