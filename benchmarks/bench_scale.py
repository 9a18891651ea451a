"""Counting transitions beyond memory: chunks on one machine, and Dask on 2 local workers.

Every mode counts the order-1 transitions of the same synthetic events with
``tp.count_transitions`` (mergeable counts) and checks that all modes agree:

* ``memory``: one EventLog of all events (the reference; skipped above --memory-limit);
* ``chunks``: events generated chunk by chunk, one EventLog per chunk, counts summed
  (memory bounded by the chunk size);
* ``csv``: the events written to a CSV file (grouped by journey), read back with
  ``tp.read_csv(..., chunksize=)``; includes parsing, so much slower per event;
* ``dask``: the same chunks as partitions of a Dask DataFrame on a
  ``distributed.LocalCluster`` with 2 worker processes, counted with
  ``touchpoint.dask.count_transitions`` (no shuffle: partitions hold whole journeys).

Each mode runs in its own subprocess so that peak memory (max RSS) is its own;
for Dask the table shows the client process and the largest worker.

Run: python benchmarks/bench_scale.py [--events 50000000] [--csv-events 5000000]
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

N_TOUCHPOINTS = 16
NAMES = np.array([f"tp{i:02d}" for i in range(N_TOUCHPOINTS)], dtype=object)
START = np.datetime64("2026-01-01", "ns").astype(np.int64)


def make_chunk(index: int, n_events: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Chunk ``index``: about ``n_events`` events of whole journeys (mean length 5)."""
    rng = np.random.default_rng([seed, index])
    lengths = rng.geometric(0.2, size=max(n_events // 5, 1))
    lengths = lengths[np.cumsum(lengths) <= n_events]
    if lengths.sum() < n_events:  # top up the last journey so the chunk has n_events
        lengths = np.append(lengths, n_events - lengths.sum())
    n_j = len(lengths)
    # unique journey ids across chunks of any sizes (index * (n_events + 1) collided when
    # the last chunk was smaller: the CSV mode then refused a file not grouped by journey)
    first_id = index * 10**9
    journey = np.repeat(np.arange(first_id, first_id + n_j, dtype=np.int64), lengths)
    # time: journey start + increasing gaps
    starts = np.repeat(START + rng.integers(0, 84 * 86_400, n_j) * 10**9, lengths)
    gaps = rng.integers(60, 3 * 86_400, n_events) * 10**9
    within = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(lengths) - lengths], lengths)
    ts = (starts + within).view("datetime64[ns]")
    touch = rng.integers(0, N_TOUCHPOINTS, n_events).astype(np.int64)
    last = np.zeros(n_events, dtype=bool)
    last[np.cumsum(lengths) - 1] = True
    outcome = np.where(last & (rng.random(n_events) < 0.05), 50.0, np.nan)
    return {"journey": journey, "touchpoint": touch, "time": ts, "outcome": outcome}


def chunk_log(index: int, n_events: int):
    import touchpoint as tp

    c = make_chunk(index, n_events)
    return tp.EventLog.from_arrays(
        c["journey"], NAMES[c["touchpoint"]], c["time"], outcome=c["outcome"]
    )


