"""Benchmark: funnels and drop-off detection on large simulated logs.

Journeys: an optional ad, a product page (80%), then cart (55% of viewers) and
checkout (60% of carts; 40% for mobile in weeks 8-10), plus one or two
unrelated events, over 12 weeks and three devices. Prints seconds per call
and events per second.

    python benchmarks/bench_funnel.py                 # 200,000 journeys
    python benchmarks/bench_funnel.py --journeys 1000000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import touchpoint as tp
from _timing import best_of  # benchmarks/ is on sys.path when run as a script

WEEK = 7 * 86400.0


def simulate(n: int, seed: int = 0) -> tp.EventLog:
    rng = np.random.default_rng(seed)
    device = rng.choice(3, size=n, p=[0.37, 0.55, 0.08])  # desktop, mobile, tablet
    week = rng.integers(0, 12, n)
    ad = rng.random(n) < 0.7
    page = rng.random(n) < 0.8
    cart = page & (rng.random(n) < 0.55)
    planted = (device == 1) & (week >= 7) & (week <= 9)
    checkout = cart & (rng.random(n) < np.where(planted, 0.40, 0.60))
    noise = rng.integers(1, 3, n)  # unrelated events (app, mail) before the ad
    steps = np.stack([ad, page, cart, checkout], axis=1)
    nev = noise + steps.sum(axis=1)
    j = np.repeat(np.arange(n), nev)
    k = np.arange(len(j)) - np.repeat(np.cumsum(nev) - nev, nev)  # index in journey
    # touchpoint per event: noise events first (codes 4/5), then the steps present
    step_codes = np.where(steps, np.arange(4), -1)
    order = np.argsort(step_codes < 0, axis=1, kind="stable")
    present = np.take_along_axis(step_codes, order, axis=1)
    first_step = k - noise[j]
    code = np.where(
        first_step < 0,
        4 + (rng.random(len(j)) < 0.5),
        present[j, np.maximum(first_step, 0)],
    )
    names = np.array(["ad", "product_page", "add_to_cart", "checkout", "app", "mail"])
    t = week[j] * WEEK + rng.random(n)[j] * 6 * 86400 + k * 600.0
    dev = np.array(["desktop", "mobile", "tablet"], dtype=object)[device][j]
    return tp.EventLog.from_arrays(j, names[code], t, extra={"device": dev})


def pandas_ordered_funnel(log: tp.EventLog, steps: list[str]) -> list[int]:
    """A plain pandas reference: first occurrence of each step after the previous one."""
    import pandas as pd

    names = np.array(log.touchpoint_names, dtype=object)
    df = pd.DataFrame(
        {"journey": log.journey, "tp": names[log.touchpoint], "pos": np.arange(log.n_events)}
    )
    prev = df[df["tp"] == steps[0]].groupby("journey")["pos"].min()
    counts = [len(prev)]
    for step in steps[1:]:
        cand = df[df["tp"] == step].merge(prev.rename("prev"), left_on="journey", right_index=True)
        prev = cand[cand["pos"] > cand["prev"]].groupby("journey")["pos"].min()
        counts.append(len(prev))
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--journeys", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas reference")
    args = ap.parse_args()
    t0 = time.perf_counter()
    log = simulate(args.journeys)
    build = time.perf_counter() - t0
    steps = ["product_page", "add_to_cart", "checkout"]
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("funnel ordered", lambda: tp.funnel(log, steps)),
        ("funnel strict", lambda: tp.funnel(log, steps, mode="strict")),
        ("funnel any", lambda: tp.funnel(log, steps, mode="any")),
        ("funnel ordered, window 1 h", lambda: tp.funnel(log, steps, window=3600.0)),
        ("funnel ordered, exclude 'mail'", lambda: tp.funnel(log, steps, exclude=["mail"])),
        ("funnel ordered, by device", lambda: tp.funnel(log, steps, by="device")),
        (
            "detect_dropoffs device x week",
            lambda: tp.detect_dropoffs(log, steps, by="device", period=WEEK),
        ),
        ("next_steps after cart, depth 3", lambda: tp.next_steps(log, after="add_to_cart")),
    ]
    print(
        f"{args.journeys:,} journeys, {log.n_events:,} events "
        f"(simulated + EventLog.from_arrays: {build:.2f} s)"
    )
    tp.funnel(simulate(100, seed=1), steps, by="device")  # warm-up: lazy scipy.special import
    print(f"{'case':<34}{'seconds':>10}{'M events/s':>12}")
    for name, fn in cases:
        s = best_of(fn, args.repeat)[0]
        print(f"{name:<34}{s:>10.3f}{log.n_events / s / 1e6:>12.1f}")
    if not args.no_pandas:
        try:
            import pandas  # noqa: F401
        except ImportError:
            print("(pandas not installed: no reference timing)")
        else:
            s = best_of(lambda: pandas_ordered_funnel(log, steps), args.repeat)[0]
            print(
                f"{'pandas groupby reference, ordered':<34}{s:>10.3f}{log.n_events / s / 1e6:>12.1f}"
            )
            ref = pandas_ordered_funnel(log, steps)
            ours = [st.reached for st in tp.funnel(log, steps).steps]
            print(f"counts agree with pandas: {ref == ours} ({ours})")
    res = tp.detect_dropoffs(log, steps, by="device", period=WEEK)
    print(f"\ndrop-offs found: {len(res)} of {res.n_tests} tests (FDR 0.05)")
    for d in res:
        print(" ", d)


if __name__ == "__main__":
    main()
