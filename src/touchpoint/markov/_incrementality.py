"""Holdout incrementality: what exposure to a channel or campaign caused.

Journeys are split by a group column into exposed and held-out ones (a
randomised holdout: ghost ads, PSA or no-send control cells). The lift of the
conversion rate is given as an absolute difference with Newcombe's hybrid
score interval (method 10 of Newcombe 1998) and as a relative lift with the
Koopman (1984) score interval for the ratio of two proportions; both hold
their level at the few conversions holdouts have (see the Validation page),
where Wald and Katz-log intervals do not. Value lift (the mean value per
journey) gets a MOVER interval (Zou and Donner 2008): each arm's mean value
is its conversion rate (Wilson) times the mean value of its conversions (a
log-scale t interval), and the two arms are combined as in Newcombe's
method; a percentile bootstrap over journeys (within each arm) is the
fallback when some converting journey's value is not positive.

:meth:`Incrementality.calibration` sets each channel's Markov removal effect
beside the share of its exposed conversions that the holdout shows to be
incremental, and their ratio, the calibration factor.

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions: comparison of eleven methods. *Statistics in
Medicine* 17, 873-890.

Koopman, P. A. R. (1984). Confidence intervals for the ratio of two binomial
proportions. *Biometrics* 40, 513-517.

Zou, G. Y. and Donner, A. (2008). Construction of confidence limits about
effect measures: a general approach. *Statistics in Medicine* 27, 1693-1702.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.stats import check_confidence, normal_quantile, proportion_ci, t_quantile
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.table import Table

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.markov._attribution import RemovalEffects

__all__ = ["Incrementality", "incrementality", "newcombe_difference", "ratio_score_interval"]


def newcombe_difference(
    x1: float, n1: float, x2: float, n2: float, confidence_level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``x1/n1 - x2/n2`` (Wilson limits combined).

    Examples
    --------
    >>> lo, hi = newcombe_difference(56, 70, 48, 80)  # Newcombe (1998), table II
    >>> round(lo, 4), round(hi, 4)
    (0.0524, 0.3339)
    """
    p1, p2 = x1 / n1, x2 / n2
    lo, hi = proportion_ci(np.array([x1, x2]), np.array([n1, n2]), confidence_level, "wilson")
    d = p1 - p2
    low = d - np.sqrt((p1 - lo[0]) ** 2 + (hi[1] - p2) ** 2)
    high = d + np.sqrt((hi[0] - p1) ** 2 + (p2 - lo[1]) ** 2)
    return float(low), float(high)


def _ratio_score(theta: float, x1: float, n1: float, x2: float, n2: float) -> float:
    """Koopman's score statistic for ``p1 / p2 = theta`` (constrained MLE under the ratio)."""
    n = n1 + n2
    a = n * theta
    b = -(n1 * theta + x1 + n2 + x2 * theta)
    c = x1 + x2
    # the smaller root of a p2^2 + b p2 + c = 0, in the form without cancellation
    p2 = 2 * c / (-b + np.sqrt(max(b * b - 4 * a * c, 0.0)))
    p1 = theta * p2
    var = p1 * (1 - p1) / n1 + theta**2 * p2 * (1 - p2) / n2
    if var <= 0:
        return 0.0 if x1 / n1 == theta * x2 / n2 else np.inf
    return float((x1 / n1 - theta * x2 / n2) / np.sqrt(var))


def ratio_score_interval(
    x1: float, n1: float, x2: float, n2: float, confidence_level: float = 0.95
) -> tuple[float, float]:
    """Koopman's score interval for ``(x1/n1) / (x2/n2)`` (0 or inf where no data bound it).

    Examples
    --------
    >>> lo, hi = ratio_score_interval(36, 40, 16, 80)  # Koopman (1984): (2.94, 7.15)
    >>> round(lo, 2), round(hi, 2)
    (2.94, 7.15)
    """
    from scipy.optimize import brentq

    z = float(normal_quantile(1 - (1 - confidence_level) / 2))
    if x1 == 0 and x2 == 0:
        return 0.0, float("inf")

    def f(log_t: float) -> float:  # decreasing in theta; 0 at the estimate
        return _ratio_score(float(np.exp(log_t)), x1, n1, x2, n2)

    if x1 > 0 and x2 > 0:
        mid = float(np.log(x1 / n1) - np.log(x2 / n2))
    else:
        mid = float(np.log((x1 + 0.5) / n1) - np.log((x2 + 0.5) / n2))
    span = 25.0
    low = 0.0 if x1 == 0 else float(np.exp(brentq(lambda t: f(t) - z, mid - span, mid)))
    high = float("inf") if x2 == 0 else float(np.exp(brentq(lambda t: f(t) + z, mid, mid + span)))
    return low, high


