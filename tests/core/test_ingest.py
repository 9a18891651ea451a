"""Ingest kernels: times as int64 ns (never wrapped), id collisions, one result on every path."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import touchpoint as tp
from touchpoint._lib.columns import factorize
from touchpoint._lib.order import order_by_journey_time
from touchpoint._lib.timeparse import parse_time
from touchpoint.exceptions import DroppedRowsWarning, ValidationError

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

ENGINES = ["python", "pyarrow", "polars"]


# ------------------------------------------------------------------ time range
def _old_and_far() -> np.ndarray:
    return np.array(
        ["2026-01-01", "1600-01-01", "2026-01-02", "3000-06-01"], dtype="datetime64[us]"
    )


def test_times_outside_ns_range_raise_naming_column_row_and_value() -> None:
    t = _old_and_far()
    with pytest.raises(ValidationError, match=r"column 'time', row 1: timestamp outside .*1600"):
        tp.EventLog.from_arrays([1, 1, 2, 2], ["a", "b", "a", "b"], t)


def test_times_outside_ns_range_are_counted_when_dropped() -> None:
    t = _old_and_far()
    with pytest.warns(DroppedRowsWarning, match="out_of_range_time: 2"):
        log = tp.EventLog.from_arrays([1, 1, 2, 2], ["a", "b", "a", "b"], t, on_error="drop")
    assert log.validation.counts == {"out_of_range_time": 2}
    assert np.array_equal(log.timestamp, np.array(["2026-01-01", "2026-01-02"], "datetime64[ns]"))


def _frames_with(t_us: np.ndarray) -> dict[str, object]:
    data = {"id": [1, 1, 2, 2], "tp": ["a", "b", "a", "b"]}
    return {
        "pandas": pd.DataFrame({**data, "t": pd.Series(t_us)}),
        "polars": pl.DataFrame({**data, "t": pl.Series(t_us)}),
        "pyarrow": pa.table({**data, "t": pa.array(t_us)}),
    }


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
def test_frames_with_old_times_raise(kind: str) -> None:
    frame = _frames_with(_old_and_far())[kind]
    with pytest.raises(ValidationError, match=r"column 't', row 1: timestamp outside"):
        tp.EventLog.from_frame(frame, journey="id", touchpoint="tp", time="t")


def test_records_with_old_python_datetimes_raise() -> None:
    recs = [
        {"id": 1, "tp": "a", "t": dt.datetime(2026, 1, 1)},
        {"id": 1, "tp": "b", "t": dt.datetime(1500, 5, 1)},
    ]
    with pytest.raises(ValidationError, match=r"row 1: timestamp outside .*1500"):
        tp.EventLog.from_records(recs, journey="id", touchpoint="tp", time="t")


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_old_times_never_wrap(tmp_path, engine: str) -> None:
    p = tmp_path / "e.csv"
    p.write_text(
        "journey_id,touchpoint,timestamp\n"
        "1,ad,2026-01-01T10:00:00.123456789\n"
        "1,buy,1600-01-01\n"
        "2,ad,2026-01-01\n"
    )
    with pytest.raises(ValidationError, match=r"row 1 \(file line 3\): timestamp outside"):
        tp.read_csv(p, engine=engine)
    with pytest.warns(DroppedRowsWarning):
        log = tp.read_csv(p, engine=engine, on_error="drop")
    assert log.validation.counts == {"out_of_range_time": 1}
    # nanoseconds of the ISO string survive exactly
    assert log.timestamp[0] == np.datetime64("2026-01-01T10:00:00.123456789", "ns")


def test_integer_nanoseconds_stay_exact() -> None:
    base = 1_767_225_600_000_000_000  # 2026-01-01 in ns
    t = np.array([base, base + 100, base + 200, base + 100], dtype=np.int64)
    log = tp.EventLog.from_arrays([1, 1, 1, 2], ["a", "b", "c", "a"], t)
    assert log.timestamp.dtype == np.int64
    assert log.timestamp.tolist() == [base, base + 100, base + 200, base + 100]
    assert log.validation.n_dropped == 0
    assert list(log.paths()) == [("a", "b", "c"), ("a",)]


def test_integer_nanoseconds_from_csv_text_stay_exact(tmp_path) -> None:
    base = 1_767_225_600_000_000_000
    p = tmp_path / "e.csv"
    p.write_text(f"journey_id,touchpoint,timestamp\n1,b,{base + 100}\n1,a,{base}\n")
    for engine in ENGINES:
        log = tp.read_csv(p, engine=engine)
        assert log.timestamp.tolist() == [base, base + 100]
        assert list(log.paths()) == [("a", "b")]


def test_datetime_units_convert_exactly() -> None:
    for unit in ["D", "h", "m", "s", "ms", "us", "ns"]:
        t = np.array(["2000-01-01", "2262-04-11"], dtype=f"datetime64[{unit}]")
        parsed = parse_time(t)
        assert not parsed.out_of_range.any()
        assert np.array_equal(parsed.values, t.astype("datetime64[ns]"))
    late = np.array(["2262-04-12"], dtype="datetime64[D]")
    assert parse_time(late).out_of_range.tolist() == [True]


# ------------------------------------------------------------------- time zones
def test_mixed_aware_and_naive_raise_naming_column_and_row() -> None:
    recs = [
        {"id": 1, "tp": "a", "t": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)},
        {"id": 1, "tp": "b", "t": dt.datetime(2026, 1, 2)},
    ]
    with pytest.raises(
        ValidationError, match=r"column 't', row 1: .* mixes time-zone aware and naive"
    ):
        tp.EventLog.from_records(recs, journey="id", touchpoint="tp", time="t")


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_mixed_offsets_and_naive_raise(tmp_path, engine: str) -> None:
    p = tmp_path / "e.csv"
    p.write_text("journey_id,touchpoint,timestamp\n1,a,2026-01-01T10:00Z\n1,b,2026-01-01T11:00\n")
    with pytest.raises(ValidationError, match=r"row 1 \(file line 3\).*mixes time-zone aware"):
        tp.read_csv(p, engine=engine)


def test_aware_times_become_utc_and_the_log_says_so() -> None:
    t = pd.Series(pd.to_datetime(["2026-03-01 10:00", "2026-03-01 11:00"])).dt.tz_localize(
        "Europe/Berlin"
    )
    frames = {
        "pandas": pd.DataFrame({"id": [1, 1], "tp": ["a", "b"], "t": t}),
        "polars": pl.DataFrame({"id": [1, 1], "tp": ["a", "b"], "t": pl.from_pandas(t)}),
        "pyarrow": pa.table({"id": [1, 1], "tp": ["a", "b"], "t": pa.array(t)}),
    }
    for frame in frames.values():
        log = tp.EventLog.from_frame(frame, journey="id", touchpoint="tp", time="t")
        assert log.time_zone == "Europe/Berlin"
        assert log.timestamp[0] == np.datetime64("2026-03-01T09:00", "ns")
        assert log.select(np.array([True, False])).time_zone == "Europe/Berlin"
    naive = tp.EventLog.from_arrays([1], ["a"], np.array(["2026-01-01"], dtype="datetime64[s]"))
    assert naive.time_zone is None
    text = tp.EventLog.from_arrays(
        [1, 1], ["a", "b"], ["2026-01-01T10:00+02:00", "2026-01-01T12:00+02:00"]
    )
    assert text.time_zone == "UTC+02:00"
    assert text.timestamp[0] == np.datetime64("2026-01-01T08:00", "ns")


# ---------------------------------------------------------------- id collisions
def test_one_and_text_one_in_an_id_column_raise() -> None:
    with pytest.raises(ValidationError, match=r"column 'journey': 1 \(row 0\) and '1' \(row 1\)"):
        tp.EventLog.from_arrays([1, "1"], ["a", "b"], [0.0, 1.0])
    with pytest.raises(
        ValidationError, match=r"column 'touchpoint': 1 \(row 0\) and '1' \(row 2\)"
    ):
        tp.EventLog.from_arrays(["x", "x", "x"], [1, "a", "1"], [0.0, 1.0, 2.0])
    frame = pd.DataFrame({"id": pd.Series([1, "1"], dtype=object), "tp": ["a", "b"], "t": [0, 1]})
    with pytest.raises(ValidationError, match="print the same"):
        tp.EventLog.from_frame(frame, journey="id", touchpoint="tp", time="t")


def test_non_finite_and_huge_float_ids_stay_apart() -> None:
    ids = np.array([np.inf, -np.inf, 1e300, 2e300, 3.0, np.inf])
    log = tp.EventLog.from_arrays(ids, ["a"] * 6, np.arange(6.0))
    assert log.n_journeys == 5
    assert sorted(log.journey_ids.tolist()) == [-np.inf, 3.0, 1e300, 2e300, np.inf]
    big = [2**63 + 1, 2**63 + 2, 5]  # beyond int64: Python ints, kept apart
    log2 = tp.EventLog.from_arrays(big, ["a"] * 3, [0.0, 1.0, 2.0])
    assert log2.n_journeys == 3


# ------------------------------------------------------- one answer on every path
def _random_events(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    ids = rng.choice(np.array([f"c{i}" for i in range(max(n // 4, 1))], dtype=object), n)
    names = np.array(["ad", "search", "email", "site", "", None], dtype=object)
    touch = names[rng.choice(6, n, p=[0.3, 0.25, 0.2, 0.15, 0.05, 0.05])]
    t = (np.datetime64("2026-01-01", "s") + rng.integers(0, 5_000, n)).astype("datetime64[us]")
    out = np.where(rng.random(n) < 0.1, 9.5, np.nan)
    return {"id": ids, "tp": touch, "t": t, "rev": out}


def _log_fingerprint(log: tp.EventLog) -> tuple:
    return (
        log.journey_ids.tolist(),
        log.touchpoint_names,
        log.journey.tolist(),
        log.touchpoint.tolist(),
        log.timestamp.tolist(),
        np.nan_to_num(log.outcome, nan=-1).tolist(),
        dict(log.validation.counts),
    )


def _all_paths(cols: dict[str, np.ndarray]) -> dict[str, tp.EventLog]:
    kw = {"journey": "id", "touchpoint": "tp", "time": "t", "outcome": "rev", "on_error": "drop"}
    pdf = pd.DataFrame(cols)
    frames = {
        "pandas-object": pdf,
        "pandas-str": pdf.assign(id=pdf["id"].astype("str"), tp=pdf["tp"].astype("str")),
        "pandas-category": pdf.assign(
            id=pdf["id"].astype("category"), tp=pdf["tp"].astype("category")
        ),
        "polars": pl.from_pandas(pdf),
        "polars-categorical": pl.from_pandas(pdf).with_columns(
            pl.col("id").cast(pl.Categorical), pl.col("tp").cast(pl.Categorical)
        ),
        "pyarrow": pa.Table.from_pandas(pdf, preserve_index=False),
        "pyarrow-dictionary": pa.Table.from_pandas(pdf, preserve_index=False).cast(
            pa.schema(
                [
                    ("id", pa.dictionary(pa.int32(), pa.string())),
                    ("tp", pa.dictionary(pa.int32(), pa.string())),
                    ("t", pa.timestamp("us")),
                    ("rev", pa.float64()),
                ]
            )
        ),
    }
    out = {}
    with pytest.warns(DroppedRowsWarning):
        out["arrays"] = tp.EventLog.from_arrays(
            cols["id"],
            cols["tp"],
            cols["t"],
            outcome=cols["rev"],
            on_error="drop",
            columns={"journey": "id", "touchpoint": "tp", "time": "t", "outcome": "rev"},
        )
    for name, frame in frames.items():
        with pytest.warns(DroppedRowsWarning):
            out[name] = tp.EventLog.from_frame(frame, **kw)
    return out


@pytest.mark.parametrize("n", [200, 3000])  # 3000: pandas' hash table path for object ids
def test_every_frame_kind_and_layout_gives_the_same_log(n: int) -> None:
    rng = np.random.default_rng(n)
    cols = _random_events(rng, n)
    logs = _all_paths(cols)
    perm = rng.permutation(n)
    shuffled = _all_paths({k: v[perm] for k, v in cols.items()})
    ref = _log_fingerprint(logs["arrays"])
    for name, log in logs.items():
        assert _log_fingerprint(log) == ref, name
    # shuffled rows: same journeys, events and counts (ids in another first-seen order)
    for name, log in shuffled.items():
        assert Counter(map(tuple, log.paths())) == Counter(map(tuple, logs["arrays"].paths())), name
        assert tp.count_transitions(log) == tp.count_transitions(logs["arrays"]), name
        assert log.validation.counts == logs["arrays"].validation.counts


def test_empty_and_blank_touchpoints_are_empty_strings_on_every_path() -> None:
    cols = {
        "id": np.array(["a", "a", "b"], dtype=object),
        "tp": np.array(["x", " ", None], dtype=object),
        "t": np.array(["2026-01-01", "2026-01-02", "2026-01-03"], dtype="datetime64[us]"),
        "rev": np.array([np.nan, np.nan, np.nan]),
    }
    for log in _all_paths(cols).values():
        assert log.validation.counts == {"missing": 1, "empty_string": 1}


# ------------------------------------------------------------------------ sort
@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(-(2**62), 2**62)), min_size=0, max_size=60),
    st.booleans(),
    st.sampled_from([0, 1, 40, 61]),
)
def test_sort_equals_lexsort(pairs, grouped: bool, spread: int) -> None:
    j = np.array([p[0] for p in pairs], dtype=np.int64)
    t = np.array([p[1] >> (61 - spread) if spread < 61 else p[1] for p in pairs], dtype=np.int64)
    if grouped:
        j = np.sort(j)
    nj = int(j.max()) + 1 if len(j) else 0
    order, js, ts = order_by_journey_time(j, t, nj)
    ref = np.lexsort((t, j))
    got = np.arange(len(j)) if order is None else order
    assert got.tolist() == ref.tolist()
    assert js.tolist() == j[ref].tolist()
    assert ts.tolist() == t[ref].tolist()


def test_sort_of_float_times_and_many_journeys() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    j = rng.integers(0, 70_000, n)  # > 2**16 journeys: two radix passes
    t = rng.normal(size=n).round(2)
    t[::7] = -0.0
    order, _, ts = order_by_journey_time(j, t, 70_000)
    ref = np.lexsort((t, j))
    assert order is not None and order.tolist() == ref.tolist()
    assert ts.tolist() == t[ref].tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 400), st.booleans())
def test_sort_of_journeys_grouped_in_any_order_equals_lexsort(
    seed: int, n_journeys: int, one_run_each: bool
) -> None:
    """Runs of journeys in random code order (each code once, or some codes twice)."""
    rng = np.random.default_rng(seed)
    heads = rng.permutation(n_journeys)
    if not one_run_each:
        heads = np.concatenate([heads, rng.integers(0, n_journeys, 1 + n_journeys // 10)])
    j = np.repeat(heads, rng.integers(1, 6, len(heads))).astype(np.int64)
    t = rng.integers(0, 50, len(j)).astype(np.int64)
    order, js, ts = order_by_journey_time(j, t, n_journeys)
    ref = np.lexsort((t, j))
    got = np.arange(len(j)) if order is None else order
    assert got.tolist() == ref.tolist()
    assert js.tolist() == j[ref].tolist() and ts.tolist() == t[ref].tolist()


def test_grouped_journeys_in_any_id_order_are_permuted_not_merged() -> None:
    # journey 5's rows in two runs must still come together
    log = tp.EventLog.from_arrays([5, 5, 3, 5, 9], ["a", "b", "c", "d", "e"], [0, 1, 0, 2, 0])
    assert list(log.paths()) == [("c",), ("a", "b", "d"), ("e",)]


def test_factorize_int_runs_and_ranges() -> None:
    rng = np.random.default_rng(0)
    for values in [
        np.repeat(rng.choice(10**15, 50, replace=False), rng.integers(1, 5, 50)),  # runs
        np.repeat(rng.permutation(3000) + 10**7, rng.integers(1, 5, 3000)),  # dense runs
        np.repeat(rng.integers(0, 400, 3000) + 10**7, rng.integers(1, 5, 3000)),  # ids rerun
        rng.integers(-(2**62), 2**62, 500),  # wide range
        rng.integers(0, 40, 500),  # dense
    ]:
        c = factorize(values)
        uniq, inv = np.unique(values, return_inverse=True)
        assert c.uniques.tolist() == uniq.tolist()
        assert c.codes.tolist() == inv.tolist()


# ---------------------------------------------------------------------- counts
def _pandas_counts(log: tp.EventLog) -> Counter:
    """Directly-follows counts by an independent route: pandas sort + shift + crosstab."""
    frame = log.to_frame()
    s = frame.sort_values(["journey", "time"], kind="stable")
    nxt = s.groupby("journey", sort=False)["touchpoint"].shift(-1)
    ok = nxt.notna()
    table = pd.crosstab(s["touchpoint"][ok], nxt[ok])
    return Counter(
        {
            (a, b): int(table.loc[a, b])
            for a in table.index
            for b in table.columns
            if table.loc[a, b]
        }
    )


def _reference_counts(log: tp.EventLog, order: int) -> Counter:
    """Order-k transitions by a plain Python walk over each journey's path."""
    out: Counter = Counter()
    conv = log.converted()
    for i, path in enumerate(log.paths()):
        states = [("(start)",) * order]
        for sym in path:
            states.append((*states[-1][1:], sym))
        for a, b in itertools.pairwise(states):
            out[(a, b[-1])] += 1
        out[(states[-1], "(conversion)" if conv[i] else "(null)")] += 1
    return out


