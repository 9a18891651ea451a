"""Write the small vendor exports bundled in touchpoint/datasets/data/exports/.

Run: python tests/sources/make_fixtures.py (``tp.datasets.sample_path("exports/ga4")``
finds them; the docs and the tests read them).

Field names and types follow the vendors' published schemas:

- GA4: developers.google.com/analytics/bigquery/event-schema (``events_YYYYMMDD``;
  ``event_timestamp`` INT64 microseconds, ``event_params`` ARRAY<STRUCT<key STRING,
  value STRUCT<string_value STRING, int_value INT64, float_value FLOAT64,
  double_value FLOAT64>>>, ``ecommerce``, ``collected_traffic_source``);
- Segment: the Segment spec (common fields, track, page, identify);
- Snowplow: the canonical event model (atomic fields), as Parquet;
- Amplitude: the Export API (a zip of hourly gzipped JSON files);
- Mixpanel: the raw export API (JSON lines, ``time`` in Unix seconds).

The same planted story runs through all five (hand-counted in the tests):
device d1 comes from paid search, returns directly, logs in as u1 and buys for
50; u1 buys again for 20 from a newsletter on another device d2 (whose session
counter restarts); d3 arrives from social and never logs in; d4 (user u2)
comes from organic search and buys for 35.5.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parents[2] / "src" / "touchpoint" / "datasets" / "data" / "exports"

#: (device, user, time UTC, event, session, source, medium, campaign, page, revenue, currency)
STORY = [
    (
        "d1",
        None,
        "2026-01-05T10:00:00.000123",
        "session_start",
        101,
        "google",
        "cpc",
        "brand",
        "/",
        None,
        None,
    ),
    ("d1", None, "2026-01-05T10:00:05", "page_view", 101, None, None, None, "/shoes", None, None),
    ("d1", None, "2026-01-05T14:00:00", "session_start", 102, None, None, None, "/", None, None),
    ("d1", None, "2026-01-05T14:01:00", "page_view", 102, None, None, None, "/shoes", None, None),
    ("d1", "u1", "2026-01-05T14:02:00", "login", 102, None, None, None, "/login", None, None),
    (
        "d1",
        "u1",
        "2026-01-05T14:05:00",
        "purchase",
        102,
        None,
        None,
        None,
        "/checkout",
        50.0,
        "EUR",
    ),
    (
        "d4",
        "u2",
        "2026-01-05T12:00:00",
        "session_start",
        301,
        "bing",
        "organic",
        None,
        "/",
        None,
        None,
    ),
    (
        "d4",
        "u2",
        "2026-01-05T12:10:00",
        "purchase",
        301,
        None,
        None,
        None,
        "/checkout",
        35.5,
        "USD",
    ),
    # day 2
    (
        "d2",
        "u1",
        "2026-01-06T09:00:00",
        "session_start",
        101,
        "newsletter",
        "email",
        "jan",
        "/",
        None,
        None,
    ),
    (
        "d2",
        "u1",
        "2026-01-06T09:03:00",
        "purchase",
        101,
        None,
        None,
        None,
        "/checkout",
        20.0,
        "EUR",
    ),
    (
        "d3",
        None,
        "2026-01-06T11:00:00",
        "session_start",
        201,
        "facebook",
        "social",
        None,
        "/",
        None,
        None,
    ),
    ("d3", None, "2026-01-06T11:01:00", "page_view", 201, None, None, None, "/hats", None, None),
]
HOST = "https://shop.example"


def _dt(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def _micros(s: str) -> int:
    d = _dt(s)
    return int(d.timestamp()) * 1_000_000 + d.microsecond


# ----------------------------------------------------------------------- GA4
VALUE = pa.struct(
    [
        ("string_value", pa.string()),
        ("int_value", pa.int64()),
        ("float_value", pa.float64()),
        ("double_value", pa.float64()),
    ]
)
PARAMS = pa.list_(pa.struct([("key", pa.string()), ("value", VALUE)]))
ECOMMERCE = pa.struct(
    [
        ("total_item_quantity", pa.int64()),
        ("purchase_revenue_in_usd", pa.float64()),
        ("purchase_revenue", pa.float64()),
        ("refund_value_in_usd", pa.float64()),
        ("refund_value", pa.float64()),
        ("shipping_value_in_usd", pa.float64()),
        ("shipping_value", pa.float64()),
        ("tax_value_in_usd", pa.float64()),
        ("tax_value", pa.float64()),
        ("unique_items", pa.int64()),
        ("transaction_id", pa.string()),
    ]
)
CTS_FIELDS = [
    ("manual_campaign_id", pa.string()),
    ("manual_campaign_name", pa.string()),
    ("manual_source", pa.string()),
    ("manual_medium", pa.string()),
    ("manual_term", pa.string()),
    ("manual_content", pa.string()),
    ("gclid", pa.string()),
    ("dclid", pa.string()),
    ("srsltid", pa.string()),
]


def _param(key, s=None, i=None, d=None):
    return {
        "key": key,
        "value": {"string_value": s, "int_value": i, "float_value": None, "double_value": d},
    }


def ga4_rows(day: str, *, day2: bool):
    rows = []
    for dev, user, t, ev, sid, src, med, camp, page, rev, cur in STORY:
        if not t.startswith(day):
            continue
        params = [
            _param("ga_session_id", i=sid),
            _param("ga_session_number", i=1),
            _param("page_location", s=HOST + page + ("?utm=x" if page == "/shoes" else "")),
            _param("engagement_time_msec", i=100),
        ]
        cts = None
        if src is not None and not day2:  # day 1: the legacy session_start parameters
            params += [_param("source", s=src), _param("medium", s=med)]
            if camp:
                params.append(_param("campaign", s=camp))
        elif src is not None:  # day 2: collected_traffic_source
            cts = {
                "manual_source": src,
                "manual_medium": med,
                "manual_campaign_name": camp,
                "manual_source_platform": "Manual",
            }
        if cur is not None:
            params += [_param("currency", s=cur), _param("value", d=rev)]
        rows.append(
            {
                "event_date": t[:10].replace("-", ""),
                "event_timestamp": _micros(t),
                "event_name": ev,
                "event_params": params,
                "event_previous_timestamp": None,
                # widened between the days: INT64 on day 1, FLOAT64 on day 2
                "event_value_in_usd": (int(rev) if rev and not day2 else rev),
                "event_bundle_sequence_id": 1,
                "event_server_timestamp_offset": 10,
                "user_id": user,
                "user_pseudo_id": dev,
                "user_first_touch_timestamp": _micros("2026-01-05T10:00:00"),
                "user_ltv": {"revenue": 0.0, "currency": "EUR"},
                "device": {"category": "desktop", "operating_system": "Linux"},
                "geo": {"country": "Germany", "city": "Berlin"},
                "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"},
                "stream_id": "1234567",
                "platform": "WEB",
                "ecommerce": (
                    {
                        "purchase_revenue": rev,
                        "purchase_revenue_in_usd": rev,
                        "transaction_id": f"T{sid}",
                    }
                    if ev == "purchase"
                    else None
                ),
                "collected_traffic_source": cts,
                "is_active_user": True,
            }
        )
    return rows


def ga4_schema(*, day2: bool) -> pa.Schema:
    cts = CTS_FIELDS + ([("manual_source_platform", pa.string())] if day2 else [])
    return pa.schema(
        [
            ("event_date", pa.string()),
            ("event_timestamp", pa.int64()),
            ("event_name", pa.string()),
            ("event_params", PARAMS),
            ("event_previous_timestamp", pa.int64()),
            ("event_value_in_usd", pa.float64() if day2 else pa.int64()),
            ("event_bundle_sequence_id", pa.int64()),
            ("event_server_timestamp_offset", pa.int64()),
            ("user_id", pa.string()),
            ("user_pseudo_id", pa.string()),
            ("user_first_touch_timestamp", pa.int64()),
            ("user_ltv", pa.struct([("revenue", pa.float64()), ("currency", pa.string())])),
            ("device", pa.struct([("category", pa.string()), ("operating_system", pa.string())])),
            ("geo", pa.struct([("country", pa.string()), ("city", pa.string())])),
            (
                "traffic_source",
                pa.struct(
                    [("name", pa.string()), ("medium", pa.string()), ("source", pa.string())]
                ),
            ),
            ("stream_id", pa.string()),
            ("platform", pa.string()),
            ("ecommerce", ECOMMERCE),
            ("collected_traffic_source", pa.struct(cts)),
            ("is_active_user", pa.bool_()),
        ]
    )


def write_ga4(out: Path) -> None:
    d = out / "ga4"
    d.mkdir(parents=True, exist_ok=True)
    for day, day2 in (("2026-01-05", False), ("2026-01-06", True)):
        schema = ga4_schema(day2=day2)
        table = pa.Table.from_pylist(ga4_rows(day, day2=day2), schema=schema)
        pq.write_table(table, d / f"events_{day.replace('-', '')}.parquet")


# ------------------------------------------------------------------- Segment
def segment_calls():
    calls = []
    linked = set()
    for k, (dev, user, t, ev, _sid, src, med, camp, page, rev, cur) in enumerate(STORY):
        common = {
            "anonymousId": dev,
            "messageId": f"msg-{k}",
            "timestamp": t[:19] + "+01:00" if dev == "d4" else t + "Z",
            "receivedAt": t[:19] + "Z",
            "sentAt": t[:19] + "Z",
            "originalTimestamp": t[:19] + "Z",
            "integrations": {},
            "version": 2,
            "context": {
                "page": {"path": page, "url": HOST + page, "title": "Shop"},
                **({"campaign": {"source": src, "medium": med, "name": camp}} if src else {}),
            },
        }
        if user is not None and (dev, user) not in linked:
            linked.add((dev, user))
            calls.append(
                {
                    **common,
                    "messageId": f"id-{k}",
                    "type": "identify",
                    "userId": user,
                    "traits": {"email": f"{user}@example.com"},
                }
            )
        if ev in ("session_start", "page_view"):
            calls.append({**common, "type": "page", "name": "Shop", "properties": {"path": page}})
        else:
            props = {"revenue": rev, "currency": cur} if rev else {}
            event = "Order Completed" if ev == "purchase" else "Signed In"
            calls.append(
                {**common, "type": "track", "event": event, "userId": user, "properties": props}
            )
    return calls


# ------------------------------------------------------------------ Snowplow
def snowplow_table() -> pa.Table:
    rows = []
    for k, (dev, user, t, ev, sid, src, med, camp, page, rev, cur) in enumerate(STORY):
        refr = {"refr_medium": "search", "refr_source": "Bing"} if src == "bing" else {}
        mkt = (
            {}
            if src in (None, "bing")
            else {"mkt_source": src, "mkt_medium": med, "mkt_campaign": camp}
        )
        name = {"session_start": "page_view", "purchase": "transaction"}.get(ev, ev)
        rows.append(
            {
                "app_id": "shop",
                "platform": "web",
                "etl_tstamp": _dt(t),
                "collector_tstamp": _dt(t),
                "dvce_created_tstamp": _dt(t),
                "event": {"page_view": "page_view", "transaction": "transaction"}.get(
                    name, "struct"
                ),
                "event_id": f"00000000-0000-4000-8000-{k:012d}",
                "name_tracker": "sp",
                "v_tracker": "js-3.0.0",
                "user_id": user,
                "domain_userid": dev,
                "domain_sessionidx": 1,
                "network_userid": f"n-{dev}",
                "domain_sessionid": f"{dev}-{sid}",
                "page_url": HOST + page,
                "page_urlpath": page,
                "refr_medium": refr.get("refr_medium", "internal" if ev == "page_view" else None),
                "refr_source": refr.get("refr_source"),
                "mkt_medium": mkt.get("mkt_medium"),
                "mkt_source": mkt.get("mkt_source"),
                "mkt_campaign": mkt.get("mkt_campaign"),
                "tr_orderid": f"T{sid}" if rev else None,
                "tr_total": rev,
                "tr_currency": cur,
                "se_category": "auth" if ev == "login" else None,
                "se_action": "login" if ev == "login" else None,
                "derived_tstamp": _dt(t),
                "event_vendor": "com.snowplowanalytics.snowplow",
                "event_name": name,
                "event_format": "jsonschema",
                "event_version": "1-0-0",
            }
        )
    schema = pa.schema(
        [
            (
                k,
                pa.timestamp("us", tz="UTC")
                if k.endswith("tstamp")
                else pa.int64()
                if k == "domain_sessionidx"
                else pa.float64()
                if k == "tr_total"
                else pa.string(),
            )
            for k in rows[0]
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


# ----------------------------------------------------------------- Amplitude
def amplitude_events():
    out = []
    for k, (dev, user, t, ev, _sid, src, med, camp, page, rev, cur) in enumerate(STORY):
        ts = _dt(t).strftime("%Y-%m-%d %H:%M:%S.%f")
        props = {"[Amplitude] Page Path": page}
        if src:
            props.update({"utm_source": src, "utm_medium": med, "utm_campaign": camp})
        if rev:
            props.update({"revenue": rev, "currency": cur})
        out.append(
            {
                "$insert_id": f"ins-{k}",
                "amplitude_id": 1000 + int(dev[1:]),
                "app": 123456,
                "city": "Berlin",
                "client_event_time": ts,
                "client_upload_time": ts,
                "country": "Germany",
                "data": {},
                "device_carrier": None,
                "device_family": "Linux",
                "device_id": dev,
                "device_type": "Linux",
                "dma": None,
                "event_id": k,
                "event_properties": props,
                "event_time": ts,
                "event_type": "[Amplitude] Page Viewed"
                if ev in ("session_start", "page_view")
                else ev,
                "groups": {},
                "ip_address": "192.0.2.1",
                "language": "German",
                "library": "amplitude-ts/2.0.0",
                "os_name": "Chrome",
                "os_version": "120",
                "paying": None,
                "platform": "Web",
                "processed_time": ts,
                "region": "Berlin",
                "server_received_time": ts,
                "server_upload_time": ts,
                # ms since epoch of the session's start, restarting per device
                "session_id": int(_dt(t).timestamp() * 1000) // 3_600_000 * 3_600_000
                + int(dev[1:]),
                "start_version": None,
                "user_creation_time": ts,
                "user_id": user,
                "user_properties": {},
                "uuid": f"uuid-{k}",
                "version_name": None,
            }
        )
    return out


def write_amplitude(out: Path) -> None:
    events = amplitude_events()
    by_hour: dict[str, list] = {}
    for e in events:
        by_hour.setdefault(e["event_time"][:13].replace(" ", "_"), []).append(e)
    with zipfile.ZipFile(out / "amplitude_export.zip", "w") as zf:
        for hour, evs in sorted(by_hour.items()):
            data = "".join(json.dumps(e) + "\n" for e in evs).encode()
            zf.writestr(
                f"123456/123456_{hour[:10]}_{int(hour[11:13])}#0.json.gz",
                gzip.compress(data, mtime=0),
            )


# ------------------------------------------------------------------ Mixpanel
def mixpanel_events():
    out = []
    for k, (dev, user, t, ev, _sid, src, med, camp, page, rev, cur) in enumerate(STORY):
        props = {
            "time": int(_dt(t).timestamp()),
            "distinct_id": user if user else f"$device:{dev}",
            "$device_id": dev,
            "$insert_id": f"ins{k:04d}",
            "mp_processing_time_ms": int(_dt(t).timestamp() * 1000) + 500,
            "$current_url": HOST + page,
            "mp_lib": "web",
        }
        if user:
            props["$user_id"] = user
        if src:
            props.update({"utm_source": src, "utm_medium": med, "utm_campaign": camp})
        if rev:
            props.update({"revenue": rev, "currency": cur})
        name = {
            "session_start": "$mp_web_page_view",
            "page_view": "$mp_web_page_view",
            "purchase": "Purchase",
            "login": "Sign In",
        }[ev]
        out.append({"event": name, "properties": props})
    return out


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_ga4(out)
    (out / "segment.jsonl").write_text("".join(json.dumps(c) + "\n" for c in segment_calls()))
    pq.write_table(snowplow_table(), out / "snowplow_events.parquet")
    write_amplitude(out)
    data = "".join(json.dumps(e) + "\n" for e in mixpanel_events()).encode()
    (out / "mixpanel_export.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    main()
