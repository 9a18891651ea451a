"""touchpoint.dask: counts on a local Dask cluster equal the in-memory analysis.

The reference for every test is the same rows analysed in one EventLog with
the in-memory functions (``tp.fit_markov``, ``tp.funnel``, ``tp.nps``); the
cluster is a ``distributed.LocalCluster`` with 2 worker processes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import touchpoint as tp

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from touchpoint import dask as tpd  # noqa: E402

COLS = {"journey": "customer_id", "touchpoint": "touchpoint", "time": "timestamp"}


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def sample():
    log, surveys, journey = tp.datasets.load_sample()
    # rows shuffled, so journeys are scattered over partitions before the shuffle
    frame = log.to_frame().sample(frac=1.0, random_state=1).reset_index(drop=True)
    return log, surveys, journey, frame


def same_model(a, b):
    """Equal up to the order of states: same labels, counts and probabilities."""
    assert set(a.states) == set(b.states)
    assert a.transition_counts == b.transition_counts
    idx_b = [b.states.index(s) for s in a.states]
    ca, cb = a.counts.toarray(), b.counts.toarray()[np.ix_(idx_b, idx_b)]
    np.testing.assert_array_equal(ca, cb)
    pa, pb = a.transition_matrix.toarray(), b.transition_matrix.toarray()[np.ix_(idx_b, idx_b)]
    np.testing.assert_allclose(pa, pb, rtol=0, atol=1e-15)
    assert a.conversion_probability() == pytest.approx(b.conversion_probability(), abs=1e-12)


def test_fit_markov_on_cluster_equals_in_memory(client, sample):
    log, _, journey, frame = sample
    ddf = dd.from_pandas(frame, npartitions=6)
    model = tpd.fit_markov(ddf, outcome="revenue", design=journey, **COLS)
    local = tp.fit_markov(tp.EventLog.from_frame(frame, outcome="revenue", design=journey, **COLS))
    same_model(model, local)
    same_model(model, tp.fit_markov(log))  # and equal to the bundled log itself
    # states come in design order, whatever the partitioning
    design_order = [t.name for t in journey.touchpoints]
    labels = [s for s in model.states if s in design_order]
    assert labels == sorted(labels, key=design_order.index)


@pytest.mark.parametrize(("order", "states"), [(2, "touchpoint"), (1, "stage")])
def test_higher_order_and_stage_states(client, sample, order, states):
    _, _, journey, frame = sample
    ddf = dd.from_pandas(frame, npartitions=3)
    counts = tpd.count_transitions(
        ddf, outcome="revenue", design=journey, order=order, states=states, **COLS
    )
    local = tp.EventLog.from_frame(frame, outcome="revenue", design=journey, **COLS)
    assert counts == tp.count_transitions(local, order=order, states=states)
    assert counts.n_journeys == local.n_journeys


def test_journey_index_needs_no_shuffle(client, sample):
    log, _, _, frame = sample
    indexed = dd.from_pandas(frame, npartitions=4).set_index("customer_id")
    assert indexed.known_divisions
    counts = tpd.count_transitions(indexed, outcome="revenue", **COLS)
    assert counts == tp.count_transitions(log)
    # shuffle=False trusts the partitioning: fine here; scattered journeys are refused
    assert tpd.count_transitions(indexed, outcome="revenue", shuffle=False, **COLS) == counts
    with pytest.raises(tp.ValidationError, match=r"more than one partition"):
        tpd.count_transitions(
            dd.from_pandas(frame, npartitions=4), outcome="revenue", shuffle=False, **COLS
        )


def test_funnel_on_cluster_equals_in_memory(client, sample):
    _, _, journey, frame = sample
    ddf = dd.from_pandas(frame, npartitions=5)
    steps = ["product_page", "add_to_cart", "checkout_web"]
    local_log = tp.EventLog.from_frame(frame, outcome="revenue", design=journey, **COLS)
    for kwargs in ({}, {"steps": steps}, {"steps": steps, "window": 3600.0 * 24}):
        got = tpd.funnel(ddf, outcome="revenue", design=journey, **kwargs, **COLS)
        want = tp.funnel(local_log, **kwargs)
        assert got.n_units == want.n_units
        assert len(got.steps) == len(want.steps)
        for a, b in zip(got.steps, want.steps):
            assert (a.label, a.touchpoints, a.entered, a.reached, a.first_reached) == (
                b.label,
                b.touchpoints,
                b.entered,
                b.reached,
                b.first_reached,
            )
            assert dict(a.exits) == dict(b.exits)
            assert dict(a.next_events) == dict(b.next_events)
            np.testing.assert_allclose(
                [a.time_q1, a.time_median, a.time_q3],
                [b.time_q1, b.time_median, b.time_q3],
                rtol=1e-12,
            )
            # Kaplan-Meier: units still waiting are censored at the end of the whole log
            assert a.censored == b.censored
            np.testing.assert_allclose(
                [a.conversion_km, a.time_median_km, a.conversion_within(3600.0)],
                [b.conversion_km, b.time_median_km, b.conversion_within(3600.0)],
                rtol=1e-9,
            )


def same_funnel(got, want):
    assert got.n_units == want.n_units
    for a, b in zip(got.steps, want.steps, strict=True):
        assert (a.label, a.entered, a.reached, a.first_reached) == (
            b.label,
            b.entered,
            b.reached,
            b.first_reached,
        )
        assert dict(a.exits) == dict(b.exits)
        np.testing.assert_allclose(a.time_median, b.time_median, rtol=1e-12)
        assert a.censored == b.censored
        np.testing.assert_allclose(a.conversion_km, b.conversion_km, rtol=1e-9)


def test_funnel_by_segment_on_cluster(client, sample):
    _, _, journey, frame = sample
    ddf = dd.from_pandas(frame, npartitions=4)
    steps = ["add_to_cart", "checkout_web"]
    got = tpd.funnel(ddf, steps, by="device", design=journey, **COLS)
    local = tp.EventLog.from_frame(frame, design=journey, extra=("device",), **COLS)
    want = tp.funnel(local, steps, by="device")
    same_funnel(got, want)
    assert list(got.segments) == list(want.segments) == ["desktop", "mobile", "tablet"]
    for g in want.segments:
        same_funnel(got.segments[g], want.segments[g])
    assert got.tests is not None and want.tests is not None
    np.testing.assert_allclose(got.tests["statistic"], want.tests["statistic"], rtol=1e-12)
    np.testing.assert_allclose(got.tests["qvalue"], want.tests["qvalue"], rtol=1e-12)


def test_funnel_step_missing_from_a_partition():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "touchpoint": ["ad", "site", "buy", "ad", "site", "ad"],
            "timestamp": [0.0, 1, 2, 0, 1, 0],
        }
    )
    ddf = dd.from_pandas(frame, npartitions=3, sort=False)
    got = tpd.funnel(ddf, ["ad", "site", "buy"], scheduler="sync", **COLS)
    want = tp.funnel(tp.EventLog.from_frame(frame, **COLS), ["ad", "site", "buy"])
    assert [s.reached for s in got.steps] == [s.reached for s in want.steps] == [3, 2, 1]


def test_dropped_rows_are_counted_once_across_partitions():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", None, "b", "b", "c", "c"],
            "touchpoint": ["ad", "site", "ad", "ad", None, "ad", "buy"],
            "timestamp": [0.0, 1, 2, 0, 1, 0, 1],
        }
    )
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.warns(tp.DroppedRowsWarning, match="dropped 2 of 7 rows.*partition") as caught:
        counts = tpd.count_transitions(ddf, on_error="drop", scheduler="sync", **COLS)
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = tp.EventLog.from_frame(frame, on_error="drop", **COLS)
    assert counts == tp.count_transitions(local)
    with pytest.raises(
        tp.ValidationError, match=r"column .*index .*\(partition \d+, row \d+\): missing"
    ):
        tpd.count_transitions(ddf, scheduler="sync", **COLS)


def test_map_logs_with_a_counter(sample):
    from collections import Counter

    log, _, _, frame = sample
    ddf = dd.from_pandas(frame, npartitions=4)
    got = tpd.map_logs(ddf, _touchpoint_counter, scheduler="threads", **COLS)
    names = np.array(log.touchpoint_names)[log.touchpoint]
    assert got == Counter(names.tolist())


def _touchpoint_counter(log):
    from collections import Counter

    return Counter(np.array(log.touchpoint_names)[log.touchpoint].tolist())


def test_score_counts_give_exact_metrics(client, sample):
    _, surveys, _, _ = sample
    frame = surveys.to_frame()
    ddf = dd.from_pandas(frame, npartitions=4)
    tally = tpd.score_counts(ddf, "nps")
    answers = tpd.expand(tally[None])
    assert len(answers) == len(frame)
    ref = np.sort(frame["nps"].to_numpy())
    np.testing.assert_array_equal(np.sort(answers), ref)  # NaN sorts last in both
    by = tpd.score_counts(ddf, "csat", by="channel")
    for channel, t in by.items():
        want = frame.loc[frame["channel"] == channel, "csat"].to_numpy()
        np.testing.assert_array_equal(np.sort(tpd.expand(t)), np.sort(want))


def test_bad_arguments(sample):
    _, _, _, frame = sample
    ddf = dd.from_pandas(frame.head(50), npartitions=2)
    with pytest.raises(tp.ValidationError, match="unknown column 'nope'"):
        tpd.count_transitions(ddf, journey="nope", touchpoint="touchpoint", time="timestamp")
    with pytest.raises(tp.ValidationError, match="shuffle"):
        tpd.count_transitions(ddf, shuffle="yes", **COLS)  # type: ignore[arg-type]
    with pytest.raises(tp.ValidationError, match="order"):
        tpd.fit_markov(ddf, order=0, **COLS)
    with pytest.raises(tp.ValidationError, match="unknown column 'nps'"):
        tpd.score_counts(ddf, "nps")


def test_journey_level_outcome_on_partitions_equals_in_memory():
    import shapes

    cols = shapes.journey_flags(300)
    frame = pd.DataFrame(
        {
            "customer_id": cols["journey"],
            "touchpoint": cols["touchpoint"],
            "timestamp": cols["time"],
            "converted": cols["outcome"],
        }
    )
    ddf = dd.from_pandas(frame, npartitions=3)
    kw = {"outcome": "converted", "outcome_level": "journey", **COLS}
    got = tpd.count_transitions(ddf, scheduler="sync", **kw)
    want = tp.count_transitions(tp.EventLog.from_frame(frame, **kw))
    assert got == want
    assert got.n_conversions == (frame.groupby("customer_id").converted.max() > 0).sum()


def _part(ids: list[object]) -> object:
    keys, ordered = tpd._journey_keys(
        np.array(ids, dtype=object if isinstance(ids[0], str) else None)
    )
    return tpd._Part(value=None, n_input=len(ids), dropped={}, hashes=keys, ids=ordered)


@pytest.mark.parametrize(
    ("left", "right", "split"),
    [
        ([3, 1, 7], [2, 9], None),
        ([3, 1, 7], [2, 7], 7),
        (["c1", "c2"], ["c3"], None),
        (["c1", "c2"], ["c3", "c2"], "c2"),
        ([5, 6], ["c5", "x"], None),  # integer ids in one part, text in the other
        ([5, 6], ["6", "x"], None),  # 6 and "6" are different ids
    ],
)
def test_split_journeys_are_found_by_exact_keys(left, right, split) -> None:
    a, b = _part(left), _part(right)
    if split is None:
        keys, ids = tpd._merge_ids(a, b)
        assert len(keys) == len(left) + len(right)
        assert bool(np.all(keys[1:] >= keys[:-1]))
        merged = tpd._Part(value=None, n_input=0, dropped={}, hashes=keys, ids=ids)
        with pytest.raises(tp.ValidationError, match="more than one partition"):
            tpd._merge_ids(merged, _part([left[0]]))  # and the merged part still finds splits
    else:
        with pytest.raises(tp.ValidationError, match=rf"journey {split!r} has events in more"):
            tpd._merge_ids(a, b)


def test_equal_hashes_of_different_ids_are_not_a_split(monkeypatch) -> None:
    monkeypatch.setattr(pd.util, "hash_array", lambda values, **kw: np.zeros(len(values), "u8"))
    a, b = _part(["c1", "c2"]), _part(["c3"])
    _, ids = tpd._merge_ids(a, b)
    assert sorted(ids.tolist()) == ["c1", "c2", "c3"]
    with pytest.raises(tp.ValidationError, match="'c2' has events"):
        tpd._merge_ids(a, _part(["c2"]))


def test_string_keys_are_the_same_in_every_process() -> None:
    """pandas' hash, not Python's per-process randomised ``hash`` of a string."""
    import subprocess
    import sys

    code = (
        "import numpy as np; from touchpoint import dask as tpd; "
        "print(tpd._journey_keys(np.array(['c1', 'c2'], dtype=object))[0].tolist())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