def _named(counts: tp.TransitionCounts) -> Counter:
    k = len(counts.alphabet)
    radix = k + 1
    syms = [*counts.alphabet, "(start)"]
    outs = [*counts.alphabet, "(conversion)", "(null)"]
    res: Counter = Counter()
    for s, o, c in zip(
        counts.src.tolist(), counts.outcome.tolist(), counts.count.tolist(), strict=True
    ):
        digits, code = [], s
        for _ in range(counts.order):
            digits.append(syms[code % radix])
            code //= radix
        res[(tuple(reversed(digits)), outs[o])] += round(c)
    return res


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.booleans())
def test_counts_match_independent_computations(seed: int, order: int, shuffled: bool) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    j = rng.integers(0, 15, n)
    t = rng.permutation(n).astype(np.int64)  # distinct times: one true order
    names = np.array(["ad", "mail", "site", "shop"], dtype=object)
    touch = names[rng.integers(0, 4, n)]
    out = np.where(rng.random(n) < 0.15, 1.0, np.nan)
    if not shuffled:
        o = np.lexsort((t, j))
        j, t, touch, out = j[o], t[o], touch[o], out[o]
    log = tp.EventLog.from_arrays(j, touch, t, outcome=out)
    counts = tp.count_transitions(log, order=order, until_conversion=False)
    assert _named(counts) == _reference_counts(log, order)
    if order == 1:
        pairs = Counter(
            {
                (a[0], b): c
                for (a, b), c in _named(counts).items()
                if a[0] != "(start)" and b in names
            }
        )
        assert pairs == _pandas_counts(log)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.booleans(), st.booleans())
