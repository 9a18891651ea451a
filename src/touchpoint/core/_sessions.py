"""Sessions: split each journey of an :class:`EventLog` into sessions.

Four rules, combinable where they make sense: a time ``gap`` between two events,
``start`` / ``end`` touchpoints (a start touchpoint opens a session, an end
touchpoint closes one, as retentioneering's ``split_sessions``), the local
``calendar`` day in an explicit time zone, or the vendor's own session id
``column`` (GA4's ``ga_session_id``, Snowplow's ``domain_sessionid``). Session ids
from a column are taken with the journey: a vendor's session counter restarts
per device, so two devices of one stitched user never share a session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.frames import _is_missing
from touchpoint._lib.time import local_days, required_duration
from touchpoint._lib.timeparse import time_key
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["sessionize"]


def _names(log: EventLog, name: str, value: str | Iterable[str] | None) -> NDArray[np.bool_]:
    """Per touchpoint code: is it one of ``value``'s touchpoints?"""
    out = np.zeros(log.n_touchpoints, dtype=bool)
    if value is None:
        return out
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names or not all(isinstance(v, str) for v in names):
        ck.fail(name, "a touchpoint name or a list of them", value)
    for v in names:
        out[log.touchpoint_code(v)] = True
    return out


def _boundaries(
    log: EventLog,
    gap: Any,
    start: str | Iterable[str] | None,
    end: str | Iterable[str] | None,
    calendar: str | None,
) -> NDArray[np.bool_]:
    """Per event: does a new session begin here?"""
    n = log.n_events
    new = np.ones(n, dtype=bool)
    if n == 0:
        return new
    new[1:] = log.journey[1:] != log.journey[:-1]
    if gap is not None:
        g = required_duration(gap, "gap", datetime=log.is_datetime) * (
            1e9 if log.is_datetime else 1.0
        )
        new[1:] |= np.diff(time_key(log.timestamp)) > g
    starts = _names(log, "start", start)
    ends = _names(log, "end", end)
    new |= starts[log.touchpoint]
    new[1:] |= ends[log.touchpoint[:-1]]
    if calendar is not None:
        if not log.is_datetime:
            msg = "sessionize(calendar=...) needs datetime timestamps; this log has numbers."
            raise ValidationError(msg)
        days = local_days(log.timestamp, ck.time_zone("calendar", calendar))
        new[1:] |= days[1:] != days[:-1]
    return new


def _by_column(log: EventLog, column: str) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """Session code per event (in the new order) and that order, from a session id column."""
    values = log.column(column)
    if values.dtype.kind in "iub":
        vcode = np.unique(values, return_inverse=True)[1].ravel()
        missing = np.zeros(len(values), dtype=bool)
    else:
        missing = (
            np.isnan(values)
            if values.dtype.kind == "f"
            else np.array([_is_missing(v) for v in values.tolist()], dtype=bool)
        )
        vcode = np.zeros(len(values), dtype=np.int64)
        if not missing.any():
            _, vcode = np.unique(values.astype(str), return_inverse=True)
    if missing.any():
        row = int(np.argmax(missing))
        msg = (
            f"column {column!r}, event {row} of journey {log.journey_ids[log.journey[row]]!r}: "
            f"missing session id {values[row]!r}; fill it or split by gap= instead."
        )
        raise ValidationError(msg)
    key = log.journey.astype(np.int64) * (int(vcode.max(initial=0)) + 1) + vcode
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    # sessions numbered in the order of their first event (journey, then time)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    code = rank[inverse.ravel()]
    order = np.argsort(code, kind="stable")
    return code[order], order


def sessionize(
    log: EventLog,
    *,
    gap: Any = None,
    start: str | Iterable[str] | None = None,
    end: str | Iterable[str] | None = None,
    calendar: str | None = None,
    column: str | None = None,
) -> EventLog:
    """The log with sessions as journeys (see :meth:`EventLog.sessionize`)."""
    rules = [gap, start, end, calendar]
    if column is not None and any(r is not None for r in rules):
        ck.fail("column", "None when gap, start, end or calendar is given", column)
    if column is None and all(r is None for r in rules):
        ck.fail("gap", "a duration, or one of start, end, calendar, column given", gap)
    if column is not None:
        code, order = _by_column(log, column)
        journey = log.journey[order]
        new = np.ones(len(code), dtype=bool)
        new[1:] = code[1:] != code[:-1]
    else:
        new = _boundaries(log, gap, start, end, calendar)
        order = np.arange(log.n_events)
        journey = log.journey
        code = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    # session number within its journey
    jfirst = np.flatnonzero(np.r_[True, journey[1:] != journey[:-1]]) if len(journey) else first
    number = (
        np.arange(len(first))
        - first.searchsorted(jfirst[np.searchsorted(jfirst, first, "right") - 1])
        + 1
    )
    owners = log.journey_ids[journey[first]].tolist()
    ids = np.array([f"{j}#{k}" for j, k in zip(owners, number.tolist(), strict=True)], dtype=object)

    def take(a: NDArray[Any]) -> NDArray[Any]:
        return a if column is None else a[order]

    extra = {k: take(v) for k, v in log.extra.items()}
    extra["customer"] = log.journey_ids[journey]
    extra["session"] = number[code]
    cols = dict(log.columns)
    cols.setdefault("customer", "customer")
    cols.setdefault("session", "session")
    return log._derive(
        journey=code.astype(np.int32),
        journey_ids=ids,
        touchpoint=take(log.touchpoint),
        timestamp=take(log.timestamp),
        outcome=None if log.outcome is None else take(log.outcome),
        extra=extra,
        columns=cols,
    )
