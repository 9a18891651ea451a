"""Snowplow: enriched events (the canonical event model / ``atomic.events``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import OnError
from touchpoint.sources._build import READER_CHECKS, pick_options, read_export
from touchpoint.sources._common import TouchpointKind, Vendor, _strings, field
from touchpoint.sources._identity import Identity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from touchpoint.core._eventlog import EventLog
    from touchpoint.sources._channels import ChannelRule

__all__ = ["SNOWPLOW", "read_snowplow"]

SNOWPLOW = Vendor(
    name="Snowplow",
    required=("domain_userid", "derived_tstamp|collector_tstamp", "event_name|event"),
    anonymous=("domain_userid",),
    user=("user_id",),
    time=("derived_tstamp", "collector_tstamp"),
    time_unit="text",
    event=("event_name", "event"),
    session=("domain_sessionid",),
    source=("mkt_source",),
    medium=("mkt_medium",),
    campaign=("mkt_campaign",),
    page=("page_urlpath",),
    revenue=("tr_total",),
    currency=("tr_currency",),
    also=("refr_medium", "refr_source"),
)

#: Snowplow's referer-parser mediums as default-channel mediums (``internal``: no new touch).
REFERER_MEDIUMS = {
    "search": "organic",
    "social": "social",
    "email": "email",
    "unknown": "referral",
    "paid": "cpc",
}


def _prepare(loaded: Any, opts: Any) -> dict[str, Any]:  # noqa: ARG001  (one signature for all)
    import pyarrow as pa
    import pyarrow.compute as pc

    t = loaded.table
    n = t.num_rows
    refr_medium = _strings(field(t, ["refr_medium"]), n)
    mapped = pc.take(
        pa.array([*REFERER_MEDIUMS.values(), None], pa.string()),
        pc.fill_null(
            pc.index_in(refr_medium, pa.array(list(REFERER_MEDIUMS))), len(REFERER_MEDIUMS)
        ),
    )
    external = pc.is_valid(mapped)
    refr_source = pc.if_else(
        external, _strings(field(t, ["refr_source"]), n), pa.scalar(None, pa.string())
    )
    mkt_medium = _strings(field(t, SNOWPLOW.medium), n)
    mkt_source = _strings(field(t, SNOWPLOW.source), n)
    return {
        "source": pc.coalesce(mkt_source, refr_source),
        "medium": pc.coalesce(mkt_medium, mapped),
    }


@ck.validate_params(READER_CHECKS)
def read_snowplow(
    source: Any,
    *,
    touchpoint: TouchpointKind = "channel",
    conversions: str | Sequence[str] = ("transaction",),
    identity: Identity = "stitched",
    params: str | Sequence[str] = (),
    channel_rules: Sequence[ChannelRule] | None = None,
    lookback: Any = None,
    session: bool = False,
    on_error: OnError = "raise",
) -> EventLog:
    """Read a Snowplow export into an event log.

    | role | Snowplow field |
    |---|---|
    | anonymous id | ``domain_userid`` (first-party cookie) |
    | user id | ``user_id`` |
    | time | ``derived_tstamp`` (else ``collector_tstamp``; UTC) |
    | event name | ``event_name`` (else ``event``) |
    | session | ``domain_sessionid`` |
    | source / medium | ``mkt_source`` / ``mkt_medium``, else ``refr_source`` / ``refr_medium`` (search -> organic, unknown -> referral; ``internal`` referrers are no touch) |
    | campaign | ``mkt_campaign`` |
    | page | ``page_urlpath`` |
    | revenue (``outcome``) | ``tr_total`` |
    | currency (extra column) | ``tr_currency`` |
    | ``params=["x"]`` | the atomic field ``x`` |

    Parameters
    ----------
    source : path, list of paths, glob, folder, or arrow / pandas / polars table
        The export (Parquet or JSON lines of enriched events, a folder).
    touchpoint : {"channel", "event_name", "page"}
        As in :func:`~touchpoint.read_ga4`: one touchpoint per session named
        by its channel, every event, or every event with a page.
    conversions : str or list of str
        Event names that are conversions (kept in every mode, never credited).
    identity : {"stitched", "device", "user"}
        The journey: stitched user, device, or (stitched) user only.
    params : str or list of str
        Atomic fields (``se_action``, ``se_label``, ...) to keep as extra columns.
    channel_rules : sequence of ChannelRule, optional
        The channel grouping (default :data:`touchpoint.CHANNEL_RULES`).
    lookback : timedelta, numpy.timedelta64 or float, optional
        Stitch only anonymous events at most this long before the first link.
    session : bool
        Journeys are sessions (``domain_sessionid``) instead of users.
    on_error : {"raise", "drop"}
        Raise at the first bad row (file, row, field) or drop and count.

    Returns
    -------
    EventLog
        Times as UTC ``datetime64[ns]``; ``log.identity`` holds the stitching
        diagnostics.

    Examples
    --------
    >>> import pyarrow as pa
    >>> events = pa.table({
    ...     "domain_userid": ["c1", "c1"], "user_id": [None, "u9"],
    ...     "domain_sessionid": ["s1", "s1"], "event_name": ["page_view", "transaction"],
    ...     "derived_tstamp": ["2026-01-05 10:00:00.000", "2026-01-05 10:05:00.000"],
    ...     "refr_medium": ["search", None], "refr_source": ["Google", None],
    ...     "tr_total": [None, 42.5]})
    >>> log = read_snowplow(events)
    >>> list(log.paths()), log.value().tolist()
    ([('Organic Search', 'transaction')], [42.5])
    """
    opts = pick_options(locals())
    return read_export(source, SNOWPLOW, opts, prepare=_prepare)
