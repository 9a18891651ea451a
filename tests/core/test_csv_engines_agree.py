"""CSV input every engine reads alike: BOM, blank lines, short rows, duplicate headers,
bad bytes, chunked files not grouped by journey.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import gzip

import pytest

import touchpoint as tp
from bad_input import ENGINES, H, _summary, _write

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
