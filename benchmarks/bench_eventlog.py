"""EventLog construction and paths() throughput, and memory per event.

Targets (foundation issue): >= 5M events/s building from numpy columns,
<= 32 bytes held per event.

Run: python benchmarks/bench_eventlog.py [--sizes 1000000 10000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

import touchpoint as tp
from _timing import best_of  # benchmarks/ is on sys.path when run as a script


def synthetic(n: int, seed: int = 0, *, grouped: bool) -> dict[str, np.ndarray]:
    """n events over n/4 journeys, 16 touchpoints, datetime64 timestamps."""
    rng = np.random.default_rng(seed)
    n_j = max(n // 4, 1)
    journey = np.sort(rng.integers(0, n_j, n)) if grouped else rng.integers(0, n_j, n)
    start = np.datetime64("2026-01-01", "ns").astype(np.int64)
    ts = start + rng.integers(0, 84 * 86_400 * 10**9, n)
    if grouped:  # sort by (journey, time) as a warehouse export usually is
        order = np.lexsort((ts, journey))
        journey, ts = journey[order], ts[order]
    return {
        "journey": journey.astype(np.int64),
        "touchpoint": rng.integers(0, 16, n).astype(np.int64),
        "time": ts.view("datetime64[ns]"),
        "outcome": np.where(rng.random(n) < 0.02, rng.gamma(2.0, 40.0, n), np.nan),
    }


def import_time(repeat: int = 5) -> float:
    """Best wall time of ``import touchpoint`` in a fresh interpreter (target < 0.3 s)."""
    code = "import time; t = time.perf_counter(); import touchpoint; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return min(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    names = [f"tp{i:02d}" for i in range(16)]
    print(
        f"{'events':>11} {'input':>9} {'build s':>8} {'build ev/s':>12} "
        f"{'paths s':>8} {'iter s':>8} {'bytes/ev':>9}"
    )
    for n in args.sizes:
        for grouped in (True, False):
            cols = synthetic(n, grouped=grouped)
            tp_codes = cols["touchpoint"]
            build_s, log = best_of(
                lambda: tp.EventLog.from_arrays(
                    cols["journey"], tp_codes, cols["time"], outcome=cols["outcome"]
                ),
                args.repeat,
            )
            assert isinstance(log, tp.EventLog)
            paths_s, paths = best_of(log.paths, args.repeat)
            t0 = time.perf_counter()
            n_paths = sum(1 for _ in paths) if n <= 2_000_000 else -1
            iter_s = time.perf_counter() - t0 if n_paths >= 0 else float("nan")
            print(
                f"{n:>11,} {'sorted' if grouped else 'shuffled':>9} {build_s:>8.3f} "
                f"{n / build_s:>12,.0f} {paths_s:>8.4f} {iter_s:>8.3f} "
                f"{log.nbytes() / n:>9.1f}"
            )
    del names
    print(f"\nimport touchpoint: {import_time():.3f} s (best of 5, target < 0.3 s)")


if __name__ == "__main__":
    main()
