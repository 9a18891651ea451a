"""CX metrics throughput: NPS + interval over millions of answers, breakdowns, comparisons.

Target (CX metrics issue): NPS and its adjusted-Wald interval over 10M answers in under 0.2 s.
The spreadsheet-style reference is a plain numpy computation of the same number (no
validation, no interval), to show what the checks cost.

Run: python benchmarks/bench_metrics.py [--sizes 1000000 10000000] [--groups 50]
"""

from __future__ import annotations

import argparse

import numpy as np

import touchpoint as tp
from _timing import best_of  # benchmarks/ is on sys.path when run as a script


def answers(n: int, seed: int = 0, dtype=np.int64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.r_[np.full(7, 0.04), [0.12, 0.2], [0.18, 0.22]]
    return rng.choice(11, size=n, p=p / p.sum()).astype(dtype)


def plain_numpy_nps(x: np.ndarray) -> float:
    return 100 * (np.count_nonzero(x >= 9) - np.count_nonzero(x <= 6)) / len(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--groups", type=int, default=50, help="groups for the breakdown rows")
    args = ap.parse_args()

    print(f"{'operation':<44}{'answers':>12}{'seconds':>10}{'M answers/s':>13}")
    for n in args.sizes:
        bench_size(n, args.groups)
    r = tp.nps(answers(200, seed=3))
    print(f"\nexample: {r!r}")


def bench_size(n: int, n_groups: int) -> None:
    """Time every operation on ``n`` answers and print one row each."""
    xi = answers(n)
    xf = xi.astype(np.float64)
    xf[:: max(n // 100, 1)] = np.nan  # 1% skipped answers
    w = np.random.default_rng(1).uniform(0.5, 2.0, n)

    def nps_ci(x: np.ndarray = xi) -> object:
        r = tp.nps(x)
        return r, r.confidence_interval()

    rows = [
        ("plain numpy NPS (no checks, no interval)", lambda x=xi: plain_numpy_nps(x)),
        ("tp.nps + adjusted-Wald CI, int64 input", nps_ci),
        ("tp.nps + CI, float64 with 1% NaN", lambda: nps_ci(xf)),
        ("tp.nps weighted + CI", lambda: tp.nps(xi, weights=w).confidence_interval()),
        (
            "tp.nps + bootstrap CI (2000 resamples)",
            lambda: tp.nps(xi).confidence_interval(method="bootstrap"),
        ),
        (
            "tp.nps + bayes CI (2000 draws)",
            lambda: tp.nps(xi).confidence_interval(method="bayes"),
        ),
        ("tp.csat + Wilson CI", lambda: tp.csat(np.clip(xi, 1, 5)).confidence_interval()),
        ("tp.ces + t CI", lambda: tp.ces(np.clip(xi, 1, 7)).confidence_interval()),
    ]
    if n <= 1_000_000:
        rows.append(("tp.compare_nps (two halves)", lambda: tp.compare_nps(xi[::2], xi[1::2])))
        groups = np.array([f"tp{i:03d}" for i in range(n_groups)], dtype=object)
        table = tp.Table(
            {
                "touchpoint": groups[np.arange(n) % n_groups],
                "nps": xf,
                "csat": np.clip(xf, 1, 5),
            }
        )
        rows.append((f"tp.breakdown nps by {n_groups} groups", lambda: tp.breakdown(table, "nps")))
    for name, fn in rows:
        t, _ = best_of(fn)
        print(f"{name:<44}{n:>12,}{t:>10.4f}{n / t / 1e6:>13.1f}")


if __name__ == "__main__":
    main()
