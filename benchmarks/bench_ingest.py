"""Ingest and directly-follows counting side by side: touchpoint vs polars, pandas, pm4py, DuckDB.

The case (issue 14): N events (default 5 million) over N/8.33 journeys (600,000 at
5M), 24 string touchpoints, datetimes, one outcome column, held as a pandas frame
the way users hold one (pandas' default string dtype, ``datetime64[us]`` times).
Two layouts: ``grouped`` (all rows of a journey together, journeys in no id order,
times *not* sorted inside a journey) and ``shuffled`` (rows in random order).

Every tool computes the directly-follows counts of the same events (pairs of
consecutive touchpoints within a journey, ordered by time) and the script checks
that they all agree with touchpoint's:

* ``touchpoint frame->model``: ``EventLog.from_frame`` + ``fit_markov`` (end to end);
* ``touchpoint from_arrays``: numpy columns (int64 ids, object strings, datetime64) -> log;
* ``touchpoint read_parquet``: ``tp.read_parquet`` of the same rows written to Parquet;
* ``polars``: sort + ``shift(-1).over(journey)`` + ``group_by`` on a polars frame
  (converted before timing: polars at its best, no pandas detour);
* ``pandas``: sort + groupby-shift + ``value_counts``;
* ``pm4py``: ``pm4py.discover_dfg`` on the pandas frame;
* ``duckdb``: SQL ``lead() over (partition by journey order by time)`` + ``group by``.

Also order-k counting (``tp.count_transitions(log, order=k)``) on the built log.

Each measurement runs in its own subprocess (so peak memory is its own): the
table shows the best of ``--repeat`` wall times and CPU times (all threads; polars,
DuckDB and pyarrow use several), events/s and the ratio to polars from wall time, the peak resident
memory *above* the input while the tool runs (sampled every 2 ms) per event, and
for touchpoint the bytes per event the EventLog holds.

Run: python benchmarks/bench_ingest.py [--events 5000000] [--large] [--skip pm4py]
(``--large`` adds the 20M-event case; about 2-3 minutes more on 2 cores.)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

N_TOUCHPOINTS = 24
NAMES = np.array(
    [
        f"{w}_{i:02d}"
        for i, w in enumerate(["ad", "search", "email", "site", "app", "store", "call", "chat"] * 3)
    ],
    dtype=object,
)
START = np.datetime64("2026-01-01", "us").astype(np.int64)
EVENTS_PER_JOURNEY = 5_000_000 / 600_000


def make_columns(n_events: int, layout: str, seed: int = 0) -> dict[str, np.ndarray]:
    """The case's columns as numpy arrays (ids int64, touchpoints object, times datetime64[us])."""
    rng = np.random.default_rng(seed)
    n_j = max(round(n_events / EVENTS_PER_JOURNEY), 1)
    # journey lengths >= 1 summing to n_events
    cuts = np.sort(rng.choice(np.arange(1, n_events), size=n_j - 1, replace=False))
    lengths = np.diff(np.concatenate([[0], cuts, [n_events]]))
    ids = rng.choice(10 * n_j, size=n_j, replace=False).astype(np.int64) + 10_000_000
    journey = np.repeat(ids, lengths)  # grouped, journeys in random id order
    # distinct, increasing times within a journey (microseconds), then shuffled inside it
    starts = np.repeat(START + rng.integers(0, 84 * 86_400, n_j) * 1_000_000, lengths)
    gaps = rng.integers(1, 3 * 86_400 * 1_000_000, n_events)
    csum = np.cumsum(gaps)
    first = np.cumsum(lengths) - lengths
    within = csum - np.repeat(csum[first], lengths)
    t = starts + within
    jidx = np.repeat(np.arange(n_j), lengths)
    inner = np.lexsort((rng.random(n_events), jidx))  # random order inside each journey
    touch = rng.integers(0, N_TOUCHPOINTS, n_events)
    last = np.zeros(n_events, dtype=bool)
    last[np.cumsum(lengths) - 1] = True  # the journey's latest event converts (5%)
    revenue = np.where(last & (rng.random(n_events) < 0.05), 50.0, np.nan)
    t, revenue = t[inner], revenue[inner]
    cols = {
        "customer_id": journey,
        "touchpoint": NAMES[touch],
        "timestamp": t.view("datetime64[us]"),
        "revenue": revenue,
    }
    if layout == "shuffled":
        perm = rng.permutation(n_events)
        cols = {k: v[perm] for k, v in cols.items()}
    return cols


