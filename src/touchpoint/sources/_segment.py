"""Segment: track, page and identify calls (the Segment spec), as JSON lines or a warehouse table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import OnError
from touchpoint.sources._build import READER_CHECKS, check_links, pick_options, read_export
from touchpoint.sources._common import TouchpointKind, Vendor, _strings, field
from touchpoint.sources._identity import Identity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from touchpoint.core._eventlog import EventLog
    from touchpoint.sources._channels import ChannelRule

__all__ = ["SEGMENT", "read_segment"]

SEGMENT = Vendor(
    name="Segment",
    required=("type", "timestamp", "anonymousId|userId|anonymous_id|user_id"),
    anonymous=("anonymousId", "anonymous_id"),
    user=("userId", "user_id"),
    time=("timestamp",),
    time_unit="text",
    event=("event", "name"),
    source=("context.campaign.source", "context_campaign_source"),
    medium=("context.campaign.medium", "context_campaign_medium"),
    campaign=("context.campaign.name", "context_campaign_name"),
    page=("context.page.path", "properties.path", "context_page_path"),
    revenue=("properties.revenue", "properties.total", "revenue"),
    currency=("properties.currency", "currency"),
    params_prefix="properties.",
    also=("type",),
)


def _prepare(loaded: Any, opts: Any) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = loaded.table
    n = t.num_rows
    kind = _strings(field(t, ["type"]), n)
    is_identify = pc.fill_null(pc.equal(kind, "identify"), False).to_numpy(zero_copy_only=False)
    not_event = pc.fill_null(pc.is_in(kind, pa.array(["identify", "alias", "group"])), False)
    named = _strings(field(t, SEGMENT.event), n)
    # a page or screen call without a name is the event "page" / "screen"
    event = pc.coalesce(named, kind)
    bad = check_links(
        loaded,
        np.asarray(is_identify),
        anon=_strings(field(t, SEGMENT.anonymous), n),
        user=_strings(field(t, SEGMENT.user), n),
        on_error=opts.on_error,
        fields=("anonymousId", "userId"),
    )
    return {
        "event": event,
        "not_events": not_event.to_numpy(zero_copy_only=False),
        "bad_links": bad,
    }


@ck.validate_params(READER_CHECKS)
def read_segment(
    source: Any,
    *,
    touchpoint: TouchpointKind = "channel",
    conversions: str | Sequence[str] = ("Order Completed",),
    identity: Identity = "stitched",
    params: str | Sequence[str] = (),
    channel_rules: Sequence[ChannelRule] | None = None,
    lookback: Any = None,
    session: bool = False,
    on_error: OnError = "raise",
) -> EventLog:
    """Read a Segment export into an event log.

    | role | Segment field (spec; warehouse column) |
    |---|---|
    | anonymous id | ``anonymousId`` (``anonymous_id``) |
    | user id | ``userId`` (``user_id``) |
    | time | ``timestamp`` (ISO 8601, offsets converted to UTC) |
    | event name | ``event`` of track calls, ``name`` of page calls, else the call ``type`` (``"page"``, ``"screen"``) |
    | identity links | ``identify`` calls (``anonymousId`` -> ``userId``); ``identify``, ``alias``, ``group`` are no events |
    | session | 30 minutes of inactivity per anonymous id |
    | source / medium / campaign | ``context.campaign.source`` / ``medium`` / ``name`` |
    | page | ``context.page.path``, else ``properties.path`` |
    | revenue (``outcome``) | ``properties.revenue``, else ``properties.total`` |
    | currency (extra column) | ``properties.currency`` |
    | ``params=["x"]`` | ``properties.x`` |

    Parameters
    ----------
    source : path, list of paths, glob, folder, or arrow / pandas / polars table
        The export (JSON lines of calls, plain or gzipped, Parquet, a folder).
    touchpoint : {"channel", "event_name", "page"}
        As in :func:`~touchpoint.read_ga4`: one touchpoint per session named
        by its channel, every event, or every event with a page.
    conversions : str or list of str
        Event names that are conversions (kept in every mode, never credited).
    identity : {"stitched", "device", "user"}
        The journey: stitched user, device, or (stitched) user only.
    params : str or list of str
        ``properties`` fields to keep as extra columns.
    channel_rules : sequence of ChannelRule, optional
        The channel grouping (default :data:`touchpoint.CHANNEL_RULES`).
    lookback : timedelta, numpy.timedelta64 or float, optional
        Stitch only anonymous events at most this long before the first link.
    session : bool
        Journeys are sessions (30 minutes of inactivity per anonymous id) instead of users.
    on_error : {"raise", "drop"}
        Raise at the first bad row (file, row, field) or drop and count.

    Returns
    -------
    EventLog
        Times as UTC ``datetime64[ns]``; ``log.identity`` holds the stitching
        diagnostics.

    Examples
    --------
    >>> calls = [
    ...     {"type": "page", "anonymousId": "a1", "timestamp": "2026-01-05T10:00:00Z",
    ...      "context": {"campaign": {"source": "newsletter", "medium": "email"}}},
    ...     {"type": "identify", "anonymousId": "a1", "userId": "u1",
    ...      "timestamp": "2026-01-05T10:01:00Z"},
    ...     {"type": "track", "event": "Order Completed", "userId": "u1",
    ...      "timestamp": "2026-01-05T10:02:00Z", "properties": {"revenue": 30.0}}]
    >>> import pyarrow as pa
    >>> log = read_segment(pa.Table.from_struct_array(pa.array(calls)))
    >>> list(log.paths()), list(log.journey_ids), log.value().tolist()
    ([('Email', 'Order Completed')], ['u1'], [30.0])
    """
    opts = pick_options(locals())
    return read_export(source, SEGMENT, opts, prepare=_prepare)
