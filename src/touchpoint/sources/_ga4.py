"""Google Analytics 4: the BigQuery export (``events_YYYYMMDD`` tables)."""

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

__all__ = ["GA4", "read_ga4"]

GA4 = Vendor(
    name="GA4",
    required=("event_timestamp", "event_name", "user_pseudo_id"),
    anonymous=("user_pseudo_id",),
    user=("user_id",),
    time=("event_timestamp",),
    time_unit="us",
    event=("event_name",),
    session=("param:ga_session_id",),
    source=("collected_traffic_source.manual_source", "param:source"),
    medium=("collected_traffic_source.manual_medium", "param:medium"),
    campaign=("collected_traffic_source.manual_campaign_name", "param:campaign"),
    page=("param:page_location",),
    revenue=("ecommerce.purchase_revenue", "event_value_in_usd", "param:value"),
    currency=("param:currency",),
    params_prefix="param:",
)


@ck.validate_params(READER_CHECKS)
def read_ga4(
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
    """Read a GA4 BigQuery export into an event log.

    One row per event, as in the ``events_YYYYMMDD`` tables: Parquet or JSON
    lines files (a folder of daily files, a glob), or the arrow table that
    ``bigquery.Client().query(sql).to_arrow()`` returns (pandas and polars
    frames too). Nested ``event_params`` are read in arrow, without a Python
    object per event.

    | role | GA4 field |
    |---|---|
    | anonymous id (device) | ``user_pseudo_id`` |
    | user id | ``user_id`` |
    | time | ``event_timestamp`` (INT64 microseconds, UTC; exact) |
    | event name | ``event_name`` |
    | session | ``event_params`` ``ga_session_id`` with ``user_pseudo_id`` |
    | source / medium / campaign | ``collected_traffic_source.manual_source`` / ``manual_medium`` / ``manual_campaign_name``, else ``event_params`` ``source`` / ``medium`` / ``campaign`` |
    | page | path of ``event_params`` ``page_location`` |
    | revenue (``outcome``) | ``ecommerce.purchase_revenue``, else ``event_value_in_usd``, else ``event_params`` ``value`` |
    | currency (extra column) | ``event_params`` ``currency`` |
    | ``params=["x"]`` | ``event_params`` ``x`` (string, float or int value) |

    Parameters
    ----------
    source : path, list of paths, glob, folder, or arrow / pandas / polars table
        The export.
    touchpoint : {"channel", "event_name", "page"}
        ``"channel"``: one touchpoint per session named by its default channel
        group (:data:`touchpoint.CHANNEL_RULES`); ``"event_name"``: every
        event; ``"page"``: every event with a page, by URL path.
    conversions : str or list of str
        Event names that are conversions (kept in every mode, never credited);
        names absent from the export are ignored, none present is an error.
    identity : {"stitched", "device", "user"}
        The journey: the user id, else the user stitched to the device, else
        the device (``"stitched"``); the device only; or the (stitched) user
        only (events reaching no user are dropped and counted in
        ``log.identity.n_without_user``).
    params : str or list of str
        ``event_params`` keys to keep as extra columns.
    channel_rules : sequence of ChannelRule, optional
        The channel grouping (default :data:`touchpoint.CHANNEL_RULES`).
    lookback : timedelta, numpy.timedelta64 or float, optional
        Stitch only anonymous events at most this long (seconds for a float)
        before the device's first link to a user.
    session : bool
        Journeys are sessions (``ga_session_id`` with the device) instead of users.
    on_error : {"raise", "drop"}
        Raise at the first bad row, naming file, row and field; or drop and
        count bad rows in ``log.validation``.

    Returns
    -------
    EventLog
        Times as UTC ``datetime64[ns]``; ``log.identity`` holds the stitching
        diagnostics (:class:`~touchpoint.Stitching`).

    Examples
    --------
    >>> import pyarrow as pa
    >>> params = pa.list_(pa.struct([("key", pa.string()), ("value", pa.struct(
    ...     [("string_value", pa.string()), ("int_value", pa.int64()),
    ...      ("float_value", pa.float64()), ("double_value", pa.float64())]))]))
    >>> def p(key, s=None, i=None):
    ...     return {"key": key, "value": {"string_value": s, "int_value": i}}
    >>> export = pa.table({
    ...     "event_timestamp": [1_700_000_000_000_000, 1_700_000_060_000_000],
    ...     "event_name": ["session_start", "purchase"],
    ...     "user_pseudo_id": ["d1", "d1"], "user_id": [None, "u1"],
    ...     "event_params": pa.array([[p("ga_session_id", i=1), p("source", "google"),
    ...                                p("medium", "cpc")], [p("ga_session_id", i=1)]],
    ...                              params)})
    >>> log = read_ga4(export)
    >>> list(log.paths()), list(log.journey_ids)
    ([('Paid Search', 'purchase')], ['u1'])
    """
    opts = pick_options(locals())
    return read_export(source, GA4, opts)
