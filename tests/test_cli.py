"""Tests for the command-line interface and the report."""

import subprocess
import sys

import pytest

from touchpoint.cli import main

EVENTS = """journey_id,touchpoint,timestamp,revenue,device
c1,ad,2026-01-05T10:00,,mobile
c1,site,2026-01-05T10:05,,mobile
c1,checkout,2026-01-05T10:20,49.5,mobile
c2,ad,2026-01-06T09:00,,desktop
c2,site,2026-01-06T09:01,,desktop
c3,<script>alert(1)</script>,2026-01-07T12:00,,desktop
"""


@pytest.fixture
def events_csv(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text(EVENTS)
    return p


def test_report_prints_summary_and_writes_escaped_html(events_csv, tmp_path, capsys):
    out_html = tmp_path / "r.html"
    code = main(
        [
            "report",
            str(events_csv),
            "--outcome-col",
            "revenue",
            "--extra",
            "device",
            "--html",
            str(out_html),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "journeys" in out and "3" in out
    assert "conversion rate" in out and "33.3%" in out
    assert "ad > site > checkout" in out  # top paths
    assert "Busiest transitions" in out
    page = out_html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("journey_id,touchpoint,timestamp\nc1,ad,not-a-date\n")
    assert main(["report", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("touchpoint: error: column 'timestamp', row 0 (file line 2)")
    assert main(["report", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["report", str(p), "--time-col", "when"]) == 2
    assert "unknown column 'when'" in capsys.readouterr().err


def test_drop_mode_reports_counts_on_stderr(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text(
        "journey_id,touchpoint,timestamp\nc1,ad,2026-01-01\nc1,ad,2026-01-01\nc2,,2026-01-01\n"
    )
    assert main(["report", str(p), "--on-error", "drop", "--duplicates", "drop"]) == 0
    captured = capsys.readouterr()
    assert "dropped 2 of 3 rows" in captured.err
    assert "duplicate: 1" in captured.out and "empty_string: 1" in captured.out


def test_python_dash_m_entry_point(events_csv):
    res = subprocess.run(
        [sys.executable, "-m", "touchpoint", "report", str(events_csv)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "Overview" in res.stdout
    res = subprocess.run(
        [sys.executable, "-m", "touchpoint", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.stdout.startswith("touchpoint ")


def test_report_with_conversion_touchpoints_and_no_outcome():
    import touchpoint as tp
    from touchpoint.report import build_report

    log = tp.EventLog.from_arrays(
        [1, 1, 2, 3, 3], ["a", "b", "a", "a", "c"], [0.0, 1.0, 0.0, 0.0, 1.0], conversions=["b"]
    )
    text = build_report(log).to_text()
    assert "Markov attribution" in text
    assert "33.3%" in text  # 1 of 3 journeys converted
    assert "value" not in text.split("Markov attribution")[1].splitlines()[3]


def test_conversions_outcome_level_and_duplicates_flags(tmp_path, capsys):
    p = tmp_path / "flags.csv"
    p.write_text(
        "journey_id,touchpoint,timestamp,converted\n"
        "c1,ad,2026-01-01,1\nc1,site,2026-01-02,1\nc1,order,2026-01-03,1\n"
        "c2,ad,2026-01-01,0\nc2,ad,2026-01-01,0\nc3,site,2026-01-02,1\nc3,order,2026-01-02,1\n"
    )
    args = ["report", str(p), "--outcome-col", "converted", "--outcome-level", "journey"]
    assert main([*args, "--conversions", "order"]) == 0
    out = capsys.readouterr().out
    assert "reaching 'order' (the conversion itself, never credited)" in out
    assert "on the journey (outcome_level='journey')" in out
    assert "1 tie kept" in out  # c2's two ads at one time are real events
    assert main([*args, "--duplicates", "raise"]) == 2
    assert "same journey, touchpoint, time and outcome" in capsys.readouterr().err


def test_journey_given_a_column_name_hints_at_journey_col(events_csv, capsys):
    """21-11: ``--journey customer_id`` (a design-file option) said only "no such file"."""
    assert main(["report", str(events_csv), "--journey", "customer_id"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "--journey-col customer_id" in err


def test_conversions_split_on_commas_with_spaces_trimmed(tmp_path, capsys):
    """19-22: ``--conversions "order, paid"`` kept the space, naming no touchpoint."""
    p = tmp_path / "e.csv"
    p.write_text("journey_id,touchpoint,timestamp\n1,ad,1\n1,order,2\n2,ad,1\n2,paid,2\n3,ad,1\n")
    assert main(["report", str(p), "--conversions", "order, paid"]) == 0
    assert "touchpoint: error" not in capsys.readouterr().err


def test_bad_choice_says_what_the_library_says(events_csv, capsys):
    assert main(["report", str(events_csv), "--duplicates", "kep"]) == 2
    err = capsys.readouterr().err
    assert (
        "`duplicates` must be one of 'keep', 'drop' or 'raise' (got 'kep'; did you mean 'keep'?)"
        in err
    )
