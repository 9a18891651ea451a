"""Dataframe interop: pandas, polars and pyarrow in and out.

Each test needs only its own library (``pytest.importorskip``); ``make test``
installs all three. Expected values are written out by hand from the inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import touchpoint as tp

TIMES = ["2026-01-01T10:00", "2026-01-01T11:00", "2026-01-02T09:00", "2026-01-02T09:30"]


def _log() -> tp.EventLog:
    return tp.EventLog.from_arrays(
        ["a", "a", "b", "b"],
        ["ad", "buy", "ad", "site"],
        np.array(TIMES, dtype="datetime64[ns]"),
        outcome=[np.nan, 5.0, np.nan, np.nan],
        extra={"device": ["m", "m", "d", "d"], "visits": [1, 2, 1, 2]},
    )


def _same(a: tp.EventLog, b: tp.EventLog) -> None:
    assert list(a.paths()) == list(b.paths())
    assert a.journey_ids.tolist() == b.journey_ids.tolist()
    np.testing.assert_array_equal(a.timestamp, b.timestamp)
    assert a.outcome is not None and b.outcome is not None
    np.testing.assert_array_equal(a.outcome, b.outcome)
    for k in a.extra:
        assert a.extra[k].tolist() == b.extra[k].tolist(), k


def _drop(frame, **kw) -> tp.EventLog:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = tp.EventLog.from_frame(frame, on_error="drop", **kw)
    assert all(issubclass(w.category, tp.DroppedRowsWarning) for w in caught)
    assert len(caught) == (1 if log.validation.n_dropped else 0)
    return log


ROLES = {
    "journey": "journey",
    "touchpoint": "touchpoint",
    "time": "time",
    "outcome": "outcome",
    "extra": ("device", "visits"),
}


# ---------------------------------------------------------------- pandas
def test_pandas_round_trip():
    pd = pytest.importorskip("pandas")
    log = _log()
    df = log.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["journey", "touchpoint", "time", "outcome", "device", "visits"]
    assert df["time"].dtype == "datetime64[ns]"
    _same(log, tp.EventLog.from_frame(df, **ROLES))


def test_pandas_tz_aware_times_become_utc():
    pd = pytest.importorskip("pandas")
    local = pd.to_datetime(["2026-03-01 10:00", "2026-03-01 11:30"]).tz_localize("Europe/Warsaw")
    df = pd.DataFrame({"id": [1, 1], "tp": ["ad", "buy"], "t": local})
    log = tp.EventLog.from_frame(df, journey="id", touchpoint="tp", time="t")
    # Warsaw is UTC+1 in March (before the DST switch on the last Sunday)
    expected = np.array(["2026-03-01T09:00", "2026-03-01T10:30"], dtype="datetime64[ns]")
    np.testing.assert_array_equal(log.timestamp, expected)


def test_pandas_categoricals_and_nullable_dtypes():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "id": pd.array([7, 7, 8], dtype="Int64"),
            "tp": pd.Categorical(["ad", "buy", "ad"]),
            "t": [0.0, 1.0, 0.5],
            "seg": pd.array(["x", "x", "y"], dtype="string"),
        }
    )
    log = tp.EventLog.from_frame(df, journey="id", touchpoint="tp", time="t", extra=("seg",))
    assert list(log.paths()) == [("ad", "buy"), ("ad",)]
    assert log.journey_ids.tolist() == [7, 8]
    assert log.extra["seg"].tolist() == ["x", "x", "y"]


def test_pandas_nulls_are_counted_not_lost():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "id": ["a", None, "b", "b", "c"],
            "tp": pd.Categorical(["ad", "ad", None, "site", "ad"]),
            "t": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-02", "2026-01-02", None]),
        }
    )
    log = _drop(df, journey="id", touchpoint="tp", time="t")
    assert log.validation.n_input == 5
    assert log.validation.n_kept == 2
    assert log.validation.counts == {"missing": 3}
    assert list(log.paths()) == [("ad",), ("site",)]


def test_pandas_table_round_trip():
    pytest.importorskip("pandas")
    t = tp.Table({"touchpoint": ["ad", "store"], "csat": [4.2, 3.9], "n": [10, 12]})
    assert tp.Table.from_frame(t.to_frame()) == t


# ---------------------------------------------------------------- polars
def test_polars_round_trip():
    pl = pytest.importorskip("polars")
    log = _log()
    df = log.to_frame(backend="polars")
    assert isinstance(df, pl.DataFrame)
    assert df.schema["time"] == pl.Datetime("ns")
    _same(log, tp.EventLog.from_frame(df, **ROLES))


def test_polars_tz_categorical_enum_and_nulls():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {
            "id": ["a", "a", None, "b"],
            "tp": pl.Series(["ad", "buy", "ad", "ad"], dtype=pl.Categorical),
            "ch": pl.Series(["web", "web", "web", "app"], dtype=pl.Enum(["web", "app"])),
            "t": pl.Series(
                ["2026-07-01 12:00", "2026-07-01 13:00", "2026-07-01 12:00", "2026-07-02 08:00"]
            )
            .str.to_datetime()
            .dt.replace_time_zone("America/New_York"),
        }
    )
    log = _drop(df, journey="id", touchpoint="tp", time="t", extra=("ch",))
    assert log.validation.counts == {"missing": 1}
    # New York is UTC-4 in July
    expected = np.array(
        ["2026-07-01T16:00", "2026-07-01T17:00", "2026-07-02T12:00"], dtype="datetime64[ns]"
    )
    np.testing.assert_array_equal(log.timestamp, expected)
    assert log.extra["ch"].tolist() == ["web", "web", "app"]
    assert list(log.paths()) == [("ad", "buy"), ("ad",)]


def test_polars_null_times_and_touchpoints_counted():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"id": [1, 1, 2, 3], "tp": ["ad", None, "x", "y"], "t": [1.0, 2.0, None, 4]})
    log = _drop(df, journey="id", touchpoint="tp", time="t")
    assert log.validation.counts == {"missing": 2}
    assert log.journey_ids.tolist() == [1, 3]


def test_polars_table_round_trip():
    pytest.importorskip("polars")
    t = tp.Table({"touchpoint": ["ad", "store"], "csat": [4.2, 3.9], "n": [10, 12]})
    assert tp.Table.from_frame(t.to_frame(backend="polars")) == t


# ---------------------------------------------------------------- pyarrow
def test_pyarrow_round_trip():
    pa = pytest.importorskip("pyarrow")
    log = _log()
    table = log.to_frame(backend="pyarrow")
    assert isinstance(table, pa.Table)
    assert table.schema.field("time").type == pa.timestamp("ns")
    _same(log, tp.EventLog.from_frame(table, **ROLES))


def test_pyarrow_dictionary_tz_and_nulls():
    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {
            "id": pa.array(["a", "a", None, "b"]),
            "tp": pa.array(["ad", "buy", "ad", None]).dictionary_encode(),
            "t": pa.array([0, 60_000, 0, 0], pa.timestamp("ms", tz="Asia/Tokyo")),
            "rev": pa.array([None, 9.5, None, None]),
        }
    )
    log = _drop(table, journey="id", touchpoint="tp", time="t", outcome="rev")
    assert log.validation.counts == {"missing": 2}
    # arrow stores instants as UTC epoch offsets whatever the display zone
    np.testing.assert_array_equal(
        log.timestamp, np.array(["1970-01-01T00:00", "1970-01-01T00:01"], dtype="datetime64[ns]")
    )
    assert log.value().tolist() == [9.5]


def test_pyarrow_table_round_trip():
    pytest.importorskip("pyarrow")
    t = tp.Table({"touchpoint": ["ad", "store"], "csat": [4.2, 3.9], "n": [10, 12]})
    assert tp.Table.from_frame(t.to_frame(backend="pyarrow")) == t


# ------------------------------------------------------------- cross-library
def test_all_backends_give_the_same_log():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    data = {
        "id": ["c2", "c1", "c1", "c2", "c1"],
        "tp": ["ad", "site", "ad", "buy", "buy"],
        "t": [5.0, 2.0, 1.0, 6.0, 3.0],
    }
    logs = [
        tp.EventLog.from_frame(f, journey="id", touchpoint="tp", time="t")
        for f in (pd.DataFrame(data), pl.DataFrame(data), pa.table(data))
    ]
    records = tp.EventLog.from_records(
        [dict(zip(data, row)) for row in zip(*data.values())],
        journey="id",
        touchpoint="tp",
        time="t",
    )
    for log in logs:
        assert list(log.paths()) == list(records.paths()) == [("ad", "buy"), ("ad", "site", "buy")]
        np.testing.assert_array_equal(log.timestamp, records.timestamp)


def test_bad_backend_is_a_validation_error():
    with pytest.raises(tp.ValidationError, match="backend"):
        _log().to_frame(backend="excel")  # type: ignore[arg-type]
    with pytest.raises(tp.ValidationError, match="backend"):
        tp.Table({"a": [1]}).to_frame(backend="excel")  # type: ignore[arg-type]
