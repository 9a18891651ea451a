"""Anytime-valid arithmetic on looks: betting confidence sequences and a change e-detector.

Every function works on per-look counts of a bounded variable rescaled to [0, 1]:
``counts`` is a (looks, values) array, ``support`` the values in [0, 1]. Looks are
batches; every bet is fixed from the looks before (predictable), so the capital
processes below are (super)martingales over the individual observations and Ville's
inequality holds at every look, however many.

- :func:`betting_cs`: the hedged-capital confidence sequence of Waudby-Smith & Ramdas
  (2023, JRSS B 86(1), "Estimating means of bounded random variables by betting"),
  with the predictable plug-in bet of their eq. (26) held fixed within a look.
- :func:`change_evidence`: an e-process for "the mean after the baseline stays inside
  the baseline's interval", mixed over the look where a change starts (weights
  1/(j(j+1)), summing to one) and over a grid of change sizes, so that its false-alarm
  probability over unlimited looks is at most alpha (Ville), unlike a CUSUM
  e-detector (Shin, Ramdas & Rinaldo 2023), which bounds the average run length only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Largest bet, as in Waudby-Smith & Ramdas (their c = 1/2): factors stay >= 1/2.
_C = 0.5
#: Change sizes the detector bets on, in standard errors of one average look.
_SIZES = (0.25, 0.5, 1.0, 2.0, 4.0)


def bets(
    counts: FloatArray, support: FloatArray, alpha: float, *, horizon: float | None = None
) -> FloatArray:
    """Per look, the predictable plug-in bet: fixed from the looks before it.

    ``lambda_k = sqrt(2 log(2/alpha) / (s2 N_k log(1 + N_k)))`` capped at 1/2, where
    ``N_k`` counts the observations up to and including look ``k`` and ``s2`` is the
    regularised variance of the observations before it,
    ``(1/4 + sum (x - mean)^2) / (N_{k-1} + 1)``. With a ``horizon`` (a known total
    sample size) the fixed-n bet ``sqrt(2 log(2/alpha) / (s2 horizon))``.
    """
    n = counts.sum(axis=1)
    s1 = counts @ support
    s2 = counts @ (support**2)
    n_before = np.concatenate([[0.0], np.cumsum(n)[:-1]])
    s1_before = np.concatenate([[0.0], np.cumsum(s1)[:-1]])
    s2_before = np.concatenate([[0.0], np.cumsum(s2)[:-1]])
    mean = np.where(n_before > 0, s1_before / np.maximum(n_before, 1), 0.5)
    ss = np.maximum(s2_before - n_before * mean**2, 0.0)
    var = (0.25 + ss) / (n_before + 1.0)
    n_now = np.maximum(n_before + n, 1.0)
    spread = n_now * np.log1p(n_now) if horizon is None else np.full_like(n_now, horizon)
    lam = np.sqrt(2.0 * np.log(2.0 / alpha) / (var * spread))
    return np.asarray(np.minimum(lam, _C), dtype=np.float64)


def _log_capital(
    m: FloatArray, counts: FloatArray, support: FloatArray, lam: FloatArray, sign: float
) -> tuple[FloatArray, FloatArray]:
    """log K_k(m_k) and its derivative in m, for every look k (cumulative over looks <= k).

    ``sign=+1``: the capital betting that the mean is above m; ``-1``: below.
    """
    n_looks = len(lam)
    val = np.empty(n_looks)
    der = np.empty(n_looks)
    block = max(1, 2_000_000 // max(n_looks * len(support), 1))
    for start in range(0, n_looks, block):
        rows = np.arange(start, min(start + block, n_looks))
        mk = m[rows][:, None, None]
        lam_i = lam[None, :, None]
        f = 1.0 + sign * lam_i * (support[None, None, :] - mk)
        mask = (np.arange(n_looks)[None, :] <= rows[:, None])[:, :, None]
        w = counts[None, :, :] * mask
        val[rows] = (w * np.log(f)).sum(axis=(1, 2))
        der[rows] = (w * (-sign * lam_i / f)).sum(axis=(1, 2))
    return val, der


def _crossing(
    counts: FloatArray, support: FloatArray, lam: FloatArray, sign: float, level: float
) -> FloatArray:
    """Per look, where the capital betting in direction ``sign`` crosses ``level``.

    For ``sign=+1`` the capital falls in m: the result is the largest m found at which
    log K >= level (0 when no m is excluded), the lower end of the sequence; for
    ``sign=-1`` the smallest such m (1 when none), the upper end. Newton steps from
    the middle, then a point 1e-9 outside the root is checked to be excluded (a
    bisection finishes the rare look where it is not), so the end is never inside.
    """
    n_looks = len(lam)
    near = np.zeros(n_looks) if sign > 0 else np.ones(n_looks)
    v_near, _ = _log_capital(near, counts, support, lam, sign)
    inside = v_near < level  # nothing on this side is excluded
    m = np.full(n_looks, 0.5)
    for _ in range(40):
        v, d = _log_capital(m, counts, support, lam, sign)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = m - (v - level) / d
        step = np.clip(np.where(np.isfinite(step), step, m), 0.0, 1.0)
        done = np.abs(step - m) < 1e-13
        m = step
        if np.all(done | inside):
            break
    out = np.clip(m - sign * 1e-9, 0.0, 1.0)
    v, _ = _log_capital(out, counts, support, lam, sign)
    bad = (v < level) & ~inside
    if bad.any():  # plain bisection over [0, 1] for those looks
        lo_m, hi_m = np.zeros(n_looks), np.ones(n_looks)
        for _ in range(50):
            mid = 0.5 * (lo_m + hi_m)
            vm, _ = _log_capital(mid, counts, support, lam, sign)
            excl = vm >= level
            if sign > 0:
                lo_m, hi_m = np.where(excl, mid, lo_m), np.where(excl, hi_m, mid)
            else:
                hi_m, lo_m = np.where(excl, mid, hi_m), np.where(excl, lo_m, mid)
        out = np.where(bad, lo_m if sign > 0 else hi_m, out)
    return np.where(inside, near, out)


def betting_cs(
    counts: FloatArray, support: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Per look, the (1 - alpha) hedged-capital confidence sequence, running intersection.

    The mean ``m`` is excluded at look ``k`` when ``max(K+_k(m), K-_k(m)) / 2 >=
    1/alpha`` (theta = 1/2), where ``K+`` bets ``lambda_i (x - m)`` and ``K-`` bets
    ``-lambda_i (x - m)`` on every observation of look ``i <= k``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    support = np.asarray(support, dtype=np.float64)
    lam = bets(counts, support, alpha)
    level = float(np.log(2.0 / alpha))
    low = _crossing(counts, support, lam, +1.0, level)
    high = _crossing(counts, support, lam, -1.0, level)
    low = np.maximum.accumulate(low)
    high = np.minimum.accumulate(high)
    return low, np.maximum(high, low)


def covers_everywhere(
    counts: FloatArray, support: FloatArray, alpha: float, mean: float
) -> NDArray[np.bool_]:
    """Whether the sequence covers ``mean`` at every look; ``counts`` may be (runs, looks, values).

    Used by the validation: the (intersected) sequence covers ``mean`` at every look
    exactly when neither capital reaches ``2/alpha`` at ``mean`` at any look.
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim == 2:
        c = c[None]
    n = c.sum(axis=2)
    s1 = c @ support
    s2 = c @ support**2
    n_before = np.cumsum(n, axis=1) - n
    s1_before = np.cumsum(s1, axis=1) - s1
    s2_before = np.cumsum(s2, axis=1) - s2
    mu = np.where(n_before > 0, s1_before / np.maximum(n_before, 1), 0.5)
    var = (0.25 + np.maximum(s2_before - n_before * mu**2, 0.0)) / (n_before + 1.0)
    n_now = np.maximum(n_before + n, 1.0)
    lam = np.minimum(np.sqrt(2.0 * np.log(2.0 / alpha) / (var * n_now * np.log1p(n_now))), _C)
    level = np.log(2.0 / alpha)
    dev = support - mean
    up = np.cumsum((c * np.log1p(lam[..., None] * dev)).sum(axis=2), axis=1)
    down = np.cumsum((c * np.log1p(-lam[..., None] * dev)).sum(axis=2), axis=1)
    return np.asarray(np.all((up < level) & (down < level), axis=1), dtype=np.bool_)


