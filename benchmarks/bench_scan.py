"""Counting in the engine: lazy scans (DuckDB) vs reading into memory vs Dask on 2 workers.

Parquet files on disk whose rows are *not* grouped by journey (as warehouse
exports come: every event's journey is drawn at random, so a journey's events are
spread over all files), then two analyses:

* ``markov``: a first-order Markov model (``tp.fit_markov``);
* ``funnel``: a 4-step funnel with a 28-day window (``tp.funnel``).

Each by three methods, each in its own subprocess: wall seconds, CPU seconds
(user + system of the process and its children: less sensitive than wall time to
other work on a shared machine) and peak memory (the largest resident size of
the process *tree*, sampled every 50 ms, so Dask's worker processes count):

* ``scan``: ``tp.scan_parquet(dir, connection=ibis.duckdb.connect(memory_limit=...))``,
  the analysis pushed down to DuckDB (it spills to disk past its memory limit);
* ``memory``: ``tp.read_parquet(dir)`` into an EventLog, then the analysis;
* ``dask``: ``dd.read_parquet(dir)`` on a ``LocalCluster`` of 2 worker processes,
  ``touchpoint.dask.fit_markov`` / ``touchpoint.dask.funnel`` (shuffled by journey).

The results of the methods are compared (conversion probability and transition
count; the funnel's entered and reached counts) and must be equal.

Run: python benchmarks/bench_scan.py [--sizes 30M,100M,300M] [--methods scan,memory,dask]
(default: 2M events, all methods). Reading 100M+ events into memory needs far more than
a shared 24 GB machine has: pass ``--methods scan`` there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

N_TOUCHPOINTS = 16
NAMES = np.array([f"tp{i:02d}" for i in range(N_TOUCHPOINTS)], dtype=object)
# page views are common, funnel steps (tp12..tp15) rarer, as in real event streams
WEIGHTS = np.array([12, 11, 10, 9, 8, 7, 7, 6, 6, 5, 4, 4, 4, 3, 2, 1], dtype=np.float64)
STEPS = ["tp12", "tp13", "tp14", "tp15"]
FILE_ROWS = 5_000_000
START = np.datetime64("2026-01-01", "us").astype(np.int64)


def write_events(directory: Path, n_events: int, seed: int = 0) -> None:
    """``n_events`` rows in files of 5M; journeys (mean 6 events) spread over every file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_journeys = max(n_events // 6, 1)
    directory.mkdir(parents=True, exist_ok=True)
    p = WEIGHTS / WEIGHTS.sum()
    names = pa.array(NAMES.tolist(), type=pa.string())
    for i, lo in enumerate(range(0, n_events, FILE_ROWS)):
        n = min(FILE_ROWS, n_events - lo)
        rng = np.random.default_rng([seed, i])
        journey = rng.integers(0, n_journeys, n, dtype=np.int64)
        ts = START + rng.integers(0, 84 * 86_400 * 10**6, n, dtype=np.int64)
        tp = rng.choice(N_TOUCHPOINTS, n, p=p).astype(np.int32)
        revenue = np.where((tp == 15) & (rng.random(n) < 0.5), 40.0, np.nan)
        table = pa.table(
            {
                "journey_id": journey,
                "touchpoint": pa.DictionaryArray.from_arrays(pa.array(tp), names),
                "timestamp": pa.array(ts.view("datetime64[us]")),
                "revenue": revenue,
            }
        )
        pq.write_table(table, directory / f"part-{i:04d}.parquet", row_group_size=1_000_000)


ROLES = {
    "journey": "journey_id",
    "touchpoint": "touchpoint",
    "time": "timestamp",
    "outcome": "revenue",
}


def fingerprint(task: str, result) -> dict:
    if task == "markov":
        return {
            "p": round(float(result.conversion_probability()), 12),
            "transitions": int(result.transition_counts.n_transitions),
        }
    return {
        "entered": [s.entered for s in result.steps],
        "reached": [s.reached for s in result.steps],
    }


def run_child(method: str, task: str, directory: str, memory_limit: str) -> dict:
    import touchpoint as tp

    window = np.timedelta64(28, "D")
    t0 = time.perf_counter()
    if method == "scan":
        import ibis

        con = ibis.duckdb.connect(
            memory_limit=memory_limit, threads=2, temp_directory=tempfile.gettempdir()
        )
        con.raw_sql("SET enable_progress_bar = false")
        data = tp.scan_parquet(directory, connection=con, **ROLES)
    elif method == "memory":
        data = tp.read_parquet(directory, **ROLES)
    if method in ("scan", "memory"):
        result = tp.fit_markov(data) if task == "markov" else tp.funnel(data, STEPS, window=window)
    else:
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        from touchpoint import dask as tpd

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
            Client(cluster),
        ):
            ddf = dd.read_parquet(directory, columns=list(ROLES.values()))
            if task == "markov":
                result = tpd.fit_markov(ddf, **ROLES)
            else:
                result = tpd.funnel(ddf, STEPS, **ROLES, window=window)
    import resource

    cpu = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )
    return {"seconds": time.perf_counter() - t0, "cpu": cpu, "result": fingerprint(task, result)}


def tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    with contextlib.suppress(psutil.NoSuchProcess):
        total += sum(p.memory_info().rss for p in procs)
    return total


def measure(method: str, task: str, directory: str, memory_limit: str) -> dict:
    cmd = [sys.executable, __file__, "--child", method, task, directory, memory_limit]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    if proc.returncode != 0:
        tail = err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        return {"error": tail, "peak_mb": peak[0] / 2**20}
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_mb"] = peak[0] / 2**20
    return res


def parse_size(s: str) -> int:
    s = s.strip().upper()
    mult = {"K": 10**3, "M": 10**6, "G": 10**9}.get(s[-1], 1)
    return int(float(s.rstrip("KMG")) * mult)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2M", help="event counts, e.g. 30M,100M,300M")
    ap.add_argument("--methods", default="scan,memory,dask")
    ap.add_argument("--tasks", default="markov,funnel")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB's memory limit for scans")
    ap.add_argument("--dir", default=None, help="where to write the Parquet files")
    args = ap.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="bench_scan_"))
    print(
        f"{'events':>8} {'task':<7} {'method':<7} {'seconds':>8} {'CPU s':>8} {'peak MB':>8}  result"
    )
    for size in args.sizes.split(","):
        n = parse_size(size)
        directory = base / f"events_{n}"
        if not directory.exists():
            t0 = time.perf_counter()
            write_events(directory, n)
            print(f"# wrote {n:,} events in {time.perf_counter() - t0:.0f} s to {directory}")
        for task in args.tasks.split(","):
            seen: dict[str, dict] = {}
            for method in args.methods.split(","):
                r = measure(method, task, str(directory), args.memory_limit)
                if "error" in r:
                    line = f"failed: {r['error']}"
                    print(f"{size:>8} {task:<7} {method:<7} {'':>17} {r['peak_mb']:>8,.0f}  {line}")
                    continue
                seen[method] = r["result"]
                same = all(v == r["result"] for v in seen.values())
                print(
                    f"{size:>8} {task:<7} {method:<7} {r['seconds']:>8.1f} {r['cpu']:>8.1f}"
                    f" {r['peak_mb']:>8,.0f}"
                    f"  {json.dumps(r['result'])}{'' if same else '  DIFFERS'}",
                    flush=True,
                )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        os.environ.setdefault("TOUCHPOINT_NUM_THREADS", "2")
        print(json.dumps(run_child(*sys.argv[2:6])))
    else:
        main()
