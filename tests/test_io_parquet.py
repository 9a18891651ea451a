"""tp.read_parquet: same roles, validation and chunks as read_csv; the log from_frame gives."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import DroppedRowsWarning, ValidationError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ds = pytest.importorskip("pyarrow.dataset")
pd = pytest.importorskip("pandas")


def _events(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.integers(0, n // 5, n))  # grouped by journey
    names = np.array(["ad", "search", "site", "buy"], dtype=object)
    return pd.DataFrame(
        {
            "customer": np.array([f"c{i:03d}" for i in ids], dtype=object),
            "tp": names[rng.integers(0, 4, n)],
            "ts": pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.permutation(n) * 60, unit="s"),
            "revenue": np.where(rng.random(n) < 0.1, 20.0, np.nan),
            "channel": rng.choice(["web", "mail"], n),
            "unused": rng.random(n),
        }
    )


KW = {"journey": "customer", "touchpoint": "tp", "time": "ts", "outcome": "revenue"}


def _same(a: tp.EventLog, b: tp.EventLog) -> None:
    assert a.journey_ids.tolist() == b.journey_ids.tolist()
    assert a.touchpoint_names == b.touchpoint_names
    assert a.journey.tolist() == b.journey.tolist()
    assert a.touchpoint.tolist() == b.touchpoint.tolist()
    assert np.array_equal(a.timestamp, b.timestamp)
    assert np.array_equal(a.outcome, b.outcome, equal_nan=True)
    assert a.time_zone == b.time_zone
    assert {k: v.tolist() for k, v in a.extra.items()} == {
        k: v.tolist() for k, v in b.extra.items()
    }


def test_same_log_as_from_frame(tmp_path) -> None:
    df = _events()
    p = tmp_path / "e.parquet"
    df.to_parquet(p, row_group_size=57)
    log = tp.read_parquet(p, **KW, extra=("channel",))
    _same(log, tp.EventLog.from_frame(df, **KW, extra=("channel",)))
    # a directory of files and an opened dataset give the same log
    d = tmp_path / "parts"
    d.mkdir()
    df.iloc[:200].to_parquet(d / "a.parquet")
    df.iloc[200:].to_parquet(d / "b.parquet")
    _same(tp.read_parquet(d, **KW), tp.EventLog.from_frame(df, **KW))
    _same(tp.read_parquet(ds.dataset(d), **KW), tp.EventLog.from_frame(df, **KW))


def test_time_zones_and_integer_ids(tmp_path) -> None:
    df = _events().assign(
        customer=lambda f: f["customer"].str[1:].astype(np.int64),
        ts=lambda f: f["ts"].dt.tz_localize("America/New_York"),
    )
    p = tmp_path / "e.parquet"
    df.to_parquet(p)
    log = tp.read_parquet(p, **KW)
    assert log.time_zone == "America/New_York"
    assert log.journey_ids.dtype.kind == "i"
    _same(log, tp.EventLog.from_frame(df, **KW))


def test_chunks_never_split_a_journey(tmp_path) -> None:
    df = _events(n=1000)
    p = tmp_path / "e.parquet"
    df.to_parquet(p, row_group_size=100)
    whole = tp.read_parquet(p, **KW)
    chunks = list(tp.read_parquet(p, **KW, chunksize=64, progress=False))
    assert len(chunks) > 5
    assert sum(c.n_journeys for c in chunks) == whole.n_journeys
    assert sum(c.n_events for c in chunks) == whole.n_events
    assert sum(tp.count_transitions(c) for c in chunks) == tp.count_transitions(whole)


def test_a_journey_longer_than_a_chunk_stays_whole(tmp_path) -> None:
    df = pd.DataFrame({"customer": ["a"] * 50 + ["b"] * 3, "tp": ["x"] * 53, "ts": np.arange(53.0)})
    p = tmp_path / "e.parquet"
    df.to_parquet(p, row_group_size=10)
    sizes = [c.n_events for c in tp.read_parquet(p, **KW | {"outcome": None}, chunksize=8)]
    assert sizes == [50, 3]


def test_chunks_of_ungrouped_rows_raise_naming_the_journey(tmp_path) -> None:
    df = pd.DataFrame(
        {"customer": ["a", "a", "b", "b", "a"], "tp": ["x"] * 5, "ts": np.arange(5.0)}
    )
    p = tmp_path / "e.parquet"
    df.to_parquet(p, row_group_size=2)
    with pytest.raises(ValidationError, match=r"journey 'a' reappears at row 4"):
        list(tp.read_parquet(p, **KW | {"outcome": None}, chunksize=2))


def test_validation_names_column_row_and_value(tmp_path) -> None:
    t = np.array(["2026-01-01", "2026-01-02", "1500-01-01"], dtype="datetime64[us]")
    table = pa.table({"customer": ["a", "a", "b"], "tp": ["x", None, "y"], "ts": pa.array(t)})
    p = tmp_path / "e.parquet"
    pq.write_table(table, p)
    kw = KW | {"outcome": None}
    with pytest.raises(ValidationError, match=r"column 'tp', row 1: missing value"):
        tp.read_parquet(p, **kw)
    with pytest.warns(DroppedRowsWarning):
        log = tp.read_parquet(p, **kw, on_error="drop")
    assert log.validation.counts == {"missing": 1, "out_of_range_time": 1}


def test_bad_sources_and_columns(tmp_path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        tp.read_parquet(tmp_path / "nope.parquet")
    p = tmp_path / "e.parquet"
    _events().to_parquet(p)
    with pytest.raises(ValidationError, match=r"unknown column 'journey_id'.*'customer'"):
        tp.read_parquet(p)
    text = tmp_path / "e.txt"
    text.write_text("not parquet")
    with pytest.raises(ValidationError, match="not readable as Parquet"):
        tp.read_parquet(text, **KW)
    with pytest.raises(ValidationError, match=r"`chunksize` must be an integer >= 1"):
        tp.read_parquet(p, **KW, chunksize=0)
