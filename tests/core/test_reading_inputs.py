"""Input classes a reader must answer right or refuse clearly (files, types, shapes).

Each test names the class of input it covers; the numbers in the docstrings are
the items of the third trust round (issue 19) they fix.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import touchpoint as tp
from touchpoint._lib.format import format_text
from touchpoint._lib.frames import format_path

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CSV = "journey_id,touchpoint,timestamp\n1,ad,1\n1,buy,2\n2,ad,3\n"
ENGINES = ["python", "pyarrow", "polars"]


# ---------------------------------------------------------------- files and paths
def test_missing_file_is_a_file_not_found_error(tmp_path) -> None:
    """21-11: a missing file raised ValidationError only."""
    for call in (
        lambda: tp.read_csv(tmp_path / "nope.csv"),
        lambda: tp.read_parquet(tmp_path / "nope.parquet"),
        lambda: tp.read_journey(tmp_path / "nope.json"),
    ):
        with pytest.raises(FileNotFoundError, match="no such file") as info:
            call()
        assert isinstance(info.value, tp.ValidationError)
        assert info.value.filename.endswith(("nope.csv", "nope.parquet", "nope.json"))


def test_bytes_path(tmp_path) -> None:
    """19-21: a bytes path crashed inside the reader."""
    p = tmp_path / "e.csv"
    p.write_text(CSV)
    assert tp.read_csv(os.fsencode(p), engine="python").n_events == 3


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("compressed", [False, True])
def test_a_pipe_is_read_once_not_hung_on(tmp_path, engine, compressed) -> None:
    """19-18: ``read_csv(<(zcat f.gz))`` hung with every engine (a FIFO reads once)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = gzip.compress(CSV.encode()) if compressed else CSV.encode()

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    log = tp.read_csv(fifo, engine=engine)
    writer.join(timeout=10)
    assert log.n_events == 3 and log.touchpoint_names == ("ad", "buy")


@pytest.mark.parametrize("engine", ENGINES)
def test_damaged_or_misnamed_gzip(tmp_path, engine) -> None:
    """19-21: a truncated .csv.gz and a .gz that is not gzip raised EOFError/BadGzipFile."""
    whole = gzip.compress((CSV * 200).encode())
    (tmp_path / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "plain.csv.gz").write_text(CSV)
    with pytest.raises(tp.ValidationError, match=r"cut\.csv\.gz.*(ended|end-of-stream)"):
        tp.read_csv(tmp_path / "cut.csv.gz", engine=engine)
    with pytest.raises(tp.ValidationError, match=r"plain\.csv\.gz' is named \.gz but is not gzip"):
        tp.read_csv(tmp_path / "plain.csv.gz", engine=engine)


def test_misspelt_csv_column_suggests_the_right_one(tmp_path) -> None:
    p = tmp_path / "e.csv"
    p.write_text(CSV)
    with pytest.raises(
        tp.ValidationError, match=r"unknown column 'journeyid'; did you mean 'journey_id'"
    ):
        tp.read_csv(p, journey="journeyid")


# -------------------------------------------------------------------- Parquet
def _parts(tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "journey_id": [1, 1],
                "touchpoint": ["ad", "buy"],
                "timestamp": [0.0, 1.0],
                "revenue": [0.0, 9.0],
            }
        ),
        folder / "a.parquet",
    )
    return folder


def test_parquet_file_lacking_the_outcome_column_is_refused_by_name(tmp_path) -> None:
    """19-1: the dataset was read as having no outcome; that file's conversions vanished."""
    folder = _parts(tmp_path)
    pq.write_table(
        pa.table({"journey_id": [2, 2], "touchpoint": ["ad", "buy"], "timestamp": [0.0, 1.0]}),
        folder / "b.parquet",
    )
    with pytest.raises(tp.ValidationError, match=r"b\.parquet' has no column 'revenue'"):
        tp.read_parquet(folder, outcome="revenue")
    # without the outcome column the files agree and both are read
    assert tp.read_parquet(folder).n_journeys == 2


def test_parquet_files_whose_schemas_differ_in_order_are_unified(tmp_path) -> None:
    folder = _parts(tmp_path)
    pq.write_table(
        pa.table(
            {
                "revenue": [5.0, 0.0],
                "timestamp": [0.0, 1.0],
                "touchpoint": ["buy", "ad"],
                "journey_id": [2, 2],
                "extra_col": ["x", "y"],
            }
        ),
        folder / "b.parquet",
    )
    log = tp.read_parquet(folder, outcome="revenue")
    assert log.value().tolist() == [9.0, 5.0]


