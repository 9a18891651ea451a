"""Adversarial suite (issue 11): hostile input gives a clear error, a counted drop or
the correct result -- never a silent wrong answer, a traceback or a memory blow-up.

Every case is classified by what it must do:

- ``error``: a :class:`~touchpoint.TouchpointError` (or the matching built-in) whose
  message names the offending parameter, column, row or value;
- ``drop``: the bad part is dropped *and counted* (validation report or result);
- ``ok``: a correct result, checked against an independent computation.

The classes follow issue 11, one section each (times outside datetime64[ns] and
integer nanoseconds, extra= named like a role, CSV engines, colliding ids, missing
segment values, conformance, unchecked preconditions, content taken for a path,
values to refuse, numerics, resources, tracebacks, messages pointing at the right
place, the CLI, Dask). ``test_suite_size_and_classes`` counts the cases by outcome.
"""

from __future__ import annotations

import datetime as dt
import gzip
import inspect
import itertools
import json
import math
import subprocess
import sys
import tracemalloc
from collections import Counter

import numpy as np
import pytest

import touchpoint as tp

ENGINES = ["python", "pyarrow", "polars"]
H = "journey_id,touchpoint,timestamp\n"


def _arrays(**kw):
    return tp.EventLog.from_arrays(["a", "a", "b"], ["x", "y", "x"], [1.0, 2.0, 3.0], **kw)


def _converting_log():
    return tp.EventLog.from_arrays(
        ["a", "a", "b", "b", "c", "d", "d"],
        ["x", "y", "x", "z", "y", "z", "y"],
        [1.0, 2.0, 1.0, 2.0, 1.0, 1.0, 2.0],
        outcome=[0, 1, 0, 0, 1, 0, 1],
    )


def _conformance(log, design):
    """Call conformance in the documented order (data first after the vocabulary change)."""
    first = next(iter(inspect.signature(tp.conformance).parameters))
    return tp.conformance(log, design) if first == "log" else tp.conformance(design, log)


def _write(tmp_path, text, name="e.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def _summary(log):
    return (
        log.journey_ids.tolist(),
        [list(p) for p in log.paths()],
        log.timestamp.tolist(),
    )


# ---------------------------------------------------------------------------------
# constructors: extra= named like a role (error)
# ---------------------------------------------------------------------------------
RECORD = [{"j": "1", "t": "x", "ts": 1.0, "o": 0}, {"j": "2", "t": "y", "ts": 2.0, "o": 1}]
ROLE_CLASHES = [("time",), ("journey",), ("touchpoint",), ("outcome",), ("ts",), ("j",), ("t",)]


def _frame(kind, records):
    if kind == "records":
        return records
    import pandas as pd

    df = pd.DataFrame(records)
    if kind == "pandas":
        return df
    if kind == "polars":
        import polars as pl

        return pl.from_pandas(df)
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _build(kind, records, **kw):
    data = _frame(kind, records)
    if kind == "records":
        return tp.EventLog.from_records(data, **kw)
    return tp.EventLog.from_frame(data, **kw)


CONSTRUCTORS = ["records", "pandas", "polars", "pyarrow"]


@pytest.mark.parametrize("kind", CONSTRUCTORS)
@pytest.mark.parametrize("extra", ROLE_CLASHES, ids=lambda e: e[0])
def test_error_extra_named_like_a_role(kind, extra):
    recs = [dict(r, time=5.0, journey="J", touchpoint="T", outcome=9) for r in RECORD]
    with pytest.raises(tp.ValidationError, match=r"`extra`.*" + extra[0]):
        _build(kind, recs, journey="j", touchpoint="t", time="ts", outcome="o", extra=extra)


@pytest.mark.parametrize("name", ["journey", "touchpoint", "time", "outcome"])
def test_error_from_arrays_extra_key_named_like_a_role(name):
    with pytest.raises(tp.ValidationError, match=rf"`extra`.*'{name}'"):
        tp.EventLog.from_arrays(["a"], ["x"], [1.0], extra={name: ["z"]})


def test_error_extra_listed_twice():
    with pytest.raises(tp.ValidationError, match=r"`extra`.*'seg'"):
        tp.EventLog.from_records(
            [{"j": 1, "t": "x", "ts": 1.0, "seg": "a"}],
            journey="j",
            touchpoint="t",
            time="ts",
            extra=("seg", "seg"),
        )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("extra", ["timestamp", "journey_id", "time", "journey"])
def test_error_csv_extra_named_like_a_role(tmp_path, engine, extra):
    p = _write(tmp_path, "journey_id,touchpoint,timestamp,time,journey\n1,ad,1,9,2\n")
    with pytest.raises(tp.ValidationError, match=r"`extra`"):
        tp.read_csv(p, engine=engine, extra=(extra,))


# ---------------------------------------------------------------------------------
# times outside datetime64[ns] (years before 1677, after 2262): never wrapped
# ---------------------------------------------------------------------------------
OLD, NEW = dt.datetime(1600, 1, 1), dt.datetime(2026, 1, 1)
FAR = dt.datetime(2300, 1, 1)


def _time_frame(kind, times):
    """A two-event journey whose times are ``times``, as ``kind`` holds datetimes."""
    recs = [{"j": 1, "t": "ad", "ts": times[0]}, {"j": 1, "t": "buy", "ts": times[1]}]
    if kind == "records":
        return recs
    if kind == "pandas":
        import pandas as pd

        unit = np.array(times, dtype="datetime64[s]")  # pandas >= 2 holds 1600 at unit "s"
        return pd.DataFrame({"j": [1, 1], "t": ["ad", "buy"], "ts": pd.array(unit)})
    if kind == "polars":
        import polars as pl

        return pl.DataFrame({"j": [1, 1], "t": ["ad", "buy"], "ts": list(times)})
    import pyarrow as pa

    return pa.table(
        {"j": [1, 1], "t": ["ad", "buy"], "ts": pa.array(list(times), pa.timestamp("us"))}
    )


def _time_log(kind, times, **kw):
    data = _time_frame(kind, times)
    names = {"journey": "j", "touchpoint": "t", "time": "ts"}
    if kind == "records":
        return tp.EventLog.from_records(data, **names, **kw)
    return tp.EventLog.from_frame(data, **names, **kw)


OUT_OF_RANGE = {"1600": (OLD, NEW), "2300": (NEW, FAR)}


@pytest.mark.parametrize("kind", CONSTRUCTORS)
@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_error_time_outside_int64_ns(kind, case):
    times = OUT_OF_RANGE[case]
    bad_row = 0 if case == "1600" else 1
    with pytest.raises(
        tp.ValidationError, match=rf"column 'ts', row {bad_row}: timestamp outside 1677.*{case}"
    ):
        _time_log(kind, times)


@pytest.mark.parametrize("kind", CONSTRUCTORS)
@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_drop_time_outside_int64_ns_is_counted(kind, case):
    with pytest.warns(tp.DroppedRowsWarning):
        log = _time_log(kind, OUT_OF_RANGE[case], on_error="drop")
    assert log.validation.counts == {"out_of_range_time": 1}
    # the event kept is the one in range, at its own time (nothing wrapped into range)
    assert log.timestamp.astype("datetime64[s]").tolist() == [NEW]


ARRAY_TIMES = {
    "datetime64_us": lambda t: np.array(t, dtype="datetime64[us]"),
    "datetime64_s": lambda t: np.array(t, dtype="datetime64[s]"),
    "datetimes": lambda t: np.array(t, dtype=object),
    "iso_strings": lambda t: [x.isoformat() for x in t],
}


@pytest.mark.parametrize("form", sorted(ARRAY_TIMES))
@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_error_from_arrays_time_outside_int64_ns(form, case):
    times = ARRAY_TIMES[form](OUT_OF_RANGE[case])
    with pytest.raises(
        tp.ValidationError, match=rf"column 'time', row \d: timestamp outside.*{case}"
    ):
        tp.EventLog.from_arrays([1, 1], ["ad", "buy"], times)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_error_csv_time_outside_int64_ns(tmp_path, engine, case):
    a, b = OUT_OF_RANGE[case]
    p = _write(tmp_path, H + f"1,ad,{a.isoformat()}\n\n1,buy,{b.isoformat()}\n")
    row, line = (0, 2) if case == "1600" else (1, 4)  # the blank line shifts the file line
    with pytest.raises(tp.ValidationError, match=rf"row {row} \(file line {line}\).*{case}"):
        tp.read_csv(p, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_drop_csv_time_outside_int64_ns_is_counted(tmp_path, engine):
    p = _write(tmp_path, H + "1,ad,1600-01-01T00:00:00\n1,buy,2026-01-01T00:00:00\n")
    with pytest.warns(tp.DroppedRowsWarning):
        log = tp.read_csv(p, engine=engine, on_error="drop")
    assert log.validation.counts == {"out_of_range_time": 1}
    assert log.timestamp.astype("datetime64[s]").tolist() == [NEW]


def test_error_parquet_time_outside_int64_ns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "e.parquet"
    table = {
        "journey_id": [1, 1],
        "touchpoint": ["ad", "buy"],
        "timestamp": pa.array([OLD, NEW], pa.timestamp("us")),
    }
    pq.write_table(pa.table(table), p)
    with pytest.raises(tp.ValidationError, match=r"column 'timestamp', row 0: timestamp outside"):
        tp.read_parquet(p)


# integer nanoseconds keep full int64 precision (never a float64 round trip)
NS = np.array([1_767_225_600_000_000_100, 1_767_225_600_000_000_000], dtype=np.int64)


def _ns_inputs():
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    names = {"journey": "j", "touchpoint": "t", "time": "ts"}
    cols = {"j": [1, 1], "t": ["buy", "ad"]}
    return {
        "arrays_int64": lambda: tp.EventLog.from_arrays([1, 1], ["buy", "ad"], NS),
        "arrays_datetime64_ns": lambda: tp.EventLog.from_arrays(
            [1, 1], ["buy", "ad"], NS.view("datetime64[ns]")
        ),
        "records_int": lambda: tp.EventLog.from_records(
            [{"j": 1, "t": t, "ts": int(x)} for t, x in zip(cols["t"], NS, strict=True)],
            **names,
        ),
        "pandas_int64": lambda: tp.EventLog.from_frame(pd.DataFrame(cols | {"ts": NS}), **names),
        "pandas_datetime64_ns": lambda: tp.EventLog.from_frame(
            pd.DataFrame(cols | {"ts": NS.view("datetime64[ns]")}), **names
        ),
        "polars_int64": lambda: tp.EventLog.from_frame(pl.DataFrame(cols | {"ts": NS}), **names),
        "pyarrow_timestamp_ns": lambda: tp.EventLog.from_frame(
            pa.table(cols | {"ts": pa.array(NS, pa.timestamp("ns"))}), **names
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "arrays_int64",
        "arrays_datetime64_ns",
        "records_int",
        "pandas_int64",
        "pandas_datetime64_ns",
        "polars_int64",
        "pyarrow_timestamp_ns",
    ],
)
def test_ok_nanosecond_times_keep_int64_precision(case):
    pytest.importorskip("polars")
    log = _ns_inputs()[case]()
    ns = log.timestamp.view(np.int64) if log.timestamp.dtype.kind == "M" else log.timestamp
    # 100 ns apart: two distinct events, in time order (ad first), no tie
    assert ns.tolist() == sorted(NS.tolist())
    assert [list(p) for p in log.paths()] == [["ad", "buy"]]
    assert log.validation.n_ties == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_ok_csv_nanosecond_integers_keep_int64_precision(tmp_path, engine):
    p = _write(tmp_path, H + f"1,buy,{NS[0]}\n1,ad,{NS[1]}\n")
    log = tp.read_csv(p, engine=engine)
    assert log.timestamp.dtype == np.int64
    assert log.timestamp.tolist() == sorted(NS.tolist())
    assert [list(p) for p in log.paths()] == [["ad", "buy"]]


# ---------------------------------------------------------------------------------
# ids that collide: different values printing the same are refused; distinct
# non-finite or huge numeric ids stay distinct journeys
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["journey", "touchpoint"])
@pytest.mark.parametrize("kind", ["arrays", "records", "pandas"])
def test_error_ids_that_print_the_same(role, kind):
    ids = np.array([1, "1"], dtype=object)
    j = ids if role == "journey" else np.array(["a", "a"], dtype=object)
    t = ids if role == "touchpoint" else np.array(["x", "y"], dtype=object)
    pattern = r"1 \(row 0\) and '1' \(row 1\) are different values that print the same"
    recs = [{"j": a, "t": b, "ts": float(i)} for i, (a, b) in enumerate(zip(j, t, strict=True))]

    def build():
        if kind == "arrays":
            return tp.EventLog.from_arrays(j, t, [1.0, 2.0])
        return _build(kind, recs, journey="j", touchpoint="t", time="ts")

    with pytest.raises(tp.ValidationError, match=pattern):
        build()


NUMERIC_IDS = {
    "infinities": np.array([np.inf, -np.inf, 1.0]),
    "huge_floats": np.array([1e300, 1e301, 1.7976931348623157e308]),
    "beyond_int64": np.array([2**70, 2**70 + 1, 5], dtype=object),
    "int64_extremes": np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]),
}