@attrs.frozen(eq=False)
class Incrementality(TableResult):
    """Lift of exposed over held-out journeys (see :func:`incrementality`).

    Attributes
    ----------
    table : Table
        One row per ``by`` group (one row without ``by``): journeys,
        conversions and rate of each arm, ``lift`` (exposed minus holdout
        rate) with ``lift_low``/``lift_high``, ``relative_lift`` (rate ratio
        minus 1) with its interval, ``incremental_share`` (share of exposed
        conversions the holdout shows to be incremental, ``1 - 1 / ratio``)
        with its interval, and the mean value per journey of each arm with
        ``value_lift`` and its interval (MOVER; bootstrap fallback).
    by : str or None
        The column the rows are split by.
    confidence_level : float
    n_excluded : int
        Journeys without a group value (left out).
    """

    table: Table
    by: str | None = None
    confidence_level: float = 0.95
    n_excluded: int = 0
    group: str = ""

    def calibration(self, removal_effects: RemovalEffects, *, channel: str | None = None) -> Table:
        """Each channel's Markov removal effect beside its measured incrementality.

        The removal effect is the model's share of conversions lost without
        the channel; ``incremental_share`` is the share of the exposed arm's
        conversions that the holdout shows the exposure caused. Their ratio is
        the calibration factor: multiply the channel's Markov credit by it to
        match the experiment (Markov credit x factor). Rows are the ``by``
        groups named like a removed item (or ``channel=`` for a result without
        ``by``); the factor's interval divides the incremental share's
        interval by the removal effect (the removal effect's own uncertainty
        is not included).

        Caveats: the removal effect is an association measured on all journeys
        of the chain, the holdout a causal effect on the tested population and
        period; the two agree only when the test's population, period and
        exposure match the channel as the chain sees it. A factor far from 1
        says the chain's credit for that channel should not be read causally.
        Removal also assumes a journey ends at the removed touchpoint (no
        substitution), which overstates channels users would reach anyway.
        """
        t = self.table
        if self.by is None:
            if channel is None:
                msg = "calibration of an incrementality result without by= needs channel=."
                raise ValidationError(msg)
            names = [channel]
            rows = [0]
        else:
            names = [str(v) for v in t[self.by].tolist()]
            rows = list(range(len(names)))
        effect = dict(zip(removal_effects.names, removal_effects.effect.tolist(), strict=True))
        keep = [(n, i) for n, i in zip(names, rows, strict=True) if n in effect]
        if not keep:
            msg = (
                f"no group of {self.by or 'channel'} is a removed item of the removal effects "
                f"({sorted(effect)[:10]})."
            )
            raise ValidationError(msg)
        re_col = np.array([effect[n] for n, _ in keep])
        idx = np.array([i for _, i in keep])
        share = np.asarray(t["incremental_share"], dtype=float)[idx]
        lo = np.asarray(t["incremental_share_low"], dtype=float)[idx]
        hi = np.asarray(t["incremental_share_high"], dtype=float)[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            return Table(
                {
                    removal_effects.states: np.array([n for n, _ in keep], dtype=object),
                    "removal_effect": re_col,
                    "incremental_share": share,
                    "incremental_share_low": lo,
                    "incremental_share_high": hi,
                    "calibration_factor": share / re_col,
                    "factor_low": lo / re_col,
                    "factor_high": hi / re_col,
                },
                title="calibration of removal effects by holdout",
            )

    def __repr__(self) -> str:
        t = self.table
        first = (
            f"lift={float(t['lift'][0]):+.4g} "
            f"[{float(t['lift_low'][0]):.4g}, {float(t['lift_high'][0]):.4g}]"
        )
        rows = f"{len(t)} {self.by} groups; first: " if self.by else ""
        return f"Incrementality({rows}{first})"


def _holdout_mask(labels: NDArray[Any], holdout: Any) -> NDArray[np.bool_]:
    values = (
        list(holdout)
        if isinstance(holdout, Iterable) and not isinstance(holdout, str | bytes)
        else [holdout]
    )
    if not values:
        raise ck.error("holdout", "a group value (or several) marking held-out journeys", holdout)
    return np.isin(labels.astype(str), np.array([str(v) for v in values]))


def _missing(labels: NDArray[Any]) -> NDArray[np.bool_]:
    out = np.zeros(len(labels), dtype=bool)
    for i, v in enumerate(labels.tolist()):
        out[i] = v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""
    return out


@ck.validate_params(
    {
        "by": ck.Text(none=True),
        "confidence_level": ck.CONFIDENCE,
        "n_resamples": ck.Integer(0),
        "seed": ck.Seed(),
    }
)
def incrementality(
    log: EventLog,
    group: str,
    *,
    holdout: Hashable | Iterable[Hashable] = ("holdout", "control"),
    by: str | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 2000,
    seed: int | None = 0,
) -> Incrementality:
    """Conversion and value lift of exposed over held-out journeys, with intervals.

    Parameters
    ----------
    log : EventLog
        Journeys; conversion is ``log.converted()``, value ``log.value()``.
    group : str
        A per-journey column (its value at the journey's first event) naming
        the arm; journeys without a value are left out (counted in
        ``n_excluded``).
    holdout : value or values
        The value(s) of ``group`` marking held-out journeys (default
        ``"holdout"`` or ``"control"``); every other value is exposed.
    by : str, optional
        A per-journey column naming the channel or campaign each test cell
        belongs to: one row per value.
    confidence_level : float
    n_resamples : int
        Bootstrap replicates (within each arm) for the value-lift interval
        when the MOVER interval does not apply (a converting journey with a
        value <= 0); 0 for none.
    seed : int or None

    Returns
    -------
    Incrementality
        ``.table`` and ``.calibration(removal_effects)``.

    Notes
    -----
    Intervals: Newcombe's hybrid score for the rate difference, Koopman's
    score interval for the rate ratio (relative lift = ratio - 1;
    incremental share = 1 - 1/ratio), MOVER for the value lift (conservative,
    near 100%, when the holdout has one or two conversions). The holdout must
    be randomised for the lift to be causal.

    Examples
    --------
    >>> import numpy as np
    >>> import touchpoint as tp
    >>> arm = np.array(["test"] * 6 + ["control"] * 4)
    >>> conv = [1, 1, 1, 0, 0, 0, 1, 0, 0, 0]
    >>> log = tp.EventLog.from_arrays(np.arange(10), ["ad"] * 10, np.zeros(10),
    ...                               outcome=conv, extra={"arm": arm})
    >>> inc = tp.incrementality(log, "arm", holdout="control", n_resamples=0)
    >>> print(inc.table["exposed_rate"][0], inc.table["holdout_rate"][0])
    0.5 0.25
    >>> round(float(inc.table["lift"][0]), 3)
    0.25
    """
    conf = check_confidence(confidence_level)
    labels = log.journey_column(group)
    missing = _missing(labels)
    held = _holdout_mask(labels, holdout) & ~missing
    if not held.any():
        msg = f"no journey has {group}={holdout!r} (the holdout); values seen: {sorted(set(labels.astype(str).tolist()))[:10]}."
        raise ValidationError(msg)
    conv = log.converted().astype(np.float64)
    value = np.where(log.converted(), log.value(), 0.0)
    cells = (
        {None: ~missing}
        if by is None
        else {v: (log.journey_column(by).astype(str) == v) & ~missing for v in _levels(log, by)}
    )
    rng = np.random.default_rng(seed)
    rows = []
    for name, cell in cells.items():
        rows.append(
            _row(
                conv, value, cell & ~held, cell & held, conf=conf, n_resamples=n_resamples, rng=rng
            )
        )
        if by is not None:
            rows[-1] = {by: name, **rows[-1]}
    return Incrementality(
        table=Table.from_records(rows, title="holdout incrementality"),
        by=by,
        confidence_level=conf,
        n_excluded=int(missing.sum()),
        group=group,
    )


def _levels(log: EventLog, by: str) -> list[str]:
    vals = log.journey_column(by)
    return sorted(
        {str(v) for v, m in zip(vals.tolist(), _missing(vals).tolist(), strict=True) if not m}
    )


def _value_given_conversion(
    pos: NDArray[np.float64], conf: float
) -> tuple[float, float, float] | None:
    """Mean value of converting journeys and a log-scale t interval (None below 2)."""
    k = len(pos)
    if k < 2 or np.any(pos <= 0):
        return None
    m = float(pos.mean())
    se = float(pos.std(ddof=1)) / np.sqrt(k)
    half = float(t_quantile(k - 1, 1 - (1 - conf) / 2)) * se / m
    return m, m * float(np.exp(-half)), m * float(np.exp(half))


def _arm_value_interval(
    v: NDArray[np.float64], conf: float, pooled: tuple[float, float, float]
) -> tuple[float, float, float]:
    """Mean value per journey ``p * nu`` with MOVER limits from Wilson (p) and ``nu``'s interval."""
    n = len(v)
    pos = v[v != 0]
    k = len(pos)
    lo_p, hi_p = proportion_ci(np.array([k]), np.array([n]), conf, "wilson")
    nu = _value_given_conversion(pos, conf) or pooled
    if k == 0:
        return 0.0, 0.0, float(hi_p[0]) * nu[2]
    p = k / n
    mu = p * nu[0]
    d_lo = np.hypot(np.log(p / lo_p[0]), np.log(nu[0] / nu[1]))
    d_hi = np.hypot(np.log(hi_p[0] / p), np.log(nu[2] / nu[0]))
    return mu, mu * float(np.exp(-d_lo)), mu * float(np.exp(d_hi))


def value_lift_interval(
    a: NDArray[np.float64], b: NDArray[np.float64], conf: float
) -> tuple[float, float] | None:
    """MOVER interval for ``mean(a) - mean(b)`` of zero-inflated positive values.

    Each arm's mean value per journey is its conversion rate times the mean
    value of its conversions; their limits (Wilson, and a log-scale t interval)
    are combined on the log scale, then the two arms by Newcombe's method of
    variance estimates recovery (Zou and Donner 2008). An arm with fewer than
    two conversions borrows the other's value interval. None when a
    converting journey's value is not positive (use the bootstrap).
    """
    both = np.concatenate([a[a != 0], b[b != 0]])
    pooled = _value_given_conversion(both, conf)
    if pooled is None or np.any(a < 0) or np.any(b < 0):
        return None
    m1, l1, u1 = _arm_value_interval(a, conf, pooled)
    m2, l2, u2 = _arm_value_interval(b, conf, pooled)
    d = m1 - m2
    return d - float(np.hypot(m1 - l1, u2 - m2)), d + float(np.hypot(u1 - m1, m2 - l2))


def _boot_means(
    v: NDArray[np.float64], n_resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Means of ``n_resamples`` resamples (with replacement) of ``v``.

    Most journeys have value 0: a resample holds Binomial(n, share nonzero)
    nonzero values, drawn from the nonzero ones (the same distribution as
    resampling all of ``v``, at the cost of the nonzero values only).
    """
    n = len(v)
    nz = v[v != 0]
    if nz.size == 0:
        return np.zeros(n_resamples)
    k = rng.binomial(n, nz.size / n, n_resamples)
    draws = nz[rng.integers(0, nz.size, int(k.sum()))]
    sums = np.bincount(np.repeat(np.arange(n_resamples), k), weights=draws, minlength=n_resamples)
    return np.asarray(sums / n, dtype=np.float64)


def _row(
    conv: NDArray[np.float64],
    value: NDArray[np.float64],
    exposed: NDArray[np.bool_],
    held: NDArray[np.bool_],
    *,
    conf: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    n1, n2 = float(exposed.sum()), float(held.sum())
    x1, x2 = float(conv[exposed].sum()), float(conv[held].sum())
    nan = float("nan")
    if n1 == 0 or n2 == 0:
        p1 = x1 / n1 if n1 else nan
        p2 = x2 / n2 if n2 else nan
        lo = hi = r_lo = r_hi = nan
    else:
        p1, p2 = x1 / n1, x2 / n2
        lo, hi = newcombe_difference(x1, n1, x2, n2, conf)
        r_lo, r_hi = ratio_score_interval(x1, n1, x2, n2, conf)
    ratio = p1 / p2 if n2 and p2 > 0 else (float("inf") if n1 and p1 > 0 else nan)
    v1 = float(value[exposed].mean()) if n1 else nan
    v2 = float(value[held].mean()) if n2 else nan
    v_lo = v_hi = nan
    mover = value_lift_interval(value[exposed], value[held], conf) if n1 and n2 else None
    if mover is not None:
        v_lo, v_hi = mover
    elif n_resamples and n1 and n2:
        d = _boot_means(value[exposed], n_resamples, rng) - _boot_means(
            value[held], n_resamples, rng
        )
        v_lo, v_hi = (float(q) for q in np.quantile(d, [(1 - conf) / 2, 1 - (1 - conf) / 2]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "exposed_journeys": int(n1),
            "exposed_conversions": int(x1),
            "exposed_rate": p1,
            "holdout_journeys": int(n2),
            "holdout_conversions": int(x2),
            "holdout_rate": p2,
            "lift": p1 - p2,
            "lift_low": lo,
            "lift_high": hi,
            "relative_lift": ratio - 1,
            "relative_low": r_lo - 1,
            "relative_high": r_hi - 1,
            "incremental_share": 1 - 1 / ratio if ratio > 0 else nan,
            "incremental_share_low": 1 - 1 / r_lo if r_lo > 0 else -np.inf,
            "incremental_share_high": 1 - 1 / r_hi if r_hi > 0 else nan,
            "incremental_conversions": (p1 - p2) * n1,
            "exposed_value": v1,
            "holdout_value": v2,
            "value_lift": v1 - v2,
            "value_lift_low": v_lo,
            "value_lift_high": v_hi,
        }