def make_frame(cols: dict[str, np.ndarray]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "customer_id": cols["customer_id"],
            "touchpoint": pd.array(cols["touchpoint"], dtype="str"),
            "timestamp": cols["timestamp"],
            "revenue": cols["revenue"],
        }
    )


# ------------------------------------------------------------------ memory
def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident memory above the level at entry, sampled every 2 ms."""

    def __enter__(self) -> PeakRSS:
        self.base = _rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def extra(self) -> int:
        return self.peak - self.base


# ------------------------------------------------------------------- tools
Pairs = dict[tuple[str, str], int]


def pairs_of_counts(counts: Any) -> Pairs:
    """Touchpoint -> touchpoint pairs of order-1 TransitionCounts."""
    k = len(counts.alphabet)
    out: Pairs = {}
    for s, o, c in zip(
        counts.src.tolist(), counts.outcome.tolist(), counts.count.tolist(), strict=True
    ):
        if s < k and o < k:
            out[(counts.alphabet[s], counts.alphabet[o])] = round(c)
    return out


def tool_touchpoint(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import touchpoint as tp

    def run() -> Any:
        log = tp.EventLog.from_frame(
            df, journey="customer_id", touchpoint="touchpoint", time="timestamp", outcome="revenue"
        )
        return log, tp.fit_markov(log)

    return run, lambda r: pairs_of_counts(r[1].transition_counts)


def tool_touchpoint_ingest(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import touchpoint as tp

    def run() -> Any:
        return tp.EventLog.from_frame(
            df, journey="customer_id", touchpoint="touchpoint", time="timestamp", outcome="revenue"
        )

    return run, lambda log: pairs_of_counts(tp.count_transitions(log))


def tool_from_arrays(cols: dict[str, np.ndarray]) -> tuple[Callable[[], Any], Any]:
    import touchpoint as tp

    def run() -> Any:
        return tp.EventLog.from_arrays(
            cols["customer_id"], cols["touchpoint"], cols["timestamp"], outcome=cols["revenue"]
        )

    return run, lambda log: pairs_of_counts(tp.count_transitions(log))


def tool_polars(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import polars as pl

    pdf = pl.from_pandas(df)

    def run() -> Any:
        # sort, then shift with a same-journey mask (faster than shift().over(journey))
        return (
            pdf.lazy()
            .sort(["customer_id", "timestamp"])
            .with_columns(
                nxt=pl.col("touchpoint").shift(-1),
                same=pl.col("customer_id") == pl.col("customer_id").shift(-1),
            )
            .filter(pl.col("same"))
            .group_by(["touchpoint", "nxt"])
            .len()
            .collect()
        )

    def pairs(r: Any) -> Pairs:
        return {(a, b): int(c) for a, b, c in r.iter_rows()}

    return run, pairs


def tool_pandas(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    def run() -> Any:
        s = df.sort_values(["customer_id", "timestamp"], kind="stable")
        nxt = s.groupby("customer_id", sort=False)["touchpoint"].shift(-1)
        ok = nxt.notna()
        return (s["touchpoint"][ok].to_numpy(), nxt[ok].to_numpy())

    def pairs(r: Any) -> Pairs:
        import pandas as pd

        vc = pd.Series(list(zip(r[0].tolist(), r[1].tolist(), strict=True))).value_counts()
        return {k: int(v) for k, v in vc.items()}

    return run, pairs


def tool_pandas_crosstab(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import pandas as pd

    def run() -> Any:
        s = df.sort_values(["customer_id", "timestamp"], kind="stable")
        nxt = s.groupby("customer_id", sort=False)["touchpoint"].shift(-1)
        ok = nxt.notna()
        return pd.crosstab(s["touchpoint"][ok], nxt[ok])

    def pairs(r: Any) -> Pairs:
        return {(a, b): int(r.loc[a, b]) for a in r.index for b in r.columns if r.loc[a, b]}

    return run, pairs


def tool_pm4py(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import pm4py

    # pm4py wants object strings for the case id and the activity (converted before timing)
    df = df.assign(
        touchpoint=df["touchpoint"].astype(object),
        customer_id=df["customer_id"].astype(str).astype(object),
    )

    def run() -> Any:
        return pm4py.discover_dfg(
            df, case_id_key="customer_id", activity_key="touchpoint", timestamp_key="timestamp"
        )

    return run, lambda r: {k: int(v) for k, v in r[0].items()}


def tool_duckdb(df: Any) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import duckdb

    con = duckdb.connect()
    con.register("events", df)
    sql = """
        select a, b, count(*) as n from (
            select touchpoint as a,
                   lead(touchpoint) over (partition by customer_id order by timestamp) as b
            from events)
        where b is not null group by a, b
    """

    def run() -> Any:
        return con.execute(sql).fetchall()

    return run, lambda r: {(a, b): int(n) for a, b, n in r}


def tool_read_parquet(path: str) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import touchpoint as tp

    def run() -> Any:
        return tp.read_parquet(
            path,
            journey="customer_id",
            touchpoint="touchpoint",
            time="timestamp",
            outcome="revenue",
        )

    return run, lambda log: pairs_of_counts(tp.count_transitions(log))


def tool_pandas_parquet(path: str) -> tuple[Callable[[], Any], Callable[[Any], Pairs]]:
    import pandas as pd

    import touchpoint as tp

    def run() -> Any:
        return tp.EventLog.from_frame(
            pd.read_parquet(path),
            journey="customer_id",
            touchpoint="touchpoint",
            time="timestamp",
            outcome="revenue",
        )

    return run, lambda log: pairs_of_counts(tp.count_transitions(log))


FRAME_TOOLS = {
    "touchpoint": tool_touchpoint,
    "touchpoint-ingest": tool_touchpoint_ingest,
    "polars": tool_polars,
    "pandas": tool_pandas,
    "pandas-crosstab": tool_pandas_crosstab,
    "pm4py": tool_pm4py,
    "duckdb": tool_duckdb,
}
LABELS = {
    "touchpoint": "touchpoint frame->model",
    "touchpoint-ingest": "touchpoint frame->log",
    "from_arrays": "touchpoint from_arrays",
    "read_parquet": "touchpoint read_parquet",
    "pandas-parquet": "pd.read_parquet+from_frame",
    "polars": "polars sort+shift+group_by",
    "pandas": "pandas sort+shift+counts",
    "pandas-crosstab": "pandas sort+shift+crosstab",
    "pm4py": "pm4py discover_dfg",
    "duckdb": "duckdb lead() window",
}


def digest(pairs: Pairs) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(sorted(pairs.items())).encode()).hexdigest()[:12]


def child(tool: str, n: int, layout: str, repeat: int, parquet: str | None) -> dict[str, Any]:
    cols = make_columns(n, layout)
    held = None
    if tool == "from_arrays":
        run, pairs = tool_from_arrays(cols)
    elif tool in ("read_parquet", "pandas-parquet"):
        assert parquet is not None
        del cols
        run, pairs = (tool_read_parquet if tool == "read_parquet" else tool_pandas_parquet)(parquet)
    elif tool.startswith("order"):
        import touchpoint as tp

        log = tp.EventLog.from_arrays(
            cols["customer_id"], cols["touchpoint"], cols["timestamp"], outcome=cols["revenue"]
        )
        del cols
        k = int(tool[5:])

        def run() -> Any:
            return tp.count_transitions(log, order=k)

        def pairs(_: Any) -> Pairs:
            return {}
    else:
        df = make_frame(cols)
        del cols
        run, pairs = FRAME_TOOLS[tool](df)
    gc.collect()
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        out = run()
        best, cpu = time.perf_counter() - t0, time.process_time() - c0
    for _ in range(repeat - 1):
        out = None
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        out = run()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    log = out[0] if tool == "touchpoint" else out
    if hasattr(log, "nbytes") and hasattr(log, "n_events") and callable(log.nbytes):
        held = log.nbytes() / log.n_events
    p = pairs(out)
    return {
        "seconds": best,
        "cpu": cpu,
        "peak_extra": mem.extra,
        "held": held,
        "digest": digest(p) if p else "",
        "n_pairs": sum(p.values()),
    }


def write_parquet(path: str, n: int, layout: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = make_columns(n, layout)
    table = pa.table(
        {
            "customer_id": cols["customer_id"],
            "touchpoint": pa.array(cols["touchpoint"].tolist(), pa.string()),
            "timestamp": cols["timestamp"],
            "revenue": cols["revenue"],
        }
    )
    pq.write_table(table, path, row_group_size=1_000_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--large", action="store_true", help="also run the 20M-event case")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--layouts", nargs="+", default=["grouped", "shuffled"])
    ap.add_argument("--skip", nargs="*", default=[], help="tools to leave out")
    ap.add_argument("--only", nargs="*", default=None, help="run only these tools")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    ap.add_argument("--write-parquet", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_parquet:
        write_parquet(args.write_parquet[0], int(args.write_parquet[1]), args.write_parquet[2])
        return
    if args.child:
        tool, n, layout, repeat, parquet = args.child
        res = child(tool, int(n), layout, int(repeat), None if parquet == "-" else parquet)
        print(json.dumps(res))
        return

    import touchpoint as tp

    tools = [
        "touchpoint",
        "touchpoint-ingest",
        "from_arrays",
        "read_parquet",
        "pandas-parquet",
        "polars",
        "pandas",
        "pandas-crosstab",
        "pm4py",
        "duckdb",
        "order1",
        "order2",
        "order3",
    ]
    if not hasattr(tp, "read_parquet"):
        tools.remove("read_parquet")
    tools = [t for t in tools if t not in args.skip and (args.only is None or t in args.only)]
    sizes = [args.events] + ([20_000_000] if args.large else [])
    print(
        f"{'case':<22} {'tool':<28} {'seconds':>8} {'cpu s':>7} {'M events/s':>10} {'vs polars':>9} "
        f"{'peak B/ev':>9} {'held B/ev':>9}  counts"
    )
    for n in sizes:
        for layout in args.layouts:
            case = f"{n / 1e6:g}M {layout}"
            reference: str | None = None
            polars_s: float | None = None
            with tempfile.TemporaryDirectory() as tmp:
                parquet = "-"
                if any(t in tools for t in ("read_parquet", "pandas-parquet")):
                    parquet = os.path.join(tmp, "events.parquet")
                    subprocess.run(
                        [sys.executable, __file__, "--write-parquet", parquet, str(n), layout],
                        check=True,
                    )
                order = sorted(tools, key=lambda t: t != "polars")  # polars first: the yardstick
                results: dict[str, dict[str, Any]] = {}
                for tool in order:
                    repeat = 1 if (tool == "pm4py" or n > 10_000_000) else args.repeat
                    res = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            tool,
                            str(n),
                            layout,
                            str(repeat),
                            parquet,
                        ],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if res.returncode != 0:
                        err = res.stderr.strip().splitlines()[-1:] or ["?"]
                        print(f"{case:<22} {LABELS.get(tool, tool):<28} failed: {err[0][:80]}")
                        continue
                    results[tool] = json.loads(res.stdout.strip().splitlines()[-1])
                    if tool == "polars":
                        polars_s = results[tool]["seconds"]
                for tool in tools:
                    if tool not in results:
                        continue
                    r = results[tool]
                    if r["digest"]:
                        reference = reference or r["digest"]
                        same = "same" if r["digest"] == reference else "DIFFERENT"
                    else:
                        same = ""
                    ratio = f"{r['seconds'] / polars_s:>9.2f}" if polars_s else f"{'':>9}"
                    held = f"{r['held']:>9.1f}" if r["held"] else f"{'':>9}"
                    label = LABELS.get(tool, f"touchpoint count order {tool[5:]}")
                    print(
                        f"{case:<22} {label:<28} {r['seconds']:>8.3f} {r['cpu']:>7.2f} "
                        f"{n / r['seconds'] / 1e6:>10.2f} {ratio} "
                        f"{r['peak_extra'] / n:>9.1f} {held}  {same}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
