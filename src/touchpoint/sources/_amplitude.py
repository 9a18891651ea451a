"""Amplitude: the Export API's zip of hourly gzipped JSON files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import OnError
from touchpoint.sources._build import READER_CHECKS, pick_options, read_export
from touchpoint.sources._common import TouchpointKind, Vendor
from touchpoint.sources._identity import Identity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from touchpoint.core._eventlog import EventLog
    from touchpoint.sources._channels import ChannelRule

__all__ = ["AMPLITUDE", "read_amplitude"]

AMPLITUDE = Vendor(
    name="Amplitude",
    required=("event_time", "event_type", "device_id|user_id"),
    anonymous=("device_id",),
    user=("user_id",),
    time=("event_time",),
    time_unit="text",
    event=("event_type",),
    session=("session_id",),
    source=("event_properties.utm_source", "user_properties.utm_source"),
    medium=("event_properties.utm_medium", "user_properties.utm_medium"),
    campaign=("event_properties.utm_campaign", "user_properties.utm_campaign"),
    page=("event_properties.[Amplitude] Page Path", "event_properties.page_path"),
    revenue=(
        "revenue",
        "event_properties.revenue",
        "event_properties.$revenue",
        "event_properties.price",
    ),
    currency=("event_properties.currency",),
    params_prefix="event_properties.",
)


@ck.validate_params(READER_CHECKS)
def read_amplitude(
    source: Any,
    *,
    touchpoint: TouchpointKind = "channel",
    conversions: str | Sequence[str] = ("purchase",),
    identity: Identity = "stitched",
    params: str | Sequence[str] = (),
    channel_rules: Sequence[ChannelRule] | None = None,
    lookback: Any = None,
    session: bool = False,
    on_error: OnError = "raise",
) -> EventLog:
    """Read a Amplitude export into an event log.

    | role | Amplitude field |
    |---|---|
    | anonymous id | ``device_id`` |
    | user id | ``user_id`` |
    | time | ``event_time`` (UTC, ``"2026-01-05 10:00:00.123456"``) |
    | event name | ``event_type`` |
    | session | ``session_id`` (ms; ``-1``: none) with the device |
    | source / medium / campaign | ``event_properties.utm_source`` / ``utm_medium`` / ``utm_campaign``, else the ``user_properties`` ones |
    | page | ``event_properties["[Amplitude] Page Path"]`` |
    | revenue (``outcome``) | ``revenue``, else ``event_properties.revenue`` / ``$revenue`` / ``price`` |
    | currency (extra column) | ``event_properties.currency`` |
    | ``params=["x"]`` | ``event_properties.x`` |

    Parameters
    ----------
    source : path, list of paths, glob, folder, or arrow / pandas / polars table
        The export (the Export API's zip, its ``.json.gz`` files, JSON lines, Parquet, a folder).
    touchpoint : {"channel", "event_name", "page"}
        As in :func:`~touchpoint.read_ga4`: one touchpoint per session named
        by its channel, every event, or every event with a page.
    conversions : str or list of str
        Event names that are conversions (kept in every mode, never credited).
    identity : {"stitched", "device", "user"}
        The journey: stitched user, device, or (stitched) user only.
    params : str or list of str
        ``event_properties`` fields to keep as extra columns.
    channel_rules : sequence of ChannelRule, optional
        The channel grouping (default :data:`touchpoint.CHANNEL_RULES`).
    lookback : timedelta, numpy.timedelta64 or float, optional
        Stitch only anonymous events at most this long before the first link.
    session : bool
        Journeys are sessions (``session_id`` with the device) instead of users.
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
    >>> events = pa.Table.from_struct_array(pa.array([
    ...     {"event_time": "2026-01-05 10:00:00.000000", "event_type": "view", "device_id": "d",
    ...      "user_id": None, "session_id": 1, "event_properties": {"utm_source": "facebook",
    ...      "utm_medium": "paid"}},
    ...     {"event_time": "2026-01-05 10:03:00.000000", "event_type": "purchase", "device_id": "d",
    ...      "user_id": "u", "session_id": 1, "event_properties": {"revenue": 12.0}}]))
    >>> log = read_amplitude(events)
    >>> list(log.paths()), log.value().tolist()
    ([('Paid Social', 'purchase')], [12.0])
    """
    opts = pick_options(locals())
    return read_export(source, AMPLITUDE, opts)
