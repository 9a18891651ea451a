"""Markov attribution side by side: touchpoint vs ChannelAttribution vs DP6 MAM.

Every library starts from the same :class:`touchpoint.EventLog` (synthetic
journeys, fixed seed) and is timed end to end, including the preparation of
its own input (path strings, aggregated by path, for ChannelAttribution; one
row per journey with path and time strings for marketing-attribution-models).
touchpoint's time is ``fit_markov`` + exact ``removal_effects``. The peers are
optional (``pip install touchpoint-journeys[bench]``); missing ones print
"not installed".

Usage::

    python benchmarks/bench_markov.py                 # 200k journeys, 10 channels
    python benchmarks/bench_markov.py --journeys 1000000 --channels 10 100 --orders 1 2 3
    python benchmarks/bench_markov.py --scaling       # touchpoint alone, 10/100/500 channels x orders 1-3
    python benchmarks/bench_markov.py --removal-sizes 1500 3000 6000 --orders 1 2 \
        --old-absorbing /tmp/old_absorbing.py   # removal effects by chain size, before/after
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from typing import Any

import numpy as np

import touchpoint as tp


def make_log(n_journeys: int, n_channels: int, seed: int = 0) -> tp.EventLog:
    """Journeys of geometric length (mean ~3), Zipf-like channel popularity,
    conversion driven by which channels were touched."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.geometric(0.35, n_journeys), 20)
    j = np.repeat(np.arange(n_journeys, dtype=np.int64), lengths)
    pop = 1.0 / np.arange(1, n_channels + 1) ** 0.8
    pop /= pop.sum()
    t = rng.choice(n_channels, size=len(j), p=pop)
    effect = rng.normal(-3.0, 0.6, n_channels)
    score = np.bincount(j, weights=effect[t], minlength=n_journeys) / np.sqrt(lengths)
    conv = rng.random(n_journeys) < 1 / (1 + np.exp(-(score + 1.5)))
    last = np.r_[j[1:] != j[:-1], True]
    value = np.where(last & conv[j], rng.gamma(2.0, 50.0, len(j)), np.nan)
    names = np.array([f"ch{i:03d}" for i in range(n_channels)], dtype=object)
    pos = np.arange(len(j)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return tp.EventLog.from_arrays(j, names[t], pos.astype(np.float64), outcome=value)


PREP: dict[str, float] = {}


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def ours(log: tp.EventLog, order: int) -> tuple[float, dict[str, float]]:
    def run() -> dict[str, float]:
        m = tp.fit_markov(log, order=order)
        re = tp.removal_effects(m)
        return dict(zip(re.names, re.effect.tolist(), strict=True))

    return timed(run)


def path_frame(log: tp.EventLog) -> Any:
    """One row per journey: 'a > b > c', converted, value (pandas)."""
    import pandas as pd

    names = np.array(log.touchpoint_names, dtype=object)
    df = pd.DataFrame({"j": log.journey, "c": names[log.touchpoint]})
    paths = df.groupby("j", sort=False)["c"].agg(" > ".join)
    conv = log.converted()
    return pd.DataFrame({"path": paths.to_numpy(), "conv": conv.astype(int), "value": log.value()})


def channel_attribution(log: tp.EventLog, order: int) -> tuple[float, dict[str, float]] | None:
    try:
        from ChannelAttribution import markov_model
    except ImportError:
        return None

    def run() -> dict[str, float]:
        t0 = time.perf_counter()
        per = path_frame(log)
        per["null"] = 1 - per["conv"]
        agg = per.groupby("path", sort=False).agg(
            total_conversions=("conv", "sum"),
            total_null=("null", "sum"),
            total_value=("value", "sum"),
        )
        agg = agg.reset_index()
        PREP["ca"] = time.perf_counter() - t0
        with contextlib.redirect_stdout(io.StringIO()):
            res = markov_model(
                agg,
                var_path="path",
                var_conv="total_conversions",
                var_value="total_value",
                var_null="total_null",
                order=order,
                out_more=True,
                sep=">",
                verbose=False,
                flg_pro=False,
            )
        rem = res["removal_effects"]
        return dict(
            zip(
                rem["channel_name"].astype(str).str.strip(),
                rem["removal_effects_conversion"].astype(float),
                strict=True,
            )
        )

    return timed(run)


def dp6_mam(log: tp.EventLog, order: int) -> tuple[float, dict[str, float]] | None:
    if order != 1:
        return None
    try:
        from mam import MAM
    except ImportError:
        return None

    def run() -> dict[str, float]:
        import pandas as pd

        per = path_frame(log)
        lengths = np.diff(log.offsets)
        zeros = {n: " > ".join(["0"] * n) for n in np.unique(lengths).tolist()}
        df = pd.DataFrame(
            {
                "journey_id": np.arange(len(per)),
                "path": per["path"],
                "times": [zeros[n] for n in lengths.tolist()],
                "has_conv": per["conv"].astype(bool),
            }
        )
        m = MAM(
            df,
            format_type="journey",
            channels_colname="path",
            journey_with_conv_colname="has_conv",
            time_till_conv_colname="times",
            user_id_colname="journey_id",
        )
        res = m.run_markov()
        rem = res.metadata["removal_effect"] if hasattr(res, "metadata") else None
        if rem is None:
            return {}
        return {str(k): float(v) for k, v in rem["removal_effect"].items()}

    try:
        return timed(run)
    except Exception as exc:  # report, don't hide
        print(f"  DP6 MAM failed: {type(exc).__name__}: {exc}")
        return None


def compare(ours_re: dict[str, float], theirs: dict[str, float]) -> str:
    common = [k for k in ours_re if k in theirs]
    if not common:
        return "n/a"
    d = np.array([abs(ours_re[k] - theirs[k]) for k in common])
    return f"{d.max():.2e}"


def side_by_side(n: int, channels: list[int], orders: list[int]) -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # peers print banners on import
        for mod in ("ChannelAttribution", "mam"):
            with contextlib.suppress(ImportError):
                __import__(mod)
    print(f"== side by side: {n:,} journeys (same EventLog for every library)")
    header = (
        f"{'channels':>8} {'order':>5} {'events':>10} {'touchpoint s':>12} "
        f"{'ChannelAttr s':>13} {'(prep s)':>8} {'ratio':>6} {'max|dRE| CA':>11} "
        f"{'DP6 MAM s':>9} {'ratio':>6} {'max|dRE| DP6':>12}"
    )
    print(header)
    for c in channels:
        log = make_log(n, c)
        for k in orders:
            t_ours, re_ours = ours(log, k)
            print(f"{c:>8} {k:>5} {log.n_events:>10,} {t_ours:12.3f}", end="", flush=True)
            ca = channel_attribution(log, k)
            dp = dp6_mam(log, k)
            ca_s = (
                f"{ca[0]:13.2f}" if ca else f"{'not installed' if k == 1 or ca is None else '':>13}"
            )
            ca_r = f"{ca[0] / t_ours:6.1f}" if ca else f"{'':>6}"
            ca_p = f"{PREP.get('ca', float('nan')):8.2f}" if ca else f"{'':>8}"
            ca_d = compare(re_ours, ca[1]) if ca else ""
            dp_s = f"{dp[0]:9.2f}" if dp else f"{'n/a' if k > 1 else 'not inst.':>9}"
            dp_r = f"{dp[0] / t_ours:6.1f}" if dp else f"{'':>6}"
            dp_d = compare(re_ours, dp[1]) if dp else ""
            print(f" {ca_s} {ca_p} {ca_r} {ca_d:>11} {dp_s} {dp_r} {dp_d:>12}", flush=True)


def counting_rate(n: int) -> None:
    log = make_log(n, 100)
    tp.count_transitions(log)  # warm up
    for k in (1, 2, 3):
        t, _ = timed(lambda k=k: tp.count_transitions(log, order=k))
        print(
            f"counting order {k}: {log.n_events:,} events in {t:.3f} s = {log.n_events / t / 1e6:.1f} M events/s"
        )


def scaling(n: int, channels: list[int], orders: list[int]) -> None:
    print(f"== touchpoint alone, {n:,} journeys: fit + exact removal effects (s), states")
    print(f"{'channels':>8} " + " ".join(f"{'order ' + str(k):>18}" for k in orders))
    for c in channels:
        log = make_log(n, c)
        cells = []
        for k in orders:
            t_fit, m = timed(lambda k=k, log=log: tp.fit_markov(log, order=k))
            t_re, _ = timed(lambda m=m: tp.removal_effects(m))
            cells.append(f"{t_fit + t_re:7.2f} s {m.n_transient:>8,}")
        print(f"{c:>8} " + " ".join(f"{x:>18}" for x in cells), flush=True)


def _states_log(n_states: int, order: int, seed: int = 0) -> tp.EventLog:
    """A log whose order-``order`` chain has about ``n_states`` transient states."""
    channels = round(n_states ** (1 / order) * (1.25 if order > 1 else 1.0))
    return make_log(max(20 * n_states, 50_000), channels, seed)


def removal_by_states(sizes: list[int], orders: list[int], *, old: str | None) -> None:
    """Exact removal effects at chains of 1,500-6,000 states (issue: 42 s at 3,000).

    ``old`` is the path of a previous ``_absorbing.py`` (``git show
    main:src/touchpoint/markov/_absorbing.py > /tmp/old_absorbing.py``), timed on
    the same chains for the before/after table.
    """
    import importlib.util

    from touchpoint.markov import _absorbing as ab
    from touchpoint.markov._attribution import _items

    before = None
    if old:
        spec = importlib.util.spec_from_file_location("old_absorbing", old)
        assert spec is not None
        assert spec.loader is not None
        before = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(before)
    print("== removal effects (s) by chain size: every symbol removed, one factorisation reused")
    print(
        f"{'order':>5} {'states':>7} {'removed':>7} {'path':>10} {'before s':>9} {'after s':>8} {'max |diff|':>10}"
    )
    for k in orders:
        for n in sizes:
            m = tp.fit_markov(_states_log(n, k), order=k)
            names, masks = _items(m, m.transition_counts.states, None)
            q, r, _ = ab.transient_blocks(m.transition_matrix, m.n_transient)
            path = ab._removal_route(m.n_transient + 1, q.nnz, len(masks))
            t_new, (b_new, w_new) = timed(
                lambda q=q, r=r, masks=masks: ab.removal_probabilities(q, r, masks)
            )
            t_old, diff = float("nan"), float("nan")
            if before is not None:
                t_old, (b_old, w_old) = timed(
                    lambda q=q, r=r, masks=masks: before.removal_probabilities(q, r, masks)
                )
                diff = float(max(abs(b_new - b_old), np.max(np.abs(w_new - w_old))))
            print(
                f"{k:>5} {m.n_transient:>7,} {len(names):>7} {path:>10} {t_old:>9.2f} {t_new:>8.2f} {diff:>10.1e}",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--journeys", type=int, default=200_000)
    ap.add_argument("--channels", type=int, nargs="+", default=[10])
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    ap.add_argument(
        "--scaling", action="store_true", help="touchpoint alone over 10/100/500 channels"
    )
    ap.add_argument(
        "--removal-sizes",
        type=int,
        nargs="*",
        help="time removal effects at chains of about these many states (e.g. 1500 3000 6000)",
    )
    ap.add_argument("--old-absorbing", help="a previous _absorbing.py to time beside (before)")
    args = ap.parse_args()
    if args.removal_sizes:
        removal_by_states(args.removal_sizes, args.orders, old=args.old_absorbing)
        return
    if args.scaling:
        scaling(args.journeys, [10, 100, 500], [1, 2, 3])
        return
    counting_rate(args.journeys)
    side_by_side(args.journeys, args.channels, args.orders)


if __name__ == "__main__":
    main()
