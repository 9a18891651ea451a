"""Identity stitching: anonymous (device, cookie) ids mapped to logged-in user ids.

An event that carries both an anonymous id and a user id links them (a Segment
``identify`` call, a Mixpanel event after ``identify`` with ``$device_id`` and
``$user_id``, a GA4 event with ``user_pseudo_id`` and ``user_id``). Events that
carry only the anonymous id are then moved to that user, all of them or, with a
``lookback``, those at most ``lookback`` before the first link.

One rule for conflicts: an anonymous id linked to several users (a shared
device) goes to the **first user it was linked to** (earliest link time, ties
in input order); the conflicts are counted, never resolved silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.columns import as_array
from touchpoint._lib.time import duration
from touchpoint._lib.timeparse import aware_to_utc, parse_time, time_key
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.table import Table

__all__ = ["CONFLICT_RULE", "Identity", "Stitching", "resolve", "stitch_identities"]

#: Which journey an event belongs to (``identity=`` of the readers).
Identity = Literal["stitched", "device", "user"]
#: How an anonymous id linked to several users is resolved.
CONFLICT_RULE = "first user linked (earliest link time)"


@attrs.frozen(eq=False)
class Stitching(TableResult):
    """Identity-stitching result: the mapping and its diagnostics.

    Attributes
    ----------
    table : Table
        One row per linked anonymous id: ``anonymous``, ``user`` (the user it
        is stitched to), ``first_linked`` (time of the first link),
        ``n_users`` (distinct users it was linked to; > 1 is a conflict).
    n_events : int
        Events read (rows with neither id included).
    n_anonymous_ids, n_users, n_stitched_ids : int
        Distinct anonymous ids, distinct user ids, anonymous ids mapped to a user.
    n_conflicts : int
        Anonymous ids linked to more than one user (resolved by ``rule``).
    events_moved : float
        Share of events that had only an anonymous id and were moved to a user.
    never_stitched : float
        Share of events with only an anonymous id that was never linked.
    n_outside_lookback : int
        Events of linked anonymous ids left on the anonymous id because they
        are more than ``lookback`` before the first link.
    n_without_id : int
        Events with neither id.
    n_bad_links : int
        Identify calls without the ids they need, counted by the readers
        under ``on_error="drop"``.
    n_without_user : int
        Events dropped by ``identity="user"`` because no user id reaches them.
    """

    table: Table = attrs.field(repr=False)
    n_events: int
    n_anonymous_ids: int
    n_users: int
    n_stitched_ids: int
    n_conflicts: int
    events_moved: float
    never_stitched: float
    n_outside_lookback: int = 0
    n_without_id: int = 0
    n_bad_links: int = 0
    n_without_user: int = 0
    rule: str = CONFLICT_RULE

    def __repr__(self) -> str:
        return (
            f"Stitching(stitched={self.n_stitched_ids:,} of {self.n_anonymous_ids:,} anonymous "
            f"ids, events_moved={self.events_moved:.3g}, never_stitched="
            f"{self.never_stitched:.3g}, conflicts={self.n_conflicts:,})"
        )


def _codes(values: Any) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Dictionary codes (``-1`` for missing or empty) and the distinct values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else None
    if arr is None:
        np_values = (
            np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
        )
        arr = pa.array(np_values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())  # integer ids, as strings, like GA4's
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    enc = pc.dictionary_encode(arr)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, np.array(enc.dictionary.to_pylist(), dtype=object)


def resolve(
    anonymous: Any,
    user: Any,
    time: NDArray[Any],
    *,
    lookback: float | None = None,
    identity: Identity = "stitched",
    link: NDArray[np.bool_] | None = None,
    datetimes: bool = False,
) -> tuple[NDArray[Any], Stitching]:
    """Per event the journey id under ``identity``, and the stitching diagnostics.

    ``time`` is a numeric key (int64 ns or float); ``lookback`` is in its unit.
    ``link`` marks the rows that may link ids (default: every row with both);
    ``datetimes``: ``time`` is int64 UTC nanoseconds, shown as datetimes in the table.
    Journey ids are shared string objects; None where no id applies.
    """
    acode, avals = _codes(anonymous)
    ucode, uvals = _codes(user)
    n = len(acode)
    both = (acode >= 0) & (ucode >= 0)
    if link is not None:
        both &= link
    rows = np.flatnonzero(both)
    order = rows[np.lexsort((rows, time[rows], acode[rows]))]
    first = order[np.r_[True, acode[order][1:] != acode[order][:-1]]] if len(order) else order
    mapped = np.full(len(avals), -1, dtype=np.int64)
    mapped[acode[first]] = ucode[first]
    link_time = np.zeros(len(avals), dtype=time.dtype)
    link_time[acode[first]] = time[first]
    pairs = np.unique(acode[rows] * max(len(uvals), 1) + ucode[rows])
    n_users = np.bincount(pairs // max(len(uvals), 1), minlength=len(avals))
    only_anon = (acode >= 0) & (ucode < 0)
    safe = np.where(acode >= 0, acode, 0)
    moved = only_anon & (mapped[safe] >= 0)
    outside = np.zeros(n, dtype=bool)
    if lookback is not None:
        outside = moved & (time < link_time[safe] - lookback)
        moved &= ~outside
    # one table of journey ids: users first, then anonymous ids
    table = np.concatenate([uvals, avals]).astype(object)
    code = np.full(n, -1, dtype=np.int64)
    if identity == "device":
        code = np.where(acode >= 0, len(uvals) + acode, ucode)
    else:
        code = np.where(ucode >= 0, ucode, code)
        code = np.where(moved, mapped[safe], code)
        if identity == "stitched":
            code = np.where(code < 0, np.where(acode >= 0, len(uvals) + acode, -1), code)
    ids: NDArray[Any] = np.array([*table.tolist(), None], dtype=object)[code]  # -1: None
    n_anon_events = int(only_anon.sum())
    linked = np.flatnonzero(mapped >= 0)
    mapping = Table(
        {
            "anonymous": avals[linked],
            "user": uvals[mapped[linked]] if len(linked) else np.array([], dtype=object),
            "first_linked": (
                link_time[linked].view("datetime64[ns]") if datetimes else link_time[linked]
            ),
            "n_users": n_users[linked],
        }
    )
    stitching = Stitching(
        table=mapping,
        n_events=n,
        n_anonymous_ids=len(avals),
        n_users=len(uvals),
        n_stitched_ids=len(linked),
        n_conflicts=int((n_users > 1).sum()),
        events_moved=float(moved.sum()) / n if n else 0.0,
        never_stitched=float((only_anon & (mapped[safe] < 0)).sum()) / n if n else 0.0,
        n_outside_lookback=int(outside.sum()),
        n_without_id=int(((acode < 0) & (ucode < 0)).sum()),
        n_without_user=int((code < 0).sum() - ((acode < 0) & (ucode < 0)).sum())
        if identity == "user"
        else 0,
    )
    del n_anon_events
    return ids, stitching


def _table_column(table: Any, name: str) -> Any:
    if isinstance(table, Mapping):
        if name not in table:
            msg = f"stitch_identities: no column {name!r}; the table has {sorted(table)}."
            raise ValidationError(msg)
        return table[name]
    from touchpoint._lib.frames import _frame_columns

    available = [str(c) for c in _frame_columns(table)]
    if name not in available:
        msg = f"stitch_identities: no column {name!r}; the table has {available}."
        raise ValidationError(msg)
    return table.column(name) if hasattr(table, "column_names") else table[name]


@ck.validate_params(
    {
        "anonymous": ck.Text(),
        "user": ck.Text(),
        "time": ck.Text(),
        "lookback": ck.Duration(none=True),
    }
)
def stitch_identities(
    table: Any,
    *,
    anonymous: str = "anonymous_id",
    user: str = "user_id",
    time: str = "time",
    lookback: Any = None,
) -> Stitching:
    """Map anonymous ids to user ids from the events (or identify calls) that carry both.

    Parameters
    ----------
    table : mapping of str to sequence, pandas or polars DataFrame, or pyarrow Table
        One row per event or identify call.
    anonymous, user, time : str
        Columns: the anonymous (device, cookie) id, the user id (missing or
        empty where unknown) and the time.
    lookback : timedelta, numpy.timedelta64 or float, optional
        Move only anonymous events at most this long before the anonymous
        id's first link (a float is in seconds for datetimes); None: all.

    Returns
    -------
    Stitching
        ``.table`` maps each linked anonymous id to its user; the fields
        count stitched ids, conflicts (one rule: the first user linked wins)
        and the shares of events moved and never stitched.

    Examples
    --------
    >>> s = stitch_identities({"anon": ["d1", "d1", "d2", "d3", "d3"],
    ...                        "user": [None, "u1", None, "u2", "u3"],
    ...                        "t": [1.0, 2.0, 3.0, 4.0, 5.0]},
    ...                       anonymous="anon", user="user", time="t")
    >>> s.n_stitched_ids, s.n_conflicts, s.events_moved, s.never_stitched
    (2, 1, 0.2, 0.2)
    >>> s.table["user"].tolist()
    ['u1', 'u2']
    """
    raw_time, _ = aware_to_utc(_table_column(table, time))
    parsed = parse_time(as_array(raw_time))
    if parsed.bad.any() or parsed.missing.any():
        row = int(np.argmax(parsed.bad | parsed.missing))
        msg = f"column {time!r}, row {row}: missing or unparseable time."
        raise ValidationError(msg)
    key = time_key(parsed.values)
    back = duration(lookback, "lookback")
    if back is not None and parsed.values.dtype.kind == "M":
        back *= 1e9
    _, result = resolve(
        _table_column(table, anonymous), _table_column(table, user), key, lookback=back
    )
    return result
