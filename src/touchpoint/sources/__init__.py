"""Readers of analytics exports: GA4, Segment, Snowplow, Amplitude and Mixpanel.

Each reader turns its vendor's export (files as the vendor ships them, or an
already loaded arrow / pandas / polars table) into an :class:`~touchpoint.EventLog`:
identities stitched (:func:`stitch_identities`), the touchpoint chosen (channel,
event name or page), channels classified by :data:`CHANNEL_RULES`, conversions
and revenue from named events.
"""

from __future__ import annotations

from touchpoint.sources._amplitude import read_amplitude
from touchpoint.sources._channels import CHANNEL_RULES, ChannelRule
from touchpoint.sources._ga4 import read_ga4
from touchpoint.sources._identity import Stitching, stitch_identities
from touchpoint.sources._mixpanel import read_mixpanel
from touchpoint.sources._segment import read_segment
from touchpoint.sources._snowplow import read_snowplow

__all__ = [
    "CHANNEL_RULES",
    "ChannelRule",
    "Stitching",
    "read_amplitude",
    "read_ga4",
    "read_mixpanel",
    "read_segment",
    "read_snowplow",
    "stitch_identities",
]
