"""What the CLI does with what it is given: ``--extra`` columns segment the journeys, and
a conversion rate of 0% or 100% is said out loud instead of attributed."""

from __future__ import annotations

import csv

import numpy as np

from touchpoint.cli import main


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["hh", "event", "ts", "sales", "income", "age"])
        w.writerows(rows)


def _rows(n=300, *, all_buy=False, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for h in range(n):
        income = ["<35K", "35-74K", "75K+"][h % 3]
        age = str(20 + h)  # one value per household: not a segment
        out.append([h, "campaign", f"2026-01-{1 + h % 28:02d}T09:00:00", "", income, age])
        if all_buy or rng.random() < (0.3 if income == "<35K" else 0.6):
            out.append([h, "purchase", f"2026-01-{1 + h % 28:02d}T10:00:00", "4.99", income, age])
    return out


def _run(tmp_path, rows, capsys):
    path = tmp_path / "events.csv"
    _write(path, rows)
    args = ["report", str(path), "--journey-col", "hh", "--touchpoint-col", "event"]
    args += ["--time-col", "ts", "--outcome-col", "sales", "--extra", "income"]
    args += ["--extra", "age", "--no-progress"]
    assert main(args) == 0
    return capsys.readouterr()


def test_extra_columns_segment_the_journeys(tmp_path, capsys):
    rows = _rows()
    out = _run(tmp_path, rows, capsys)
    assert "Conversion by segment" in out.out
    # each income group's rate, counted from the rows written
    for income in ("<35K", "35-74K", "75K+"):
        hh = {r[0] for r in rows if r[4] == income}
        bought = {r[0] for r in rows if r[4] == income and r[3]}
        line = next(ln for ln in out.out.splitlines() if ln.split()[:2] == ["income", income])
        assert f"{100 * len(bought) / len(hh):.1f}%" in line, line
    # age has a value per household: refused as a segment, with the reason
    assert "--extra age: not used as a segment" in out.err


def test_a_conversion_rate_of_100_percent_is_warned_and_not_attributed(tmp_path, capsys):
    out = _run(tmp_path, _rows(all_buy=True), capsys)
    assert "every journey converted (conversion rate 100%)" in out.err
    assert "Every journey has the same outcome" in out.out
    assert "Key touchpoints\n" not in out.out  # no removal effects anywhere
    markov = out.out.split("Markov attribution\n")[1].split("\n\n")[0]
    assert "left out" in markov and "last touch" not in markov  # no credit table
