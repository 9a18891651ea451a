"""Out-of-core reading: ``read_csv(..., chunksize=)`` and ``EventLog.iter_chunks``.

The reference is the whole file read at once: chunks must partition its
journeys and events exactly, and counts summed over chunks must equal the
counts of the whole log.
"""

from __future__ import annotations

import gzip
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import touchpoint as tp
from touchpoint._lib.progress import NullBar, progress_bar, progress_enabled, track

ENGINES = ["python", "pyarrow", "auto", "polars"]


def write_grouped(path, n_journeys=120, seed=0, lengths=None, gz=False):
    rng = np.random.default_rng(seed)
    if lengths is None:
        lengths = rng.integers(1, 12, n_journeys)
    names = ["ad", "search", "site", "cart", "buy"]
    lines = ["journey_id,touchpoint,timestamp,revenue,device"]
    for j, k in enumerate(lengths):
        dev = "mobile" if j % 3 else "desktop"
        for i in range(int(k)):
            t = names[int(rng.integers(0, 5))]
            rev = f"{rng.gamma(2, 20):.2f}" if t == "buy" else ""
            lines.append(f"j{j:04d},{t},{1000 * j + i},{rev},{dev}")
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def transitions(log):
    a, b = log.transition_pairs()
    names = log.touchpoint_names
    return Counter((names[x], names[y]) for x, y in zip(a.tolist(), b.tolist()))


KW = {"outcome": "revenue", "extra": ("device",)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("chunksize", [1, 7, 50, 10_000])
def test_chunks_partition_the_file(tmp_path, engine, chunksize):
    if engine in ("pyarrow", "auto"):
        pytest.importorskip("pyarrow")
    p = write_grouped(tmp_path / "e.csv")
    whole = tp.read_csv(p, **KW)
    chunks = list(tp.read_csv(p, chunksize=chunksize, engine=engine, **KW))
    ids = [i for c in chunks for i in c.journey_ids.tolist()]
    assert ids == whole.journey_ids.tolist()  # every journey once, whole, in file order
    assert sum(c.n_events for c in chunks) == whole.n_events
    assert sum((transitions(c) for c in chunks), Counter()) == transitions(whole)
    assert sum(c.value().sum() for c in chunks) == pytest.approx(whole.value().sum())
    assert [p for c in chunks for p in c.paths()] == list(whole.paths())
    for c in chunks[:-1]:  # about chunksize rows, plus at most one carried journey
        assert c.n_events <= chunksize + 11


def test_long_journey_stays_whole(tmp_path):
    p = write_grouped(tmp_path / "e.csv", lengths=[3, 40, 2, 2])
    chunks = list(tp.read_csv(p, chunksize=5))
    assert any(c.n_events == 40 and c.n_journeys == 1 for c in chunks)
    assert sum(c.n_journeys for c in chunks) == 4


def test_gzip_and_row_labels_in_errors(tmp_path):
    p = write_grouped(tmp_path / "e.csv.gz", n_journeys=30, gz=True)
    assert sum(c.n_events for c in tp.read_csv(p, chunksize=10)) == tp.read_csv(p).n_events
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "journey_id,touchpoint,timestamp\n" + "a,ad,1\n" * 1 + "b,ad,2\nc,ad,3\nd,ad,x\n"
    )
    with pytest.raises(tp.ValidationError, match=r"row 3 \(file line 5\)"):
        list(tp.read_csv(bad, chunksize=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunks = list(tp.read_csv(bad, chunksize=2, on_error="drop"))
    assert sum(c.n_events for c in chunks) == 3
    assert sum(c.validation.n_dropped for c in chunks) == 1
    assert len(caught) == 1 and "file line 5" in str(caught[0].message)


def test_errors_are_raised_eagerly(tmp_path):
    with pytest.raises(tp.ValidationError, match="no such file"):
        tp.read_csv(tmp_path / "missing.csv", chunksize=10)
    p = write_grouped(tmp_path / "e.csv", n_journeys=3)
    with pytest.raises(tp.ValidationError, match="unknown column 'nope'"):
        tp.read_csv(p, journey="nope", chunksize=10)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(tp.ValidationError, match="chunksize"):
            tp.read_csv(p, chunksize=bad)


def test_empty_file_yields_nothing(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("journey_id,touchpoint,timestamp\n")
    assert list(tp.read_csv(p, chunksize=5, engine="python")) == []


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 9), min_size=1, max_size=40),
    chunksize=st.integers(1, 30),
)
def test_chunked_counts_equal_whole_counts(tmp_path_factory, lengths, chunksize):
    p = write_grouped(tmp_path_factory.mktemp("c") / "e.csv", lengths=lengths)
    whole = tp.read_csv(p)
    chunks = list(tp.read_csv(p, chunksize=chunksize, engine="python"))
    assert [i for c in chunks for i in c.journey_ids.tolist()] == whole.journey_ids.tolist()
    assert sum((transitions(c) for c in chunks), Counter()) == transitions(whole)


