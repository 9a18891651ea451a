"""Rule-based and Shapley attribution: one credit function per method (internal).

Each entry of :data:`CREDIT_FUNCTIONS` maps a method name to a function of
the encoded journeys returning, per kept event, its share of its journey's
credit (the shares of a journey sum to 1, so a converting journey hands out
exactly one conversion and its value). :func:`~touchpoint.attribution` looks
the method up here; the Markov method, which needs the fitted chain, lives in
:mod:`touchpoint.markov._attribution`.

References
----------
Zhao, K., Mahboobi, S. H. and Bagheri, S. R. (2018). Shapley value methods for
attribution modeling in online advertising. arXiv:1804.05327 (the
"simplified" Shapley value over observed channel subsets).

Shapley, L. S. (1953). A value for n-person games. In *Contributions to the
Theory of Games II*, 307-317.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.markov._encoding import EncodedJourneys

__all__ = [
    "CREDIT_FUNCTIONS",
    "CreditOptions",
    "first_occurrence",
    "shapley_rate",
    "split_by_weight",
]


@attrs.frozen
class CreditOptions:
    """The method options a credit function may read."""

    half_life: Any = None
    position_weights: tuple[float, float] = (0.4, 0.4)


@attrs.frozen
class _Positions:
    """Per kept event: its journey, position in the journey and the journey's length."""

    journey: NDArray[np.int64]
    pos: NDArray[np.int64]
    length: NDArray[np.int64]

    @classmethod
    def of(cls, enc: EncodedJourneys) -> _Positions:
        j = enc.event_journey
        lengths = np.bincount(j, minlength=enc.n_journeys)
        starts = np.zeros(enc.n_journeys + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        return cls(j, np.arange(len(j)) - starts[j], lengths[j])


CreditFunction = Callable[["EncodedJourneys", "EventLog", CreditOptions], NDArray[np.float64]]


def _first_touch(enc: EncodedJourneys, log: EventLog, opt: CreditOptions) -> NDArray[np.float64]:
    del log, opt
    p = _Positions.of(enc)
    return np.asarray(p.pos == 0, dtype=np.float64)


def _last_touch(enc: EncodedJourneys, log: EventLog, opt: CreditOptions) -> NDArray[np.float64]:
    del log, opt
    p = _Positions.of(enc)
    return np.asarray(p.pos == p.length - 1, dtype=np.float64)


def _linear(enc: EncodedJourneys, log: EventLog, opt: CreditOptions) -> NDArray[np.float64]:
    del log, opt
    p = _Positions.of(enc)
    return np.asarray(1.0 / p.length, dtype=np.float64)


def _position(enc: EncodedJourneys, log: EventLog, opt: CreditOptions) -> NDArray[np.float64]:
    """U-shaped: first and last get their shares, the middle splits the rest."""
    del log
    p = _Positions.of(enc)
    w_first, w_last = (float(x) for x in opt.position_weights)
    middle = (1.0 - w_first - w_last) / np.maximum(p.length - 2, 1)
    w = np.where(p.pos == 0, w_first, np.where(p.pos == p.length - 1, w_last, middle))
    w = np.where(p.length == 2, 0.5, w)
    return np.asarray(np.where(p.length == 1, 1.0, w), dtype=np.float64)


def _time_decay(enc: EncodedJourneys, log: EventLog, opt: CreditOptions) -> NDArray[np.float64]:
    """Weight ``2 ** (-(t_last - t) / half_life)``, normalised per journey."""
    from touchpoint._lib.time import required_duration, seconds

    default: Any = dt.timedelta(days=7) if log.is_datetime else 7.0
    hl = required_duration(
        opt.half_life if opt.half_life is not None else default,
        "half_life",
        datetime=log.is_datetime,
    )
    j = enc.event_journey
    tk = seconds(log.timestamp[enc.event_index])
    last = np.full(enc.n_journeys, -np.inf)
    np.maximum.at(last, j, tk)
    w = np.exp2(-(last[j] - tk) / hl)
    tot = np.bincount(j, weights=w, minlength=enc.n_journeys)
    return np.asarray(w / tot[j], dtype=np.float64)


def _shapley(enc: EncodedJourneys, log: EventLog, opt: CreditOptions) -> NDArray[np.float64]:
    """Simplified Shapley (Zhao et al. 2018): an even split over the distinct symbols."""
    del log, opt
    first = first_occurrence(enc)
    j = enc.event_journey
    distinct = np.bincount(j[first], minlength=enc.n_journeys)
    return np.where(first, 1.0 / np.maximum(distinct[j], 1), 0.0)


#: Per-event credit shares of each rule-based method (name -> function).
CREDIT_FUNCTIONS: dict[str, CreditFunction] = {
    "first_touch": _first_touch,
    "last_touch": _last_touch,
    "linear": _linear,
    "time_decay": _time_decay,
    "position": _position,
    "shapley": _shapley,
}


def first_occurrence(enc: EncodedJourneys) -> NDArray[np.bool_]:
    """Mask of each symbol's first event within its journey."""
    n_ev = len(enc.events)
    width = len(enc.alphabet) + 1
    key = enc.event_journey * width + enc.events
    order = np.argsort(key, kind="stable")
    sk = key[order]
    first = np.ones(n_ev, dtype=bool)
    first[1:] = sk[1:] != sk[:-1]
    out = np.zeros(n_ev, dtype=bool)
    out[order[first]] = True
    return out


def split_by_weight(
    enc: EncodedJourneys, weight_by_sym: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per event: the journey's credit split over its distinct symbols by ``weight_by_sym``.

    A journey whose symbols all weigh 0 is split evenly.
    """
    first = first_occurrence(enc)
    w = np.where(first, weight_by_sym[enc.events], 0.0)
    tot = np.bincount(enc.event_journey, weights=w, minlength=enc.n_journeys)
    distinct = np.bincount(enc.event_journey[first], minlength=enc.n_journeys)
    even = np.where(first, 1.0 / np.maximum(distinct[enc.event_journey], 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot[enc.event_journey] > 0, w / tot[enc.event_journey], even)


def shapley_rate(enc: EncodedJourneys) -> NDArray[np.float64]:
    """phi_c = sum over observed channel sets T containing c of rate(T) / |T| (DP6's game)."""
    k = len(enc.alphabet)
    if k > 62:
        msg = f"shapley_value='conversion_rate' supports at most 62 channels (got {k})."
        raise ValidationError(msg)
    first = first_occurrence(enc)
    bits = np.zeros(enc.n_journeys, dtype=np.int64)
    np.add.at(bits, enc.event_journey[first], np.left_shift(1, enc.events[first]))
    has = enc.lengths > 0
    sets, inv = np.unique(bits[has], return_inverse=True)
    inv = inv.ravel()
    n_t = np.bincount(inv, minlength=len(sets))
    c_t = np.bincount(inv, weights=enc.converted[has].astype(np.float64), minlength=len(sets))
    rate = c_t / n_t
    members = (sets[:, None] >> np.arange(k)[None, :]) & 1
    size = members.sum(axis=1)
    return np.asarray((rate / np.maximum(size, 1)) @ members, dtype=np.float64)
