"""The five export readers on fixtures built from the vendors' published schemas.

Every expected number is counted by hand from the story in make_fixtures.py:
d1 arrives from paid search (google / cpc), comes back directly, logs in as u1
and buys for 50 EUR; u1 buys again for 20 EUR from a newsletter on device d2,
whose session counter restarts at 101 like d1's; d4 (user u2) arrives from
organic search (bing) and buys for 35.5 USD; d3 arrives from social and never
logs in. Twelve events (Segment adds three identify calls).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import touchpoint as tp  # noqa: E402
from touchpoint.exceptions import InvalidParameterError, ValidationError  # noqa: E402

DATA = Path(tp.datasets.sample_path("exports"))

READERS = {
    "ga4": (tp.read_ga4, DATA / "ga4", "purchase"),
    "segment": (tp.read_segment, DATA / "segment.jsonl", "Order Completed"),
    "snowplow": (tp.read_snowplow, DATA / "snowplow_events.parquet", "transaction"),
    "amplitude": (tp.read_amplitude, DATA / "amplitude_export.zip", "purchase"),
    "mixpanel": (tp.read_mixpanel, DATA / "mixpanel_export.jsonl.gz", "Purchase"),
}


def _paths(log):
    return dict(zip(log.journey_ids.tolist(), [list(p) for p in log.paths()], strict=True))


@pytest.mark.parametrize("vendor", sorted(READERS))
def test_channel_journeys_match_the_hand_count(vendor):
    read, path, buy = READERS[vendor]
    log = read(path)
    assert _paths(log) == {
        "u1": ["Paid Search", "Direct", buy, "Email", buy],
        "u2": ["Organic Search", buy],
        "d3": ["Organic Social"],
    }
    assert dict(zip(log.journey_ids.tolist(), log.value().tolist(), strict=True)) == {
        "u1": 70.0,
        "u2": 35.5,
        "d3": 0.0,
    }
    assert log.converted().tolist() == [True, True, False]
    assert log.conversions == (buy,)
    # currency is kept per conversion event
    currency = log.column("currency")[log.touchpoint == log.touchpoint_code(buy)]
    assert sorted(currency.tolist()) == ["EUR", "EUR", "USD"]
    assert log.time_zone == "UTC" and log.is_datetime
    s = log.identity
    assert (s.n_anonymous_ids, s.n_users, s.n_stitched_ids, s.n_conflicts) == (4, 2, 3, 0)
    rows = 15 if vendor == "segment" else 12
    # moved: d1's four anonymous events (Segment: also the page calls of d2 and d4,
    # which carry no userId); never stitched: d3's two events
    moved = 6 if vendor == "segment" else 4
    assert s.n_events == rows
    assert s.events_moved == pytest.approx(moved / rows)
    assert s.never_stitched == pytest.approx(2 / rows)


@pytest.mark.parametrize(
    ("identity", "journeys", "events", "without_user"),
    [
        ("stitched", ["u1", "u2", "d3"], 12, 0),
        ("device", ["d1", "d4", "d2", "d3"], 12, 0),
        ("user", ["u1", "u2"], 10, 2),
    ],
)
def test_ga4_event_names_under_each_identity(identity, journeys, events, without_user):
    log = tp.read_ga4(DATA / "ga4", touchpoint="event_name", identity=identity)
    assert list(log.journey_ids) == journeys
    assert log.n_events == events
    assert log.identity.n_without_user == without_user
    counts = dict(zip(log.touchpoint_names, np.bincount(log.touchpoint).tolist(), strict=True))
    assert counts["purchase"] == 3
    assert counts["session_start"] == (4 if identity == "user" else 5)


def test_ga4_pages_exact_times_and_params():
    log = tp.read_ga4(DATA / "ga4", touchpoint="page", params=["ga_session_id", "page_location"])
    assert _paths(log)["u1"] == [
        "/",
        "/shoes",
        "/",
        "/shoes",
        "/login",
        "purchase",
        "/",
        "purchase",
    ]
    # event_timestamp 2026-01-05 10:00:00.000123 UTC in microseconds, exactly
    assert log.timestamp[0] == np.datetime64("2026-01-05T10:00:00.000123", "ns")
    sid = log.column("ga_session_id")
    assert sid.dtype == np.int64 and sorted(set(sid.tolist())) == [101, 102, 201, 301]
    assert log.column("page_location")[1] == "https://shop.example/shoes?utm=x"


def test_ga4_sessions_restart_per_device():
    # d1 and d2 both have ga_session_id 101: three sessions for u1, not two
    s = tp.read_ga4(DATA / "ga4", session=True)
    assert list(s.journey_ids) == ["u1#1", "u1#2", "u1#3", "u2#1", "d3#1"]
    assert [list(p) for p in s.paths()][:3] == [
        ["Paid Search"],
        ["Direct", "purchase"],
        ["Email", "purchase"],
    ]
    assert s.identity is not None
    assert tp.read_ga4(DATA / "ga4").sessionize(column="session_id").n_journeys == 5


def test_segment_offsets_become_utc_and_identify_calls_are_no_events():
    log = tp.read_segment(DATA / "segment.jsonl", touchpoint="event_name")
    u2 = log.timestamp[log.journey == list(log.journey_ids).index("u2")]
    # "2026-01-05T12:00:00+01:00" is 11:00 UTC
    assert u2[0] == np.datetime64("2026-01-05T11:00:00", "ns")
    assert "identify" not in log.touchpoint_names
    assert log.n_events == 12


def test_mixpanel_seconds_and_snowplow_referrer_fallback():
    mp = tp.read_mixpanel(DATA / "mixpanel_export.jsonl.gz", touchpoint="event_name")
    assert mp.timestamp.min() == np.datetime64("2026-01-05T10:00:00", "ns")
    sp = tp.read_snowplow(DATA / "snowplow_events.parquet")
    # d4's bing visit has no mkt_* fields: refr_medium "search" makes it Organic Search
    assert _paths(sp)["u2"] == ["Organic Search", "transaction"]
    assert sp.column("source")[sp.journey == 1][0] == "Bing"


def test_sources_folder_glob_list_and_frames_agree():
    files = sorted((DATA / "ga4").glob("*.parquet"))
    ref = _paths(tp.read_ga4(DATA / "ga4"))
    assert _paths(tp.read_ga4(str(DATA / "ga4" / "events_*.parquet"))) == ref
    assert _paths(tp.read_ga4(files)) == ref
    table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
    assert _paths(tp.read_ga4(table)) == ref
    pl = pytest.importorskip("polars")
    assert _paths(tp.read_ga4(pl.from_arrow(table))) == ref
    pd_frame = table.to_pandas()
    assert _paths(tp.read_ga4(pd_frame)) == ref


def test_amplitude_zip_members_and_single_gz(tmp_path):
    import zipfile

    with zipfile.ZipFile(DATA / "amplitude_export.zip") as zf:
        names = zf.namelist()
        assert len(names) == 5  # one gzipped JSON file per hour with events (10, 12, 14; 9, 11)
        for n in names:
            (tmp_path / Path(n).name).write_bytes(zf.read(n))
    log = tp.read_amplitude(tmp_path)
    assert log.n_events == 8 and log.value().sum() == pytest.approx(105.5)


# ---------------------------------------------------------------- schema drift
def test_drift_between_daily_files_is_unified_without_loss():
    from touchpoint.sources._common import load
    from touchpoint.sources._ga4 import GA4

    day1, day2 = sorted((DATA / "ga4").glob("*.parquet"))
    assert pq.read_schema(day1).field("event_value_in_usd").type == pa.int64()
    assert pq.read_schema(day2).field("event_value_in_usd").type == pa.float64()
    loaded = load(DATA / "ga4", GA4)
    schema = loaded.table.schema
    assert schema.field("event_value_in_usd").type == pa.float64()  # widened
    cts = schema.field("collected_traffic_source").type
    assert "manual_source_platform" in [f.name for f in cts]  # added on day 2, kept
    assert loaded.table.num_rows == 12
    values = loaded.table.column("event_value_in_usd").to_pylist()
    assert sorted(v for v in values if v is not None) == [20.0, 35.0, 50.0]  # day 1 ints exact


def test_drift_that_cannot_unify_is_refused_by_name(tmp_path):
    day1, day2 = sorted((DATA / "ga4").glob("*.parquet"))
    shutil.copy(day1, tmp_path / day1.name)
    t = pq.read_table(day2)
    t = t.set_column(t.schema.get_field_index("user_id"), "user_id", pa.array([7] * t.num_rows))
    pq.write_table(t, tmp_path / day2.name)
    with pytest.raises(
        ValidationError, match=r"field 'user_id' is string in file 'events_20260105"
    ):
        tp.read_ga4(tmp_path)


# -------------------------------------------------------------------- bad input
def test_a_file_from_another_vendor_names_missing_fields_and_file():
    with pytest.raises(
        ValidationError,
        match=r"file 'snowplow_events.parquet' is not a GA4 export: required field\(s\) "
        r"'event_timestamp', 'user_pseudo_id' missing. It looks like a snowplow "
        r"export: use tp.read_snowplow",
    ):
        tp.read_ga4(DATA / "snowplow_events.parquet")
    with pytest.raises(ValidationError, match=r"is not a Mixpanel export.*'properties.time'"):
        tp.read_mixpanel(DATA / "segment.jsonl")


def test_wrong_nested_types_are_refused():
    t = pq.read_table(sorted((DATA / "ga4").glob("*.parquet"))[0])
    bad = t.set_column(3, "event_params", pa.array(["x"] * t.num_rows))
    with pytest.raises(ValidationError, match=r"field 'event_params' must be ARRAY<STRUCT<key"):
        tp.read_ga4(bad)
    mp = pa.table({"event": ["a"], "properties": ["not an object"]})
    with pytest.raises(ValidationError, match=r"required field"):
        tp.read_mixpanel(mp)


def test_missing_ids_name_file_row_and_field(tmp_path):
    rows = [
        json.loads(x)
        for x in gzip.decompress((DATA / "mixpanel_export.jsonl.gz").read_bytes()).splitlines()
    ]
    rows[3]["properties"].pop("$device_id")
    rows[3]["properties"]["distinct_id"] = ""
    p = tmp_path / "export.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValidationError, match=r"file 'export.jsonl', row 3: missing value None"):
        tp.read_mixpanel(p, touchpoint="event_name")
    with pytest.warns(tp.DroppedRowsWarning):
        log = tp.read_mixpanel(p, touchpoint="event_name", on_error="drop")
    assert log.validation.n_dropped == 1 and log.n_events == 11


def test_bad_timestamps_name_file_row_and_field(tmp_path):
    lines = (DATA / "segment.jsonl").read_text().splitlines()
    call = json.loads(lines[2])
    call["timestamp"] = "yesterday"
    lines[2] = json.dumps(call)
    p = tmp_path / "calls.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValidationError, match=r"file 'calls.jsonl', row 2: field 'timestamp'.*'yesterday'"
    ):
        tp.read_segment(p)
    with pytest.warns(tp.DroppedRowsWarning):
        log = tp.read_segment(p, touchpoint="event_name", on_error="drop")
    assert log.validation.n_dropped == 1


def test_identify_call_without_ids(tmp_path):
    lines = (DATA / "segment.jsonl").read_text().splitlines()
    k = next(i for i, x in enumerate(lines) if '"identify"' in x)
    call = json.loads(lines[k])
    del call["anonymousId"], call["userId"]
    lines[k] = json.dumps(call)
    p = tmp_path / "calls.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValidationError, match=rf"file 'calls.jsonl', row {k}: identify call without ids"
    ):
        tp.read_segment(p)
    log = tp.read_segment(p, on_error="drop")
    assert log.identity.n_bad_links == 1


def test_unknown_conversions_params_and_channel_rules():
    with pytest.raises(
        tp.UnknownTouchpointError, match=r"none of the conversion events \['purchse'\]"
    ):
        tp.read_ga4(DATA / "ga4", conversions=["purchse"])
    with pytest.raises(ValidationError, match=r"parameter 'nope' \(params=\)"):
        tp.read_ga4(DATA / "ga4", params=["nope"])
    with pytest.raises(InvalidParameterError, match=r"`channel_rules` must be"):
        tp.read_ga4(DATA / "ga4", channel_rules="ga4")
    with pytest.raises(InvalidParameterError, match=r"field in \('source', 'medium', 'campaign'\)"):
        tp.ChannelRule("X", all_of=(("utm_medium", "x"),))
    with pytest.raises(InvalidParameterError, match=r"a valid regex"):
        tp.ChannelRule("X", all_of=(("medium", "("),))
    assert tp.read_ga4(DATA / "ga4", conversions=()).outcome is None


# ---------------------------------------------------------------- channel rules
@pytest.mark.parametrize(
    ("source", "medium", "campaign", "channel"),
    [
        ("(direct)", "(none)", "", "Direct"),
        ("(direct)", "(not set)", "", "Direct"),
        ("google", "cpc", "", "Paid Search"),
        ("google", "organic", "", "Organic Search"),
        ("bing", "referral", "", "Organic Search"),  # a search site wins over the medium
        ("facebook", "paid", "", "Paid Social"),
        ("m.facebook.com", "referral", "", "Organic Social"),
        ("youtube", "cpv_video", "", "Paid Video"),
        ("dv360", "display", "", "Display"),
        ("partner", "ppc", "", "Paid Other"),
        ("google", "cpc", "summer shopping", "Paid Shopping"),
        ("news.example", "referral", "", "Referral"),
        ("newsletter", "Email", "", "Email"),
        ("partner", "affiliate", "", "Affiliates"),
        ("radio", "audio", "", "Audio"),
        ("sms", "text", "", "SMS"),
        ("firebase", "x", "", "Mobile Push Notifications"),
        ("x", "y", "cross-network-q1", "Cross-network"),
        ("somesite", "other", "", "Unassigned"),
    ],
)
def test_default_channel_group_follows_the_ga4_definitions(source, medium, campaign, channel):
    from touchpoint.sources._channels import classify

    got = classify(
        np.array([source], dtype=object),
        np.array([medium], dtype=object),
        np.array([campaign], dtype=object),
    )
    assert got.tolist() == [channel]


def test_channel_rules_are_a_readable_table_users_override():
    frame = tp.CHANNEL_RULES.to_frame()
    assert len(frame) == 18 and frame["channel"].iloc[0] == "Direct"
    assert frame["condition"].iloc[0] == r"source ~ \(direct\) and medium ~ \(not set\)|\(none\)"
    rules = [tp.ChannelRule("Newsletter", all_of=(("medium", "email"),)), *tp.CHANNEL_RULES]
    log = tp.read_ga4(DATA / "ga4", channel_rules=rules)
    assert _paths(log)["u1"] == ["Paid Search", "Direct", "purchase", "Newsletter", "purchase"]


def test_cli_reads_a_vendor_export(capsys):
    from touchpoint.cli import main

    assert main(["report", str(DATA / "mixpanel_export.jsonl.gz"), "--source", "mixpanel"]) == 0
    out = capsys.readouterr().out
    assert "journeys        3" in out and "total value     105.5" in out
    assert main(["report", str(DATA / "segment.jsonl"), "--source", "ga4"]) == 2
    assert "is not a GA4 export" in capsys.readouterr().err


def test_ga4_json_lines_with_int64_as_strings(tmp_path):
    # BigQuery's JSON export writes INT64 values as strings
    table = pq.read_table(sorted((DATA / "ga4").glob("*.parquet"))[0])
    rows = table.select(["event_timestamp", "event_name", "user_pseudo_id", "user_id"]).to_pylist()
    for r in rows:
        r["event_timestamp"] = str(r["event_timestamp"])
    p = tmp_path / "events_20260105.json.gz"
    p.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    log = tp.read_ga4(p, touchpoint="event_name")
    assert log.n_events == 8
    assert log.timestamp[0] == np.datetime64("2026-01-05T10:00:00.000123", "ns")


def test_committed_fixtures_are_what_the_script_writes(tmp_path):
    import zipfile

    from sources.make_fixtures import main

    main(tmp_path)
    for name in (
        "ga4/events_20260105.parquet",
        "ga4/events_20260106.parquet",
        "snowplow_events.parquet",
    ):
        assert pq.read_table(tmp_path / name).equals(pq.read_table(DATA / name))
    assert (tmp_path / "segment.jsonl").read_text() == (DATA / "segment.jsonl").read_text()
    for name in ("mixpanel_export.jsonl.gz",):
        assert gzip.decompress((tmp_path / name).read_bytes()) == gzip.decompress(
            (DATA / name).read_bytes()
        )
    with (
        zipfile.ZipFile(tmp_path / "amplitude_export.zip") as a,
        zipfile.ZipFile(DATA / "amplitude_export.zip") as b,
    ):
        assert a.namelist() == b.namelist()
        assert all(gzip.decompress(a.read(n)) == gzip.decompress(b.read(n)) for n in a.namelist())


def test_mixpanel_original_id_merge_identify_events(tmp_path):
    rows = [
        {"event": "Page View", "properties": {"time": 1767607200, "distinct_id": "anon-7",
                                              "utm_source": "google", "utm_medium": "cpc"}},
        {"event": "$identify", "properties": {"time": 1767607260, "distinct_id": "user-7",
                                              "$anon_distinct_id": "anon-7",
                                              "$identified_id": "user-7"}},
        {"event": "Purchase", "properties": {"time": 1767607300, "distinct_id": "user-7",
                                             "revenue": 5.0}},
    ]  # fmt: skip
    p = tmp_path / "export.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    log = tp.read_mixpanel(p)
    # without $user_id, the Purchase's journey is its distinct_id: the $identify links
    # anon-7 to user-7, so the paid-search visit joins it
    assert _paths(log) == {"user-7": ["Paid Search", "Purchase"]}
    assert log.identity.n_stitched_ids == 1 and log.identity.events_moved == pytest.approx(1 / 3)
