"""DESIGN.md's vocabulary: the new names work, the 0.1 names warn for one release.

Each deprecated spelling must give exactly the result of the new one, with a
DeprecationWarning that names the replacement.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import touchpoint as tp


@pytest.fixture(scope="module")
def log():
    rng = np.random.default_rng(3)
    j = np.repeat(np.arange(300), 3)
    t = rng.choice(["ad", "site", "mail"], size=j.size)
    outcome = np.zeros(j.size)
    outcome[2::3] = rng.random(300) < 0.4
    return tp.EventLog.from_arrays(j, t, np.tile([0.0, 1.0, 2.0], 300), outcome=outcome)


@pytest.fixture(scope="module")
def responses():
    rng = np.random.default_rng(4)
    n = 200
    return tp.Table(
        {
            "touchpoint": rng.choice(["ad", "site"], n).astype(object),
            "stage": rng.choice(["awareness", "purchase"], n).astype(object),
            "channel": rng.choice(["web", "store"], n).astype(object),
            "csat": rng.integers(1, 6, n).astype(float),
        }
    )


def _design():
    return tp.Journey(
        stages=["awareness", "purchase"],
        touchpoints=[
            tp.Touchpoint("ad", stage="awareness"),
            tp.Touchpoint("site", stage="purchase"),
        ],
    )


def _same(a, b):
    if hasattr(a, "to_records"):
        assert repr(a.to_records()) == repr(b.to_records())  # repr: NaN equals NaN
    else:
        assert repr(a) == repr(b)


CASES = [
    (
        "removal_effects n_bootstrap",
        lambda log, r: tp.removal_effects(tp.fit_markov(log), n_bootstrap=5),
        lambda log, r: tp.removal_effects(tp.fit_markov(log), n_resamples=5),
        "n_resamples",
    ),
    (
        "removal_effects by",
        lambda log, r: tp.removal_effects(tp.fit_markov(log), by="state"),
        lambda log, r: tp.removal_effects(tp.fit_markov(log), each_state=True),
        "states",
    ),
    (
        "attribution by",
        lambda log, r: tp.attribution(log, "linear", by="touchpoint").table,
        lambda log, r: tp.attribution(log, "linear", states="touchpoint").table,
        "states",
    ),
    (
        "fit_markov positional order",
        lambda log, r: tp.fit_markov(log, 2).conversion_probability(),
        lambda log, r: tp.fit_markov(log, order=2).conversion_probability(),
        "order=",
    ),
    (
        "select_order positional max_order",
        lambda log, r: tp.select_order(log, 2).table,
        lambda log, r: tp.select_order(log, max_order=2).table,
        "max_order=",
    ),
    (
        "next_steps positional depth",
        lambda log, r: tp.next_steps(log, "ad", 2),
        lambda log, r: tp.next_steps(log, "ad", depth=2),
        "depth=",
    ),
    (
        "previous_steps positional depth",
        lambda log, r: tp.previous_steps(log, "site", 2),
        lambda log, r: tp.previous_steps(log, "site", depth=2),
        "depth=",
    ),
    (
        "detect_dropoffs changepoint_resamples",
        # horizon=None: on this tiny log the auto horizon leaves every cell out (and warns)
        lambda log, r: tp.detect_dropoffs(
            log, ["ad", "site"], period=1.0, horizon=None, changepoint_resamples=0
        ).to_table(),
        lambda log, r: tp.detect_dropoffs(
            log, ["ad", "site"], period=1.0, horizon=None, n_resamples=0
        ).to_table(),
        "n_resamples",
    ),
    (
        "compare_csat interval",
        lambda log, r: tp.compare_csat([5, 4, 2, 5] * 10, [1, 5, 2, 2] * 10, interval="wald"),
        lambda log, r: tp.compare_csat([5, 4, 2, 5] * 10, [1, 5, 2, 2] * 10, method="wald"),
        "method",
    ),
    (
        "breakdown journey and positional by",
        lambda log, r: tp.breakdown(r, "csat", "stage", journey=_design()),
        lambda log, r: tp.breakdown(r, "csat", by="stage", design=_design()),
        "design",
    ),
    (
        "consistency journey",
        lambda log, r: tp.consistency(r, "csat", journey=_design()),
        lambda log, r: tp.consistency(r, "csat", design=_design()),
        "design",
    ),
    (
        "conformance(design, log)",
        lambda log, r: tp.conformance(_design(), log).deviations,
        lambda log, r: tp.conformance(log, _design()).deviations,
        "conformance(log, design)",
    ),
]


@pytest.mark.parametrize(("old", "new", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_old_spelling_warns_and_matches(log, responses, old, new, hint):
    with pytest.warns(DeprecationWarning, match="deprecated") as rec:
        got = old(log, responses)
    assert any(hint in str(w.message) for w in rec), [str(w.message) for w in rec]
    _same(got, new(log, responses))


def test_report_surveys_keyword_warns(log, responses):
    from touchpoint.report import build_report

    with pytest.warns(DeprecationWarning, match="responses"):
        old = build_report(log, surveys=responses, figures=False).to_text()
    new = build_report(log, responses=responses, figures=False).to_text()
    assert old.splitlines()[:6] == new.splitlines()[:6]


def test_sample_data_names():
    sample = tp.datasets.load_sample()
    _, responses, design = sample
    assert responses is sample.responses and design is sample.design
    with pytest.warns(DeprecationWarning, match="responses"):
        assert sample.surveys is responses
    with pytest.warns(DeprecationWarning, match="design"):
        assert sample.journey is design


def test_new_and_old_name_together_is_an_error(log):
    with pytest.raises(TypeError, match="n_resamples"):
        tp.removal_effects(tp.fit_markov(log), n_bootstrap=5, n_resamples=5)
    with pytest.raises(TypeError, match="positional"):
        tp.fit_markov(log, 1, 0.0, "touchpoint", "extra")


def test_conformance_wrong_types_are_type_errors(log):
    with pytest.raises(TypeError, match="EventLog first"):
        tp.conformance("log", _design())
    with pytest.raises(TypeError, match="designed Journey"):
        tp.conformance(log, "design")


SEEDED = ["attribution", "removal_effects", "key_touchpoints", "detect_dropoffs", "select_order"]


def test_one_seed_default_and_one_resampling_name():
    for name in tp.__all__:
        fn = getattr(tp, name)
        if not inspect.isfunction(fn):
            continue
        params = inspect.signature(fn).parameters
        if "seed" in params:
            assert params["seed"].default == 0, name
        for bad in ("n_bootstrap", "changepoint_resamples", "surveys", "dof"):
            assert bad not in params, (name, bad)
        if "journey" in params:  # only ever a column name
            assert params["journey"].annotation in ("str", "str | None"), name
    assert inspect.signature(tp.MarkovModel.simulate).parameters["seed"].default == 0
    for name in SEEDED:
        assert "seed" in inspect.signature(getattr(tp, name)).parameters


def test_renamed_test_columns_still_read_with_a_warning(log):
    sel = tp.select_order(log, max_order=2).table
    assert {"statistic", "df", "pvalue"} <= set(sel.columns)
    with pytest.warns(DeprecationWarning, match="'lr_pvalue' is now 'pvalue'"):
        old = sel["lr_pvalue"]
    np.testing.assert_array_equal(old, sel["pvalue"])
    half = log.select_journeys(np.arange(log.n_journeys) % 2 == 0)
    rest = log.select_journeys(np.arange(log.n_journeys) % 2 == 1)
    cmp = tp.compare_transitions(tp.fit_markov(half), tp.fit_markov(rest)).table
    with pytest.warns(DeprecationWarning, match="'chi2' is now 'statistic'"):
        assert "chi2" in cmp and cmp["chi2"].tolist() == cmp["statistic"].tolist()
    seg = tp.EventLog.from_arrays(
        log.journey_ids[log.journey],
        np.array(log.touchpoint_names, dtype=object)[log.touchpoint],
        log.timestamp,
        extra={"half": (log.journey % 2).astype(str)},
    )
    tests = tp.funnel(seg, ["ad", "site"], by="half").tests
    assert tests is not None and "df" in tests.columns
    with pytest.warns(DeprecationWarning, match="'dof' is now 'df'"):
        assert tests["dof"].tolist() == tests["df"].tolist()
