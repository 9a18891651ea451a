"""Funnel matching engine: steps, counting units and vectorised matching.

Private: :func:`touchpoint.funnel` and :func:`touchpoint.detect_dropoffs`
build on :func:`prepare`, which resolves the steps, groups events by counting
unit and matches every unit's best attempt. For each step the candidate
events are a sorted array of positions, and every live attempt finds its next
match with one :func:`numpy.searchsorted` call.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.checks import did_you_mean, name_list
from touchpoint._lib.time import duration as _duration, seconds
from touchpoint.exceptions import UnknownTouchpointError, ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["CountUnit", "StepSpec"]

CountUnit = Literal["journeys", "customers", "sessions"]
StepSpec = str | Collection[str]
_MODES = ("strict", "ordered", "any")
_COUNTS = ("journeys", "customers", "sessions")


# ---------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class _Steps:
    labels: tuple[str, ...]
    touchpoints: tuple[tuple[str, ...], ...]
    members: NDArray[np.bool_]  # (K, n_touchpoints)
    optional: NDArray[np.bool_]  # (K,)


def _resolve_steps(
    log: EventLog, steps: Sequence[StepSpec] | None, optional: Iterable[int | str]
) -> _Steps:
    names = log.touchpoint_names
    design = log.design
    if steps is None:
        if design is None:
            msg = "'steps' is required when the log has no design (stages to use as steps)."
            raise ValidationError(msg)
        steps = [s.name for s in design.stages if design.touchpoints_in(s)]
    if isinstance(steps, str) or not isinstance(steps, Sequence) or len(steps) == 0:
        from touchpoint._lib.checks import fail

        fail("steps", "a non-empty list of touchpoints, stages or sets", steps)
    code = {n: i for i, n in enumerate(names)}
    labels: list[str] = []
    tps: list[tuple[str, ...]] = []
    members = np.zeros((len(steps), len(names)), dtype=bool)
    for k, spec in enumerate(steps):
        if isinstance(spec, str):
            if spec in code:
                group: tuple[str, ...] = (spec,)
            elif design is not None and spec in {s.name for s in design.stages}:
                group = tuple(t.name for t in design.touchpoints_in(spec))
            elif design is not None and spec in design:
                group = (spec,)  # designed but never observed: nobody reaches it
            else:
                stages = [s.name for s in design.stages] if design is not None else []
                hint = did_you_mean(spec, [*names, *stages])
                msg = (
                    f"step {k} ({spec!r}) is neither a touchpoint of the log nor a stage of "
                    f"its design{hint}; the log has {name_list(names)}."
                )
                raise UnknownTouchpointError(msg)
            label = spec
        else:
            group = tuple(sorted({str(s) for s in spec}))
            if not group:
                msg = f"step {k} is an empty set of touchpoints."
                raise ValidationError(msg)
            unknown = [
                t for t in group if t not in code and not (design is not None and t in design)
            ]
            if unknown:
                hint = did_you_mean(unknown[0], names)
                msg = f"step {k} names unknown touchpoint(s) {unknown}{hint}."
                raise UnknownTouchpointError(msg)
            label = " | ".join(group)
        for t in group:
            if t in code:
                members[k, code[t]] = True
        labels.append(label)
        tps.append(group)
    opt = np.zeros(len(steps), dtype=bool)
    for o in optional:
        if isinstance(o, int | np.integer) and not isinstance(o, bool):
            if not 0 <= int(o) < len(steps):
                from touchpoint._lib.checks import fail

                fail(
                    "optional",
                    f"step indices in [0, {len(steps) - 1}] or step labels",
                    o,
                )
            opt[int(o)] = True
        elif o in labels:
            opt[labels.index(str(o))] = True
        else:
            from touchpoint._lib.checks import fail

            fail("optional", f"step indices or step labels (one of {labels})", o)
    if opt[0]:
        msg = "the first step cannot be optional."
        raise ValidationError(msg)
    return _Steps(labels=tuple(labels), touchpoints=tuple(tps), members=members, optional=opt)


@attrs.frozen(kw_only=True)
class _Units:
    """The counting unit (journey, customer or session) of every event."""

    of_event: NDArray[np.int64]
    offsets: NDArray[np.int64]
    order: NDArray[np.int64] | None  # event permutation when regrouping was needed
    first_event: NDArray[np.int64]  # original event index of each unit's first event


def _units(log: EventLog, count: str) -> _Units:
    from touchpoint._lib.checks import choice

    choice("count", count, _COUNTS)
    if count == "sessions" and "session" not in log.extra:
        msg = (
            "count='sessions' needs a 'session' column: build sessions with "
            "log.sessionize(gap=...) first."
        )
        raise ValidationError(msg)
    if count == "customers" and "customer" in log.extra:
        from touchpoint._lib.columns import factorize
        from touchpoint._lib.timeparse import time_key

        cust = factorize(log.extra["customer"]).codes
        order: NDArray[np.int64] | None = None
        runs = 1 + int(np.count_nonzero(cust[1:] != cust[:-1])) if len(cust) else 0
        if runs != len(np.unique(cust)):  # a customer's events are not contiguous: regroup
            order = np.lexsort((time_key(log.timestamp), cust)).astype(np.int64)
            cust = cust[order]
        change = np.ones(len(cust), dtype=bool)
        change[1:] = cust[1:] != cust[:-1]
        of_event = (np.cumsum(change) - 1).astype(np.int64)
        starts = np.flatnonzero(change).astype(np.int64)
        offsets = np.append(starts, len(cust)).astype(np.int64)
        first = starts if order is None else order[starts]
        return _Units(of_event=of_event, offsets=offsets, order=order, first_event=first)
    offsets = np.asarray(log.offsets, dtype=np.int64)
    return _Units(
        of_event=log.journey.astype(np.int64), offsets=offsets, order=None, first_event=offsets[:-1]
    )


def _time_seconds(log: EventLog) -> tuple[NDArray[np.float64], float]:
    """Event times as float (seconds since the first event for datetime logs) and the origin."""
    if log.is_datetime:
        ns = log.timestamp.view(np.int64)
        origin = int(ns.min()) if len(ns) else 0
        return seconds(log.timestamp, origin=origin), float(origin)
    return seconds(log.timestamp), 0.0


# ---------------------------------------------------------------------------
# matching engine
# ---------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class _Match:
    """Per unit: the best attempt's matched event position and time for every step."""

    reached: NDArray[np.bool_]  # (U, K)
    time: NDArray[np.float64]  # (U, K), NaN where not reached
    pos: NDArray[np.int64]  # (U, K), -1 where not reached (positions in unit order)
    prev: NDArray[np.int64]  # (K,) index of the previous required step (-1 for step 0)


