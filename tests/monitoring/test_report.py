"""The report shows a monitor's state when one is given (issue 24, item 4)."""

from __future__ import annotations

import numpy as np

import touchpoint as tp
from touchpoint.report import build_report


def _log(rates, size=400, seed=0):
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(len(rates)), size)
    bought = rng.random(len(day)) < np.asarray(rates)[day]
    return tp.EventLog.from_arrays(
        np.arange(len(day)), np.full(len(day), "visit"), day * 86400.0, outcome=bought * 1.0
    )


def test_report_shows_the_monitor_state_and_latest_looks():
    log = _log([0.2] * 30 + [0.1] * 12)
    m = tp.monitor(log, period=86400.0)
    rep = build_report(log, monitor=m, figures=False)
    sec = next(s for s in rep.sections if s.title == "Monitoring")
    assert f"first at look {m.alarm_look}" in sec.text and "ALARM: a fall" in sec.text
    assert "42 looks" in sec.text
    # the latest 7 looks, the last of them the monitor's last
    assert "36" in sec.text and str(m.table["n"][-1]) in sec.text
    assert "Monitoring" not in [s.title for s in build_report(log, figures=False).sections]


def test_report_without_alarm_says_so_and_draws_the_chart():
    log = _log([0.2] * 35, seed=3)
    m = tp.monitor(log, period=86400.0)
    rep = build_report(log, monitor=m, figures=True)
    sec = next(s for s in rep.sections if s.title == "Monitoring")
    assert "No alarm" in sec.text
    assert sec.figures and sec.figures[0].html.startswith("<svg")
