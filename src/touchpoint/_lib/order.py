"""Sorting and gathering the rows of an event log (internal).

:func:`order_by_journey_time` finds the stable order that sorts rows by
(journey code, time) - a counting sort of the journey codes, then the times
within journeys, in blocks on a few threads for large inputs - and
:func:`gather` moves several columns into that order side by side.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import parallel
from touchpoint._lib.fastpaths import counting_sort

__all__ = ["gather", "order_by_journey_time"]

_I64_MAX = np.iinfo(np.int64).max
#: ``np.take(..., out=)`` mode for indices known to be in range: "raise" buffers the
#: output (several times slower); "clip" writes straight into it.
_IN_RANGE: Literal["clip"] = "clip"


def _sortable_int(t: NDArray[Any]) -> NDArray[np.int64]:
    """int64 keys ordered like ``t`` (ints as they are, floats by their bits)."""
    if t.dtype.kind in "iu":
        return t.astype(np.int64, copy=False)
    if t.dtype.kind == "M":
        return t.view(np.int64)
    f = np.asarray(t, dtype=np.float64) + 0.0  # -0.0 == 0.0: one key
    b = f.view(np.int64)
    return b ^ ((b >> 63) & np.int64(_I64_MAX))


def _group_order(
    j: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.int64] | None, NDArray[np.int64] | None]:
    """A stable order that brings codes ``j`` together, in code order, and ``j[order]``.

    ``(None, None)``: in order already. The second item is None when the caller
    must gather ``j[order]`` itself. Without pandas, above ``2**16`` codes of
    ungrouped input the order is by the top 16 bits of the code only (one
    counting-sort pass); the caller's key sort finishes it.
    """
    n = len(j)
    if bool(np.all(j[1:] >= j[:-1])):
        return None, None
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(j[1:], j[:-1], out=change[1:])
    if int(np.count_nonzero(change)) <= n_groups:  # maybe grouped: permute the runs
        starts = np.flatnonzero(change)
        heads = j[starts]
        if len(heads) == n_groups:  # maybe each code in exactly one run: invert, no sort
            run_order = np.full(n_groups, -1, dtype=np.int64)
            run_order[heads] = np.arange(n_groups, dtype=np.int64)
            if bool((run_order < 0).any()):
                run_order = np.argsort(heads, kind="stable")
        else:
            run_order = np.argsort(heads, kind="stable")
        sorted_heads = heads[run_order]
        if bool(np.all(sorted_heads[1:] > sorted_heads[:-1])):  # each code in one run
            lens = np.diff(np.append(starts, n))
            new_starts, new_lens = starts[run_order], lens[run_order]
            # positions step by 1 inside a run and jump to the next run's start
            dest = np.cumsum(new_lens) - new_lens
            out: NDArray[np.int64] = np.ones(n, dtype=np.int64)
            out[0] = new_starts[0]
            out[dest[1:]] = new_starts[1:] - (new_starts[:-1] + new_lens[:-1] - 1)
            np.cumsum(out, out=out)
            return out, np.repeat(sorted_heads, new_lens)
    if n_groups <= 1 << 16:
        return np.argsort(j.astype(np.uint16), kind="stable").astype(np.int64, copy=False), None
    exact = counting_sort(j, n_groups)
    if exact is not None:
        return exact
    # one counting pass on the top 16 bits; the packed-key sort after it finishes the job
    top = (j >> (int(n_groups - 1).bit_length() - 16)).astype(np.uint16)
    return np.argsort(top, kind="stable").astype(np.int64, copy=False), None


def order_by_journey_time(
    j: NDArray[np.int64] | None,
    t: NDArray[Any],
    n_journeys: int,
    grouping: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> tuple[NDArray[np.int64] | None, NDArray[np.int64], NDArray[Any]]:
    """Stable order of events by (journey code, time), ties in input order.

    Returns ``(order, j[order], t[order])``; ``order`` is None when the events
    are in order already (then ``j`` and ``t`` come back as they are).

    ``j`` are codes in ``0..n_journeys-1``, ``t`` int64 or float64 times (no
    NaN). Exploits grouped input (runs are permuted, not sorted), sorts journey
    codes by counting (radix) and times inside journeys on one packed int64
    key ``journey << b | time - journey start``, which is sorted already between
    journeys (so the stable sort only merges short runs); exact for any times
    (ties at the key's resolution are re-sorted exactly). ``grouping`` is
    :attr:`Coded.grouping` of ``j`` when factorising found it.
    """
    if grouping is not None:
        j = grouping[1]  # (the codes in row order need not exist)
    elif j is None:
        raise TypeError("order_by_journey_time needs j or grouping")
    n = len(j)
    if n < 2:
        return None, j, t
    tk = _sortable_int(t)
    order, jg = grouping if grouping is not None else _group_order(j, n_journeys)
    if jg is None:
        jg = j if order is None else j[order]
    if grouping is None and not bool(np.all(jg[1:] >= jg[:-1])):
        # (no pandas, many codes: grouped by their top bits only) one packed-key sort
        tg = tk if order is None else tk[order]
        o2, jg, tg = _sort_in_journeys(jg, tg, n_journeys, grouped=False)
        final = order if o2 is None else (o2 if order is None else order[o2])
        return final, jg, (tg if t.dtype.kind in "iu" else t[final])
    # grouped: sort the times inside journeys, a block of whole journeys per thread
    final_out = np.empty(n, dtype=np.int64)
    tg_out = np.empty(n, dtype=np.int64)
    cuts = _journey_cuts(jg, parallel.n_blocks(n))

    def block(a: int, b: int) -> bool:
        """Sort rows ``a:b`` of the grouped order; False when they were in order already."""
        part = None if order is None else order[a:b]
        tp = tk[a:b] if part is None else np.take(tk, part, out=tg_out[a:b], mode=_IN_RANGE)
        jp = jg[a:b]
        o2, _, ts = _sort_in_journeys(jp - jp[0], tp, int(jp[-1] - jp[0]) + 1, grouped=True)
        tg_out[a:b] = ts
        if o2 is None:
            final_out[a:b] = np.arange(a, b) if part is None else part
            return False
        if part is None:
            np.add(o2, a, out=final_out[a:b])
        else:
            np.take(part, o2, out=final_out[a:b], mode=_IN_RANGE)
        return True

    moved = parallel.run([functools.partial(block, a, b) for a, b in itertools.pairwise(cuts)], n)
    if order is None and not any(moved):
        return None, j, t
    return final_out, jg, (tg_out if t.dtype.kind in "iu" else t[final_out])


def gather(arrays: Sequence[NDArray[Any]], index: NDArray[np.int64]) -> list[NDArray[Any]]:
    """``[a[index] for a in arrays]``, in row blocks side by side on threads."""
    n = len(index)
    k = parallel.n_blocks(n)
    if k < 2:
        return [a[index] for a in arrays]
    outs = [np.empty(n, dtype=a.dtype) for a in arrays]
    cuts = [n * i // k for i in range(k + 1)]
    tasks = [
        functools.partial(np.take, a, index[lo:hi], out=out[lo:hi], mode=_IN_RANGE)
        for a, out in zip(arrays, outs, strict=True)
        if a.dtype != object
        for lo, hi in itertools.pairwise(cuts)
    ]
    parallel.run(tasks, n)
    for i, a in enumerate(arrays):  # object columns hold the GIL: gathered here
        if a.dtype == object:
            outs[i] = a[index]
    return outs


def _journey_cuts(jg: NDArray[np.int64], k: int) -> list[int]:
    """``k + 1`` (or fewer) row positions splitting grouped codes ``jg`` between journeys."""
    n = len(jg)
    cuts = [0]
    for i in range(1, k):
        c = int(np.searchsorted(jg, jg[n * i // k], side="left"))
        if c > cuts[-1]:
            cuts.append(c)
    cuts.append(n)
    return cuts


def _sort_in_journeys(
    jg: NDArray[np.int64], tg: NDArray[np.int64], n_codes: int, *, grouped: bool
) -> tuple[NDArray[np.int64] | None, NDArray[np.int64], NDArray[np.int64]]:
    """Stable order of rows by (code, time) when ``jg`` is grouped (or top-bits grouped).

    Returns ``(o2, jg[o2], tg[o2])``, ``o2`` None when in order already. One
    packed int64 key ``code << b | time - journey start``; exact for any times
    (ties at the key's resolution are re-sorted exactly).
    """
    n = len(jg)
    same = jg[1:] == jg[:-1]
    if grouped and not (same & (tg[1:] < tg[:-1])).any():
        return None, jg, tg
    if grouped:  # each journey's start time by runs
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        tmin = np.minimum.reduceat(tg, starts)
        base = np.repeat(tmin, np.diff(np.append(starts, n)))
    else:
        tmin = np.full(n_codes, _I64_MAX, dtype=np.int64)
        np.minimum.at(tmin, jg, tg)
        base = tmin[jg]
    rel = tg.view(np.uint64) - base.view(np.uint64)
    del base
    jbits = max(int(n_codes - 1).bit_length(), 1)
    avail = 63 - jbits
    need = int(rel.max()).bit_length()
    shift = max(need - avail, 0)
    if shift:
        rel >>= np.uint64(shift)
    rel |= jg.astype(np.uint64) << np.uint64(avail)
    o2 = np.argsort(rel.view(np.int64), kind="stable")
    del rel
    if not grouped:  # (grouped: the key keeps every journey where it is)
        jg = jg[o2]
    tg = tg[o2]
    if shift:
        wrong = (jg[1:] == jg[:-1]) & (tg[1:] < tg[:-1])
        if wrong.any():  # ties at the key's resolution: sort those journeys exactly
            bad_j = np.zeros(n_codes, dtype=bool)
            bad_j[jg[1:][wrong]] = True
            sel = np.flatnonzero(bad_j[jg])
            sub = np.lexsort((tg[sel], jg[sel]))
            o2[sel] = o2[sel][sub]
            tg[sel] = tg[sel][sub]
    return o2, jg, tg
