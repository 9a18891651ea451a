"""The report without a design: which sections it shows, its comparative findings, warnings."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from clickstream import clickstream  # tests/ is on the path (pyproject: pythonpath)
from touchpoint.report import build_report
from touchpoint.report._base import ReportContext
from touchpoint.report._designless import comparative_findings


@pytest.fixture(scope="module")
def click_log():
    rows = clickstream(users=200)
    s, u, t, e, p, _channel = (list(x) for x in zip(*rows, strict=True))
    return tp.EventLog.from_arrays(
        s,
        e,
        np.array(t, dtype="datetime64[ns]"),
        extra={"platform": p, "user_id": u},
        conversions=["purchase"],
    )


def test_designless_sections_replace_the_designed_ones(click_log):
    rep = build_report(click_log, figures=False)
    titles = [s.title for s in rep.sections]
    for t in (
        "What sets converting journeys apart",
        "Process map",
        "How journeys begin",
        "Step matrix",
        "Journey clusters",
        "Retention",
    ):
        assert t in titles, titles
    assert "Journey map" not in titles and "Paths" not in titles


def test_with_a_design_the_designed_sections_stay():
    log, _, design = tp.datasets.load_sample()
    small = log.select_journeys(np.arange(log.n_journeys) < 800)
    titles = [s.title for s in build_report(small, design=design, figures=False).sections]
    for t in (
        "What sets converting journeys apart",
        "Process map",
        "Step matrix",
        "Journey clusters",
        "Retention",
        "How journeys begin",
    ):
        assert t not in titles, titles
    assert "Paths" in titles


def test_finding_is_the_payment_error_against_payment_details(click_log):
    ctx = ReportContext(log=click_log)
    found = comparative_findings(ctx)
    top = found["rows"][0]
    assert top["touchpoint"] == "payment_error" and top["against"] == "payment_details"
    # by hand: journeys with payment_error vs journeys with payment_details and no error
    conv = click_log.converted()
    has = np.zeros((click_log.n_journeys, click_log.n_touchpoints), dtype=bool)
    has[click_log.journey, click_log.touchpoint] = True
    err = has[:, click_log.touchpoint_code("payment_error")]
    pay = has[:, click_log.touchpoint_code("payment_details")]
    assert top["with"] == pytest.approx(conv[err].mean())
    assert top["without"] == pytest.approx(conv[pay & ~err].mean())
    assert top["qvalue"] < 0.001
    # steps every conversion passes are named, not tested
    assert "payment_details" in found["necessary"] and "purchase" not in found["necessary"]
    assert all(r["touchpoint"] not in found["necessary"] for r in found["rows"])


def test_warns_when_no_journey_converts():
    log = tp.EventLog.from_arrays(
        np.repeat(np.arange(40), 2),
        ["a", "b"] * 40,
        np.tile([0.0, 1.0], 40),
        outcome=np.zeros(80),
    )
    rep = build_report(log, figures=False)
    text = rep.to_text()
    assert "Warning: no journey converts" in text
