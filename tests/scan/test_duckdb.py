"""Lazy scans on DuckDB: every pushed-down analysis equals the in-memory one."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import events, journey_level

import touchpoint as tp
from touchpoint.exceptions import (
    DroppedRowsWarning,
    StatisticalWarning,
    UnknownTouchpointError,
    ValidationError,
)

pytest.importorskip("ibis")  # the `sql` extra is part of the dev install


def both(df, write, **kw):
    """The same rows as a scan and as an in-memory log (rows in file order)."""
    roles = {"journey": "journey_id", "touchpoint": "touchpoint", "time": "timestamp"}
    if "revenue" in df.columns:
        roles["outcome"] = "revenue"
    roles.update(kw)
    scan = tp.scan_parquet(write(df), **roles)
    log = tp.EventLog.from_frame(df, **roles)
    return scan, log


def assert_models_equal(a, b):
    assert a.states == b.states
    dense = [
        m.toarray() if hasattr(m, "toarray") else m
        for m in (a.transition_matrix, b.transition_matrix)
    ]
    np.testing.assert_array_equal(*dense)
    np.testing.assert_array_equal(a.transition_counts.count, b.transition_counts.count)


# ------------------------------------------------------------ transitions, Markov
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize(("collapse", "until"), [(False, True), (True, True), (False, False)])
def test_count_transitions_equal(write, order, collapse, until):
    scan, log = both(events(seed=order), write)
    kw = {"order": order, "collapse_repeats": collapse, "until_conversion": until}
    a, b = tp.count_transitions(scan, **kw), tp.count_transitions(log, **kw)
    assert a == b
    assert a.alphabet == b.alphabet  # the same symbol order: first appearance in the file
    assert a.n_transitions == b.n_transitions > 1000


@pytest.mark.parametrize("order", [1, 2])
def test_conversion_touchpoints_and_string_ids(write, order):
    df = events(seed=5, string_ids=True, datetimes=True)
    scan, log = both(df, write, conversions=["buy"])
    a, b = tp.count_transitions(scan, order=order), tp.count_transitions(log, order=order)
    assert a == b and a.alphabet == b.alphabet
    assert a.n_conversions == b.n_conversions > 0
    assert_models_equal(tp.fit_markov(scan, order=order), tp.fit_markov(log, order=order))


def test_journey_level_outcome(write):
    df = journey_level(events(seed=7))
    scan, log = both(df, write, outcome_level="journey")
    a, b = tp.count_transitions(scan, order=2), tp.count_transitions(log, order=2)
    assert a == b
    assert a.value == pytest.approx(b.value) and a.value > 0


def test_journey_level_conflict_names_the_journey(write):
    df = events(seed=8)
    scan = tp.scan_parquet(write(df), outcome="revenue", outcome_level="journey")
    with pytest.raises(ValidationError, match=r"outcome_level='journey' needs one value"):
        tp.count_transitions(scan)


def test_states_from_extra_column(write):
    scan, log = both(events(seed=9), write, extra=["channel"])
    kw = {"order": 2, "states": "channel"}
    assert tp.count_transitions(scan, **kw) == tp.count_transitions(log, **kw)


def test_fit_markov_and_removal_effects_equal(write):
    scan, log = both(events(seed=11), write, conversions=["buy"])
    m1, m2 = tp.fit_markov(scan, smoothing=0.5), tp.fit_markov(log, smoothing=0.5)
    assert_models_equal(m1, m2)
    assert m1.conversion_probability() == pytest.approx(m2.conversion_probability(), abs=1e-14)
    r1, r2 = tp.removal_effects(m1), tp.removal_effects(m2)
    assert r1.names == r2.names
    np.testing.assert_allclose(r1.effect, r2.effect, rtol=1e-12, atol=1e-15)
    assert r1.n_conversions == r2.n_conversions and r1.value == pytest.approx(r2.value)


@pytest.mark.parametrize(
    "model", ["markov", "first_touch", "last_touch", "linear", "position", "shapley"]
)
def test_attribution_equal(write, model):
    scan, log = both(events(seed=13), write, conversions=["buy"])
    a, b = tp.attribution(scan, model), tp.attribution(log, model)
    assert a.table["touchpoint"].tolist() == b.table["touchpoint"].tolist()
    for col in ("conversions", "value", "share"):
        np.testing.assert_allclose(a.table[col], b.table[col], rtol=1e-12, atol=1e-12)
    assert a.unattributed == b.unattributed and a.conversion == b.conversion
    assert a.table["conversions"].sum() > 10


def test_attribution_collapsed_order2(write):
    scan, log = both(events(seed=14), write)
    kw = {"order": 2, "collapse_repeats": True}
    a, b = tp.attribution(scan, "markov", **kw), tp.attribution(log, "markov", **kw)
    np.testing.assert_allclose(a.table["conversions"], b.table["conversions"], rtol=1e-12)


# ------------------------------------------------------------------- funnels
def funnel_text(f):
    return f.table.to_text() + "".join(
        f"{s.conversion_km!r}{s.time_median_km!r}{s.censored}{s.exits}{s.next_events}"
        for s in f.steps
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"window": 20.0},
        {"mode": "strict"},
        {"mode": "any"},
        {"window": 25.0, "by": "segment"},
        {"exclude": ["call"], "optional": ["site"]},
    ],
)
def test_funnel_equal(write, monkeypatch, kw):
    from touchpoint.scan import _funnel

    monkeypatch.setattr(_funnel, "BATCH_ROWS", 257)  # journeys carried across batches
    scan, log = both(events(seed=17), write, extra=["segment"])
    steps = ["ad", "site", "cart", "buy"]
    a, b = tp.funnel(scan, steps, **kw), tp.funnel(log, steps, **kw)
    assert funnel_text(a) == funnel_text(b)
    assert a.steps[-1].reached == b.steps[-1].reached > 0
    if kw.get("by"):
        assert a.table.to_text() == b.table.to_text() and len(a.segments) == 3


@pytest.mark.parametrize("kw", [{"by": "segment"}, {"mode": "strict", "window": 9.0}])
def test_funnel_with_journeys_that_never_start(write, kw):
    # short journeys, rare steps: a third of the journeys has no step event at all
    scan, log = both(events(n=1500, n_journeys=600, seed=61), write, extra=["segment"])
    steps = ["mail", "cart", "buy"]
    a, b = tp.funnel(scan, steps, **kw), tp.funnel(log, steps, **kw)
    assert funnel_text(a) == funnel_text(b)
    assert b.steps[0].entered - b.steps[0].reached > 150


def test_funnel_datetimes_and_km(write):
    scan, log = both(events(seed=19, datetimes=True, string_ids=True), write)
    steps = ["ad", {"site", "mail"}, "buy"]
    a, b = (
        tp.funnel(scan, steps, window=pd.Timedelta(days=2)),
        tp.funnel(log, steps, window=pd.Timedelta(days=2)),
    )
    assert funnel_text(a) == funnel_text(b)
    assert any(s.censored > 0 for s in a.steps)


def test_funnel_unknown_step_did_you_mean(write):
    scan, _ = both(events(seed=3), write)
    with pytest.raises(UnknownTouchpointError, match="did you mean 'cart'"):
        tp.funnel(scan, ["ad", "crat"])


def test_detect_dropoffs_equal(write):
    df = events(n=6000, n_journeys=900, seed=23, datetimes=True)
    scan, log = both(df, write, extra=["segment"])
    kw = {"by": "segment", "period": "day", "min_count": 5, "n_resamples": 19}
    steps = ["ad", "site", "buy"]
    with pytest.warns(StatisticalWarning, match="left out") as w1:
        a = tp.detect_dropoffs(scan, steps, **kw)
    with pytest.warns(StatisticalWarning, match="left out") as w2:
        b = tp.detect_dropoffs(log, steps, **kw)
    assert str(w1[0].message) == str(w2[0].message)
    assert a.tests.to_text() == b.tests.to_text()
    assert len(a.tests) >= 5


# --------------------------------------------------------- reading and bad input
def test_collect_equals_from_frame(write):
    df = events(seed=29, string_ids=True)
    scan, log = both(df, write, extra=["segment"])
    got = scan.collect()
    assert got.n_events == log.n_events and got.touchpoint_names == log.touchpoint_names
    np.testing.assert_array_equal(got.journey_ids, log.journey_ids)
    np.testing.assert_array_equal(got.timestamp, log.timestamp)


def test_ties_keep_file_order_across_files(tmp_path):
    # two files; equal times within journeys: the order is file, then row
    a = pd.DataFrame({"journey_id": [1, 1, 2], "touchpoint": ["b", "a", "a"], "timestamp": 0.0})
    b = pd.DataFrame({"journey_id": [1, 2, 2], "touchpoint": ["c", "c", "b"], "timestamp": 0.0})
    (tmp_path / "d").mkdir()
    a.to_parquet(tmp_path / "d" / "part0.parquet", index=False)
    b.to_parquet(tmp_path / "d" / "part1.parquet", index=False)
    scan = tp.scan_parquet(tmp_path / "d")
    log = tp.EventLog.from_frame(
        pd.concat([a, b]), journey="journey_id", touchpoint="touchpoint", time="timestamp"
    )
    assert list(log.paths()) == [("b", "a", "c"), ("a", "c", "b")]
    assert tp.count_transitions(scan, order=2) == tp.count_transitions(log, order=2)
    assert list(scan.collect().paths()) == list(log.paths())


def test_missing_values_raise_or_are_counted(write):
    df = events(seed=31)
    df["journey_id"] = df["journey_id"].astype("Int64")
    df.loc[[5, 50, 500], "journey_id"] = pd.NA
    df.loc[[7], "touchpoint"] = None
    df.loc[[9], "touchpoint"] = "  "
    path = write(df)
    with pytest.raises(ValidationError, match=r"column 'journey_id': missing value at row 5"):
        tp.count_transitions(tp.scan_parquet(path, outcome="revenue"))
    scan = tp.scan_parquet(path, outcome="revenue", on_error="drop")
    with pytest.warns(DroppedRowsWarning, match=r"dropped 5 of 3000 rows \(missing: 4, empty"):
        got = tp.count_transitions(scan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        log = tp.EventLog.from_frame(
            df,
            journey="journey_id",
            touchpoint="touchpoint",
            time="timestamp",
            outcome="revenue",
            on_error="drop",
        )
    assert dict(log.validation.counts) == {"missing": 4, "empty_string": 1}
    assert got == tp.count_transitions(log)


@pytest.mark.parametrize("policy", ["drop", "raise"])
def test_duplicates(write, policy):
    df = events(seed=37)  # equal times: some rows repeat an earlier one already
    df = pd.concat([df, df.iloc[[3, 30]]], ignore_index=True)
    roles = {"journey": "journey_id", "touchpoint": "touchpoint", "time": "timestamp"}
    scan = tp.scan_parquet(write(df), outcome="revenue", duplicates=policy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        log = tp.EventLog.from_frame(df, **roles, outcome="revenue", duplicates="drop")
    n = log.validation.counts["duplicate"]
    assert n >= 2
    if policy == "raise":
        with pytest.raises(ValidationError, match=rf"duplicate event.*\({n - 1} more\)"):
            tp.fit_markov(scan)
        return
    with pytest.warns(DroppedRowsWarning, match=f"duplicate: {n}"):
        got = tp.count_transitions(scan, order=2)
    assert got == tp.count_transitions(log, order=2)


def test_unknown_column_did_you_mean(write):
    path = write(events(seed=41))
    with pytest.raises(ValidationError, match=r"unknown column 'revenu'.*did you mean 'revenue'"):
        tp.scan_parquet(path, outcome="revenu")


def test_time_the_engine_cannot_order(write):
    df = events(seed=43)
    df["timestamp"] = df["timestamp"] > 10
    with pytest.raises(ValidationError, match=r"'timestamp' \(time\) has type boolean.*cannot"):
        tp.scan_parquet(write(df))


def test_bad_file_names_the_engine(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(ValidationError, match=r"duckdb failed while opening"):
        tp.scan_parquet(bad)
    with pytest.raises(ValidationError, match=r"no Parquet files"):
        tp.scan_parquet(tmp_path / "nothing-*.parquet")


def test_what_cannot_be_pushed_down_names_collect(write):
    scan, _ = both(events(seed=47), write)
    with pytest.raises(ValidationError, match=r"scan\.collect\(\)"):
        tp.attribution(scan, "time_decay")
    with pytest.raises(ValidationError, match=r"scan\.collect\(\)"):
        tp.removal_effects(tp.fit_markov(scan), n_resamples=10)
    with pytest.raises(ValidationError, match=r"scan\.collect\(\)"):
        tp.funnel(scan, ["ad", "buy"], count="customers")
    with pytest.raises(ValidationError, match=r"reads log\.\w+.*scan\.collect\(\)"):
        tp.next_steps(scan, "ad")


def test_scan_table_on_an_ibis_table(write):
    ibis = pytest.importorskip("ibis")
    df = events(seed=53)
    df["seq"] = np.arange(len(df))
    t = ibis.memtable(pa.Table.from_pandas(df, preserve_index=False))
    scan = tp.scan_table(t, outcome="revenue", row_order="seq", conversions=["buy"])
    log = tp.EventLog.from_frame(
        df,
        journey="journey_id",
        touchpoint="touchpoint",
        time="timestamp",
        outcome="revenue",
        conversions=["buy"],
    )
    a, b = tp.count_transitions(scan, order=2), tp.count_transitions(log, order=2)
    assert a == b and a.alphabet == b.alphabet


def test_no_outcome_no_conversions(write):
    scan, log = both(events(seed=59, outcome=False), write)
    a, b = tp.count_transitions(scan, order=2), tp.count_transitions(log, order=2)
    assert a == b and a.n_conversions == 0
    f = ["ad", "cart"]
    assert funnel_text(tp.funnel(scan, f)) == funnel_text(tp.funnel(log, f))