def test_direct_counting_equals_the_encoded_transitions(
    seed: int, order: int, collapse: bool, until: bool
) -> None:
    """count_transitions' direct keys == the per-transition encoding used by attribution."""
    from touchpoint.markov import _encoding
    from touchpoint.markov._model import _counts_from_encoded

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    names = np.array(["ad", "mail", "site", "buy"], dtype=object)
    touch = names[rng.integers(0, 4, n)]
    out = np.where(rng.random(n) < 0.2, rng.integers(0, 3, n).astype(float), np.nan)
    conv = ("buy",) if "buy" in set(touch) and seed % 2 else ()
    log = tp.EventLog.from_arrays(
        rng.integers(0, 12, n), touch, rng.random(n), outcome=out, conversions=conv
    )
    kw = {"order": order, "collapse_repeats": collapse, "until_conversion": until}
    direct = tp.count_transitions(log, **kw)
    encoded = _counts_from_encoded(_encoding.encode(log, **kw), "touchpoint")
    assert direct == encoded
    assert direct.direct_value == pytest.approx(encoded.direct_value)


def test_journey_level_warning_looks_at_every_converting_journey() -> None:
    """The cheap check of the first converting journeys never decides a warning alone."""
    from touchpoint.exceptions import OutcomeLevelWarning

    n = 200
    j = np.repeat(np.arange(n), 3)
    tps = np.tile(np.array(["a", "b", "c"]), n)
    t = np.tile(np.arange(3.0), n)
    flag = np.repeat((np.arange(n) % 2).astype(float), 3)  # every row of converters: 1
    with pytest.warns(OutcomeLevelWarning, match="looks journey-level"):
        tp.EventLog.from_arrays(j, tps, t, outcome=flag)
    late = flag.copy()
    late[3 * 191] = 0.0  # the 96th converting journey has one event without the flag
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tp.EventLog.from_arrays(j, tps, t, outcome=late)
    event_level = np.where(np.tile(np.arange(3), n) == 2, flag, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tp.EventLog.from_arrays(j, tps, t, outcome=event_level)
