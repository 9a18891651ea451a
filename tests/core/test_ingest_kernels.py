"""The fast ingest kernels give the results of the plain ones.

Object strings coded by identity, integer ids coded by a counting sort,
journeys sorted in blocks on threads, columns gathered side by side: each is
checked against an independent computation (a dict loop, ``np.unique``,
``np.lexsort``) and against the same build with threads off.
"""

from __future__ import annotations

import decimal
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import touchpoint as tp
from touchpoint._lib import columns as C, fastpaths, order as O, parallel

pd = pytest.importorskip("pandas")


def _dict_factorize(values: np.ndarray) -> tuple[list[int], list[object]]:
    """Codes in order of first appearance by a plain dict; -1 for missing or blank."""
    table: dict[object, int] = {}
    codes = []
    for v in values.tolist():
        if C._is_missing(v) or (isinstance(v, str) and not v.strip()):
            codes.append(-1)
            continue
        codes.append(table.setdefault(v, len(table)))
    return codes, list(table)


POOL = ["ad", "email", "", "  ", None, float("nan"), "site", decimal.Decimal("NaN")]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, len(POOL)),
    st.sampled_from([1_500, 20_000]),
    st.floats(0, 0.05),
)
def test_identity_factorize_equals_a_dict(seed: int, k: int, n: int, copies: float) -> None:
    """Few objects held many times, some equal values held by other objects."""
    rng = np.random.default_rng(seed)
    table = np.empty(k, dtype=object)
    table[:] = [POOL[i] for i in rng.choice(len(POOL), k, replace=False)]
    values = table[rng.integers(0, k, n)]
    for i in np.flatnonzero(rng.random(n) < copies):
        if isinstance(values[i], str):
            values[i] = (values[i] + "x")[:-1]  # an equal string, another object
        elif isinstance(values[i], float):
            values[i] = float("nan")
    assert C._factorize_by_identity(values, pd) is not None  # the identity path ran
    got = C.factorize(values)
    codes, uniques = _dict_factorize(values)
    assert got.codes.tolist() == codes
    assert got.uniques.tolist() == uniques
    assert got.empty.tolist() == [isinstance(v, str) and not v.strip() for v in values]


def test_identity_path_steps_aside_for_one_object_per_row() -> None:
    values = np.array([f"id{i % 5000}" for i in range(20_000)], dtype=object)
    assert C._factorize_by_identity(values, pd) is None
    codes, uniques = _dict_factorize(values)
    got = C.factorize(values)
    assert got.codes.tolist() == codes and got.uniques.tolist() == uniques


def test_identity_path_on_a_strided_view_and_unhashable_values() -> None:
    base = np.array(["a", "b", "c"], dtype=object)[np.arange(40_000) % 3]
    view = base[::2]  # not contiguous
    assert view.tolist()[:3] == ["a", "c", "b"]
    assert C.factorize(view).codes.tolist() == _dict_factorize(view)[0]
    bad = np.empty(5_000, dtype=object)
    bad[:] = [["x"]] * 5_000  # one unhashable object, many times
    with pytest.raises(TypeError):
        C.factorize(bad)


def test_identity_path_keeps_the_id_collision_check() -> None:
    values = np.array(["1", 1], dtype=object)[np.arange(5_000) % 2]
    with pytest.raises(C.IdCollisionError):
        C.factorize(values)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["dense", "sparse", "uint"]), st.integers(2, 3_000))
