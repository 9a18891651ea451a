"""Tests for EventLog construction, validation and structure."""

import datetime as dt
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import touchpoint as tp


def rec(j, t, time, **kw):
    return {"j": j, "tp": t, "time": time, **kw}


def build(records, **kw):
    return tp.EventLog.from_records(records, journey="j", touchpoint="tp", time="time", **kw)


def build_dropping(records, **kw):
    with pytest.warns(tp.DroppedRowsWarning) as w:
        log = build(records, on_error="drop", **kw)
    return log, str(w[0].message)


GOOD = [rec("a", "ad", 1.0), rec("a", "buy", 2.0), rec("b", "ad", 0.5)]


def test_basic_structure_sorted_and_coded():
    log = build([rec("b", "site", 3), rec("a", "buy", 2), rec("a", "ad", 1), rec("b", "ad", 0)])
    assert log.n_events == 4 and log.n_journeys == 2 and log.n_touchpoints == 3
    assert list(log.paths()) == [("site", "ad"), ("buy", "ad")] or list(log.paths()) == [
        ("ad", "site"),
        ("ad", "buy"),
    ]
    # each journey's slice is time-sorted
    for i in range(log.n_journeys):
        sl = slice(log.offsets[i], log.offsets[i + 1])
        assert np.all(np.diff(log.timestamp[sl]) >= 0)
    assert dict(zip(log.journey_ids.tolist(), [tuple(p) for p in log.paths()])) == {
        "b": ("ad", "site"),
        "a": ("ad", "buy"),
    }
    assert log.journey.dtype == np.int32 and log.touchpoint.dtype == np.int32
    with pytest.raises(ValueError, match="read-only"):
        log.touchpoint[0] = 1


def test_ties_keep_input_order():
    log = build([rec(1, "x", 5.0), rec(1, "y", 5.0), rec(1, "z", 1.0)])
    assert list(log.paths()) == [("z", "x", "y")]


# --- one test per kind of bad input ------------------------------------------------
@pytest.mark.parametrize(
    ("records", "column", "row", "what"),
    [
        ([*GOOD, rec(None, "ad", 1.0)], "j", 3, "missing value None"),
        ([*GOOD, rec("c", float("nan"), 1.0)], "tp", 3, "missing value nan"),
        ([*GOOD, rec("c", "ad", None)], "time", 3, "missing value None"),
    ],
)
def test_missing_values_raise_with_column_row_value(records, column, row, what):
    with pytest.raises(tp.ValidationError) as e:
        build(records)
    assert f"column '{column}', row {row}: {what}" in str(e.value)


def test_empty_string_is_its_own_kind():
    with pytest.raises(tp.ValidationError, match="column 'tp', row 1: empty string '  '"):
        build([rec("a", "ad", 1.0), rec("a", "  ", 2.0)])
    log, msg = build_dropping([rec("a", "ad", 1.0), rec("a", "", 2.0), rec("", "ad", 3.0)])
    assert log.validation.counts == {"empty_string": 2}
    assert "dropped 2 of 3 rows" in msg


def test_unparseable_timestamp():
    recs = [rec("a", "ad", "2026-01-01T10:00"), rec("a", "buy", "2026-13-45")]
    with pytest.raises(
        tp.ValidationError, match="column 'time', row 1: unparseable timestamp '2026-13-45'"
    ):
        build(recs)
    log, _ = build_dropping(recs)
    assert log.validation.counts == {"unparseable_time": 1} and log.n_events == 1


def test_mixed_numeric_and_datetime_times_are_unparseable():
    with pytest.raises(tp.ValidationError, match="row 1: unparseable timestamp"):
        build([rec("a", "ad", 5.0), rec("a", "buy", "2026-01-01")])


def test_invalid_outcome():
    recs = [rec("a", "ad", 1.0, o=None), rec("a", "buy", 2.0, o="lots")]
    with pytest.raises(
        tp.ValidationError, match="column 'o', row 1: outcome is not a finite number"
    ):
        build(recs, outcome="o")
    ok = build([rec("a", "ad", 1.0, o="yes"), rec("a", "buy", 2.0, o="12.5")], outcome="o")
    assert ok.outcome.tolist() == [1.0, 12.5]


def test_duplicate_rows():
    recs = [rec("a", "ad", 1.0), rec("a", "buy", 2.0), rec("a", "ad", 1.0), rec("a", "ad", 1.0)]
    kept = build(recs)  # default duplicates="keep": real events, counted as ties
    assert list(kept.paths()) == [("ad", "ad", "ad", "buy")]
    assert kept.validation.n_ties == 2 and kept.validation.n_dropped == 0
    with pytest.raises(
        tp.ValidationError,
        match="column 'j', row 2: duplicate of an earlier row 'a' "
        r"\(same journey, touchpoint, time and outcome as row 0\)",
    ):
        build(recs, duplicates="raise")
    with pytest.warns(tp.exceptions.DroppedRowsWarning):
        log = build(recs, duplicates="drop")  # dropped whatever on_error says
    assert log.validation.counts == {"duplicate": 2}
    assert list(log.paths()) == [("ad", "buy")]
    # same time and touchpoint but a different outcome is not a duplicate
    ok = build([rec("a", "buy", 1.0, o=5), rec("a", "buy", 1.0, o=7)], outcome="o")
    assert ok.n_events == 2


