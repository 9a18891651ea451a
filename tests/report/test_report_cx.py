"""The report's CX section."""

from __future__ import annotations

import numpy as np

import touchpoint as tp
from touchpoint.cli import main
from touchpoint.report import SECTION_BUILDERS, ReportContext, build_report, section_cx

TITLE = "Customer experience (NPS, CSAT, CES)"


def small_surveys() -> tp.Table:
    rng = np.random.default_rng(0)
    n = 600
    names = np.array(["web", "<b>store</b>", ""], dtype=object)[rng.integers(0, 3, n)]
    csat = rng.integers(1, 6, n).astype(float)
    csat[names == "<b>store</b>"] = 1.0  # clearly the weakest
    nps = np.where(names == "", rng.integers(0, 11, n), np.nan)
    csat[names == ""] = np.nan
    device = np.array(["mobile", "desktop"], dtype=object)[rng.integers(0, 2, n)]
    return tp.Table({"touchpoint": names, "csat": csat, "nps": nps, "device": device})


def test_cx_section_present_only_with_surveys():
    assert section_cx in SECTION_BUILDERS
    log = tp.EventLog.from_arrays([1, 1], ["web", "store"], [0.0, 1.0])
    assert section_cx(ReportContext(log=log)) is None
    no_metrics = tp.Table({"touchpoint": ["web"], "other": [1.0]})
    assert section_cx(ReportContext(log=log, responses=no_metrics)) is None
    rep = build_report(log, responses=small_surveys())
    sec = next(s for s in rep.sections if s.title == TITLE)
    assert "NPS " in sec.text
    assert "CSAT " in sec.text
    assert "Weakest touchpoints: <b>store</b>" in sec.text
    assert "<b>store</b>" not in sec.html  # escaped
    assert "&lt;b&gt;store&lt;/b&gt;" in sec.html
    assert "<caption>NPS by segment</caption>" in sec.html
    assert "device   mobile" in sec.text


def test_cli_report_with_survey_csv(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text("journey_id,touchpoint,timestamp\n1,web,2026-01-01\n1,store,2026-01-02\n")
    surveys = tmp_path / "surveys.csv"
    rows = ["touchpoint,csat,ces,nps"]
    rng = np.random.default_rng(1)
    rows += [
        f"{'web' if i % 2 else 'store'},{rng.integers(1, 6)},{rng.integers(1, 8)},"
        for i in range(200)
    ]
    rows += [f",,,{rng.integers(0, 11)}" for _ in range(50)]
    surveys.write_text("\n".join(rows) + "\n")
    html_out = tmp_path / "r.html"
    assert main(["report", str(events), "--surveys", str(surveys), "--html", str(html_out)]) == 0
    out = capsys.readouterr().out
    assert TITLE in out
    assert "CES 2.0" in out
    assert TITLE in html_out.read_text()