def test_counted_codes_equal_np_unique(seed: int, kind: str, n: int) -> None:
    rng = np.random.default_rng(seed)
    if kind == "dense":
        values = rng.integers(-50, 3 * n, n)
    elif kind == "sparse":
        values = rng.integers(-(2**62), 2**62, n // 3 + 1)[rng.integers(0, n // 3 + 1, n)]
    else:
        values = rng.integers(0, 2**63, n, dtype=np.uint64) + np.uint64(2**63 - 1)
    got = C._counted_codes(values)
    assert got is not None and got.grouping is not None
    uniq, inv = np.unique(values, return_inverse=True)
    assert got.uniques.tolist() == uniq.tolist() and got.uniques.dtype == values.dtype
    assert got.codes.tolist() == inv.ravel().tolist()  # (computed from the grouping)
    order, grouped = got.grouping
    assert order.tolist() == np.argsort(inv.ravel(), kind="stable").tolist()
    assert grouped.tolist() == np.sort(inv.ravel()).tolist()


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Threads on for any size (three of them, so blocks and queues both occur)."""
    monkeypatch.setattr(parallel, "MIN_EVENTS", 0)
    monkeypatch.setenv("TOUCHPOINT_NUM_THREADS", "3")
    return monkeypatch


def _log_arrays(log: tp.EventLog) -> dict[str, list[object]]:
    return {
        "journey": log.journey.tolist(),
        "ids": log.journey_ids.tolist(),
        "touchpoint": log.touchpoint.tolist(),
        "names": list(log.touchpoint_names),
        "time": log.timestamp.tolist(),
        "outcome": np.nan_to_num(log.outcome, nan=-1.0).tolist(),
        "extra": {k: v.tolist() for k, v in log.extra.items()},
    }


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from(["shuffled", "grouped", "sorted", "time-sorted"]),
    st.booleans(),
    st.booleans(),
)
def test_threaded_build_equals_serial_and_lexsort(
    seed: int, layout: str, bad_rows: bool, float_time: bool
) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4_000))
    ids = rng.integers(0, max(n // 5, 1), n) * 7 + 100
    times = rng.integers(0, 40, n)  # many ties
    if layout == "grouped":
        ids = np.sort(ids)
        ids = rng.permutation(np.unique(ids))[np.searchsorted(np.unique(ids), ids)]
    elif layout == "sorted":
        key = np.lexsort((times, ids))
        ids, times = ids[key], times[key]
    elif layout == "time-sorted":
        times = np.sort(times)
    touch = np.array(["ad", "email", "site", "buy"], dtype=object)[rng.integers(0, 4, n)]
    outcome = np.where(rng.random(n) < 0.1, 5.0, np.nan)
    seg = np.array(["a", "b"], dtype=object)[rng.integers(0, 2, n)]
    tvals = times.astype(np.float64) / 4 if float_time else times
    if bad_rows:
        touch[rng.integers(0, n, 3)] = None
    kwargs = {"outcome": outcome, "extra": {"segment": seg}, "on_error": "drop"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOUCHPOINT_NUM_THREADS", "1")
        with pytest.warns() if bad_rows else _nothing():
            serial = tp.EventLog.from_arrays(ids, touch, tvals, **kwargs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parallel, "MIN_EVENTS", 0)
        mp.setenv("TOUCHPOINT_NUM_THREADS", "3")
        with pytest.warns() if bad_rows else _nothing():
            threaded = tp.EventLog.from_arrays(ids, touch, tvals, **kwargs)
    assert _log_arrays(threaded) == _log_arrays(serial)
    # independent: rows by (journey id, time, input row), the bad rows left out
    keep = np.array([v is not None for v in touch])
    rows = np.flatnonzero(keep)
    ref = rows[np.lexsort((rows, tvals[rows], ids[rows]))]
    assert threaded.journey_ids[threaded.journey].tolist() == ids[ref].tolist()
    assert threaded.timestamp.tolist() == tvals[ref].tolist()
    assert [threaded.touchpoint_names[c] for c in threaded.touchpoint] == touch[ref].tolist()
    assert threaded.extra["segment"].tolist() == seg[ref].tolist()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_order_in_blocks_equals_lexsort_with_many_journeys(threads: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    n = 300_000
    j = rng.integers(0, 90_000, n)
    t = rng.integers(-(2**62), 2**62, n) >> rng.integers(0, 62, n)  # wide: key ties re-sorted
    order, js, ts = O.order_by_journey_time(j, t, 90_000)
    ref = np.lexsort((t, j))
    assert order is not None and order.tolist() == ref.tolist()
    assert js.tolist() == j[ref].tolist() and ts.tolist() == t[ref].tolist()


def test_sort_without_pandas_counting_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pandas: the top-16-bit radix pass and the packed key still sort exactly."""
    monkeypatch.setitem(sys.modules, "pandas._libs.algos", None)
    rng = np.random.default_rng(8)
    n = 200_000
    j = rng.integers(0, 80_000, n)
    t = rng.integers(0, 1_000, n)
    assert fastpaths.counting_sort(j, 80_000) is None
    order, js, ts = O.order_by_journey_time(j, t, 80_000)
    ref = np.lexsort((t, j))
    assert order is not None and order.tolist() == ref.tolist()
    assert js.tolist() == j[ref].tolist() and ts.tolist() == t[ref].tolist()
    ids = rng.integers(0, 10**6, n)
    got = C.factorize(ids)
    assert got.grouping is None
    assert got.codes.tolist() == np.unique(ids, return_inverse=True)[1].ravel().tolist()


def test_run_keeps_order_and_raises_the_first_error_in_list_order(
    threads: pytest.MonkeyPatch,
) -> None:
    assert parallel.run([lambda: 1, lambda: 2, lambda: 3], 10, inline=1) == [1, 2, 3]

    def boom(msg: str) -> int:
        raise ValueError(msg)

    with pytest.raises(ValueError, match="first"):
        parallel.run([lambda: boom("first"), lambda: 2, lambda: boom("third")], 10, inline=2)
    nested = parallel.run([lambda: parallel.run([lambda: 4, lambda: 5], 10), lambda: 6], 10)
    assert nested == [[4, 5], 6]


@pytest.mark.parametrize(("env", "expected"), [("1", 1), ("3", 3), ("0", 1)])
def test_thread_count_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: str, expected: int
) -> None:
    monkeypatch.setenv("TOUCHPOINT_NUM_THREADS", env)
    assert parallel.n_threads() == expected


