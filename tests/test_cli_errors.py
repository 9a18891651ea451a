"""The CLI on user errors: one line on stderr, exit status 2, never a traceback.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import touchpoint as tp
from bad_input import H, _write

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
