"""The bundled sample data: the planted findings are found."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

import touchpoint as tp

# ---------------------------------------------------------------------------
# drop-off detection
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# the bundled sample data: the planted findings are found
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    return tp.datasets.load_sample()


def test_sample_planted_drop_is_found(sample):
    from touchpoint.datasets import _generator as g

    column, segment = g.DROP_SEGMENT
    cart, checkout = g.DROP_STEP
    start = np.datetime64(g.SampleConfig().start, "D")
    planted = {str(start + 7 * (w - 1)) for w in g.DROP_WEEKS}
    for baseline in ("past", "others"):
        res = tp.detect_dropoffs(
            sample.events, ["product_page", cart, checkout], by=column, baseline=baseline
        )
        assert {(d.step, d.group, d.period) for d in res} == {
            (checkout, segment, week) for week in planted
        }, baseline
        (change,) = res.changes
        assert change.start == min(planted)
        assert change.end == max(planted)
        for d in res:
            assert d.rate < g.DROP_BASE_RATE - 0.1
            assert d.start == min(planted)


def test_sample_recent_cohorts_need_the_horizon(sample):
    # without the horizon, last-week carts have had no time to convert: spurious drops
    steps = ["product_page", "add_to_cart", "checkout_web"]
    raw = tp.detect_dropoffs(sample.events, steps, by="device", horizon=None)
    assert any(d.period == "2026-03-23" and d.step == "add_to_cart" for d in raw)
    fixed = tp.detect_dropoffs(sample.events, steps, by="device", horizon=dt.timedelta(days=3))
    assert all(d.period != "2026-03-23" for d in fixed)


def test_sample_key_drivers_recover_the_planted_drivers(sample):
    from touchpoint.datasets import _generator as g

    kt = tp.key_touchpoints(sample.events, sample.responses, n_resamples=20)
    share = dict(zip(kt["touchpoint"].tolist(), kt["driver_share"].tolist(), strict=True))
    drivers = {t for t in g.LOYALTY_DRIVERS if g.LOYALTY_DRIVERS[t] >= 0.6}
    top = sorted((s for s in share.items() if not np.isnan(s[1])), key=lambda s: -s[1])
    assert {t for t, _ in top[: len(drivers)]} == drivers
    exits = tp.exit_points(sample.events)
    assert exits["touchpoint"][0] == "add_to_cart"
    # CSAT gap: share satisfied (4-5) among buyers minus non-buyers, by hand
    s = sample.responses
    row = kt[kt["touchpoint"] == "product_page"].row(0)
    buyers = set(sample.events.journey_ids[sample.events.converted()].tolist())
    rated = (s["touchpoint"] == "product_page") & ~np.isnan(s["csat"])
    bought = np.array([c in buyers for c in s["customer_id"].tolist()])
    sat = s["csat"] >= 4
    gap = 100 * (sat[rated & bought].mean() - sat[rated & ~bought].mean())
    assert row["csat_gap"] == pytest.approx(gap)
    assert row["csat_converted"] == pytest.approx(100 * sat[rated & bought].mean())


def test_sample_report_sections(sample):
    from touchpoint.report import build_report

    text = build_report(sample.events, responses=sample.responses).to_text()
    assert "Funnel by stage" in text
    assert re.search(r"add_to_cart > checkout_web +device=mobile +2026-02-23", text)
    assert "NPS driver share" in text


def test_sample_report_dropoffs_are_the_planted_ones(sample):
    # the demo's drop-off section: one family over all segment columns, segments
    # compared within the week, echoes explained: only the planted mobile drop
    from touchpoint.datasets import _generator as g
    from touchpoint.report._base import ReportContext
    from touchpoint.report._funnels import section_dropoffs

    column, segment = g.DROP_SEGMENT
    cart, checkout = g.DROP_STEP
    sec = section_dropoffs(ReportContext(log=sample.events, design=sample.design))
    assert sec is not None
    lines = [ln for ln in sec.text.splitlines() if " > " in ln and "pts" in ln]
    assert lines
    for ln in lines:
        assert f"{cart} > {checkout}" in ln
        assert f"{column}={segment}" in ln
    assert "onboarding_email" not in sec.text
    assert "region=west" not in sec.text
    # detect_dropoffs with both columns: west (mostly mobile) is explained by mobile
    past = tp.detect_dropoffs(
        sample.events, [cart, checkout], mode="strict", by=["device", "region"], period="week"
    )
    assert "region=west" in {d.group for d in past.explained}
    assert {d.explained_by for d in past.explained} == {f"{column}={segment}"}
