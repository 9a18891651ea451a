"""Every result object has the same notebook/dataframe surface."""

import numpy as np
import pytest

import touchpoint as tp


@pytest.fixture(scope="module")
def sample():
    return tp.datasets.load_sample()


def scalar_results(sample):
    log, surveys, _ = sample
    nps = surveys["nps"]
    model = tp.fit_markov(log)
    return [
        tp.nps(nps),
        tp.csat(surveys["csat"]),
        tp.ces(surveys["ces"]),
        tp.compare_nps(nps[:8000], nps[8000:]),
        tp.response_times(log, request="support_phone", response="support_reply"),
        tp.repeat_rate(log),
        model.what_if({("add_to_cart", "checkout_web"): 0.05}),
    ]


def test_scalar_results_to_dict_frame_and_html(sample):
    pd = pytest.importorskip("pandas")
    for res in scalar_results(sample):
        d = res.to_dict()
        assert d, type(res)
        assert not any(k.startswith("_") for k in d)
        assert all(v is None or np.isscalar(v) for v in d.values())
        frame = res.to_frame()
        assert isinstance(frame, pd.DataFrame)
        assert len(frame) == 1
        assert list(frame.columns) == list(d)
        html = res._repr_html_()
        assert html.startswith("<div><strong>")
        assert "<table>" in html
    nps = tp.nps(sample.responses["nps"])
    d = nps.to_dict()
    assert d["ci_low"] == pytest.approx(nps.ci.low)
    assert d["ci_low"] < d["score"] < d["ci_high"]


def test_table_results_to_frame_matches_table(sample):
    pytest.importorskip("pandas")
    log = sample.events
    model = tp.fit_markov(log)
    results = [
        tp.removal_effects(model),
        tp.attribution(log, "linear"),
        tp.compare_transitions(
            tp.fit_markov(log.select_journeys(log.journey_column("device") == "mobile")),
            tp.fit_markov(log.select_journeys(log.journey_column("device") != "mobile")),
        ),
    ]
    for res in results:
        frame = res.to_frame()
        assert list(frame.columns) == list(res.table.columns)
        assert len(frame) == len(res.table)
        assert res.to_records() == res.table.to_records()