def test_unknown_touchpoint_against_design():
    design = tp.Journey(touchpoints=["ad", "buy"])
    recs = [rec("a", "ad", 1.0), rec("a", "tv", 2.0), rec("b", "buy", 1.0)]
    with pytest.raises(
        tp.ValidationError, match="column 'tp', row 1: touchpoint not in the journey design 'tv'"
    ):
        build(recs, design=design)
    log, _ = build_dropping(recs, design=design)
    assert log.validation.counts == {"unknown_touchpoint": 1}
    assert log.touchpoint_names == ("ad", "buy")  # code table compacted


def test_unknown_and_missing_columns():
    with pytest.raises(tp.ValidationError, match="unknown column 'segmnt'"):
        build(GOOD, extra=("segmnt",))
    with pytest.raises(tp.ValidationError, match="unknown column 'when'"):
        tp.EventLog.from_records(GOOD, journey="j", touchpoint="tp", time="when")
    with pytest.raises(tp.ValidationError, match="has 2 values but 'journey' has 3"):
        tp.EventLog.from_arrays([1, 2, 3], ["a", "b", "c"], [1.0, 2.0])
    with pytest.raises(tp.ValidationError, match="`on_error` must be"):
        build(GOOD, on_error="ignore")


def test_every_dropped_row_is_counted_once():
    design = tp.Journey(touchpoints=["ad", "buy"])
    recs = [
        rec("a", "ad", 1.0, o=1),
        rec(None, "", "bad", o="x"),  # several problems: counted once, as missing
        rec("b", "", 1.0),
        rec("b", "ad", "never"),
        rec("b", "ad", 1.0, o="??"),
        rec("b", "tv", 1.0),
        rec("a", "ad", 1.0, o=1),
        rec("c", "buy", 2.0),
    ]
    log, _ = build_dropping(recs, design=design, outcome="o", duplicates="drop")
    v = log.validation
    assert v.n_input == 8 and v.n_kept == 2
    assert v.dropped_value == 1.0  # the duplicate's outcome (the invalid ones have none)
    assert v.counts == {
        "missing": 1,
        "empty_string": 1,
        "unparseable_time": 1,
        "invalid_outcome": 1,
        "unknown_touchpoint": 1,
        "duplicate": 1,
    }
    assert v.n_input == v.n_kept + sum(v.counts.values())
    assert [e.row for e in v.examples] == sorted(e.row for e in v.examples)


def test_datetimes_timezones_and_iso_strings():
    utc = dt.timezone.utc
    plus2 = dt.timezone(dt.timedelta(hours=2))
    log = build(
        [
            rec("a", "ad", "2026-01-01T10:00:00Z"),
            rec("a", "site", dt.datetime(2026, 1, 1, 11, 30, tzinfo=plus2)),  # 09:30 UTC
            rec("a", "buy", dt.datetime(2026, 1, 1, 10, 15, tzinfo=utc)),
        ]
    )
    assert log.is_datetime
    assert list(log.paths()) == [("site", "ad", "buy")]
    assert log.timestamp[0] == np.datetime64("2026-01-01T09:30", "ns")


def test_numpy_fast_path_and_unsorted_input_agree():
    rng = np.random.default_rng(1)
    n = 5000
    j = np.sort(rng.integers(0, 300, n))
    t = rng.random(n)
    order = np.lexsort((t, j))
    j, t = j[order], t[order]
    tps = rng.integers(0, 7, n)
    a = tp.EventLog.from_arrays(j, np.array([f"t{k}" for k in tps]), t)
    perm = rng.permutation(n)
    b = tp.EventLog.from_arrays(j[perm], np.array([f"t{k}" for k in tps])[perm], t[perm])
    assert list(a.journey_ids) == list(b.journey_ids)
    assert list(a.paths()) == list(b.paths())


def test_converted_value_and_conversion_touchpoints():
    recs = [
        rec("a", "ad", 1, o=None),
        rec("a", "buy", 2, o=30.0),
        rec("a", "buy", 3, o=20.0),
        rec("b", "ad", 1, o=None),
        rec("c", "site", 1, o=0),
    ]
    log = build(recs, outcome="o")
    conv = dict(zip(log.journey_ids.tolist(), log.converted().tolist()))
    assert conv == {"a": True, "b": False, "c": False}
    assert dict(zip(log.journey_ids.tolist(), log.value().tolist())) == {
        "a": 50.0,
        "b": 0.0,
        "c": 0.0,
    }
    log2 = build([rec("a", "ad", 1), rec("a", "site", 2), rec("b", "ad", 1)], conversions=["site"])
    assert log2.converted().tolist() == [True, False]
    with pytest.raises(tp.UnknownTouchpointError, match="never occur"):
        build(GOOD, conversions=["purchase"])