def test_iter_chunks_whole_journeys(tmp_path):
    log = tp.read_csv(write_grouped(tmp_path / "e.csv"), **KW)
    parts = list(log.iter_chunks(journeys=17))
    assert [c.n_journeys for c in parts[:-1]] == [17] * (len(parts) - 1)
    assert sum((transitions(c) for c in parts), Counter()) == transitions(log)


# ---------------------------------------------------------------- progress
def test_progress_silent_when_not_a_tty(monkeypatch, capsys):
    monkeypatch.delenv("TOUCHPOINT_PROGRESS", raising=False)
    # pytest captures stderr, so it is not a terminal
    assert not progress_enabled()
    with progress_bar(total=3) as bar:
        bar.update(3)
    assert isinstance(bar, NullBar)
    assert list(track([1, 2, 3])) == [1, 2, 3]
    assert capsys.readouterr().err == ""


def test_progress_env_and_forcing(monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_PROGRESS", "0")
    assert not progress_enabled()
    assert progress_enabled(True)
    monkeypatch.setenv("TOUCHPOINT_PROGRESS", "1")
    assert progress_enabled()
    assert not progress_enabled(False)


def test_progress_uses_tqdm_when_enabled(capsys):
    pytest.importorskip("tqdm")
    with progress_bar(total=2, desc="reading", enabled=True) as bar:
        bar.update(2)
    assert not isinstance(bar, NullBar)
    assert bar.n == 2
    assert "reading" in capsys.readouterr().err


def test_chunked_reading_shows_progress_when_forced(tmp_path, capsys):
    pytest.importorskip("tqdm")
    p = write_grouped(tmp_path / "e.csv", n_journeys=20)
    list(tp.read_csv(p, chunksize=10, progress=True))
    assert "reading" in capsys.readouterr().err
    list(tp.read_csv(p, chunksize=10, progress=False))
    assert capsys.readouterr().err == ""


def test_report_progress_only_when_asked(capsys):
    pytest.importorskip("tqdm")
    from touchpoint.report import build_report

    log = tp.EventLog.from_arrays([1, 1, 2], ["ad", "buy", "ad"], [0.0, 1, 0])
    build_report(log, figures=False, progress=True)
    assert "report" in capsys.readouterr().err
    build_report(log, figures=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("engine", ["python", "pyarrow", "polars"])
def test_malformed_files_raise_validation_errors(tmp_path, engine):
    if engine != "python":
        pytest.importorskip(engine)
    short = tmp_path / "short.csv"
    short.write_text("journey_id,touchpoint,timestamp\na,ad,1\nb,ad\n")
    with pytest.raises(tp.ValidationError, match=r"expected 3 fields|Expected 3 columns"):
        list(tp.read_csv(short, chunksize=1, engine=engine))
    with pytest.raises(tp.ValidationError):  # polars pads the short row: a missing value
        tp.read_csv(short, engine=engine)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"journey_id,touchpoint,timestamp\nx,ad,1\n\xff\xfe,ad,1\n")
    with pytest.raises(tp.ValidationError, match="not a readable UTF-8"):
        list(tp.read_csv(binary, chunksize=1, engine=engine))
    with pytest.raises(tp.ValidationError, match="not a readable UTF-8"):
        tp.read_csv(binary, engine=engine)
