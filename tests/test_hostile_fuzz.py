"""Fuzzing (issue 11): every CSV engine and every frame constructor agrees.

Hypothesis writes CSV files with quoted commas, quotes and line breaks inside
fields, empty fields, blank lines, a byte order mark, CRLF line ends and ragged
rows; the python, pyarrow and polars engines must give the same log or the same
kind of error. Frame constructors (records, pandas, polars, pyarrow) must give the
same log from the same rows.
"""

from __future__ import annotations

import csv
import io
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import touchpoint as tp
from touchpoint.exceptions import OutcomeLevelWarning

pytest.importorskip("pyarrow")
pytest.importorskip("polars")

ENGINES = ("python", "pyarrow", "polars")
FIELD = st.text(alphabet=st.sampled_from(list('ab1 ,"\n;é')), max_size=6)
TIME = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.sampled_from(["", "x", "2026-01-01T10:00:00", "nan", " 1"]),
)
ROW = st.tuples(FIELD, FIELD, TIME)


def _outcome(path, engine, **kw):
    try:
        log = tp.read_csv(path, engine=engine, on_error=kw.pop("on_error", "raise"), **kw)
    except tp.ValidationError as exc:
        return ("error", type(exc).__name__)
    return (
        "log",
        log.journey_ids.tolist(),
        [list(p) for p in log.paths()],
        log.timestamp.tolist(),
        dict(log.validation.counts),
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(ROW, max_size=8),
    blank_every=st.integers(0, 3),
    bom=st.booleans(),
    crlf=st.booleans(),
    ragged=st.integers(-1, 7),
    on_error=st.sampled_from(["raise", "drop"]),
)
def test_csv_engines_agree(tmp_path, rows, blank_every, bom, crlf, ragged, on_error):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(["journey_id", "touchpoint", "timestamp"])
    for i, r in enumerate(rows):
        w.writerow(r[:2] if i == ragged else r)  # one short row, sometimes
        if blank_every and i % blank_every == 0:
            buf.write("\r\n" if crlf else "\n")
    path = tmp_path / "f.csv"
    path.write_bytes((("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tp.DroppedRowsWarning)
        got = {e: _outcome(path, e, on_error=on_error) for e in ENGINES}
    assert got["pyarrow"] == got["python"], got
    assert got["polars"] == got["python"], got


ID = st.text(alphabet=st.sampled_from(list("ab01 ")), min_size=1, max_size=3)
TP = st.text(alphabet=st.sampled_from(list("xyz>$ ")), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(ID, TP, st.floats(-1e9, 1e9, allow_nan=False), st.sampled_from([0.0, 1.0, 2.5])),
        min_size=1,
        max_size=12,
    )
)
def test_frame_constructors_agree(rows):
    pd = pytest.importorskip("pandas")
    import polars as pl
    import pyarrow as pa

    recs = [{"j": j, "t": t, "ts": ts, "o": o} for j, t, ts, o in rows]
    kw = {"journey": "j", "touchpoint": "t", "time": "ts", "outcome": "o", "duplicates": "keep"}

    def summary(build):
        try:
            with warnings.catch_warnings():  # every constructor warns alike (tested elsewhere)
                warnings.simplefilter("ignore", OutcomeLevelWarning)
                log = build()
        except tp.ValidationError as exc:
            return ("error", type(exc).__name__, str(exc))
        return (
            log.journey_ids.tolist(),
            [list(p) for p in log.paths()],
            log.timestamp.tolist(),
            np.nan_to_num(log.outcome, nan=-1.0).tolist(),
        )

    df = pd.DataFrame(recs)
    ref = summary(lambda: tp.EventLog.from_records(recs, **kw))
    assert summary(lambda: tp.EventLog.from_frame(df, **kw)) == ref
    assert summary(lambda: tp.EventLog.from_frame(pl.from_pandas(df), **kw)) == ref
    assert summary(lambda: tp.EventLog.from_frame(pa.Table.from_pandas(df), **kw)) == ref
    cols = {"journey": "j", "touchpoint": "t", "time": "ts", "outcome": "o"}
    arrays = summary(
        lambda: tp.EventLog.from_arrays(
            df["j"].to_numpy(),
            df["t"].to_numpy(),
            df["ts"].to_numpy(),
            df["o"].to_numpy(),
            columns=cols,
            duplicates="keep",
        )
    )
    assert arrays == ref
