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

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

STATE_KINDS: tuple[str, ...] = ("touchpoint", "stage", "channel")
#: The model's own states; a touchpoint (or channel, stage) may not be named like one.
RESERVED_STATES: tuple[str, ...] = ("(start)", "(conversion)", "(null)")

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
        raise ck.error("order", "a positive integer", order)
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
        raise ck.error("states", f"one of {STATE_KINDS}", states)
    if states == "touchpoint":
        _check_reserved(log.touchpoint_names, log, states)
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
    alphabet = tuple(str(n) for n in names.tolist())
    _check_reserved(alphabet, log, states)
    return codes.astype(np.int64).ravel(), alphabet


def _check_reserved(alphabet: tuple[str, ...], log: EventLog, states: str) -> None:
    """Refuse a symbol named like one of the model's own states (it would merge with it)."""
    clash = [s for s in alphabet if s in RESERVED_STATES and s not in log.conversions]
    if clash:
        msg = (
            f"{states} {clash[0]!r} has the name of a Markov model state "
            f"({', '.join(map(repr, RESERVED_STATES))} are reserved); rename it in the data."
        )
        raise ValidationError(msg)


def _kept_events(
    log: EventLog, codes: NDArray[np.int64], *, collapse_repeats: bool, until_conversion: bool
) -> tuple[NDArray[np.int64] | None, NDArray[np.bool_]]:
    """Positions of the events that are states (None: all of them), and per journey: converted.

    Events at conversion touchpoints are dropped; with ``until_conversion`` so
    are the events after a journey's first converting event; with
    ``collapse_repeats`` the repeats in runs of one symbol.
    """
    n = log.n_events
    nj = log.n_journeys
    offsets = log.offsets
    journey = log.journey
    conv_tp: NDArray[np.bool_] | None = None
    for name in log.conversions:
        if name in log.touchpoint_names:
            hit_tp = log.touchpoint == log.touchpoint_code(name)
            conv_tp = hit_tp if conv_tp is None else conv_tp | hit_tp
    hit = conv_tp
    if log.outcome is not None:
        pos_out = log.outcome > 0  # NaN compares False
        hit = pos_out if hit is None else hit | pos_out
    converted = np.zeros(nj, dtype=bool)
    drop: NDArray[np.bool_] | None = None
    if hit is not None:
        hp = np.flatnonzero(hit)
        jh = journey[hp]
        converted[jh] = True
        if until_conversion and hp.size:
            first = np.ones(hp.size, dtype=bool)
            first[1:] = jh[1:] != jh[:-1]
            fh, fj = hp[first], jh[first]
            cut_from = fh + 1
            cut_to = offsets[1:][fj]
            cuts = cut_from < cut_to
            if cuts.any():  # events after the first converting one
                delta = np.zeros(n + 1, dtype=np.int32)
                np.add.at(delta, cut_from[cuts], 1)
                np.add.at(delta, cut_to[cuts], -1)
                drop = np.cumsum(delta[:-1]) > 0
    if conv_tp is not None:
        drop = conv_tp if drop is None else drop | conv_tp
    if collapse_repeats and n:
        idx = np.arange(n) if drop is None else np.flatnonzero(~drop)
        kc, kj = codes[idx], journey[idx]
        rep = np.zeros(len(idx), dtype=bool)
        rep[1:] = (kc[1:] == kc[:-1]) & (kj[1:] == kj[:-1])
        if rep.any():
            drop = np.zeros(n, dtype=bool) if drop is None else drop
            drop[idx[rep]] = True
    if drop is None or not drop.any():
        return None, converted
    return np.flatnonzero(~drop), converted


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
    value = log.value()
    kept, converted = _kept_events(
        log, codes, collapse_repeats=collapse_repeats, until_conversion=until_conversion
    )
    event_index = np.arange(log.n_events, dtype=np.int64) if kept is None else kept
    c = codes if kept is None else codes[kept]
    j = journey if kept is None else journey[kept]
    lengths = np.diff(log.offsets) if kept is None else np.bincount(j, minlength=nj)
    offsets = np.zeros(nj + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n_ev = len(c)
    radix = n_sym + 1
    pad = n_sym
    start = radix**order - 1
    # context (state) code after each event: last `order` symbols, padded
    ctx = c.copy()
    if order > 1:
        pos = np.arange(n_ev, dtype=np.int64) - offsets[j]
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


def transition_keys(
    log: EventLog,
    *,
    order: int = 1,
    states: str = "touchpoint",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
) -> tuple[NDArray[np.int64], tuple[str, ...], NDArray[np.bool_], NDArray[np.int64]]:
    """Key ``src * (K + 2) + outcome`` of every transition, the alphabet, and per journey:
    converted and the number of its events that are states.

    Gives the counts of :func:`encode` without its per-transition arrays: each
    journey is laid out as ``order`` padding symbols, its states' symbols and
    its end (conversion or null), and the key of the transition into position
    ``q`` is a weighted sum of ``order + 1`` shifted slices of that layout.
    """
    order = check_order(order)
    codes, alphabet = symbols(log, states)
    n_sym = len(alphabet)
    check_space(n_sym, order)
    nj = log.n_journeys
    kept, converted = _kept_events(
        log, codes, collapse_repeats=collapse_repeats, until_conversion=until_conversion
    )
    if kept is None:
        c, j, lengths = codes, log.journey, np.diff(log.offsets)
    else:
        c, j = codes[kept], log.journey[kept]
        lengths = np.bincount(j, minlength=nj)
    radix, width = n_sym + 1, n_sym + 2
    block = order + 1  # slots per journey besides its events: padding and the end
    m = len(c) + block * nj
    small = (radix**order) * width < (1 << 31)
    layout: NDArray[np.int64] = np.full(m, n_sym, dtype=np.int32 if small else np.int64)
    pos = np.arange(len(c), dtype=np.int64)
    pos += j.astype(np.int64) * block + order
    layout[pos] = c
    del pos
    ends = np.cumsum(lengths) + np.arange(1, nj + 1, dtype=np.int64) * block - 1
    layout[ends] = np.where(converted, n_sym, n_sym + 1)
    # key at q: outcome layout[q] plus width * (state of the `order` symbols before q)
    key = layout.copy()
    weight = width
    for lag in range(1, order + 1):
        key[lag:] += layout[:-lag] * layout.dtype.type(weight)
        weight *= radix
    valid = np.ones(m, dtype=bool)
    heads = ends - lengths - order  # first padding slot of each journey
    for lag in range(order):
        valid[heads + lag] = False
    return key[valid], alphabet, converted, np.asarray(lengths, dtype=np.int64)


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