def change_evidence(
    counts: FloatArray,
    support: FloatArray,
    *,
    low: float | FloatArray,
    high: float | FloatArray,
    variance: float | FloatArray,
    look_size: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Per look, the e-process against "the mean stays in [low, high]"; log scale.

    Returns (log evidence for a fall, log evidence for a rise). For a fall, a bet on
    a change to ``low - z * se_k`` (``se_k = sqrt(variance / look_size_k)``, ``z`` in
    0.25, 0.5, 1, 2, 4) multiplies the capital by ``1 + lambda (low - x)`` per
    observation, ``lambda = (low - p1) / variance`` capped so factors stay >= 1/10;
    its expectation is <= 1 whenever the mean is >= low. The e-detector for a change
    starting at look ``j`` (counted from 1) gets weight ``1/(j (j+1))``; the
    unstarted weight counts at face value, so each process starts at 1 and is a
    supermartingale under the null. The five sizes are averaged.
    ``counts`` may be (runs, looks, values), with ``low``, ``high`` and ``variance``
    then one per run (or shared).
    """
    c = np.asarray(counts, dtype=np.float64)
    squeeze = c.ndim == 2
    if squeeze:
        c = c[None]
    runs, n_looks = c.shape[0], c.shape[1]
    j = np.arange(1, n_looks + 1, dtype=np.float64)
    log_w = -np.log(j * (j + 1.0))
    log_rest = -np.log(j + 1.0)  # weight of changes not started yet: 1/(j+1)
    var = np.maximum(np.broadcast_to(np.asarray(variance, dtype=np.float64), (runs,)), 1e-6)
    size = np.maximum(np.asarray(look_size, dtype=np.float64), 1.0)
    se = np.sqrt(var[:, None] / np.broadcast_to(size, (runs, n_looks)))  # (runs, looks)
    out = []
    for sign, edge_in in ((-1.0, low), (1.0, high)):
        edge = np.broadcast_to(np.asarray(edge_in, dtype=np.float64), (runs,))
        # per observation factor 1 + lam * sign * (x - edge), lam >= 0, factor >= 1/10
        room = edge if sign > 0 else 1.0 - edge
        cap = 0.9 / np.maximum(room, 1e-9)
        dev = sign * (support[None, :] - edge[:, None])  # (runs, values)
        logs = []
        for z in _SIZES:
            lam = np.minimum(z * se / var[:, None], cap[:, None])  # (distance to p1) / var
            log_e = (c * np.log1p(lam[:, :, None] * dev[:, None, :])).sum(axis=2)
            log_a = np.full(runs, -np.inf)
            series = np.empty((runs, n_looks))
            for k in range(n_looks):
                log_a = log_e[:, k] + np.logaddexp(log_a, log_w[k])
                series[:, k] = np.logaddexp(log_a, log_rest[k])
            logs.append(series)
        mixed = np.logaddexp.reduce(np.stack(logs), axis=0) - np.log(len(_SIZES))
        out.append(mixed[0] if squeeze else mixed)
    return out[0], out[1]


def baseline_interval(counts: FloatArray, support: FloatArray, alpha: float) -> tuple[float, float]:
    """A (1 - alpha) interval for the mean of a fixed number of looks (the baseline).

    The hedged-capital interval of Waudby-Smith & Ramdas for a known sample size
    (their fixed-n bet ``sqrt(2 log(2/alpha) / (n s2))``, held within a look), which
    is narrower there than the sequence; valid because the baseline's length is
    fixed in advance and the look sizes do not depend on the answers.
    """
    counts = np.asarray(counts, dtype=np.float64)
    support = np.asarray(support, dtype=np.float64)
    lam = bets(counts, support, alpha, horizon=float(counts.sum()))
    level = float(np.log(2.0 / alpha))
    low = _crossing(counts, support, lam, +1.0, level)
    high = _crossing(counts, support, lam, -1.0, level)
    return float(low.max()), float(max(high.min(), low.max()))


def beta_binomial_cs(
    counts: FloatArray, alpha: float, prior: tuple[float, float] = (0.5, 0.5)
) -> tuple[FloatArray, FloatArray]:
    """Per look, the beta-binomial mixture confidence sequence for a rate; running intersection.

    ``counts`` is (looks, 2): failures and successes. With ``S`` successes in ``N``
    trials so far, ``p`` is excluded when the mixture martingale
    ``B(a + S, b + N - S) / (B(a, b) p^S (1 - p)^(N - S))`` reaches ``1/alpha``
    (Howard, Ramdas, McAuliffe & Sekhon 2021, the conjugate mixture for Bernoulli
    observations; Robbins 1970). The prior ``Beta(a, b)`` only shapes the width.
    """
    from scipy.special import betaln

    c = np.asarray(counts, dtype=np.float64)
    s = np.cumsum(c[:, 1])
    n = np.cumsum(c.sum(axis=1))
    a, b = prior
    level = float(np.log(1.0 / alpha))
    const = betaln(a + s, b + n - s) - betaln(a, b)

    def log_m(p: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.where(s > 0, s * np.log(p), 0.0) + np.where(
                n - s > 0, (n - s) * np.log1p(-p), 0.0
            )
        return np.asarray(const - ll, dtype=np.float64)

    centre = np.where(n > 0, s / np.maximum(n, 1), 0.5)
    ends = []
    for edge in (0.0, 1.0):  # bisection between the estimate (inside) and the edge
        inside, outside = centre.copy(), np.full_like(centre, edge)
        for _ in range(60):
            mid = 0.5 * (inside + outside)
            out = log_m(mid) >= level
            outside = np.where(out, mid, outside)
            inside = np.where(out, inside, mid)
        # the outer end of the bracket, or the edge when nothing there is excluded
        edge_in = log_m(np.full_like(centre, edge)) < level
        ends.append(np.where(edge_in, edge, outside))
    low = np.maximum.accumulate(ends[0])
    high = np.minimum.accumulate(ends[1])
    return low, np.maximum(high, low)
