"""Event-log constructors given hostile columns: extras named like a role, times outside
datetime64[ns], integer nanoseconds, ids that print alike, values to refuse or count.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

import touchpoint as tp
from bad_input import ENGINES, H, _write

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
# ids that collide: different values printing the same are refused; distinct non-finite or huge numeric ids stay distinct journeys
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