def test_hive_partition_column(tmp_path) -> None:
    """19-22: a hive-partitioned dataset failed on its partition column."""
    for region, jid in (("eu", 1), ("us", 2)):
        part = tmp_path / "ds" / f"region={region}"
        part.mkdir(parents=True)
        pq.write_table(
            pa.table(
                {"journey_id": [jid, jid], "touchpoint": ["ad", "buy"], "timestamp": [0.0, 1.0]}
            ),
            part / "p.parquet",
        )
    log = tp.read_parquet(tmp_path / "ds", extra=["region"])
    assert sorted(log.journey_column("region").tolist()) == ["eu", "us"]


def test_parquet_binary_text_is_decoded(tmp_path) -> None:
    """19-3: binary string columns became names like "b'ad'"."""
    p = tmp_path / "b.parquet"
    pq.write_table(
        pa.table(
            {
                "journey_id": pa.array([b"j1", b"j1"], pa.binary()),
                "touchpoint": pa.array([b"ad", b"buy"], pa.binary()),
                "timestamp": [0.0, 1.0],
            }
        ),
        p,
    )
    log = tp.read_parquet(p)
    assert log.touchpoint_names == ("ad", "buy") and log.journey_ids.tolist() == ["j1"]
    log = tp.EventLog.from_arrays(np.array([b"x", b"x"]), np.array([b"ad", b"buy"]), [0.0, 1.0])
    assert log.touchpoint_names == ("ad", "buy") and log.journey_ids.tolist() == ["x"]
    with pytest.raises(tp.ValidationError, match=r"not UTF-8"):
        tp.EventLog.from_arrays([1], np.array([b"\xff"], dtype=object), [0.0])


def test_parquet_nested_columns_and_wrong_sources(tmp_path) -> None:
    """19-21/22: list columns raised raw Arrow errors; a frame was read as paths."""
    p = tmp_path / "n.parquet"
    pq.write_table(
        pa.table({"journey_id": [1], "touchpoint": [["ad", "buy"]], "timestamp": [0.0]}), p
    )
    with pytest.raises(tp.ValidationError, match=r"column 'touchpoint' holds list.*flatten"):
        tp.read_parquet(p)
    with pytest.raises(tp.ValidationError, match=r"got a DataFrame.*EventLog\.from_frame"):
        tp.read_parquet(pd.DataFrame({"a": [1]}))


# --------------------------------------------------------------------- frames
def test_polars_lazy_frame_is_collected() -> None:
    pl = pytest.importorskip("polars")
    lf = pl.LazyFrame({"id": [1, 1], "tp": ["ad", "buy"], "t": [0.0, 1.0], "x": [1, 2]})
    log = tp.EventLog.from_frame(lf, journey="id", touchpoint="tp", time="t")
    assert log.touchpoint_names == ("ad", "buy")


def test_pandas_duplicate_and_integer_column_labels() -> None:
    """19-21: two columns of one name, or integer labels, raised raw pandas errors."""
    df = pd.DataFrame([[1, "ad", 0.0, 1], [1, "buy", 1.0, 2]], columns=["id", "tp", "t", "tp"])
    with pytest.raises(tp.ValidationError, match=r"two columns named 'tp'"):
        tp.EventLog.from_frame(df, journey="id", touchpoint="tp", time="t")
    df = pd.DataFrame([[1, "ad", 0.0], [1, "buy", 1.0]])  # labels 0, 1, 2
    log = tp.EventLog.from_frame(df, journey="0", touchpoint="1", time="2")
    assert log.touchpoint_names == ("ad", "buy")


def test_decimal_outcomes_are_numbers() -> None:
    """19-22: Decimal outcomes (a Parquet decimal column) were "not a finite number"."""
    log = tp.EventLog.from_arrays(
        [1, 1], ["ad", "buy"], [0.0, 1.0], outcome=[None, decimal.Decimal("19.90")]
    )
    assert log.value().tolist() == [19.9]


