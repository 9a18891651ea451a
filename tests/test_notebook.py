"""Notebook feel: rich HTML reprs and DataFrame export on the objects users look at."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp


@pytest.fixture(scope="module")
def sample():
    return tp.datasets.load_sample()


def _html(obj) -> str:
    out = obj._repr_html_()
    assert isinstance(out, str)
    assert out.count("<table") == out.count("</table>") >= 1
    return out


def test_core_objects_render_and_escape():
    j = tp.Journey(stages=["awareness"], name="<b>shop</b>")
    j.add_touchpoint(tp.Touchpoint("<script>", stage="awareness"))
    page = _html(j)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;shop&lt;/b&gt;" in page
    log = tp.EventLog.from_arrays(["a", "a"], ["<script>", "ad"], [0.0, 1.0])
    page = _html(log)
    assert "<script>" not in page
    t = tp.Table({"name": ["<i>x</i>"], "v": [1.5]}, title="<t>")
    page = _html(t)
    assert "<i>" not in page and "&lt;t&gt;" in page


def test_sample_objects_render(sample):
    log, surveys, journey = sample
    assert "checkout_web" in _html(journey)
    assert "events=111,776" in _html(log)
    assert _html(surveys.head(5)).count("<tr>") == 6


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda s: tp.breakdown(s.responses, metric="nps", by="device"), id="breakdown"
        ),
        pytest.param(
            lambda s: tp.consistency(s.responses, metric="csat", design=s.design), id="consistency"
        ),
        pytest.param(lambda s: tp.funnel(s.events), id="funnel"),
        pytest.param(
            lambda s: tp.detect_dropoffs(s.events, ["add_to_cart", "checkout_web"], by="device"),
            id="dropoffs",
        ),
        pytest.param(lambda s: tp.next_steps(s.events, after="add_to_cart"), id="next_steps"),
    ],
)
def test_metric_tables_render_and_export(sample, make):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    res = make(sample)
    _html(res)
    df = res.to_frame()
    assert isinstance(df, pd.DataFrame) and len(df) > 0
    assert isinstance(res.to_frame(backend="polars"), pl.DataFrame)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda s: tp.fit_markov(s.events), id="markov"),
        pytest.param(lambda s: tp.removal_effects(tp.fit_markov(s.events)), id="removal_effects"),
        pytest.param(lambda s: tp.attribution(s.events, method="linear"), id="attribution"),
    ],
)
def test_model_results_render(sample, make):
    page = _html(make(sample))
    assert "product_page" in page


def test_log_and_table_frames_round_trip(sample):
    pytest.importorskip("pandas")
    log, surveys, _ = sample
    df = log.to_frame()
    assert len(df) == log.n_events
    assert list(df.columns[:3]) == ["customer_id", "touchpoint", "timestamp"]
    back = tp.Table.from_frame(surveys.to_frame())
    assert back.columns == surveys.columns
    np.testing.assert_array_equal(back["nps"], surveys["nps"])
