"""Vectorised encoding of journeys as Markov-chain transitions (internal).

A journey ``t1 > t2 > ... > tn`` ending in conversion (or not) gives the
transitions ``start > t1``, ``t1 > t2``, ..., ``tn > conversion|null``. In an
order-``k`` chain the state after an event is the tuple of the last ``k``
symbols, encoded as a mixed-radix integer: digit ``m`` (weight ``R**m``,
``R = K + 1``) is the symbol ``m`` events back, or the padding code ``K``
before the journey's start. The start state is the all-padding code
``R**k - 1``. Each transition is stored as ``(src, outcome)`` where outcome is
the emitted symbol ``0..K-1``, ``K`` (conversion) or ``K + 1`` (null); the
destination state is ``(src * R + outcome) % R**k``.

Everything here works on whole arrays: there is no Python loop per event
(only one per order ``k``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

StateKind = Literal["touchpoint", "stage", "channel"]
STATE_KINDS: tuple[str, ...] = ("touchpoint", "stage", "channel")

#: Largest key space for which counting uses ``np.bincount`` instead of sorting.
BINCOUNT_LIMIT = 1 << 24
_INT64_LIMIT = 1 << 62


@attrs.frozen
class EncodedJourneys:
    """Per-transition arrays of a log (internal)."""

    alphabet: tuple[str, ...]
    order: int
    src: NDArray[np.int64]
    outcome: NDArray[np.int64]
    lengths: NDArray[np.int64]  # kept events per journey
    converted: NDArray[np.bool_]  # per kept journey
    value: NDArray[np.float64]  # per kept journey
    n_journeys: int
    events: NDArray[np.int64]  # symbol code per kept event
    event_journey: NDArray[np.int64]  # journey index per kept event
    event_index: NDArray[np.int64]  # position of each kept event in the log

    @property
    def journey(self) -> NDArray[np.int64]:
        """Journey index of each transition (a journey of n events has n + 1)."""
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths + 1)


def check_order(order: int) -> int:
    """Validate a chain order (a positive integer)."""
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        msg = f"'order' must be a positive integer (got {order!r})."
        raise ValidationError(msg)
    return int(order)


def check_space(n_symbols: int, order: int) -> None:
    """Raise when order-``k`` codes over ``n_symbols`` would overflow int64."""
    if (n_symbols + 2) * (n_symbols + 1) ** (order + 1) >= _INT64_LIMIT:
        msg = (
            f"order {order} over {n_symbols} symbols does not fit 64-bit state codes; "
            "use a lower 'order' or coarser states (states='channel' or 'stage')."
        )
        raise ValidationError(msg)


def symbols(log: EventLog, states: str) -> tuple[NDArray[np.int64], tuple[str, ...]]:
    """Per-event symbol codes and the alphabet for ``states``."""
    if states not in STATE_KINDS:
        msg = f"'states' must be one of {STATE_KINDS} (got {states!r})."
        raise ValidationError(msg)
    if states == "touchpoint":
        return log.touchpoint.astype(np.int64), log.touchpoint_names
    if log.design is not None:
        per_tp = log.touchpoint_attribute(states)
        labels = np.array(
            [f"(no {states})" if v is None else str(v) for v in per_tp.tolist()], dtype=object
        )
        per_event = labels[log.touchpoint] if log.n_events else labels[:0]
    elif states in log.extra:
        per_event = np.array([str(v) for v in log.extra[states].tolist()], dtype=object)
    else:
        msg = (
            f"states={states!r} needs a journey design (log.design) or an extra "
            f"column {states!r}; this log has neither."
        )
        raise ValidationError(msg)
    names, codes = np.unique(per_event.astype(str), return_inverse=True)
    return codes.astype(np.int64).ravel(), tuple(str(n) for n in names.tolist())


def encode(
    log: EventLog,
    *,
    order: int = 1,
    states: str = "touchpoint",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
) -> EncodedJourneys:
    """Encode ``log`` as order-``order`` transitions (see the module docstring).

    Events at the log's conversion touchpoints are not states (reaching one is
    the conversion). With ``until_conversion`` each converting journey is cut
    after its first converting event (events after a purchase are not part of
    the path to it). ``collapse_repeats`` merges runs of the same symbol.
    """
    order = check_order(order)
    codes, alphabet = symbols(log, states)
    n_sym = len(alphabet)
    check_space(n_sym, order)
    journey = log.journey.astype(np.int64)
    nj = log.n_journeys
    converted = log.converted()
    value = log.value()
    keep = np.ones(log.n_events, dtype=bool)
    conv_tp = np.zeros(log.n_events, dtype=bool)
    for name in log.conversions:
        if name in log.touchpoint_names:
            conv_tp |= log.touchpoint == log.touchpoint_code(name)
    if until_conversion and log.n_events:
        hit = conv_tp.copy()
        if log.outcome is not None:
            hit |= np.nan_to_num(log.outcome) > 0
        # first converting event of each journey (n_events where none)
        idx = np.arange(log.n_events)
        first = np.full(nj, log.n_events, dtype=np.int64)
        np.minimum.at(first, journey[hit], idx[hit])
        keep &= idx <= first[journey]
    keep &= ~conv_tp
    if collapse_repeats and log.n_events:
        same = np.zeros(log.n_events, dtype=bool)
        k_idx = np.flatnonzero(keep)
        kc, kj = codes[k_idx], journey[k_idx]
        rep = np.zeros(len(k_idx), dtype=bool)
        rep[1:] = (kc[1:] == kc[:-1]) & (kj[1:] == kj[:-1])
        same[k_idx[rep]] = True
        keep &= ~same
    event_index = np.flatnonzero(keep)
    c = codes[event_index]
    j = journey[event_index]
    lengths = np.bincount(j, minlength=nj)
    offsets = np.zeros(nj + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n_ev = len(c)
    radix = n_sym + 1
    pad = n_sym
    start = radix**order - 1
    # context (state) code after each event: last `order` symbols, padded
    pos = np.arange(n_ev, dtype=np.int64) - offsets[j]
    ctx = c.copy()
    weight = 1
    for m in range(1, order):
        weight *= radix
        lag = np.full(n_ev, pad, dtype=np.int64)
        ok = pos >= m
        lag[m:][ok[m:]] = c[:-m][ok[m:]]
        ctx += lag * weight
    n_tr = n_ev + nj
    src = np.empty(n_tr, dtype=np.int64)
    outcome = np.empty(n_tr, dtype=np.int64)
    slot = np.arange(n_ev, dtype=np.int64) + j
    outcome[slot] = c
    src[slot + 1] = ctx
    first_slot = offsets[:-1] + np.arange(nj)
    src[first_slot] = start
    last_slot = offsets[1:] + np.arange(nj)
    outcome[last_slot] = np.where(converted, n_sym, n_sym + 1)
    return EncodedJourneys(
        alphabet=alphabet,
        order=order,
        src=src,
        outcome=outcome,
        lengths=lengths.astype(np.int64),
        converted=converted,
        value=value,
        n_journeys=nj,
        events=c,
        event_journey=j,
        event_index=event_index,
    )


def count_keys(
    keys: NDArray[np.int64], space: int, weights: NDArray[Any] | None = None
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Distinct keys and their counts (bincount for small key spaces, else sort)."""
    if space <= max(BINCOUNT_LIMIT, 4 * len(keys)) and space < (1 << 31):
        cnt = np.bincount(keys, weights=weights, minlength=space)
        nz = np.flatnonzero(cnt)
        return nz.astype(np.int64), cnt[nz]
    if weights is None:
        srt = np.sort(keys)
        edge = np.flatnonzero(np.diff(srt)) + 1
        starts = np.concatenate([[0], edge])
        lens = np.diff(np.concatenate([starts, [len(srt)]]))
        return srt[starts].astype(np.int64), lens
    uniq, inv = np.unique(keys, return_inverse=True)
    cnt = np.bincount(inv.ravel(), weights=weights, minlength=len(uniq))
    return uniq.astype(np.int64), np.asarray(cnt)


def digits(codes: NDArray[np.int64], n_symbols: int, order: int) -> NDArray[np.int64]:
    """Digits of state codes, shape ``(len(codes), order)``; column 0 is the latest symbol."""
    radix = n_symbols + 1
    out = np.empty((len(codes), order), dtype=np.int64)
    rest = codes.copy()
    for m in range(order):
        out[:, m] = rest % radix
        rest //= radix
    return out


def from_digits(d: NDArray[np.int64], n_symbols: int) -> NDArray[np.int64]:
    """Inverse of :func:`digits`."""
    radix = n_symbols + 1
    out = np.zeros(d.shape[0], dtype=np.int64)
    for m in range(d.shape[1] - 1, -1, -1):
        out = out * radix + d[:, m]
    return out
