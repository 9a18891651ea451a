"""A GA4-shaped BigQuery export read to an event log, beside the flattening a user writes.

The export is one Parquet file of ``--events`` GA4 events (the BigQuery export
schema: ``event_timestamp`` INT64 microseconds, ``event_name``,
``user_pseudo_id``, ``user_id``, ``event_params`` ARRAY<STRUCT<key, value
STRUCT<string_value, int_value, float_value, double_value>>> with 4 to 7 entries
per event, ``ecommerce.purchase_revenue``), written in row groups of 1M events.

Modes, each in its own subprocess so that its peak memory (max RSS) is its own:

* ``touchpoint event_name``: ``tp.read_ga4(path, touchpoint="event_name")``:
  ids stitched, ``ga_session_id`` read from ``event_params``, purchases and revenue;
* ``touchpoint channel``: ``tp.read_ga4(path)``: also sessions and the default
  channel group of each session (source / medium from ``event_params``);
* ``duckdb unnest + pandas``: the SQL a user writes (one correlated
  ``(SELECT value.x FROM unnest(event_params) WHERE key = ...)`` per parameter),
  fetched as a pandas frame and turned into a log with ``EventLog.from_frame``
  (journey = ``coalesce(user_id, user_pseudo_id)``: no stitching, no channels);
* ``duckdb list_filter + pandas``: the same with DuckDB's faster list idiom
  ``list_filter(event_params, lambda p: p.key = ...)[1]``;
* ``pandas explode`` (``--pandas``): ``pd.read_parquet``, ``explode`` and pivot of the
  parameters; Python objects per parameter, so only at small sizes.

Run: nice python benchmarks/bench_sources.py --events 2000000 10000000 [--pandas]

Last run (2 shared cores, load average 8 to 13 from other jobs, so absolute times are
pessimistic; one subprocess per mode, peak RSS in MB):

      events  mode                           seconds    events/s  peak MB
   2,000,000  touchpoint event_name             34.4      58,129    1,421
   2,000,000  touchpoint channel                26.7      74,846    1,392
   2,000,000  duckdb unnest + pandas           142.9      13,999    7,112
   2,000,000  duckdb list_filter + pandas       18.7     107,187    1,140
  10,000,000  touchpoint event_name             79.8     125,242    6,421
  10,000,000  touchpoint channel                88.8     112,636    5,779
  10,000,000  duckdb unnest + pandas        (skipped: ~35 GB)
  10,000,000  duckdb list_filter + pandas    113.5      88,110    4,000

A second 10M run after the reader frees the export before building the log (load 16
to 18): touchpoint event_name 107.9 s (92,700 events/s), 6,056 MB; duckdb list_filter
+ pandas 98.7 s (101,300 events/s), 4,016 MB; touchpoint channel 237 s, 5,565 MB (the
load peaked during it). About 45% of the reader's time is
arrow decoding the nested ``event_params`` column of the Parquet file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

EVENTS = np.array(
    ["session_start", "page_view", "view_item", "add_to_cart", "purchase", "scroll"], dtype=object
)
SOURCES = [("google", "cpc"), ("google", "organic"), ("(direct)", "(none)"), ("newsletter", "email"),
           ("facebook", "social"), ("bing", "organic")]  # fmt: skip
T0 = 1_767_225_600_000_000  # 2026-01-01 in microseconds


def _chunk(index: int, n: int, seed: int = 0):
    """``n`` events of whole devices: sessions of geometric length, ~30 events per device."""
    import pyarrow as pa

    rng = np.random.default_rng([seed, index])
    n_dev = max(n // 30, 1)
    dev = np.sort(rng.integers(0, n_dev, n)) + index * 10**8
    step = rng.exponential(120e6, n).astype(np.int64)  # 2 minutes on average
    new_session = np.r_[True, dev[1:] != dev[:-1]] | (rng.random(n) < 0.12)
    step[new_session] += rng.integers(3600 * 10**6, 48 * 3600 * 10**6, int(new_session.sum()))
    first = np.r_[True, dev[1:] != dev[:-1]]
    group = np.cumsum(first) - 1
    ts = np.cumsum(step)
    ts = (
        ts
        - np.repeat(ts[first], np.bincount(group))
        + T0
        + rng.integers(0, 30 * 86400 * 10**6, n_dev)[group % n_dev]
    )
    sid = np.cumsum(new_session)  # distinct per session, restarts are fine
    name = np.where(new_session, 0, rng.choice([1, 1, 1, 2, 3, 4, 5], n))
    logged = (dev % 3 == 0) & (rng.random(n) < 0.5)
    user = np.where(logged, dev // 3, -1)
    src = rng.integers(0, len(SOURCES), n)
    # parameters: ga_session_id, ga_session_number, page_location, engagement_time_msec,
    # + source, medium on session_start, + currency, value on purchase
    k = 4 + 2 * (name == 0) + 2 * (name == 4)
    offsets = np.r_[0, np.cumsum(k)].astype(np.int32)
    total = int(offsets[-1])
    pos = np.arange(total) - np.repeat(offsets[:-1], k)
    row = np.repeat(np.arange(n), k)
    base = np.array(
        ["ga_session_id", "ga_session_number", "page_location", "engagement_time_msec"],
        dtype=object,
    )
    extra_start = np.array(["source", "medium"], dtype=object)
    extra_buy = np.array(["currency", "value"], dtype=object)
    key = np.where(
        pos < 4,
        base[np.minimum(pos, 3)],
        np.where(
            name[row] == 0, extra_start[np.clip(pos - 4, 0, 1)], extra_buy[np.clip(pos - 4, 0, 1)]
        ),
    )
    int_value = np.where(pos == 0, sid[row], np.where(pos == 1, 1, np.where(pos == 3, 100, 0)))
    int_mask = ~np.isin(pos, [0, 1, 3])
    src_names = np.array([s for s, _ in SOURCES], dtype=object)
    med_names = np.array([m for _, m in SOURCES], dtype=object)
    pages = np.array([f"https://shop.example/p/{i}" for i in range(50)], dtype=object)
    revenue = np.round(rng.gamma(2.0, 30.0, n), 2)
    string_value = np.where(pos == 2, pages[row % 50], None)
    string_value = np.where((pos == 4) & (name[row] == 0), src_names[src[row]], string_value)
    string_value = np.where((pos == 5) & (name[row] == 0), med_names[src[row]], string_value)
    string_value = np.where((pos == 4) & (name[row] == 4), "EUR", string_value)
    double_value = np.where((pos == 5) & (name[row] == 4), revenue[row], np.nan)
    value = pa.StructArray.from_arrays(
        [pa.array(string_value, pa.string()), pa.array(int_value, pa.int64(), mask=int_mask),
         pa.nulls(total, pa.float64()), pa.array(double_value, pa.float64(), from_pandas=True)],
        names=["string_value", "int_value", "float_value", "double_value"],
    )  # fmt: skip
    entries = pa.StructArray.from_arrays(
        [pa.array(key, pa.string()), value], names=["key", "value"]
    )
    ecommerce = pa.StructArray.from_arrays(
        [pa.array(np.where(name == 4, revenue, np.nan), pa.float64(), from_pandas=True),
         pa.array(np.where(name == 4, "T", None), pa.string())],
        names=["purchase_revenue", "transaction_id"],
        mask=pa.array(name != 4),
    )  # fmt: skip
    return pa.table(
        {
            "event_date": pa.array(np.full(n, "20260101", dtype=object), pa.string()),
            "event_timestamp": pa.array(ts, pa.int64()),
            "event_name": pa.array(EVENTS[name], pa.string()),
            "event_params": pa.ListArray.from_arrays(pa.array(offsets), entries),
            "user_id": pa.array(
                np.where(user >= 0, np.char.add("u", user.astype(str)), None), pa.string()
            ),
            "user_pseudo_id": pa.array(np.char.add("d", dev.astype(str)), pa.string()),
            "ecommerce": ecommerce,
        }
    )


def write_export(path: str, n_events: int, chunk: int = 1_000_000) -> None:
    import pyarrow.parquet as pq

    writer = None
    for i, start in enumerate(range(0, n_events, chunk)):
        t = _chunk(i, min(chunk, n_events - start))
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema)
        writer.write_table(t, row_group_size=chunk)
    assert writer is not None
    writer.close()


UNNEST_SQL = """
SELECT coalesce(user_id, user_pseudo_id) AS journey, user_pseudo_id, event_name,
  make_timestamp(event_timestamp) AS time,
  (SELECT p.value.int_value FROM (SELECT unnest(event_params) AS p) WHERE p.key = 'ga_session_id') AS ga_session_id,
  (SELECT p.value.string_value FROM (SELECT unnest(event_params) AS p) WHERE p.key = 'source') AS source,
  (SELECT p.value.string_value FROM (SELECT unnest(event_params) AS p) WHERE p.key = 'medium') AS medium,
  (SELECT p.value.string_value FROM (SELECT unnest(event_params) AS p) WHERE p.key = 'currency') AS currency,
  ecommerce.purchase_revenue AS revenue