@pytest.mark.parametrize("env", ["10000", "x"])
def test_thread_count_beyond_the_machine_or_not_a_number_warns(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    """``TOUCHPOINT_NUM_THREADS=10000`` used to start hundreds of threads."""
    parallel._env_threads.cache_clear()
    monkeypatch.setenv("TOUCHPOINT_NUM_THREADS", env)
    with pytest.warns(tp.TouchpointWarning, match="TOUCHPOINT_NUM_THREADS"):
        n = parallel.n_threads()
    cores = len(os.sched_getaffinity(0))
    assert n == (1 if env == "x" else max(cores, parallel.MAX_ENV_THREADS))
    assert parallel.n_threads() == n  # warned once per value


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.uint64])
@pytest.mark.parametrize("n", [5, 20_000])
def test_narrow_and_unsigned_ids_at_their_extremes(dtype: type, n: int) -> None:
    """``values - min`` must not wrap in the ids' own type (int8 ids crashed before)."""
    info = np.iinfo(dtype)
    pool = np.array([info.max, info.min, info.max // 2, info.min + 1], dtype=dtype)
    rng = np.random.default_rng(1)
    ids = pool[rng.integers(0, 4, n)]
    t = rng.permutation(n)
    log = tp.EventLog.from_arrays(ids, np.full(n, "ad", dtype=object), t)
    assert log.journey_ids.tolist() == np.unique(ids).tolist()
    order = np.lexsort((t, ids))
    assert log.journey_ids[log.journey].tolist() == ids[order].tolist()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_threads_work_in_a_forked_child(threads: pytest.MonkeyPatch) -> None:
    """A child forked after the pool started must not wait on the parent's threads."""
    import multiprocessing as mp

    assert parallel.run([lambda: 1, lambda: 2], 10) == [1, 2]  # the pool exists now
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(_threaded_sum).get(timeout=60)
    assert got == [3, 7]


def _threaded_sum() -> list[int]:
    parallel.MIN_EVENTS = 0
    return parallel.run([lambda: 1 + 2, lambda: 3 + 4], 10)


def test_inline_block_runs_everything_on_the_calling_thread(threads: pytest.MonkeyPatch) -> None:
    import threading

    with parallel.inline():
        names = parallel.run([lambda: threading.current_thread().name] * 3, 10)
    assert set(names) == {threading.current_thread().name}
    names = parallel.run([lambda: threading.current_thread().name] * 3, 10)
    assert any(name.startswith("touchpoint") for name in names)
