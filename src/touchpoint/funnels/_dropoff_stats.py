"""Building blocks of drop-off detection: periods, change points, two-sample tests.

:func:`binomial_changepoint` is public through :mod:`touchpoint.dropoffs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import Alternative
from touchpoint._lib.stats import two_proportion_z
from touchpoint._lib.time import (
    CALENDAR_PERIODS,
    duration as _duration,
    period_codes,
    period_labels,
    utc_offsets,
)
from touchpoint.exceptions import ValidationError

__all__ = ["binomial_changepoint"]

_ALTERNATIVES = ("less", "two-sided", "greater")
_Floats = NDArray[np.float64]

#: At most this many periods per drop-off analysis (the change-point scan costs the
#: square of the number of periods); a finer ``period`` is refused, saying so.
MAX_PERIODS = 2000
#: Elements per block of the change-point scan (bounds its memory to a few MiB per array).
_SCAN_BLOCK = 1 << 20


def _check_n_periods(n: float, period: Any) -> None:
    if n > MAX_PERIODS:
        from touchpoint._lib.checks import fail

        fail(
            "period",
            f"a period giving at most {MAX_PERIODS} periods over the data "
            f"(this one gives {n:.4g}; use a longer period)",
            period,
        )


# ---------------------------------------------------------------------------
# periods
# ---------------------------------------------------------------------------
def _periods(
    abs_t: NDArray[np.float64], is_datetime: bool, period: Any, tz: str = "UTC"
) -> tuple[NDArray[np.int64], list[Any]]:
    """Period index (0..P-1, consecutive, gaps included) of each time, and the period labels.

    ``abs_t`` is in seconds since the epoch for datetime logs, else raw time.
    Calendar periods (day, ISO week from Monday, month) are those of ``tz``.
    """
    if len(abs_t) == 0:
        return np.zeros(0, dtype=np.int64), []
    if isinstance(period, str):
        if not is_datetime:
            msg = f"'period'={period!r} needs a datetime log; pass a number for float times."
            raise ValidationError(msg)
        if period not in CALENDAR_PERIODS:
            raise ck.error("period", "'day', 'week', 'month', a timedelta or a number", period)
        offset = utc_offsets(np.round(abs_t * 1e9).astype(np.int64), tz) // 10**9
        days = np.floor((abs_t + offset) / 86400.0).astype(np.int64)
        code = period_codes(days, period)
        lo, hi = int(code.min()), int(code.max())
        _check_n_periods(hi - lo + 1, period)
        labels: list[Any] = period_labels(np.arange(lo, hi + 1), period)
        return code - lo, labels
    size = _duration(period, "period", datetime=is_datetime)
    assert size is not None
    scaled = np.floor(abs_t / size)
    _check_n_periods(float(scaled.max() - scaled.min()) + 1, period)
    code = scaled.astype(np.int64)
    lo, hi = int(code.min()), int(code.max())
    span = np.arange(lo, hi + 1)
    if is_datetime:
        labels = [
            str(np.datetime64(int(s * size * 1e9), "ns").astype("datetime64[s]")) for s in span
        ]
    else:
        labels = [float(s * size) for s in span]
    return code - lo, labels


# ---------------------------------------------------------------------------
# change points
# ---------------------------------------------------------------------------
def _loglik(x: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.special import xlogy

    with np.errstate(divide="ignore", invalid="ignore"):
        out = xlogy(x, np.where(n > 0, x / n, 1.0)) + xlogy(n - x, np.where(n > 0, 1 - x / n, 1.0))
    return np.asarray(out, dtype=np.float64)


def _scan(
    x: NDArray[np.float64], n: NDArray[np.float64], direction: str
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Best segment [a, b] for each row of ``x`` (shape (B, T)): LR statistic, a, b.

    Streams over blocks of rows and segments, so memory stays bounded (about
    ``_SCAN_BLOCK`` elements per temporary array) whatever B and T are.
    """
    B, T = x.shape
    a, b = np.triu_indices(T)
    full = (a == 0) & (b == T - 1)
    a, b = a[~full], b[~full]
    rows = max(1, min(B, _SCAN_BLOCK // max(len(a), 1)))
    seg = max(1, _SCAN_BLOCK // rows)
    best_stat = np.full(B, -np.inf)
    best_a = np.zeros(B, dtype=np.int64)
    best_b = np.full(B, b[0] if len(b) else T - 1, dtype=np.int64)
    for r0 in range(0, B, rows):
        xr = x[r0 : r0 + rows]
        for s0 in range(0, len(a), seg):
            sa, sb = a[s0 : s0 + seg], b[s0 : s0 + seg]
            st, arg = _scan_block(xr, n, sa, sb, direction)
            better = st > best_stat[r0 : r0 + rows]
            idx = np.flatnonzero(better) + r0
            best_stat[idx] = st[better]
            best_a[idx] = sa[arg[better]]
            best_b[idx] = sb[arg[better]]
    return best_stat, best_a, best_b


def _scan_block(
    x: NDArray[np.float64],
    n: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    direction: str,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """LR statistic of the best of segments ``(a, b)`` for each row of ``x``, and its index."""
    B = x.shape[0]
    cx = np.concatenate([np.zeros((B, 1)), np.cumsum(x, axis=1)], axis=1)
    cn = np.concatenate([np.zeros(1), np.cumsum(n)])
    xin = cx[:, b + 1] - cx[:, a]
    nin = (cn[b + 1] - cn[a])[None, :]
    xtot, ntot = cx[:, -1:], cn[-1]
    xout, nout = xtot - xin, ntot - nin
    stat = 2 * (_loglik(xin, nin) + _loglik(xout, nout) - _loglik(xtot, np.full_like(xtot, ntot)))
    with np.errstate(divide="ignore", invalid="ignore"):
        pin, pout = xin / nin, xout / nout
    ok = np.broadcast_to((nin > 0) & (nout > 0), stat.shape).copy()
    if direction == "less":
        ok &= pin < pout
    elif direction == "greater":
        ok &= pin > pout
    stat = np.where(ok, np.maximum(stat, 0.0), -np.inf)
    best = np.argmax(stat, axis=1)
    return stat[np.arange(B), best], best


def binomial_changepoint(
    reached: Sequence[float] | NDArray[Any],
    entered: Sequence[float] | NDArray[Any],
    *,
    direction: Alternative = "less",
    n_resamples: int = 199,
    seed: int | None = 0,
) -> tuple[int, int, float, float]:
    """Scan a binomial series for the segment of periods with a different rate.

    For every segment ``[a, b]`` of consecutive periods (a one-sided change to
    the end is the case ``b = T - 1``) the likelihood-ratio statistic of "rate
    ``p_in`` inside, ``p_out`` outside" against "one rate" is computed from
    cumulative sums; the largest is the estimate. Its p-value is Monte Carlo:
    the same scan on ``n_resamples`` series drawn with the pooled rate.

    Parameters
    ----------
    reached, entered : array-like
        Conversions and trials per period (periods with ``entered == 0`` are
        allowed and carry no information).
    direction : {"less", "two-sided", "greater"}
        Look for a segment with a lower rate (a drop), any change, or a rise.
    n_resamples : int
        Monte Carlo draws for the p-value (0 skips it: p-value NaN).
    seed : int or None
        Random seed of the draws.

    Returns
    -------
    (start, end, statistic, pvalue)
        Period indices of the segment (inclusive), the LR statistic and p-value.

    Examples
    --------
    >>> n = [100] * 10
    >>> x = [50, 52, 49, 51, 30, 28, 31, 50, 49, 51]
    >>> start, end, stat, p = binomial_changepoint(x, n)
    >>> start, end, round(stat, 1), p < 0.01
    (4, 6, 37.1, True)
    """
    xs = np.asarray(reached, dtype=np.float64)
    ns = np.asarray(entered, dtype=np.float64)
    if xs.shape != ns.shape or xs.ndim != 1 or len(xs) < 2:
        msg = "'reached' and 'entered' must be 1-d of equal length >= 2."
        raise ValidationError(msg)
    if direction not in _ALTERNATIVES:
        raise ck.error("direction", f"one of {_ALTERNATIVES}", direction)
    stat, a, b = _scan(xs[None, :], ns, direction)
    s = float(stat[0])
    if not np.isfinite(s):
        return 0, len(xs) - 1, 0.0, 1.0
    pval = float("nan")
    if n_resamples > 0:
        rng = np.random.default_rng(seed)
        p0 = xs.sum() / ns.sum()
        sims = rng.binomial(ns.astype(np.int64), p0, size=(n_resamples, len(ns))).astype(float)
        null, _, _ = _scan(sims, ns, direction)
        pval = float((1 + np.sum(null >= s - 1e-9)) / (n_resamples + 1))
    return int(a[0]), int(b[0]), s, pval


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------
def _zstat(x1: _Floats, n1: _Floats, x2: _Floats, n2: _Floats) -> _Floats:
    """Pooled two-proportion z statistics of counts (0 where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return two_proportion_z(x1 / n1, n1, x2 / n2, n2)[0]


def _ztest(x1: _Floats, n1: _Floats, x2: _Floats, n2: _Floats, alternative: str) -> _Floats:
    """Pooled two-proportion z-test p-values of counts (vectorised)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return two_proportion_z(x1 / n1, n1, x2 / n2, n2, alternative)[1]  # type: ignore[arg-type]


def _fisher(
    x1: _Floats, n1: _Floats, x2: _Floats, n2: _Floats, alternative: str, *, mid_p: bool = False
) -> _Floats:
    """Fisher's exact test p-values, vectorised (two-sided: twice the smaller tail).

    With ``mid_p`` each tail counts the observed table's probability once half
    (Lancaster 1961): one-sided ``P(X < x) + P(X = x) / 2`` under the
    hypergeometric null.
    """
    from scipy.stats import hypergeom

    N, K = n1 + n2, x1 + x2
    half = 0.5 * hypergeom.pmf(x1, N, K, n1) if mid_p else 0.0
    less = hypergeom.cdf(x1, N, K, n1) - half
    greater = hypergeom.sf(x1 - 1, N, K, n1) - half
    if alternative == "less":
        p = less
    elif alternative == "greater":
        p = greater
    else:
        p = 2 * np.minimum(less, greater)
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)


def _fisher_midp(x1: _Floats, n1: _Floats, x2: _Floats, n2: _Floats, alternative: str) -> _Floats:
    """Fisher's test with the mid-p correction (:func:`_fisher` with ``mid_p=True``)."""
    return _fisher(x1, n1, x2, n2, alternative, mid_p=True)
