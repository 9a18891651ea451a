"""From a loaded export to an :class:`EventLog`: identity, touchpoints, conversions, sessions.

The touchpoint is chosen (``touchpoint=``):

- ``"event_name"``: every event is a touchpoint, named by its event;
- ``"page"``: every event with a page is a touchpoint, named by its URL path;
- ``"channel"``: one touchpoint per session, at its start, named by the channel of
  the session's first event that carries traffic fields (source, medium,
  campaign), classified by the channel rules; a session without any is
  ``Direct``. Sessions are the vendor's session id with the device (ids restart
  per device), or 30 minutes of inactivity where the vendor has none.

Events named in ``conversions`` are kept in every mode, as the conversion
touchpoints (never states, never credited), with the revenue as ``outcome``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import ON_ERROR
from touchpoint.exceptions import UnknownTouchpointError, ValidationError
from touchpoint.sources._channels import channel_rules as check_rules, classify
from touchpoint.sources._common import (
    IDENTITIES,
    SESSION_GAP_NS,
    TOUCHPOINTS,
    Loaded,
    Vendor,
    _shared,
    _strings,
    clear_params_cache,
    field,
    load,
    page_path,
    times_ns,
)
from touchpoint.sources._identity import resolve

if TYPE_CHECKING:
    import pyarrow as pa

    from touchpoint.core._eventlog import EventLog

__all__ = ["Options", "read_export"]


@attrs.frozen
class Options:
    """The reader keywords shared by every vendor."""

    touchpoint: str = "channel"
    conversions: tuple[str, ...] = ("purchase",)
    identity: str = "stitched"
    params: tuple[str, ...] = ()
    channel_rules: Any = None
    lookback: float | None = None
    session: bool = False
    on_error: str = "raise"


def _check_names(name: str, value: Any) -> None:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not all(isinstance(p, str) and p for p in names):
        ck.fail(name, "a name or a sequence of names (strings)", value)


def _check_rules(name: str, value: Any) -> None:
    del name  # the message names `channel_rules`
    check_rules(value)


#: The parameter checks every reader declares (tests/test_public_functions.py feeds the bad values).
READER_CHECKS = {
    "touchpoint": ck.Options(*TOUCHPOINTS),
    "identity": ck.Options(*IDENTITIES),
    "params": ck.Custom(_check_names, 5, [3]),
    "channel_rules": ck.Custom(_check_rules, "ga4", [1]),
    "lookback": ck.Duration(none=True),
    "session": ck.Boolean(),
    "on_error": ck.Options(*ON_ERROR),
}


#: The keywords every export reader takes besides its source.
READER_KEYWORDS = (
    "touchpoint",
    "conversions",
    "identity",
    "params",
    "channel_rules",
    "lookback",
    "session",
    "on_error",
)


def pick_options(keywords: Mapping[str, Any]) -> Options:
    """:func:`check_options` of a reader's keywords (its ``locals()``), as ``LogSpec.pick``."""
    return check_options(**{k: keywords[k] for k in READER_KEYWORDS})


def check_options(
    *,
    touchpoint: Any,
    conversions: Any,
    identity: Any,
    params: Any,
    channel_rules: Any,
    lookback: Any,
    session: Any,
    on_error: Any,
) -> Options:
    """Validate the reader keywords (one message style)."""
    ck.choice("touchpoint", touchpoint, TOUCHPOINTS)
    ck.choice("identity", identity, IDENTITIES)
    ck.choice("on_error", on_error, ON_ERROR)
    conv = (conversions,) if isinstance(conversions, str) else tuple(conversions)
    if not all(isinstance(c, str) and c for c in conv):
        ck.fail("conversions", "event names (strings)", conversions)
    prm = (params,) if isinstance(params, str) else tuple(params)
    if not all(isinstance(p, str) and p for p in prm):
        ck.fail("params", "parameter names (strings)", params)
    back = ck.duration("lookback", lookback, allow_none=True)
    return Options(
        touchpoint=touchpoint,
        conversions=conv,
        identity=identity,
        params=prm,
        channel_rules=check_rules(channel_rules),
        lookback=None if back is None else back * 1e9,
        session=ck.boolean("session", session),
        on_error=on_error,
    )