def _next_in(
    sorted_pos: NDArray[np.int64], after: NDArray[np.int64], side: Literal["left", "right"]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """First element of ``sorted_pos`` after (or at, side='left') each of ``after``."""
    if len(sorted_pos) == 0:
        return np.zeros(len(after), dtype=np.int64), np.zeros(len(after), dtype=bool)
    i = np.searchsorted(sorted_pos, after, side=side)
    ok = i < len(sorted_pos)
    return sorted_pos[np.minimum(i, len(sorted_pos) - 1)], ok


def _match(
    codes: NDArray[np.int32],
    t: NDArray[np.float64],
    *,
    units: _Units,
    steps: _Steps,
    mode: str,
    window: float | None,
    exclude: NDArray[np.bool_] | None,
) -> _Match:
    n_units = len(units.offsets) - 1
    K = len(steps.labels)
    opt = steps.optional
    prev = np.full(K, -1, dtype=np.int64)
    last_req = 0
    for k in range(1, K):
        prev[k] = last_req
        if not opt[k]:
            last_req = k
    ev_unit = units.of_event
    end_of = units.offsets[1:]
    is_step = steps.members[:, codes]  # (K, n_events)
    excl_pos = None if exclude is None else np.flatnonzero(exclude[codes]).astype(np.int64)

    first_mask = is_step.any(axis=0) if mode == "any" else is_step[0]
    starts = np.flatnonzero(first_mask).astype(np.int64)
    need_all = window is not None or excl_pos is not None or mode == "strict"
    if not need_all and len(starts):  # the earliest start dominates every later attempt
        keep = np.ones(len(starts), dtype=bool)
        keep[1:] = ev_unit[starts[1:]] != ev_unit[starts[:-1]]
        starts = starts[keep]
    a_unit = ev_unit[starts]
    a_end = end_of[a_unit]
    deadline = t[starts] + (np.inf if window is None else window)
    attempts = (starts, a_end, deadline)
    if mode == "any":
        pos = _match_any(is_step, t, attempts, excl_pos, opt)
    else:
        pos = _match_in_order(is_step, t, attempts, excl_pos, opt, strict=mode == "strict")
    upos = _best_attempt(pos, starts, a_unit, opt, n_units)
    reached = upos >= 0
    times = np.full((n_units, K), np.nan)
    times[reached] = t[upos[reached]]
    return _Match(reached=reached, time=times, pos=upos, prev=prev)


def _match_any(
    is_step: NDArray[np.bool_],
    t: NDArray[np.float64],
    attempts: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    excl_pos: NDArray[np.int64] | None,
    opt: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Mode "any": per attempt (start, unit end, deadline), the event of each step (-1: none).

    Step ``k`` is reached once steps ``1..k`` all happened before an excluded event.
    """
    starts, a_end, deadline = attempts
    A, K = len(starts), len(is_step)
    pos = np.full((A, K), -1, dtype=np.int64)
    first_x, has_x = (
        _next_in(excl_pos, starts, "left")
        if excl_pos is not None
        else (np.zeros(A, dtype=np.int64), np.zeros(A, dtype=bool))
    )
    limit = np.where(has_x & (first_x < a_end), first_x, a_end)
    cum = np.full(A, -1, dtype=np.int64)
    alive = np.ones(A, dtype=bool)
    for k in range(K):
        q, ok = _next_in(np.flatnonzero(is_step[k]).astype(np.int64), starts, "left")
        ok &= q < limit
        ok &= t[np.minimum(q, len(t) - 1)] <= deadline
        if opt[k]:
            pos[ok & alive, k] = q[ok & alive]
            continue
        alive &= ok
        cum = np.where(alive, np.maximum(cum, q), cum)
        pos[alive, k] = cum[alive]
    return pos


def _match_in_order(
    is_step: NDArray[np.bool_],
    t: NDArray[np.float64],
    attempts: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    excl_pos: NDArray[np.int64] | None,
    opt: NDArray[np.bool_],
    *,
    strict: bool,
) -> NDArray[np.int64]:
    """Modes "ordered" and "strict": per attempt, the greedy event of each step (-1: none)."""
    starts, a_end, deadline = attempts
    A, K = len(starts), len(is_step)
    n_events = is_step.shape[1]
    pos = np.full((A, K), -1, dtype=np.int64)
    pos[:, 0] = starts
    last = starts.copy()
    alive_idx = np.arange(A)
    for k in range(1, K):
        cur = last[alive_idx]
        if strict:
            q = cur + 1
            ok = q < a_end[alive_idx]
            ok &= is_step[k][np.minimum(q, n_events - 1)]
        else:
            q, ok = _next_in(np.flatnonzero(is_step[k]).astype(np.int64), cur, "right")
            ok &= q < a_end[alive_idx]
            if excl_pos is not None:
                x, has_x = _next_in(excl_pos, cur, "right")
                ok &= ~(has_x & (x < q))
        ok &= t[np.minimum(q, len(t) - 1)] <= deadline[alive_idx]
        hit = alive_idx[ok]
        pos[hit, k] = q[ok]
        if opt[k]:
            if strict:  # an optional step is consumed when it is next
                last[hit] = q[ok]
            continue
        last[hit] = q[ok]
        alive_idx = hit
    if not strict:  # optional matches must come before the next required one
        for k in np.flatnonzero(opt).tolist():
            nxt = [j for j in range(k + 1, K) if not opt[j]]
            if nxt:
                j = nxt[0]
                late = (pos[:, j] >= 0) & (pos[:, k] > pos[:, j])
                pos[late, k] = -1
    return pos


def _best_attempt(
    pos: NDArray[np.int64],
    starts: NDArray[np.int64],
    a_unit: NDArray[np.int64],
    opt: NDArray[np.bool_],
    n_units: int,
) -> NDArray[np.int64]:
    """Per unit, the positions of its best attempt: deepest, most optional steps, earliest."""
    K = pos.shape[1]
    reached_a = pos >= 0
    depth = reached_a[:, ~opt].sum(axis=1)
    score = depth * (K + 1) + reached_a[:, opt].sum(axis=1)
    order = np.lexsort((starts, -score, a_unit))
    first = np.ones(len(order), dtype=bool)
    first[1:] = a_unit[order][1:] != a_unit[order][:-1]
    best = order[first]
    upos = np.full((n_units, K), -1, dtype=np.int64)
    upos[a_unit[best]] = pos[best]
    return upos


@attrs.frozen(kw_only=True)
class _Prepared:
    steps: _Steps
    units: _Units
    match: _Match
    codes: NDArray[np.int32]
    t: NDArray[np.float64]
    origin: float


def _prepare(
    log: EventLog,
    steps: Sequence[StepSpec] | None,
    *,
    window: Any,
    mode: str,
    exclude: Iterable[str],
    optional: Iterable[int | str],
    count: str,
) -> _Prepared:
    from touchpoint._lib import checks as ck

    ck.choice("mode", mode, _MODES)
    ck.choice("count", count, _COUNTS)
    st = _resolve_steps(log, steps, optional)
    if mode == "any" and (st.members.sum(axis=0) > 1).any():
        both = [log.touchpoint_names[i] for i in np.flatnonzero(st.members.sum(axis=0) > 1)]
        msg = f"mode='any' needs disjoint steps; {both} belong to more than one step."
        raise ValidationError(msg)
    excl = None
    known = list(log.touchpoint_names)
    if log.design is not None:
        known += [t.name for t in log.design.touchpoints if t.name not in set(known)]
    exclude = list(ck.known_names("exclude", exclude, known))
    if exclude:
        excl = np.zeros(log.n_touchpoints, dtype=bool)
        for name in exclude:
            if name not in log.touchpoint_names:
                continue  # designed but never observed: excludes nobody
            c = log.touchpoint_code(name)
            if st.members[:, c].any():
                ck.fail("exclude", "touchpoints that are not funnel steps", name)
            excl[c] = True
    units = _units(log, count)
    codes = log.touchpoint if units.order is None else log.touchpoint[units.order]
    t, origin = _time_seconds(log)
    if units.order is not None:
        t = t[units.order]
    win = _duration(window, "window", datetime=log.is_datetime)
    m = _match(codes, t, units=units, steps=st, mode=mode, window=win, exclude=excl)
    return _Prepared(steps=st, units=units, match=m, codes=codes, t=t, origin=origin)