FROM read_parquet('{path}')
"""
LIST_SQL = """
SELECT coalesce(user_id, user_pseudo_id) AS journey, user_pseudo_id, event_name,
  make_timestamp(event_timestamp) AS time,
  list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value.int_value AS ga_session_id,
  list_filter(event_params, lambda p: p.key = 'source')[1].value.string_value AS source,
  list_filter(event_params, lambda p: p.key = 'medium')[1].value.string_value AS medium,
  list_filter(event_params, lambda p: p.key = 'currency')[1].value.string_value AS currency,
  ecommerce.purchase_revenue AS revenue
FROM read_parquet('{path}')
"""


def _frame_to_log(df):
    import touchpoint as tp

    df["outcome"] = df["revenue"].where(df["event_name"] == "purchase")
    return tp.EventLog.from_frame(
        df, journey="journey", touchpoint="event_name", time="time", outcome="outcome",
        extra=("ga_session_id", "source", "medium", "currency"),
    )  # fmt: skip


def run_mode(mode: str, path: str) -> dict:
    t0 = time.perf_counter()
    if mode.startswith("touchpoint"):
        import touchpoint as tp

        kind = mode.split()[1]
        log = tp.read_ga4(
            path, touchpoint=kind, params=["ga_session_id"] if kind == "event_name" else ()
        )
    elif mode.startswith("duckdb"):
        import duckdb

        sql = (UNNEST_SQL if "unnest" in mode else LIST_SQL).format(path=path)
        con = duckdb.connect()
        con.execute("SET threads TO 2")
        df = con.execute(sql).df()
        log = _frame_to_log(df)
    else:  # pandas explode
        import pandas as pd

        raw = pd.read_parquet(path)
        ex = raw[["event_params"]].explode("event_params")
        ex = ex[ex["event_params"].notna()]
        keys = ex["event_params"].map(lambda p: p["key"])
        vals = ex["event_params"].map(
            lambda p: (
                p["value"]["string_value"]
                if p["value"]["string_value"] is not None
                else p["value"]["int_value"]
            )
        )
        wide = pd.DataFrame({"k": keys.to_numpy(), "v": vals.to_numpy()}, index=ex.index)
        wide = wide[wide["k"].isin(["ga_session_id", "source", "medium", "currency"])]
        wide = wide.reset_index().pivot_table(
            index="index", columns="k", values="v", aggfunc="last"
        )
        df = raw[["user_id", "user_pseudo_id", "event_name", "event_timestamp"]].join(wide)
        df["journey"] = df["user_id"].fillna(df["user_pseudo_id"])
        df["time"] = pd.to_datetime(df["event_timestamp"] * 1000)
        df["revenue"] = raw["ecommerce"].map(
            lambda e: e["purchase_revenue"] if e is not None else None
        )
        log = _frame_to_log(df)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        "events": log.n_events,
        "journeys": log.n_journeys,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, nargs="+", default=[2_000_000])
    ap.add_argument("--pandas", action="store_true", help="also the pandas explode flattening")
    ap.add_argument(
        "--unnest-max",
        type=int,
        default=2_000_000,
        help="largest export for the correlated-unnest SQL (it holds ~3.5 GB per million events)",
    )
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.path)))
        return
    modes = [
        "touchpoint event_name",
        "touchpoint channel",
        "duckdb unnest + pandas",
        "duckdb list_filter + pandas",
    ]
    if args.pandas:
        modes.append("pandas explode")
    print(f"{'events':>11} {'mode':<30} {'seconds':>8} {'events/s':>11} {'peak MB':>8}  log")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.events:
            path = os.path.join(tmp, f"ga4_{n}.parquet")
            write_export(path, n)
            size = os.path.getsize(path) / 2**20
            label = f"(Parquet file: {size:.0f} MB)"
            print(f"{n:>11,} {label:<30}")
            for mode in modes:
                if "unnest" in mode and n > args.unnest_max:
                    print(f"{n:>11,} {mode:<30} skipped (> --unnest-max; 7.1 GB peak at 2M events)")
                    continue
                out = subprocess.run(
                    [sys.executable, __file__, "--mode", mode, "--path", path],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                if out.returncode:
                    print(f"{n:>11,} {mode:<30} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{n:>11,} {mode:<30} {r['seconds']:>8.1f} {n / r['seconds']:>11,.0f} "
                    f"{r['peak_mb']:>8,.0f}  {r['events']:,} events, {r['journeys']:,} journeys"
                )


if __name__ == "__main__":
    main()