# ------------------------------------------------------------------ journey files
def test_journey_json_shapes(tmp_path) -> None:
    """19-8/22: duplicate keys kept the last value; BOM files were refused; errors
    named neither the field nor the file, and advised read_journey to its caller."""
    doc = '{"format": "touchpoint.journey/1", "touchpoints": [{"name": "ad"}]}'
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + doc.encode())
    assert tp.read_journey(bom).touchpoints[0].name == "ad"
    dup = tmp_path / "dup.json"
    dup.write_text(
        '{"format": "touchpoint.journey/1", "touchpoints": [{"name": "a", "name": "b"}]}'
    )
    with pytest.raises(tp.ValidationError, match=r"dup\.json.*key 'name' is given twice"):
        tp.read_journey(dup)
    nan = tmp_path / "nan.json"
    nan.write_text(
        '{"format": "touchpoint.journey/1", "touchpoints": [{"name": "a"}, {"name": "b"}],'
        ' "transitions": [{"source": "a", "target": "b", "count": NaN}]}'
    )
    with pytest.raises(tp.ValidationError, match=r"nan\.json.*transitions\[0\]\.count is NaN"):
        tp.read_journey(nan)
    bad = tmp_path / "bad.json"
    bad.write_text("no json here")
    with pytest.raises(tp.ValidationError, match=r"bad\.json' is not valid JSON") as info:
        tp.read_journey(bad)
    assert "read_journey" not in str(info.value)


@pytest.mark.parametrize(
    "dtd",
    [
        '<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY a{i} "{("&a;" if i == 1 else f"&a{i - 1};") * 10}">' for i in range(1, 9)
        ),
        '<!ENTITY a SYSTEM "file:///etc/passwd">',
    ],
    ids=["entity-expansion", "external-entity"],
)
def test_hostile_graphml_is_a_validation_error(tmp_path, dtd) -> None:
    """19-21: expat stops these safely, but a raw ParseError escaped."""
    name = "&a8;" if "a8" in dtd else "&a;"
    p = tmp_path / "j.graphml"
    p.write_text(
        f'<?xml version="1.0"?><!DOCTYPE g [{dtd}]>'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        f'<graph edgedefault="directed"><node id="{name}"/></graph></graphml>'
    )
    with pytest.raises(tp.ValidationError, match=r"j\.graphml' is not a readable GraphML"):
        tp.read_journey(p)


# --------------------------------------------------------------------- durations
def _numeric_log() -> tp.EventLog:
    return tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2],
        ["ask", "reply", "buy", "ask", "buy"],
        [0.0, 2, 5, 0, 9],
        outcome=[0, 0, 1, 0, 1],
    )


def test_timedelta_for_plain_number_times_is_refused_for_every_duration() -> None:
    """19-4: a timedelta on a log of plain-number times was taken as that many units."""
    log = _numeric_log()
    week = dt.timedelta(days=7)
    calls = {
        "window": lambda: tp.funnel(log, ["ask", "buy"], window=week),
        "gap": lambda: log.sessionize(gap=np.timedelta64(1, "h")),
        "target": lambda: tp.response_times(log, request="ask", response="reply", target=week),
        "half_life": lambda: tp.attribution(log, "time_decay", half_life=week),
    }
    for name, call in calls.items():
        with pytest.raises(tp.InvalidParameterError, match=rf"`{name}`.*plain numbers") as info:
            call()
        assert "not datetimes" in str(info.value)
    # numbers stay in the log's own unit
    assert tp.funnel(log, ["ask", "buy"], window=5)["buy"].reached == 1


# ------------------------------------------------------------------------ names
def test_control_characters_and_separators_in_names_print_escaped() -> None:
    """19-7: a newline in a name forged a report line; ``a > b`` read like a path."""
    text = format_text(["touchpoint", "events"], [["ad\nTOTAL  999", 3], ["\x1b[31mred", 1]])
    assert len(text.splitlines()) == 3
    assert "ad\\nTOTAL  999" in text and "\\x1b[31mred" in text
    assert format_path(["a > b"]) != format_path(["a", "b"])
    assert "\n" not in format_path(["x\ny", "z"])


def test_the_callers_arrays_stay_writable_and_unshared() -> None:
    """19-20: ``from_arrays`` made the caller's object array read-only."""
    j, t = np.array([1, 1, 2]), np.array(["a", "b", "a"], dtype=object)
    ts, seg = np.array([0, 1, 2]), np.array(["x", "x", "y"], dtype=object)
    log = tp.EventLog.from_arrays(j, t, ts, [0.0, 1.0, 0.0], extra={"seg": seg})
    assert all(a.flags.writeable for a in (j, t, ts, seg))
    seg[0], ts[0] = "changed", 99  # the log is not a view of the caller's arrays
    assert log.extra["seg"].tolist() == ["x", "x", "y"] and log.timestamp.tolist() == [0, 1, 2]
    assert not log.extra["seg"].flags.writeable and not log.journey.flags.writeable