@pytest.mark.parametrize("case", sorted(NUMERIC_IDS))
def test_ok_distinct_numeric_ids_stay_distinct_journeys(case):
    ids = NUMERIC_IDS[case]
    log = tp.EventLog.from_arrays(ids, ["x", "y", "z"], [1.0, 2.0, 3.0])
    assert log.n_journeys == 3
    assert sorted(log.journey_ids.tolist()) == sorted(ids.tolist())


def test_drop_nan_journey_ids_are_counted_not_merged():
    with pytest.warns(tp.DroppedRowsWarning):
        log = tp.EventLog.from_arrays(
            np.array([np.nan, np.nan, 1.0]), ["x", "y", "z"], [1.0, 2.0, 3.0], on_error="drop"
        )
    assert log.validation.counts == {"missing": 2}
    assert log.journey_ids.tolist() == [1.0]


def test_error_parquet_chunks_not_grouped_by_journey(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "g.parquet"
    table = {"journey_id": [1, 2, 1], "touchpoint": ["a", "b", "c"], "timestamp": [1.0, 2, 3]}
    pq.write_table(pa.table(table), p)
    with pytest.raises(tp.ValidationError, match=r"journey 1 reappears at row 2"):
        list(tp.read_parquet(p, chunksize=1))


# ---------------------------------------------------------------------------------
# constructors: values that must be refused or counted
# ---------------------------------------------------------------------------------
BAD_OUTCOMES = [math.inf, -math.inf, "1e400", "inf", "-inf", 1e308 * 10]


@pytest.mark.parametrize("kind", CONSTRUCTORS)
@pytest.mark.parametrize("bad", BAD_OUTCOMES, ids=repr)
def test_error_non_finite_outcome(kind, bad):
    first = "0" if isinstance(bad, str) else 0.0  # one type per column, as frames have
    recs = [dict(RECORD[0], o=first), dict(RECORD[1], o=bad)]
    with pytest.raises(tp.ValidationError, match=r"column 'o', row 1.*(inf|1e400)"):
        _build(kind, recs, journey="j", touchpoint="t", time="ts", outcome="o")


@pytest.mark.parametrize("bad", BAD_OUTCOMES, ids=repr)
def test_drop_non_finite_outcome_is_counted(bad):
    with pytest.warns(tp.DroppedRowsWarning):
        log = tp.EventLog.from_arrays(
            ["a", "b"],
            ["x", "y"],
            [1.0, 2.0],
            outcome=np.array([1, bad], dtype=object),
            on_error="drop",
        )
    assert log.validation.n_input == 2
    assert log.validation.n_kept == 1
    assert log.validation.counts["invalid_outcome"] == 1
    assert np.isfinite(log.value()).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_error_csv_outcome_overflow(tmp_path, engine):
    p = _write(tmp_path, H.strip() + ",rev\n1,ad,1,0\n1,buy,2,1e400\n")
    with pytest.raises(tp.ValidationError, match=r"column 'rev', row 1 \(file line 3\)"):
        tp.read_csv(p, engine=engine, outcome="rev")


# ---------------------------------------------------------------------------------
# CSV engines: BOM, blank lines, short rows, duplicate headers; engines agree
# ---------------------------------------------------------------------------------
GOOD_CSV = {
    "bom": "\ufeff" + H + "01,ad,1\n1,site,2\n",
    "blank_lines": H + "\n01,ad,1\n\n1,site,2\n",
    "trailing_blank_lines": H + "01,ad,1\n1,site,2\n\n\n",
    "crlf": (H + "01,ad,1\n1,site,2\n").replace("\n", "\r\n"),
    "bom_crlf": "\ufeff" + (H + "01,ad,1\n1,site,2\n").replace("\n", "\r\n"),
    "quoted_header": '"journey_id","touchpoint","timestamp"\n01,ad,1\n1,site,2\n',
    "duplicate_unused_header": "journey_id,touchpoint,timestamp,x,x\n01,ad,1,a,b\n1,site,2,c,d\n",
    "multiline_quoted": H + '01,"ad",1\n1,"si\nte",2\n',
}
EXPECTED_GOOD = {
    "multiline_quoted": (["01", "1"], [["ad"], ["si\nte"]], [1.0, 2.0]),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(GOOD_CSV))
def test_ok_csv_engines_agree(tmp_path, engine, case):
    p = _write(tmp_path, GOOD_CSV[case])
    expected = EXPECTED_GOOD.get(case, (["01", "1"], [["ad"], ["site"]], [1.0, 2.0]))
    assert _summary(tp.read_csv(p, engine=engine)) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_ok_csv_bom_gzip(tmp_path, engine):
    p = tmp_path / "e.csv.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(("\ufeff" + H + "01,ad,1\n1,site,2\n").encode())
    assert _summary(tp.read_csv(p, engine=engine))[0] == ["01", "1"]


@pytest.mark.parametrize("engine", ENGINES)
def test_ok_csv_bom_semicolon(tmp_path, engine):
    p = _write(tmp_path, "\ufeffjourney_id;touchpoint;timestamp\n01;ad;1\n1;site;2\n")
    assert _summary(tp.read_csv(p, engine=engine, delimiter=";"))[0] == ["01", "1"]


BAD_CSV = {
    # case: (text, regex naming the file line)
    "short_row": (H + "01,ad\n1,site,2\n", r"line 2: expected 3 fields"),
    "long_row": (H + "01,ad,1\n1,site,2,9\n", r"line 3: expected 3 fields"),
    "whitespace_line": (H + "01,ad,1\n   \n1,site,2\n", r"line 3: expected 3 fields"),
    "short_after_blank": (H + "\n\n01,ad\n", r"line 4: expected 3 fields"),
    "short_after_multiline": (H + '01,"a\nd",1\n1,site\n', r"line 4: expected 3 fields"),
    "bad_time_after_blank": (H + "\n\n01,ad,1\n1,site,xx\n", r"row 1 \(file line 5\)"),
    "bad_time_after_multiline": (H + '01,"a\n\nd",1\n1,site,xx\n', r"row 1 \(file line 5\)"),
    "empty_id_after_blank": (H + "01,ad,1\n\n,site,2\n", r"row 1 \(file line 4\)"),
    "duplicate_role_header": (
        "journey_id,touchpoint,timestamp,touchpoint\n01,ad,1,zz\n",
        r"column 'touchpoint' appears 2 times",
    ),
    "duplicate_time_header": (
        "timestamp,journey_id,touchpoint,timestamp\n1,01,ad,1\n",
        r"column 'timestamp' appears 2 times",
    ),
    "empty_file": ("", r"is empty"),
    "bom_only": ("\ufeff", r"is empty"),
    "semicolons_without_delimiter": (
        "journey_id;touchpoint;timestamp\n1;ad;1\n",
        r"unknown column 'journey_id'.*delimiter",
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_error_csv_engines_agree(tmp_path, engine, case):
    text, pattern = BAD_CSV[case]
    p = _write(tmp_path, text)
    with pytest.raises(tp.ValidationError, match=pattern):
        tp.read_csv(p, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_error_csv_not_utf8(tmp_path, engine):
    p = tmp_path / "e.csv"
    p.write_bytes((H + "1,caf\xe9,1\n").encode("latin-1"))
    with pytest.raises(tp.ValidationError, match=r"UTF-8"):
        tp.read_csv(p, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_drop_csv_bad_rows_counted_with_lines(tmp_path, engine):
    p = _write(tmp_path, H + "1,ad,1\n\n1,,2\n2,ad,zz\n2,site,3\n")
    with pytest.warns(tp.DroppedRowsWarning, match=r"file line 4"):
        log = tp.read_csv(p, engine=engine, on_error="drop")
    assert log.validation.n_input == 4
    assert log.validation.n_kept == 2
    assert log.validation.counts == {"empty_string": 1, "unparseable_time": 1}


@pytest.mark.parametrize("engine", ["python", "pyarrow"])
def test_error_chunked_csv_not_grouped_by_journey(tmp_path, engine):
    rows = "".join(f"{j},ad,{i}\n" for i, j in enumerate(["a", "a", "b", "b", "a", "c"]))
    p = _write(tmp_path, H + rows)
    with pytest.raises(tp.ValidationError, match=r"'a'.*(grouped|reappears)"):
        list(tp.read_csv(p, engine=engine, chunksize=2))


@pytest.mark.parametrize("engine", ["python", "pyarrow"])
def test_ok_chunked_csv_grouped(tmp_path, engine):
    rows = "".join(f"{j},ad,{i}\n" for i, j in enumerate(["a", "a", "b", "b", "b", "c"]))
    p = _write(tmp_path, H + rows)
    logs = list(tp.read_csv(p, engine=engine, chunksize=2))
    assert sum(lg.n_journeys for lg in logs) == 3
    assert sum(lg.n_events for lg in logs) == 6


# ---------------------------------------------------------------------------------
# missing segment values are a "(missing)" group, never silently dropped
# ---------------------------------------------------------------------------------
SEGMENTS = {
    "object_none": np.array(["u", None, "v", "u"], dtype=object),
    "float_nan": np.array([1.0, np.nan, 2.0, 1.0]),
    "object_nan": np.array(["u", np.nan, "v", "u"], dtype=object),
}


def _segment_log(seg):
    return tp.EventLog.from_arrays(
        ["a", "b", "c", "d"], ["x", "x", "x", "y"], [1.0, 2.0, 3.0, 4.0], extra={"seg": seg}
    )


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_split_counts_missing_segment(case):
    parts = _segment_log(SEGMENTS[case]).split("seg")
    assert sum(p.n_journeys for p in parts.values()) == 4
    assert "(missing)" in parts
    assert parts["(missing)"].journey_ids.tolist() == ["b"]


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_funnel_by_counts_missing_segment(case):
    f = tp.funnel(_segment_log(SEGMENTS[case]), ["x"], by="seg")
    text = f.to_text()
    assert "(missing)" in text
    assert f.steps[0].entered == 4
    assert f.segments["(missing)"].steps[0].entered == 1  # journey b, counted in its group
    assert sum(s.steps[0].entered for s in f.segments.values()) == 4


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_breakdown_counts_missing_segment(case):
    seg = SEGMENTS[case]
    answers = tp.Table.from_records(
        [{"seg": s, "nps": v} for s, v in zip(seg.tolist(), [10, 0, 9, 7], strict=True)]
    )
    table = tp.breakdown(answers, "nps", by="seg")
    groups = [str(g) for g in table.to_dict()["group"].tolist()]
    assert "(missing)" in groups
    n = table.to_dict()["n"]
    assert int(np.sum(n)) == 4


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_drop_dropoffs_by_counts_missing_segment(case):
    seg = np.repeat(SEGMENTS[case], 30)  # 120 journeys, 30 of them without a segment
    n = len(seg)
    converts = np.arange(n) % 3 > 0
    j = np.repeat(np.arange(n), 2)
    t = np.array([["x", "y" if c else "z"] for c in converts]).ravel()
    log = tp.EventLog.from_arrays(j, t, np.tile([1.0, 2.0], n), extra={"seg": np.repeat(seg, 2)})
    res = tp.detect_dropoffs(log, ["x", "y"], by="seg", period=None, min_count=5, horizon=None)
    rows = {r["group"]: r for r in res.tests.to_records()}
    assert "(missing)" in rows
    assert rows["(missing)"]["entered"] == 30
    assert sum(r["entered"] for r in rows.values()) == n


# ---------------------------------------------------------------------------------
# conformance
# ---------------------------------------------------------------------------------
def _design(*names, edges=()):
    j = tp.Journey()
    for n in names:
        j.add_touchpoint(n)
    for a, b in edges:
        j.add_transition(a, b)
    return j


def test_ok_conformance_unknown_touchpoints_do_not_conform():
    log = tp.EventLog.from_arrays(["a", "b", "b"], ["zz", "p", "q"], [1.0, 1.0, 2.0])
    c = _conformance(log, _design("p", "q", edges=[("p", "q")]))
    assert c.n_journeys == 2
    assert c.conforming_journeys == 1


def test_ok_conformance_only_unknown_touchpoints():
    log = tp.EventLog.from_arrays(["a", "a", "b"], ["zz", "yy", "zz"], [1.0, 2.0, 1.0])
    c = _conformance(log, _design("p", "q", edges=[("p", "q")]))
    assert c.conforming_journeys == 0


@pytest.mark.parametrize("args", ["log_log", "design_design", "log_dict"])
def test_error_conformance_wrong_arguments(args):
    log = _arrays()
    design = _design("x", "y", edges=[("x", "y")])
    a, b = {"log_log": (log, log), "design_design": (design, design), "log_dict": (log, {})}[args]
    with pytest.raises(TypeError, match=r"needs a(n EventLog| designed Journey).*\(got"):
        tp.conformance(a, b)


def test_ok_conformance_old_argument_order_warns():
    log = _arrays()
    design = _design("x", "y", edges=[("x", "y")])
    with pytest.warns(DeprecationWarning, match="log comes first"):
        old = tp.conformance(design, log)
    assert old == tp.conformance(log, design)


# ---------------------------------------------------------------------------------
# Journey JSON: content is never taken for a path; malformed documents refused
# ---------------------------------------------------------------------------------
GOOD_DOC = {
    "format": "touchpoint.journey/1",
    "stages": [{"name": "s", "order": 0}],
    "touchpoints": [{"name": "a", "stage": "s"}, {"name": "b", "stage": "s"}],
    "transitions": [{"source": "a", "target": "b", "count": 3}],
}


def _doc(**changes):
    d = json.loads(json.dumps(GOOD_DOC))
    for path, value in changes.items():
        section, _, field = path.partition("__")
        d[section][0][field] = value
    return d


def test_error_from_json_never_opens_a_path(tmp_path):
    target = tmp_path / "other.json"
    target.write_text(json.dumps(GOOD_DOC))
    with pytest.raises(tp.ValidationError, match=r"not valid JSON.*read_journey"):
        tp.Journey.from_json(str(target))


def test_error_json_document_holding_a_path(tmp_path):
    target = tmp_path / "other.json"
    target.write_text(json.dumps(GOOD_DOC))
    holder = tmp_path / "holder.json"
    holder.write_text(json.dumps(str(target)))
    with pytest.raises(tp.ValidationError, match=r"JSON object"):
        tp.read_journey(holder)


def test_ok_read_journey_and_pathlike(tmp_path):
    p = tmp_path / "j.json"
    p.write_text(json.dumps(GOOD_DOC))
    assert tp.read_journey(p).probability("a", "b") == 1.0
    assert tp.Journey.from_json(json.dumps(GOOD_DOC)).probability("a", "b") == 1.0


BAD_JSON_TEXT = {
    "deep_list": "[" * 100_000 + "]" * 100_000,
    "deep_object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "nan_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": NaN'),
    "inf_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": Infinity'),
    "huge_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": 1e400'),
    "float_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": 2.5'),
    "negative_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": -1'),
    "text_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": "3"'),
    "bool_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": true'),
    "text_stage_order": json.dumps(_doc(stages__order="first")),
    "nan_stage_order": json.dumps(GOOD_DOC).replace('"order": 0', '"order": NaN'),
    "list_top": "[1, 2]",
    "string_top": '"hello"',
    "number_top": "3",
    "null_top": "null",
    "touchpoints_not_list": json.dumps(dict(GOOD_DOC, touchpoints={"a": 1})),
    "touchpoint_not_object": json.dumps(dict(GOOD_DOC, touchpoints=["a"])),
    "touchpoint_name_number": json.dumps(dict(GOOD_DOC, touchpoints=[{"name": 5}])),
    "transition_unknown": json.dumps(
        dict(GOOD_DOC, transitions=[{"source": "a", "target": "zz", "count": 1}])
    ),
    "transition_missing_target": json.dumps(dict(GOOD_DOC, transitions=[{"source": "a"}])),
    "wrong_format": json.dumps(dict(GOOD_DOC, format="other/2")),
    "truncated": json.dumps(GOOD_DOC)[:-5],
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(BAD_JSON_TEXT))
def test_error_malformed_journey_json(case):
    with pytest.raises(tp.TouchpointError, match=r"journey|JSON"):
        tp.Journey.from_json(BAD_JSON_TEXT[case])


def test_error_read_journey_directory(tmp_path):
    with pytest.raises(tp.ValidationError, match=r"directory|not a file"):
        tp.read_journey(tmp_path)


def test_error_read_journey_missing(tmp_path):
    with pytest.raises(tp.ValidationError, match=r"no such file"):
        tp.read_journey(tmp_path / "nope.json")


# ---------------------------------------------------------------------------------
# metrics: values that must be refused
# ---------------------------------------------------------------------------------
METRIC_ERRORS = [
    ("nps_scalar", lambda: tp.nps(4), r"`scores` must be"),
    ("nps_bools", lambda: tp.nps([True, False, True]), r"boolean"),
    ("nps_bool_array", lambda: tp.nps(np.array([True, False])), r"boolean"),
    ("csat_bools", lambda: tp.csat([True, True]), r"boolean"),
    ("ces_bools", lambda: tp.ces([True, False], scale=(1, 7)), r"boolean"),
    ("nps_nan_scale", lambda: tp.nps([1, 2, 11], scale=(0, math.nan)), r"`scale` must be"),
    ("nps_inf_scale", lambda: tp.nps([1, 2], scale=(0, math.inf)), r"`scale` must be"),
    ("nps_reversed_scale", lambda: tp.nps([1, 2], scale=(10, 0)), r"`scale` must be"),
    ("csat_nan_scale", lambda: tp.csat([1, 2, 11], scale=(1, math.nan)), r"`scale` must be"),
    ("ces_nan_scale", lambda: tp.ces([1, 2], scale=(math.nan, 7)), r"`scale` must be"),
    ("nps_nan_band", lambda: tp.nps([1, 2], promoters=(math.nan, 10)), r"`promoters` must be"),
    ("csat_nan_band", lambda: tp.csat([1, 2], satisfied=(4, math.nan)), r"`satisfied` must be"),
    ("nps_inf_answer", lambda: tp.nps([9, math.inf]), r"position 1"),
    ("nps_text_answers", lambda: tp.nps(["nine", "ten"]), r"`scores`"),
    ("nps_2d", lambda: tp.nps([[9, 10], [1, 2]]), r"one-dimensional"),
    ("nps_dict", lambda: tp.nps({"a": 9}), r"`scores` must be"),
    ("nps_none", lambda: tp.nps(None), r"`scores` must be"),
    ("nps_weight_nan", lambda: tp.nps([9, 10], weights=[1, math.nan]), r"position 1"),
    ("nps_weight_bool", lambda: tp.nps([9, 10], weights=[True, False]), r"`weights`"),
    ("nps_weight_len", lambda: tp.nps([9, 10], weights=[1.0]), r"`weights`"),
    (
        "nps_ci_level_nan",
        lambda: tp.nps([9, 10, 3]).confidence_interval(math.nan),
        r"`confidence_level` must be",
    ),
    (
        "nps_ci_level_5",
        lambda: tp.nps([9, 10, 3]).confidence_interval(5),
        r"`confidence_level` must be",
    ),
    (
        "nps_ci_level_bool",
        lambda: tp.nps([9, 10, 3]).confidence_interval(True),
        r"`confidence_level` must be",
    ),
    (
        "nps_ci_method",
        lambda: tp.nps([9, 10, 3]).confidence_interval(method="wild"),
        r"`method` must be",
    ),
    ("ces_version", lambda: tp.ces([1, 2], scale=(1, 7), version=3), r"`version` must be"),
    (
        "csat_ci_method",
        lambda: tp.csat([4, 5]).confidence_interval(method="x"),
        r"`method` must be",
    ),
    ("compare_nps_method", lambda: tp.compare_nps([9, 1], [9, 9], method="x"), r"`method` must be"),
    ("compare_nps_scalar", lambda: tp.compare_nps(4, [9, 9]), r"`(a|scores)` must be"),
    ("compare_nps_bools", lambda: tp.compare_nps([True], [9, 9]), r"boolean"),
    ("compare_nps_paired_len", lambda: tp.compare_nps([9, 1], [9], paired=True), r"paired|length"),
    (
        "significant_alpha",
        lambda: tp.compare_nps([9, 1, 5], [9, 9, 10]).significant(math.nan),
        r"`alpha` must be",
    ),
    (
        "breakdown_metric",
        lambda: tp.breakdown(tp.Table.from_records([{"touchpoint": "a", "nps": 9}]), "zz"),
        r"`metric` must be",
    ),
    (
        "breakdown_alpha",
        lambda: tp.breakdown(
            tp.Table.from_records([{"touchpoint": "a", "nps": 9}]), "nps", alpha=2
        ),
        r"`alpha` must be",
    ),
]


@pytest.mark.parametrize(
    ("case", "fn", "pattern"), METRIC_ERRORS, ids=[c[0] for c in METRIC_ERRORS]
)
def test_error_metric_inputs(case, fn, pattern):
    with pytest.raises((tp.TouchpointError, TypeError, ValueError), match=pattern) as info:
        fn()
    assert isinstance(info.value, tp.TouchpointError), type(info.value)


def test_drop_nps_missing_answers_are_counted():
    r = tp.nps([9, math.nan, 10, 3])
    assert r.n == 3
    assert r.n_missing == 1


# ---------------------------------------------------------------------------------
# numerics: estimates inside their own interval; probabilities in [0, 1]
# ---------------------------------------------------------------------------------
rng_cases = np.random.default_rng(11)
WEIGHTED = [
    (rng_cases.integers(0, 11, n).tolist(), rng_cases.uniform(0.01, 50, n).tolist())
    for n in (2, 3, 5, 8, 13, 40)
] + [([10, 10], [1.0, 1e6]), ([0, 10], [1e-6, 1.0]), ([0, 0, 10], [1.0, 1.0, 1e5])]


@pytest.mark.parametrize(("scores", "weights"), WEIGHTED)
def test_ok_weighted_nps_inside_its_interval(scores, weights):
    r = tp.nps(scores, weights=weights)
    for method in ("adjusted_wald", "wald"):
        lo, hi = r.confidence_interval(method=method)
        assert -100 <= lo <= r.score <= hi <= 100, (method, lo, r.score, hi)


TWO_SAMPLE = [
    ([10, 10], [0, 0]),
    ([10], [0]),
    ([10, 10, 10], [10, 10, 10]),
    ([0, 0, 0, 10], [10, 10, 10, 10, 10, 10]),
    ([9, 10], [0, 1, 2, 3, 4, 5, 6]),
]


@pytest.mark.parametrize(("a", "b"), TWO_SAMPLE)
@pytest.mark.parametrize("method", ["adjusted_wald", "wald"])
def test_ok_two_sample_nps_inside_its_interval(a, b, method):
    c = tp.compare_nps(a, b, method=method)
    lo, hi = c.confidence_interval()
    assert -200 <= lo <= c.difference <= hi <= 200, (lo, c.difference, hi)


def test_ok_million_event_journey_probability_at_most_one():
    n = 1_000_000
    tps = np.where(np.arange(n) % 2 == 0, "a", "b").astype(object)
    log = tp.EventLog.from_arrays(
        np.zeros(n, dtype=np.int64),
        tps,
        np.arange(n, dtype=float),
        outcome=np.r_[np.zeros(n - 1), 1.0],
    )
    m = tp.fit_markov(log)
    for s in (None, "a", "b"):
        p = m.conversion_probability(s)
        assert 0.0 <= p <= 1.0
        assert p == pytest.approx(1.0, abs=1e-9)  # the only journey converts


# ---------------------------------------------------------------------------------
# Markov: model state names, what_if, simulate
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["(start)", "(null)", "(conversion)"])
@pytest.mark.parametrize("fn", ["count_transitions", "fit_markov", "attribution"])
def test_error_touchpoint_named_like_a_model_state(name, fn):
    log = tp.EventLog.from_arrays(["a", "a"], [name, "x"], [1.0, 2.0], outcome=[0, 1])
    with pytest.raises(tp.ValidationError, match=re_escape(name) + r".*(state|reserved)"):
        getattr(tp, fn)(log)


def re_escape(s):
    import re

    return re.escape(s)


def test_error_channel_named_like_a_model_state():
    log = tp.EventLog.from_arrays(
        ["a", "a"], ["x", "y"], [1.0, 2.0], outcome=[0, 1], extra={"channel": ["(null)", "c"]}
    )
    with pytest.raises(tp.ValidationError, match=r"\(null\)"):
        tp.fit_markov(log, states="channel")


def _model():
    return tp.fit_markov(_converting_log())


WHAT_IF_ERRORS = [
    ("above_one", {("x", "y"): 2.0}, r"`changes`.*\[-1, 1\].*2\.0"),
    ("below_minus_one", {("x", "y"): -1.5}, r"`changes`.*-1\.5"),
    ("nan", {("x", "y"): math.nan}, r"`changes`.*nan"),
    ("inf", {("x", "y"): math.inf}, r"`changes`.*inf"),
    ("bool", {("x", "y"): True}, r"`changes`.*True"),
    ("text", {("x", "y"): "0.5"}, r"`changes`.*'0\.5'"),
    ("unknown_state", {("x", "zz"): 0.5}, r"zz"),
    ("not_pair", {"x": 0.5}, r"`changes`"),
    ("from_absorbing", {("(conversion)", "x"): 0.5}, r"(conversion)"),
    ("trap", {("x", "x"): 1.0}, r"never reach"),
]


@pytest.mark.parametrize(
    ("case", "changes", "pattern"), WHAT_IF_ERRORS, ids=[c[0] for c in WHAT_IF_ERRORS]
)
def test_error_what_if(case, changes, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        _model().what_if(changes)


def test_ok_what_if_matches_dense_computation():
    m = _model()
    w = m.what_if({("x", "y"): 1.0})
    # from x the journey then always goes to y; y converts 3 of 3 times
    assert w.after >= w.before
    assert 0.0 <= w.after <= 1.0


SIMULATE_ERRORS = [
    ("n_zero", {"n": 0}, r"`n` must be"),
    ("n_bool", {"n": True}, r"`n` must be"),
    ("n_float", {"n": 2.5}, r"`n` must be"),
    ("n_nan", {"n": math.nan}, r"`n` must be"),
    ("max_steps_neg", {"n": 2, "max_steps": -1}, r"`max_steps` must be"),
    ("max_steps_zero", {"n": 2, "max_steps": 0}, r"`max_steps` must be"),
    ("max_steps_float", {"n": 2, "max_steps": 1.5}, r"`max_steps` must be"),
    ("seed_text", {"n": 2, "seed": "x"}, r"`seed` must be"),
    ("seed_negative", {"n": 2, "seed": -1}, r"`seed` must be"),
]


@pytest.mark.parametrize(
    ("case", "kw", "pattern"), SIMULATE_ERRORS, ids=[c[0] for c in SIMULATE_ERRORS]
)
def test_error_simulate(case, kw, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        _model().simulate(**kw)


def test_error_simulate_too_big():
    with pytest.raises(tp.TouchpointError, match=r"`n` must be an integer in \[1, 1e\+08\]"):
        _model().simulate(10**12)


def test_error_simulate_too_many_events_is_refused_before_any_work():
    m = _model()
    per = m.expected_steps() - 1  # events per journey
    tracemalloc.start()
    try:
        with pytest.raises(
            tp.ValidationError, match=r"`n` must be at most [\d,]+ journeys.*in batches"
        ):
            m.simulate(10**7)  # ~1.4e7 events: GBs if drawn
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # refused up front, nothing allocated per journey
    from touchpoint.markov._model import MAX_SIMULATED_EVENTS

    ok = int(MAX_SIMULATED_EVENTS / per) // 4
    sim = m.simulate(ok, seed=1)  # a quarter of the limit runs
    assert sim.n_journeys == ok


MARKOV_ERRORS = [
    ("order_zero", lambda lg: tp.fit_markov(lg, order=0), r"`order` must be"),
    ("order_bool", lambda lg: tp.fit_markov(lg, order=True), r"`order` must be"),
    ("order_float", lambda lg: tp.fit_markov(lg, order=1.5), r"`order` must be"),
    ("smoothing_nan", lambda lg: tp.fit_markov(lg, smoothing=math.nan), r"`smoothing` must be"),
    ("smoothing_neg", lambda lg: tp.fit_markov(lg, smoothing=-1), r"`smoothing` must be"),
    ("smoothing_inf", lambda lg: tp.fit_markov(lg, smoothing=math.inf), r"`smoothing` must be"),
    ("states_typo", lambda lg: tp.fit_markov(lg, states="touchpionts"), r"`states` must be"),
    ("select_heldout_nan", lambda lg: tp.select_order(lg, heldout=math.nan), r"`heldout` must be"),
    ("select_max_order_0", lambda lg: tp.select_order(lg, max_order=0), r"`max_order` must be"),
    (
        "cp_max_steps_neg",
        lambda lg: tp.fit_markov(lg).conversion_probability(max_steps=-1),
        r"`max_steps` must be",
    ),
    ("cp_unknown_state", lambda lg: tp.fit_markov(lg).conversion_probability("zz"), r"zz"),
    (
        "ci_level_nan",
        lambda lg: tp.fit_markov(lg).confidence_interval("x", "y", math.nan),
        r"`confidence_level` must be",
    ),
    (
        "compare_alpha",
        lambda lg: tp.compare_transitions(tp.fit_markov(lg), tp.fit_markov(lg), alpha=-1),
        r"`alpha` must be",
    ),
    (
        "without_unknown",
        lambda lg: tp.fit_markov(lg).conversion_probability_without(touchpoints=["zz"]),
        r"zz",
    ),
]


@pytest.mark.parametrize(
    ("case", "fn", "pattern"), MARKOV_ERRORS, ids=[c[0] for c in MARKOV_ERRORS]
)
def test_error_markov_inputs(case, fn, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        fn(_converting_log())


ATTRIBUTION_ERRORS = [
    ("model_typo", {"method": "markvo"}, r"`method` must be"),
    ("half_life_nan", {"method": "time_decay", "half_life": math.nan}, r"`half_life` must be"),
    ("half_life_neg", {"method": "time_decay", "half_life": -5}, r"`half_life` must be"),
    ("half_life_zero", {"method": "time_decay", "half_life": 0}, r"`half_life` must be"),
    ("half_life_inf", {"method": "time_decay", "half_life": math.inf}, r"`half_life` must be"),
    ("half_life_text", {"method": "time_decay", "half_life": "a week"}, r"`half_life` must be"),
    (
        "pos_nan",
        {"method": "position", "position_weights": (math.nan, 0.2)},
        r"`position_weights` must be",
    ),
    (
        "pos_neg",
        {"method": "position", "position_weights": (-0.1, 0.2)},
        r"`position_weights` must be",
    ),
    (
        "pos_sum",
        {"method": "position", "position_weights": (0.7, 0.7)},
        r"`position_weights` must be",
    ),
    (
        "pos_three",
        {"method": "position", "position_weights": (0.1, 0.1, 0.1)},
        r"`position_weights` must be",
    ),
    (
        "pos_bool",
        {"method": "position", "position_weights": (True, 0.1)},
        r"`position_weights` must be",
    ),
    ("order_zero", {"order": 0}, r"`order` must be"),
    ("states_typo", {"states": "touchpiont"}, r"`states` must be"),
    ("resamples_neg", {"n_resamples": -1}, r"`n_resamples` must be"),
    ("seed_float", {"n_resamples": 2, "seed": 1.5}, r"`seed` must be"),
]


def _kw(kw):
    """Use the vocabulary the installed version has (`n_resamples` or `n_bootstrap`)."""
    params = inspect.signature(tp.attribution).parameters
    if "n_resamples" in kw and "n_resamples" not in params:
        kw = dict(kw)
        kw["n_bootstrap"] = kw.pop("n_resamples")
    return kw


@pytest.mark.parametrize(
    ("case", "kw", "pattern"), ATTRIBUTION_ERRORS, ids=[c[0] for c in ATTRIBUTION_ERRORS]
)
def test_error_attribution_inputs(case, kw, pattern):
    kw = _kw(kw)
    if "n_bootstrap" in kw:
        pattern = pattern.replace("n_resamples", "n_bootstrap")
    with pytest.raises(tp.TouchpointError, match=pattern):
        tp.attribution(_converting_log(), **kw)


# ---------------------------------------------------------------------------------
# funnels, drop-offs, exploration
# ---------------------------------------------------------------------------------
FUNNEL_ERRORS = [
    ("exclude_typo", lambda lg: tp.funnel(lg, ["x", "y"], exclude=["zz"]), r"`exclude`.*'zz'"),
    ("exclude_close_typo", lambda lg: tp.funnel(lg, ["x", "y"], exclude=["zx"]), r"`exclude`"),
    ("exclude_string", lambda lg: tp.funnel(lg, ["x", "y"], exclude="zz"), r"`exclude`.*'zz'"),
    ("step_unknown", lambda lg: tp.funnel(lg, ["x", "qq"]), r"qq"),
    ("steps_empty", lambda lg: tp.funnel(lg, []), r"`steps` must be"),
    ("window_nan", lambda lg: tp.funnel(lg, ["x", "y"], window=math.nan), r"`window` must be"),
    ("window_neg", lambda lg: tp.funnel(lg, ["x", "y"], window=-1), r"`window` must be"),
    ("window_inf", lambda lg: tp.funnel(lg, ["x", "y"], window=math.inf), r"`window` must be"),
    (
        "window_nat",
        lambda lg: tp.funnel(lg, ["x", "y"], window=np.timedelta64("NaT")),
        r"`window` must be",
    ),
    ("mode_typo", lambda lg: tp.funnel(lg, ["x", "y"], mode="strcit"), r"`mode` must be"),
    ("count_typo", lambda lg: tp.funnel(lg, ["x", "y"], count="people"), r"`count` must be"),
    (
        "optional_unknown",
        lambda lg: tp.funnel(lg, ["x", "y"], optional=["zz"]),
        r"`optional`.*'zz'",
    ),
    ("by_unknown", lambda lg: tp.funnel(lg, ["x", "y"], by="zz"), r"zz"),
    (
        "dropoffs_alpha_nan",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], alpha=math.nan),
        r"`alpha` must be",
    ),
    (
        "dropoffs_period_nan",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], period=math.nan),
        r"`period` must be",
    ),
    (
        "dropoffs_period_neg",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], period=-1.0),
        r"`period` must be",
    ),
    (
        "dropoffs_min_count",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], min_count=-1),
        r"`min_count` must be",
    ),
    ("dropoffs_test", lambda lg: tp.detect_dropoffs(lg, ["x", "y"], test="t"), r"`test` must be"),
    (
        "dropoffs_exclude_typo",
        lambda lg: tp.detect_dropoffs(lg, ["x", "y"], exclude=["zz"]),
        r"`exclude`.*'zz'",
    ),
    ("next_depth_zero", lambda lg: tp.next_steps(lg, "x", depth=0), r"`depth` must be"),
    ("next_depth_nan", lambda lg: tp.next_steps(lg, "x", depth=math.nan), r"`depth` must be"),
    ("next_unknown", lambda lg: tp.next_steps(lg, "zz"), r"zz"),
    (
        "previous_occurrence",
        lambda lg: tp.previous_steps(lg, "y", occurrence="middle"),
        r"`occurrence` must be",
    ),
    ("exit_alpha", lambda lg: tp.exit_points(lg, alpha=2), r"`alpha` must be"),
    ("sessionize_nan", lambda lg: lg.sessionize(math.nan), r"`gap` must be"),
    ("sessionize_inf", lambda lg: lg.sessionize(math.inf), r"`gap` must be"),
    ("sessionize_zero", lambda lg: lg.sessionize(0), r"`gap` must be"),
    ("iter_chunks_zero", lambda lg: list(lg.iter_chunks(0)), r"`journeys` must be"),
    ("repeat_alpha", lambda lg: tp.repeat_rate(lg, "y", alpha=math.nan), r"`alpha` must be"),
    ("response_unknown", lambda lg: tp.response_times(lg, "x", "qq"), r"qq"),
]