def _floats(col: pa.ChunkedArray | None, n: int) -> NDArray[np.float64]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if col is None:
        return np.full(n, np.nan)
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    try:
        arr = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        msg = f"the revenue field holds non-numbers ({arr.type}); it must be a number."
        raise ValidationError(msg) from None
    return np.asarray(arr.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def _numpy(col: Any) -> NDArray[Any]:
    """An extra column for the log: numbers as numpy, strings as shared objects."""
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return _shared(arr)
    if pa.types.is_integer(arr.type) and arr.null_count == 0:
        ints: NDArray[Any] = arr.to_numpy()
        return ints
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return np.asarray(arr.cast(pa.float64()).fill_null(np.nan).to_numpy(), dtype=np.float64)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _sessions(
    device: NDArray[np.int64], sid: pa.Array, time: NDArray[np.int64]
) -> NDArray[np.int64]:
    """A global session code per event: (device, vendor session id), else 30-minute gaps."""
    import pyarrow.compute as pc

    scode = pc.dictionary_encode(sid).indices.fill_null(-1).to_numpy(zero_copy_only=False)
    n_sid = int(scode.max(initial=-1)) + 1
    order = np.lexsort((time, device))
    d, t = device[order], time[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (d[1:] != d[:-1]) | (np.diff(t) > SESSION_GAP_NS)
    gap = np.empty(len(order), dtype=np.int64)
    gap[order] = np.cumsum(new) - 1
    local = np.where(scode >= 0, scode, n_sid + gap)
    key = device * (n_sid + int(gap.max(initial=0)) + 1) + local
    _, code = np.unique(key, return_inverse=True)
    return np.asarray(code, dtype=np.int64).ravel()


def _channel_rows(
    keep: NDArray[np.bool_],
    scode: NDArray[np.int64],
    time: NDArray[np.int64],
    traffic: tuple[pa.Array, pa.Array, pa.Array],
    rules: Any,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[Any]]:
    """Per kept session: its first event, the event its traffic comes from, its channel."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = np.flatnonzero(keep)
    order = rows[np.lexsort((rows, time[rows], scode[rows]))]
    s = scode[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(order) else np.zeros(0, int)
    info = np.zeros(len(time), dtype=bool)
    for col in traffic:
        info |= col.is_valid().to_numpy(zero_copy_only=False)
    big = len(order)
    pos = np.where(info[order], np.arange(len(order)), big)
    first_info = np.minimum.reduceat(pos, starts) if len(starts) else pos[:0]
    has = first_info < big
    first = order[starts]
    src = np.where(has, order[np.minimum(first_info, big - 1)], first)
    take = pa.array(src)
    source, medium, campaign = (pc.take(c, take) for c in traffic)
    source = pc.if_else(pa.array(has), source, pa.scalar("(direct)"))
    medium = pc.if_else(pa.array(has), medium, pa.scalar("(none)"))
    return first, src, classify(source, medium, campaign, rules)


def _check_conversions(event: pa.Array, wanted: tuple[str, ...], name: str) -> tuple[str, ...]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not wanted:
        return ()
    present = set(pc.unique(pc.filter(event, pc.is_in(event, pa.array(wanted)))).to_pylist())
    if not present:
        counts = pc.value_counts(event).to_pylist()
        top = [c["values"] for c in sorted(counts, key=lambda c: -c["counts"])[:12]]
        msg = (
            f"{name}: none of the conversion events {list(wanted)} occurs in the export; "
            f"its events include {top}. Pass conversions=() for none."
        )
        raise UnknownTouchpointError(msg)
    return tuple(c for c in wanted if c in present)


def _extra_columns(t: Any, vendor: Vendor, opts: Options, n: int) -> dict[str, Any]:
    """The ``params=`` columns and the currency, as arrow columns over every row."""
    extra_cols: dict[str, Any] = {}
    for p in opts.params:
        col = field(t, [vendor.params_prefix + p])
        if col is None or col.null_count == len(col):
            msg = f"{vendor.name}: parameter {p!r} (params=) is in none of the export's events."
            raise ValidationError(msg)
        extra_cols[p] = col
    currency = field(t, vendor.currency)
    if currency is not None:
        extra_cols["currency"] = _strings(currency, n)
    return extra_cols


def _channel_touchpoints(
    keep: Any,
    *,
    is_conv: Any,
    scode: Any,
    time: Any,
    traffic: tuple[Any, ...],
    event_np: Any,
    opts: Options,
) -> tuple[Any, Any, Any]:
    """Rows, rows to take extra columns from, and touchpoints: a channel a session."""
    first, src, channel = _channel_rows(keep & ~is_conv, scode, time, traffic, opts.channel_rules)
    conv_rows = np.flatnonzero(is_conv)
    rows = np.concatenate([first, conv_rows])
    info_rows = np.concatenate([src, conv_rows])
    tps = np.concatenate([channel, event_np[conv_rows]])
    return rows, info_rows, tps


def _event_touchpoints(
    t: Any, vendor: Vendor, opts: Options, *, keep: Any, is_conv: Any, event_np: Any, n: int
) -> tuple[Any, Any]:
    """Rows and touchpoints when the touchpoint is the event name or the page."""
    sel = keep.copy()
    if opts.touchpoint == "page":
        page = page_path(field(t, vendor.page), n)
        sel &= page.is_valid().to_numpy(zero_copy_only=False) | is_conv
        tp_all = np.where(is_conv, event_np, _shared(page))
    else:
        tp_all = event_np
    rows = np.flatnonzero(sel)
    return rows, tp_all[rows]


def _column_names(vendor: Vendor, opts: Options, *, outcome: bool) -> dict[str, str]:
    """The export's field behind each role, for the log's messages."""
    journey = {
        "stitched": f"{vendor.user[0]}/{vendor.anonymous[0]}",
        "device": vendor.anonymous[0],
        "user": vendor.user[0],
    }[opts.identity]
    names = {"journey": journey, "touchpoint": opts.touchpoint, "time": vendor.time[0]}
    if outcome and vendor.revenue:
        names["outcome"] = vendor.revenue[0]
    return names


def read_export(
    source: Any,
    vendor: Vendor,
    opts: Options,
    *,
    prepare: Any = None,
) -> EventLog:
    """Read ``source`` as ``vendor``'s export into a log (see the module docstring).

    ``prepare(loaded, opts)`` may return a dict overriding the role columns
    (``event``, ``anonymous``, ``user``, ``source``, ``medium``, ``campaign``;
    ``not_events``: rows that only link ids; ``bad_links``: a count).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from touchpoint.core._eventlog import EventLog

    loaded = load(source, vendor, opts.params)
    t = loaded.table
    assert t is not None
    n = t.num_rows
    over: dict[str, Any] = prepare(loaded, opts) if prepare is not None else {}
    time_col = field(t, vendor.time)
    assert time_col is not None  # a required field
    time = times_ns(time_col, vendor.time_unit, loaded, vendor.time[0], opts.on_error)
    anon = over["anonymous"] if "anonymous" in over else _strings(field(t, vendor.anonymous), n)
    user = over["user"] if "user" in over else _strings(field(t, vendor.user), n)
    event = over.get("event")
    if event is None:
        event = _strings(field(t, vendor.event), n)
    not_events = over.get("not_events", np.zeros(n, dtype=bool))
    ids, stitching = resolve(
        anon,
        user,
        time,
        lookback=opts.lookback,
        identity=opts.identity,  # type: ignore[arg-type]
        datetimes=True,
    )
    if "bad_links" in over:
        stitching = attrs.evolve(stitching, n_bad_links=int(over["bad_links"]))
    keep = ~not_events
    if opts.identity == "user":
        keep &= ids != None  # noqa: E711  (elementwise on the object array)
    conv_names = _check_conversions(pc.filter(event, pa.array(keep)), opts.conversions, vendor.name)
    is_conv = pc.fill_null(pc.is_in(event, pa.array(conv_names, pa.string())), False)
    is_conv_np = is_conv.to_numpy(zero_copy_only=False) & keep
    device = pc.dictionary_encode(pc.coalesce(anon, user)).indices
    device_np = device.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    sid = _strings(field(t, vendor.session), n) if vendor.session else pa.nulls(n, pa.string())
    if vendor.name == "Amplitude":
        sid = pc.if_else(pc.equal(sid, "-1"), pa.scalar(None, pa.string()), sid)
    scode = _sessions(device_np, sid, time)
    extra_cols = _extra_columns(t, vendor, opts, n)
    event_np = _shared(event)
    traffic_cols: tuple[Any, ...] = ()
    if opts.touchpoint == "channel":
        traffic = traffic_cols = tuple(
            over[role] if role in over else _strings(field(t, getattr(vendor, role)), n)
            for role in ("source", "medium", "campaign")
        )
        rows, info_rows, tps = _channel_touchpoints(
            keep,
            is_conv=is_conv_np,
            scode=scode,
            time=time,
            traffic=traffic,
            event_np=event_np,
            opts=opts,
        )
        for name, col in zip(("source", "medium", "campaign"), traffic, strict=True):
            extra_cols.setdefault(name, col)
    else:
        rows, tps = _event_touchpoints(
            t, vendor, opts, keep=keep, is_conv=is_conv_np, event_np=event_np, n=n
        )
        info_rows = rows
    revenue = _floats(field(t, vendor.revenue), n) if vendor.revenue else None
    outcome = None
    if revenue is not None and conv_names:
        outcome = np.where(is_conv_np[rows], revenue[rows], np.nan)
    extra = {k: _numpy(pc.take(v, pa.array(info_rows))) for k, v in extra_cols.items()}
    extra["session_id"] = scode[rows]
    # free the export (and its event_params index) before the log is built
    clear_params_cache()
    del t, extra_cols, traffic_cols
    where = attrs.evolve(loaded, table=None)
    del loaded
    log = EventLog.from_arrays(
        ids[rows],
        tps,
        pa.array(time[rows], pa.timestamp("ns", tz=vendor.time_zone)),
        outcome,
        extra,
        conversions=conv_names,
        on_error=opts.on_error,  # type: ignore[arg-type]
        columns=_column_names(vendor, opts, outcome=outcome is not None),
        row_label=lambda i: where.label(int(info_rows[i])),
    )
    if opts.session:
        log = log.sessionize(column="session_id")
    log.__dict__["_identity"] = stitching
    return log


def check_links(
    loaded: Loaded,
    links: NDArray[np.bool_],
    *,
    anon: pa.Array,
    user: pa.Array,
    on_error: str,
    fields: Sequence[str],
) -> int:
    """Identify calls without ids: raise naming file and row, or count them."""
    bad = (
        links
        & ~anon.is_valid().to_numpy(zero_copy_only=False)
        & ~user.is_valid().to_numpy(zero_copy_only=False)
    )
    if bad.any() and on_error == "raise":
        row = int(np.argmax(bad))
        msg = (
            f"{loaded.label(row)}: identify call without ids: fields {list(fields)} are all "
            "missing. Fix the export or pass on_error='drop' to count such calls "
            "(log.identity.n_bad_links)."
        )
        raise ValidationError(msg)
    return int(bad.sum())
