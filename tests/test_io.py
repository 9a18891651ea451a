"""Tests for read_csv: engines agree, compressed files, errors name the file line."""

import gzip

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.io import read_table_columns

CSV = (
    "customer,touchpoint,ts,revenue,device\n"
    "007,ad,2026-01-05T10:00:00,,mobile\n"
    "007,site,2026-01-05T10:05:00,,mobile\n"
    "007,checkout,2026-01-05T10:20:00,49.5,mobile\n"
    '"c,2",ad,2026-01-06T09:00:00,,"desk""top"\n'
    "c3,site,2026-01-07T12:00:00,0,desktop\n"
)
KW = {
    "journey": "customer",
    "touchpoint": "touchpoint",
    "time": "ts",
    "outcome": "revenue",
    "extra": ("device",),
}


def engines():
    out = ["python"]
    for mod, name in (("pyarrow", "pyarrow"), ("polars", "polars")):
        try:
            __import__(mod)
        except ImportError:
            continue
        out.append(name)
    return out


@pytest.mark.parametrize("engine", ["python", "pyarrow", "polars", "auto"])
def test_engines_give_identical_logs(tmp_path, engine):
    if engine in ("pyarrow", "polars"):
        pytest.importorskip(engine)
    p = tmp_path / "e.csv"
    p.write_text(CSV)
    ref = tp.read_csv(p, engine="python", **KW)
    log = tp.read_csv(p, engine=engine, **KW)
    assert log.journey_ids.tolist() == ["007", "c,2", "c3"] == ref.journey_ids.tolist()
    assert list(log.paths()) == list(ref.paths())
    assert np.array_equal(log.timestamp, ref.timestamp)
    np.testing.assert_array_equal(log.outcome, ref.outcome)
    assert log.extra["device"].tolist() == ref.extra["device"].tolist()
    assert 'desk"top' in log.extra["device"].tolist()


def test_gzip_and_stdlib_reader(tmp_path):
    p = tmp_path / "e.csv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write(CSV)
    log = tp.read_csv(p, engine="python", **KW)
    assert log.n_events == 5
    assert log.converted().tolist() == [True, False, False]
    cols = read_table_columns(p)
    assert list(cols) == ["customer", "touchpoint", "ts", "revenue", "device"]


@pytest.mark.parametrize("engine", ["python", "auto"])
def test_errors_name_file_line(tmp_path, engine):
    p = tmp_path / "e.csv"
    p.write_text(CSV.replace("2026-01-06T09:00:00", "06/01/2026"))
    with pytest.raises(
        tp.ValidationError,
        match=r"column 'ts', row 3 \(file line 5\): unparseable timestamp '06/01/2026'",
    ):
        tp.read_csv(p, engine=engine, **KW)


def test_structural_errors(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("a,b\n1,2,3\n")
    with pytest.raises(tp.ValidationError, match="line 2: expected 2 fields"):
        read_table_columns(p)
    p.write_text("")
    with pytest.raises(tp.ValidationError, match="is empty"):
        tp.read_csv(p, engine="python")
    with pytest.raises(tp.ValidationError, match="no such file"):
        tp.read_csv(tmp_path / "nope.csv")
    p.write_text(CSV)
    with pytest.raises(tp.ValidationError, match="unknown column 'journey_id'"):
        tp.read_csv(p)
    with pytest.raises(tp.ValidationError, match="`engine` must be"):
        tp.read_csv(p, engine="spark", **KW)