def chunk_frame(index: int, n_events: int):
    import pandas as pd

    c = make_chunk(index, n_events)
    return pd.DataFrame(
        {
            "journey_id": c["journey"],
            "touchpoint": pd.Categorical.from_codes(c["touchpoint"], categories=list(NAMES)),
            "timestamp": c["time"],
            "revenue": c["outcome"],
        }
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def sizes(n: int, chunk: int) -> list[int]:
    k, rest = divmod(n, chunk)
    return [chunk] * k + ([rest] if rest else [])


def run_memory(n: int, chunk: int) -> dict:
    import touchpoint as tp

    parts = [make_chunk(i, s) for i, s in enumerate(sizes(n, chunk))]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    del parts
    t0 = time.perf_counter()
    log = tp.EventLog.from_arrays(
        cols["journey"], NAMES[cols["touchpoint"]], cols["time"], outcome=cols["outcome"]
    )
    counts = tp.count_transitions(log)
    return {"seconds": time.perf_counter() - t0, "counts": counts}


def run_chunks(n: int, chunk: int) -> dict:
    import touchpoint as tp

    t0 = time.perf_counter()
    total = None
    for i, s in enumerate(sizes(n, chunk)):
        c = tp.count_transitions(chunk_log(i, s))
        total = c if total is None else total + c
    return {"seconds": time.perf_counter() - t0, "counts": total}


def write_csv(path: str, n: int, chunk: int) -> None:
    """The events as one CSV file, grouped by journey (pyarrow writer, chunk by chunk)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    schema = pa.schema(
        [
            ("journey_id", pa.int64()),
            ("touchpoint", pa.string()),
            ("timestamp", pa.timestamp("s")),
            ("revenue", pa.float64()),
        ]
    )
    with pacsv.CSVWriter(path, schema) as writer:
        for i, s in enumerate(sizes(n, chunk)):
            df = chunk_frame(i, s)
            df["touchpoint"] = df["touchpoint"].astype(str)
            df["timestamp"] = df["timestamp"].astype("datetime64[s]")
            writer.write_table(pa.Table.from_pandas(df, preserve_index=False, schema=schema))


def run_csv(n: int, chunk: int) -> dict:
    import touchpoint as tp

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "events.csv")
        t0 = time.perf_counter()
        # written by another process, so that peak memory below is the reading alone
        subprocess.run(
            [sys.executable, __file__, "--write-csv", path, str(n), str(chunk)], check=True
        )
        write_s = time.perf_counter() - t0
        size_mb = os.path.getsize(path) / 2**20
        t0 = time.perf_counter()
        total = None
        for log in tp.read_csv(path, outcome="revenue", chunksize=chunk, progress=False):
            c = tp.count_transitions(log)
            total = c if total is None else total + c
        return {
            "seconds": time.perf_counter() - t0,
            "counts": total,
            "note": f"{size_mb:,.0f} MB file written in {write_s:.1f} s",
        }


def _warm_up() -> None:
    import pandas  # noqa: F401

    import touchpoint as tp

    tp.count_transitions(chunk_log(0, 1000))


def run_dask(n: int, chunk: int) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from touchpoint import dask as tpd

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up)  # imports on the workers are not part of the count
        sz = sizes(n, chunk)
        ddf = dd.from_map(chunk_frame, list(range(len(sz))), sz, meta=chunk_frame(0, 10).iloc[:0])
        from dask.utils import key_split
        from distributed import get_task_stream

        t0 = time.perf_counter()
        with get_task_stream() as stream:
            counts = tpd.count_transitions(
                ddf,
                journey="journey_id",
                touchpoint="touchpoint",
                time="timestamp",
                outcome="revenue",
                shuffle=False,
            )
        seconds = time.perf_counter() - t0
        workers = client.run(peak_mb)
    # where the time goes: seconds of work per kind of task, summed over both workers
    busy: dict[str, float] = {}
    for task in stream.data:
        for step in task["startstops"]:
            kind = key_split(task["key"]) if step["action"] == "compute" else step["action"]
            busy[kind] = busy.get(kind, 0.0) + step["stop"] - step["start"]
    top = sorted(busy.items(), key=lambda kv: -kv[1])[:4]
    return {
        "seconds": seconds,
        "counts": counts,
        "worker_peak_mb": max(workers.values()),
        "note": "partitions generated on the workers; worker seconds: "
        + ", ".join(f"{k} {v:.1f}" for k, v in top)
        + f" (2 workers x {seconds:.1f} s wall = {2 * seconds:.1f})",
    }


def digest(counts) -> str:
    """A fingerprint of order-1 counts by symbol name (independent of code order)."""
    import hashlib

    k = len(counts.alphabet)
    src_names = [*counts.alphabet, "(start)"]
    out_names = [*counts.alphabet, "(conversion)", "(null)"]
    rows = sorted(
        (src_names[s], out_names[o], float(c))
        for s, o, c in zip(
            counts.src.tolist(), counts.outcome.tolist(), counts.count.tolist(), strict=True
        )
    )
    assert all(0 <= s <= k for s in counts.src.tolist())
    text = json.dumps([rows, counts.n_journeys, counts.n_conversions])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


MODES = {"memory": run_memory, "chunks": run_chunks, "csv": run_csv, "dask": run_dask}


def child(mode: str, n: int, chunk: int) -> None:
    out = MODES[mode](n, chunk)
    counts = out.pop("counts")
    out |= {
        "peak_mb": peak_mb(),
        "transitions": counts.n_transitions,
        "journeys": counts.n_journeys,
        "digest": digest(counts),
    }
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=5_000_000, help="events for memory/chunks/dask")
    ap.add_argument("--csv-events", type=int, default=1_000_000, help="events for the csv mode")
    ap.add_argument("--chunk", type=int, default=1_000_000, help="events per chunk / partition")
    ap.add_argument(
        "--memory-limit",
        type=int,
        default=20_000_000,
        help="skip the in-memory reference above this many events",
    )
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    ap.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    ap.add_argument("--write-csv", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_csv:
        path, n, chunk = args.write_csv
        write_csv(path, int(n), int(chunk))
        return
    if args.child:
        n = args.csv_events if args.child == "csv" else args.events
        child(args.child, n, args.chunk)
        return
    print(
        f"{'mode':<8} {'events':>12} {'seconds':>8} {'events/s':>12} {'peak MB':>8} "
        f"{'worker MB':>9}  note"
    )
    digests: dict[int, set[str]] = {}
    for mode in args.modes:
        n = args.csv_events if mode == "csv" else args.events
        if mode == "memory" and n > args.memory_limit:
            print(f"{mode:<8} {n:>12,}  skipped (above --memory-limit)")
            continue
        res = subprocess.run(
            [
                sys.executable,
                __file__,
                *("--child", mode, "--events", str(args.events)),
                *("--csv-events", str(args.csv_events), "--chunk", str(args.chunk)),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            print(f"{mode:<8} failed:\n{res.stderr[-2000:]}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        digests.setdefault(n, set()).add(r["digest"])
        worker = f"{r['worker_peak_mb']:>9,.0f}" if "worker_peak_mb" in r else f"{'':>9}"
        print(
            f"{mode:<8} {n:>12,} {r['seconds']:>8.2f} {n / r['seconds']:>12,.0f} "
            f"{r['peak_mb']:>8,.0f} {worker}  {r.get('note', '')}"
        )
    for n, d in digests.items():
        status = "identical" if len(d) == 1 else "DIFFERENT"
        print(f"counts of the modes with {n:,} events: {status}")


if __name__ == "__main__":
    main()
