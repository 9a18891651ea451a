"""Mixpanel: the raw export API (JSON lines of ``event`` and ``properties``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import OnError
from touchpoint.sources._build import READER_CHECKS, pick_options, read_export
from touchpoint.sources._common import TouchpointKind, Vendor, _strings, field
from touchpoint.sources._identity import Identity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from touchpoint.core._eventlog import EventLog
    from touchpoint.sources._channels import ChannelRule

__all__ = ["MIXPANEL", "read_mixpanel"]

MIXPANEL = Vendor(
    name="Mixpanel",
    required=("event", "properties.time", "properties.distinct_id"),
    anonymous=("properties.$device_id", "properties.distinct_id"),
    user=("properties.$user_id",),
    time=("properties.time",),
    time_unit="s",
    event=("event",),
    source=("properties.utm_source",),
    medium=("properties.utm_medium",),
    campaign=("properties.utm_campaign",),
    page=("properties.$current_url",),
    revenue=("properties.revenue", "properties.amount"),
    currency=("properties.currency",),
    params_prefix="properties.",
    also=("properties",),
)


def _prepare(loaded: Any, opts: Any) -> dict[str, Any]:  # noqa: ARG001  (one signature for all)
    """The original ID merge: ``$identify`` events link ``$anon_distinct_id`` to ``$identified_id``."""
    import pyarrow.compute as pc

    t = loaded.table
    n = t.num_rows
    event = _strings(field(t, MIXPANEL.event), n)
    is_identify = pc.fill_null(pc.equal(event, "$identify"), False)
    if not pc.any(is_identify).as_py():
        return {}
    anon = _strings(field(t, MIXPANEL.anonymous), n)
    user = _strings(field(t, MIXPANEL.user), n)
    linked_anon = _strings(field(t, ["properties.$anon_distinct_id"]), n)
    linked_user = _strings(field(t, ["properties.$identified_id"]), n)
    return {
        "anonymous": pc.if_else(is_identify, pc.coalesce(linked_anon, anon), anon),
        "user": pc.if_else(is_identify, pc.coalesce(linked_user, user), user),
        "not_events": np.asarray(is_identify.to_numpy(zero_copy_only=False), dtype=bool),
    }


@ck.validate_params(READER_CHECKS)
def read_mixpanel(
    source: Any,
    *,
    touchpoint: TouchpointKind = "channel",
    conversions: str | Sequence[str] = ("Purchase",),
    identity: Identity = "stitched",
    params: str | Sequence[str] = (),
    channel_rules: Sequence[ChannelRule] | None = None,
    lookback: Any = None,
    session: bool = False,
    on_error: OnError = "raise",
) -> EventLog:
    """Read a Mixpanel export into an event log.

    | role | Mixpanel field |
    |---|---|
    | anonymous id | ``properties.$device_id``, else ``distinct_id`` |
    | user id | ``properties.$user_id`` (simplified ID merge: an event with both links the device to the user) |
    | identity links | also ``$identify`` events (original ID merge): ``$anon_distinct_id`` -> ``$identified_id``; they are no events |
    | time | ``properties.time`` (Unix seconds, UTC; exact to ns) |
    | event name | ``event`` |
    | session | 30 minutes of inactivity per device |
    | source / medium / campaign | ``properties.utm_source`` / ``utm_medium`` / ``utm_campaign`` |
    | page | path of ``properties.$current_url`` |
    | revenue (``outcome``) | ``properties.revenue``, else ``properties.amount`` |
    | currency (extra column) | ``properties.currency`` |
    | ``params=["x"]`` | ``properties.x`` |

    Parameters
    ----------
    source : path, list of paths, glob, folder, or arrow / pandas / polars table
        The export (JSON lines from the raw export API, plain or gzipped, Parquet, a folder).
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
        Journeys are sessions (30 minutes of inactivity per device) instead of users.
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
    >>> export = pa.Table.from_struct_array(pa.array([
    ...     {"event": "Page View", "properties": {"time": 1767607200, "distinct_id": "$device:d1",
    ...      "$device_id": "d1", "utm_source": "google", "utm_medium": "organic"}},
    ...     {"event": "Purchase", "properties": {"time": 1767607500, "distinct_id": "u1",
    ...      "$device_id": "d1", "$user_id": "u1", "revenue": 9.5}}]))
    >>> log = read_mixpanel(export)
    >>> list(log.paths()), list(log.journey_ids), str(log.timestamp[0])
    ([('Organic Search', 'Purchase')], ['u1'], '2026-01-05T10:00:00.000000000')
    """
    opts = pick_options(locals())
    return read_export(source, MIXPANEL, opts, prepare=_prepare)