@pytest.mark.parametrize(
    ("case", "fn", "pattern"), FUNNEL_ERRORS, ids=[c[0] for c in FUNNEL_ERRORS]
)
def test_error_funnel_inputs(case, fn, pattern):
    with pytest.raises(tp.TouchpointError, match=pattern):
        fn(_converting_log())


def _many_periods_log(n_journeys=2000, days=730):
    rng = np.random.default_rng(0)
    start = rng.uniform(0, days * 86400.0, n_journeys)
    jid = np.repeat(np.arange(n_journeys), 2)
    tps = np.tile(np.array(["x", "y"], dtype=object), n_journeys)
    times = np.repeat(start, 2) + np.tile([0.0, 60.0], n_journeys)
    keep = np.ones(2 * n_journeys, dtype=bool)
    keep[1::2] = rng.random(n_journeys) < 0.6
    return tp.EventLog.from_arrays(jid[keep], tps[keep], times[keep])


def test_ok_dropoffs_730_daily_periods_bounded_memory():
    log = _many_periods_log()
    tracemalloc.start()
    try:
        d = tp.detect_dropoffs(log, ["x", "y"], period=86400.0, min_count=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, peak
    assert isinstance(d, tp.DropOffs)


def test_error_dropoffs_tiny_period_refused():
    log = _many_periods_log(200)
    with pytest.raises(tp.ValidationError, match=r"`period`.*periods"):
        tp.detect_dropoffs(log, ["x", "y"], period=1e-3)


def test_error_journey_paths_bounded():
    j = _design(*[f"t{i}" for i in range(11)])
    for a, b in itertools.permutations(range(11), 2):
        j.add_transition(f"t{a}", f"t{b}")
    with pytest.raises(tp.ValidationError, match=r"paths|cutoff"):
        j.paths("t0", "t10")


def test_ok_journey_paths_with_cutoff():
    j = _design(*[f"t{i}" for i in range(11)])
    for a, b in itertools.permutations(range(11), 2):
        j.add_transition(f"t{a}", f"t{b}")
    paths = j.paths("t0", "t10", cutoff=2)
    assert len(paths) == 1 + 9  # direct, and through each of the 9 others


# ---------------------------------------------------------------------------------
# messages that point at the right place
# ---------------------------------------------------------------------------------
def test_ok_paths_with_separator_in_names_print_distinctly():
    log = tp.EventLog.from_arrays(["a", "b", "b"], ["x > y", "x", "y"], [1.0, 1.0, 2.0])
    paths = log.paths()
    shown = repr(paths)
    assert paths[0] != paths[1]
    lines = [ln for ln in shown.splitlines() if "x" in ln]
    assert len(set(lines)) == len(lines)


def test_ok_paths_separator_in_report_text():
    log = tp.EventLog.from_arrays(
        ["a", "b", "b"], ["x > y", "x", "y"], [1.0, 1.0, 2.0], outcome=[1, 0, 1]
    )
    from touchpoint.report import build_report

    text = build_report(log, figures=False).to_text()
    assert "'x > y'" in text or '"x > y"' in text


MATHTEXT_NAMES = [r"$\frac{a}{$", "$x$", "100$ off", r"a\$b", "$$", "^_{"]


@pytest.mark.parametrize("name", MATHTEXT_NAMES)
def test_ok_report_figures_with_mathtext_names(name):
    pytest.importorskip("matplotlib")
    log = tp.EventLog.from_arrays(
        ["a", "a", "b", "b"], [name, "y", name, "z"], [1.0, 2.0, 1.0, 2.0], outcome=[0, 1, 0, 0]
    )
    from touchpoint.report import build_report

    html = build_report(log, figures=True).to_html()
    assert "<svg" in html or "<img" in html


# ---------------------------------------------------------------------------------
# the CLI: one line on stderr, exit status 2, never a traceback
# ---------------------------------------------------------------------------------
#: A survey file whose third answer (row 2) starts on line 6: a blank line and a quoted
#: field spanning two lines come before it.
SURVEY_LINES = 'nps,touchpoint\n\n9,ad\n3,"b\nuy"\nx,ad\n'


def test_error_table_read_csv_duplicate_header(tmp_path):
    p = _write(tmp_path, "nps,touchpoint,nps\n9,ad,1\n", name="s.csv")
    with pytest.raises(tp.ValidationError, match=r"column 'nps' appears 2 times"):
        tp.Table.read_csv(p, numeric=["nps"])


def test_error_table_read_csv_names_the_file_line(tmp_path):
    p = _write(tmp_path, SURVEY_LINES, name="s.csv")
    with pytest.raises(tp.ValidationError, match=r"column 'nps', row 2 \(file line 6\): .*'x'"):
        tp.Table.read_csv(p, numeric=["nps"])


def _cli(*args, cwd):
    proc = subprocess.run(
        [sys.executable, "-m", "touchpoint", *map(str, args)],
        capture_output=True,
        check=False,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


CLI_ERRORS = {
    "top_negative": (["report", "ok.csv", "--top", "-1"], r"--top"),
    "top_zero": (["report", "ok.csv", "--top", "0"], r"--top"),
    "top_text": (["report", "ok.csv", "--top", "ten"], r"--top"),
    "missing_file": (["report", "nope.csv"], r"no such file"),
    "directory": (["report", "."], r"directory|not a file"),
    "journey_is_csv": (["report", "ok.csv", "--journey", "ok.csv"], r"JSON"),
    "journey_missing": (["report", "ok.csv", "--journey", "nope.json"], r"no such file"),
    "journey_directory": (["report", "ok.csv", "--journey", "."], r"directory|not a file"),
    "journey_deep": (["report", "ok.csv", "--journey", "deep.json"], r"JSON|journey"),
    "bad_column": (["report", "ok.csv", "--time-col", "zz"], r"unknown column 'zz'"),
    "extra_role": (["report", "ok.csv", "--extra", "touchpoint"], r"`extra`"),
    "html_unwritable": (["report", "ok.csv", "--html", "nodir/x.html"], r"nodir"),
    "bad_rows": (["report", "bad.csv"], r"file line 3"),
    "not_utf8": (["report", "latin.csv"], r"UTF-8"),
    "surveys_missing": (["report", "ok.csv", "--surveys", "nope.csv"], r"no such file"),
    "on_error_typo": (["report", "ok.csv", "--on-error", "ignore"], r"--on-error"),
    "unknown_flag": (["report", "ok.csv", "--frobnicate"], r"frobnicate"),
    "no_command": ([], r"command"),
    "survey_duplicate_header": (
        ["report", "ok.csv", "--surveys", "dup_survey.csv"],
        r"column 'nps' appears 2 times in the header \(fields 1, 3\)",
    ),
    "survey_text_after_blank_and_multiline": (
        ["report", "ok.csv", "--surveys", "lines_survey.csv"],
        r"'lines_survey.csv', column 'nps', row 2 \(file line 6\): not a number 'x'",
    ),
}


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "ok.csv").write_text(H + "1,ad,1\n1,buy,2\n2,ad,3\n")
    (d / "bad.csv").write_text(H + "1,ad,1\n1,buy,xx\n")
    (d / "latin.csv").write_bytes((H + "1,caf\xe9,1\n").encode("latin-1"))
    (d / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (d / "bom_survey.csv").write_bytes("\ufeffnps,touchpoint\n9,ad\n10,ad\n3,buy\n".encode())
    (d / "badsurvey.csv").write_text("nps,touchpoint\n9,ad\n99,ad\n")
    (d / "lines_survey.csv").write_text(SURVEY_LINES)
    (d / "dup_survey.csv").write_text("nps,touchpoint,nps\n9,ad,1\n10,ad,2\n")
    return d


@pytest.mark.parametrize("case", sorted(CLI_ERRORS))
def test_error_cli_user_errors(cli_dir, monkeypatch, capsys, case):
    from touchpoint.cli import main

    args, pattern = CLI_ERRORS[case]
    monkeypatch.chdir(cli_dir)
    rc = main(args)
    _, err = capsys.readouterr()
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err  # one line, no usage text
    assert lines[0].startswith("touchpoint: error: ")
    import re

    assert re.search(pattern, err), err


def test_error_cli_subprocess_has_no_traceback(cli_dir):
    rc, _, err = _cli("report", "bad.csv", "--top", "3", cwd=cli_dir)
    assert rc == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "file line 3" in err


def test_ok_cli_bad_survey_answer_is_reported(cli_dir, monkeypatch, capsys):
    from touchpoint.cli import main

    monkeypatch.chdir(cli_dir)
    assert main(["report", "ok.csv", "--surveys", "badsurvey.csv"]) == 0
    out, _ = capsys.readouterr()
    assert "NPS: not computed (`scores` at position 1: 99.0 is outside the scale 0-10.)" in out


def test_ok_cli_survey_file_with_bom(cli_dir, monkeypatch, capsys):
    from touchpoint.cli import main

    monkeypatch.chdir(cli_dir)
    assert main(["report", "ok.csv", "--surveys", "bom_survey.csv"]) == 0
    out, _ = capsys.readouterr()
    assert "NPS" in out


# ---------------------------------------------------------------------------------
# Dask: preconditions checked, errors name the original index
# ---------------------------------------------------------------------------------
def _dask_frame(npartitions=2):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    df = pd.DataFrame(
        {
            "id": ["a", "b", "a", "b", "c", "a"],
            "tp": ["x", "x", "y", "y", "x", "z"],
            "t": [1.0, 1.0, 2.0, 2.0, 1.0, 3.0],
        },
        index=[100, 101, 102, 103, 104, 105],
    )
    return df, dd.from_pandas(df, npartitions=npartitions, sort=False)


def test_error_dask_shuffle_false_with_split_journeys():
    from touchpoint import dask as tpd

    _, ddf = _dask_frame()
    with pytest.raises(tp.ValidationError, match=r"journey.*(partition|shuffle)"):
        tpd.count_transitions(
            ddf, journey="id", touchpoint="tp", time="t", shuffle=False, scheduler="sync"
        )


def test_ok_dask_shuffle_auto_matches_memory():
    from touchpoint import dask as tpd

    df, ddf = _dask_frame()
    counts = tpd.count_transitions(ddf, journey="id", touchpoint="tp", time="t", scheduler="sync")
    local = tp.EventLog.from_frame(df, journey="id", touchpoint="tp", time="t")
    assert counts == tp.count_transitions(local)


def test_error_dask_names_original_index():
    from touchpoint import dask as tpd

    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    df = pd.DataFrame(
        {"id": ["a", "b", "c", "d"] * 3, "tp": ["x"] * 12, "t": [1.0] * 11 + [math.nan]},
        index=range(500, 512),
    )
    ddf = dd.from_pandas(df, npartitions=3)
    with pytest.raises(tp.ValidationError, match=r"index 511"):
        tpd.count_transitions(ddf, journey="id", touchpoint="tp", time="t", scheduler="sync")


SCORE_COLUMNS = {
    "booleans": ([True, False, True], r"column 'nps': a boolean .* is not a survey answer"),
    "text": (["9", "x", "10"], r"column 'nps': not a number 'x'"),
}


@pytest.mark.parametrize("case", sorted(SCORE_COLUMNS))
def test_error_dask_score_counts_refuses_non_answers(case):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from touchpoint import dask as tpd

    values, pattern = SCORE_COLUMNS[case]
    ddf = dd.from_pandas(pd.DataFrame({"nps": values}), npartitions=2)
    with pytest.raises(tp.ValidationError, match=pattern):
        tpd.score_counts(ddf, "nps", scheduler="sync")


def test_drop_dask_score_counts_missing_group_is_counted():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from touchpoint import dask as tpd

    df = pd.DataFrame({"nps": [9.0, np.nan, 9.0, 3.0, 10.0], "g": ["u", None, "u", np.nan, "v"]})
    tally = tpd.score_counts(dd.from_pandas(df, npartitions=2), "nps", by="g", scheduler="sync")
    assert set(tally) == {"u", "v", "(missing)"}
    assert sum(sum(t.values()) for t in tally.values()) == 5  # every answer counted once
    missing = tally["(missing)"]
    assert missing[3.0] == 1
    assert [int(v) for k, v in missing.items() if k != k] == [1]  # the NaN answer


# ---------------------------------------------------------------------------------
# the suite's own bookkeeping: at least 250 cases, each classified
# ---------------------------------------------------------------------------------
def test_suite_size_and_classes():
    """At least 250 collected cases, each named by its outcome: error, drop or ok."""
    import pathlib

    here = pathlib.Path(__file__)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", here],
        capture_output=True,
        text=True,
        check=True,
        cwd=here.parents[1],
    ).stdout
    cases = [line.split("::", 1)[1] for line in out.splitlines() if "::test_" in line]
    kinds = Counter(c.split("_")[1] for c in cases if not c.startswith("test_suite_"))
    assert set(kinds) == {"error", "drop", "ok"}, kinds
    assert sum(kinds.values()) >= 250, kinds