def test_select_split_and_chunks_keep_touchpoint_codes():
    recs = [
        rec(i, t, k, seg=("m" if i % 2 else "d"))
        for i in range(10)
        for k, t in enumerate(["ad", "site", "buy"][: 1 + i % 3])
    ]
    log = build(recs, extra=("seg",))
    parts = log.split("seg")
    assert set(parts) == {"m", "d"}
    assert sum(p.n_events for p in parts.values()) == log.n_events
    assert all(p.touchpoint_names == log.touchpoint_names for p in parts.values())
    chunks = list(log.iter_chunks(3))
    assert [c.n_journeys for c in chunks] == [3, 3, 3, 1]
    assert [p for c in chunks for p in c.paths()] == list(log.paths())
    with pytest.raises(tp.ValidationError, match="shape"):
        log.select(np.ones(3, dtype=bool))


def test_sessionize_splits_on_gaps():
    log = build(
        [
            rec("c", "ad", "2026-01-01T10:00"),
            rec("c", "site", "2026-01-01T10:20"),
            rec("c", "ad", "2026-01-02T09:00"),
            rec("d", "buy", "2026-01-01T10:00"),
        ]
    )
    s = log.sessionize(gap=dt.timedelta(minutes=30))
    assert list(s.journey_ids) == ["c#1", "c#2", "d#1"]
    assert list(s.paths()) == [("ad", "site"), ("ad",), ("buy",)]
    assert s.extra["customer"].tolist() == ["c", "c", "c", "d"]
    assert s.extra["session"].tolist() == [1, 1, 2, 1]
    assert log.sessionize(gap=np.timedelta64(1, "D")).n_journeys == 2
    with pytest.raises(tp.ValidationError, match="`gap` must be a positive"):
        log.sessionize(gap=0)


def test_transition_pairs_never_cross_journeys():
    log = build([rec("a", "x", 1), rec("a", "y", 2), rec("b", "z", 1), rec("b", "x", 2)])
    a, b = log.transition_pairs()
    names = log.touchpoint_names
    assert sorted((names[i], names[k]) for i, k in zip(a, b)) == [("x", "y"), ("z", "x")]


def test_repr_and_html():
    log = build(GOOD)
    assert repr(log) == "EventLog(events=3, journeys=2, touchpoints=2, time=float 0.5..2)"
    bad = build([rec("<b>", "<i>", 1.0)])
    assert "&lt;i&gt;" in bad._repr_html_() and "<i>" not in bad._repr_html_()


def test_memory_per_event_is_small():
    n = 100_000
    log = tp.EventLog.from_arrays(
        np.repeat(np.arange(n // 4), 4),
        np.zeros(n, dtype=np.int64),
        np.arange(n, dtype=np.float64),
        outcome=np.zeros(n),
    )
    assert log.nbytes() / n <= 32


@st.composite
def event_records(draw):
    n = draw(st.integers(0, 60))
    journeys = draw(st.lists(st.sampled_from(["a", "b", "c", 7, 8]), min_size=n, max_size=n))
    tps = draw(st.lists(st.sampled_from(["ad", "site", "cart", "buy"]), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    return [
        {"j": str(j), "tp": t, "time": float(s), "row": i}
        for i, (j, t, s) in enumerate(zip(journeys, tps, times))
    ]


@settings(max_examples=100, deadline=None)
@given(event_records())
def test_property_paths_keep_every_event_in_order(records):
    """from_records -> paths() keeps every event, in time order (ties: input order)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tp.DroppedRowsWarning)
        log = tp.EventLog.from_records(
            records,
            journey="j",
            touchpoint="tp",
            time="time",
            extra=("row",),
            on_error="drop",
            duplicates="drop",
        )
    kept_all = tp.EventLog.from_records(records, journey="j", touchpoint="tp", time="time")
    assert kept_all.n_events == len(records)  # default: ties are real events
    # independent computation: drop exact duplicates, then stable sort per journey
    seen, kept = set(), []
    for r in records:
        key = (r["j"], r["tp"], r["time"])
        if key not in seen:
            seen.add(key)
            kept.append(r)
    assert log.validation.counts.get("duplicate", 0) == len(records) - len(kept)
    assert kept_all.validation.n_ties == len(records) - len(kept)
    assert log.n_events == len(kept)
    expected = {}
    for r in sorted(kept, key=lambda r: r["time"]):
        expected.setdefault(r["j"], []).append(r["tp"])
    got = dict(zip(log.journey_ids.tolist(), (list(p) for p in log.paths())))
    assert got == expected
    rows = log.extra["row"]
    for i in range(log.n_journeys):
        sl = slice(log.offsets[i], log.offsets[i + 1])
        t = log.timestamp[sl]
        assert np.all((np.diff(t) > 0) | ((np.diff(t) == 0) & (np.diff(rows[sl]) > 0)))
