"""The seven real-data-shape findings of issue 10, measured on generated data.

Run ``python benchmarks/real_shapes.py``: one line per finding, touchpoint's
figure next to an independent pandas computation on the same columns. The
shapes come from ``tests/shapes.py``. Parameters that older versions lack are
skipped (the line then shows the old behaviour only).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import itertools

import shapes
import touchpoint as tp

WEEK = 7 * 86400.0


def frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(dict(cols.items()))


def log_of(cols: dict[str, np.ndarray], **kw: object) -> tp.EventLog:
    out = cols.get("outcome") if "outcome" in cols else None
    extra = {k: v for k, v in cols.items() if k not in ("journey", "touchpoint", "time", "outcome")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return tp.EventLog.from_arrays(
                cols["journey"], cols["touchpoint"], cols["time"], out, extra, **kw
            )
        except tp.exceptions.ValidationError:  # what a user of the old default had to do
            kw = {**kw, "on_error": "drop"}
            return tp.EventLog.from_arrays(
                cols["journey"], cols["touchpoint"], cols["time"], out, extra, **kw
            )


def line(name: str, text: str) -> None:
    print(f"{name:<4} {text}")


def f1_journey_flags() -> None:
    cols = shapes.journey_flags(2000)
    df = frame(cols).sort_values(["journey", "time"], kind="stable")
    # truth: whole paths, the journey converts at its end
    conv = df.groupby("journey")["outcome"].max() > 0
    pairs: dict[tuple[str, str], int] = {}
    for j, g in df.groupby("journey", sort=False):
        seq = ["(start)", *g["touchpoint"], "(conversion)" if conv[j] else "(null)"]
        for a, b in itertools.pairwise(seq):
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    tot: dict[str, int] = {}
    for (a, _), c in pairs.items():
        tot[a] = tot.get(a, 0) + c
    truth = {k: c / tot[k[0]] for k, c in pairs.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = tp.EventLog.from_arrays(
            cols["journey"], cols["touchpoint"], cols["time"], cols["outcome"]
        )
    warned = any("outcome_level" in str(w.message) for w in caught)
    m = tp.fit_markov(log)
    err = max(abs(m.probability(a, b) - p) for (a, b), p in truth.items())
    line(
        "F1", f"journey-level flag, event default: max |P - P_pandas| = {err:.3f}, warned={warned}"
    )
    try:
        log_j = tp.EventLog.from_arrays(
            cols["journey"],
            cols["touchpoint"],
            cols["time"],
            cols["outcome"],
            outcome_level="journey",
        )
    except TypeError:
        return
    m = tp.fit_markov(log_j)
    err = max(abs(m.probability(a, b) - p) for (a, b), p in truth.items())
    line("", f"outcome_level='journey': max |P - P_pandas| = {err:.2g}")


def f2_direct() -> None:
    cols = shapes.mostly_direct(1000)
    log = log_of(cols, conversions=["purchase"])
    att = tp.attribution(log, "markov", per_journey=True)
    lin = tp.attribution(log, "linear")
    df = frame(cols).sort_values(["journey", "time"], kind="stable")
    first_buy = df[df.touchpoint == "purchase"].groupby("journey")["time"].min()
    df = df.join(first_buy.rename("first_buy"), on="journey")
    touched = df[(df.touchpoint != "purchase") & (df.time < df.first_buy)]
    n_conv = first_buy.size
    n_touched = touched.journey.nunique()
    per_tp = touched.groupby("touchpoint")["journey"].nunique()
    credit = dict(
        zip(att.table["touchpoint"].tolist(), att.table["conversions"].tolist(), strict=False)
    )
    excess = max(credit.get(t, 0.0) - per_tp.get(t, 0) for t in credit)
    pj = att.per_journey["conversions"].sum() if att.per_journey is not None else float("nan")
    line(
        "F2",
        f"{n_conv} converting households, {n_touched} touched before (pandas): markov .table "
        f"{att.table['conversions'].sum():.1f}, .per_journey {pj:.1f}, linear "
        f"{lin.table['conversions'].sum():.1f} (+{lin.unattributed:.0f} unattributed); "
        f"campaign_B {credit.get('campaign_B', 0):.1f} vs {per_tp.get('campaign_B', 0)} touched; "
        f"max excess over touched {excess:.1f}",
    )


def f3_ties() -> None:
    cols = shapes.baskets(300)
    df = frame(cols)
    try:
        log = tp.EventLog.from_arrays(
            cols["journey"], cols["touchpoint"], cols["time"], cols["outcome"]
        )
        line("F3", f"baskets, default: accepted, validation: {log.validation}")
    except tp.exceptions.ValidationError as exc:
        line("F3", f"baskets, default: ValidationError: {str(exc)[:90]}...")
    log = log_of(cols, on_error="drop")
    kept = float(np.nansum(log.outcome))
    line(
        "",
        f"on_error='drop': {log.validation.n_dropped} of {len(df)} rows dropped "
        f"({log.validation.n_dropped / len(df):.1%}), revenue {kept:.2f} of "
        f"{np.nansum(df.outcome):.2f} ({1 - kept / np.nansum(df.outcome):.1%} lost)",
    )
    coupons = df[df.touchpoint == "coupon"]
    log_c = log_of(
        {k: v[df.touchpoint.to_numpy() == "coupon"] for k, v in cols.items()}, on_error="drop"
    )
    line("", f"coupon redemptions rejected: {log_c.validation.n_dropped / len(coupons):.1%}")


def f4_converting_event() -> None:
    sample = tp.datasets.load_sample()
    att = tp.attribution(sample.events, "markov")
    t = att.table
    conv_share = sum(
        s
        for n, s in zip(t["touchpoint"].tolist(), t["share"].tolist(), strict=False)
        if n.startswith("checkout")
    )
    line(
        "F4",
        f"sample: conversions={sample.events.conversions}, checkout_* share of markov credit "
        f"{conv_share:.1%}",
    )
    cols = shapes.baskets(300)
    log = log_of(cols)
    t = tp.attribution(log, "markov").table
    share = dict(zip(t["touchpoint"].tolist(), t["share"].tolist(), strict=False))
    line("", f"baskets, outcome on purchase rows: purchase takes {share.get('purchase', 0):.1%}")
    try:
        log = log_of(cols, conversions=["purchase"])
    except tp.exceptions.TouchpointError:
        return
    att = tp.attribution(log, "markov")
    share = dict(zip(att.table["touchpoint"].tolist(), att.table["share"].tolist(), strict=True))
    line(
        "",
        f"conversions=['purchase']: purchase takes {share.get('purchase', 0):.1%}, "
        f"{getattr(att, 'conversion', '?')!s}; unattributed {att.unattributed:.0f}",
    )


def f5_repeat() -> None:
    cols = shapes.baskets(300)
    log = log_of(cols)
    r = tp.repeat_rate(log, "purchase", window=WEEK, censor=False)
    df = frame(cols)
    b = df[df.touchpoint == "purchase"].drop_duplicates(["journey", "time"]).sort_values("time")
    first = b.groupby("journey")["time"].min()
    second = b.groupby("journey")["time"].apply(lambda s: s.iloc[1] if len(s) > 1 else pd.NaT)
    gap = (second - first).dt.total_seconds()
    truth = float((gap <= WEEK).sum() / len(first))
    line("F5", f"repeat within 7 days: touchpoint {r.rate:.1%}, pandas on baskets {truth:.1%}")


def f6_dropoffs() -> None:
    sample = tp.datasets.load_sample()
    log = sample.events
    res = tp.detect_dropoffs(log, ["add_to_cart", "checkout_web"], by="region", period="month")
    df = log.to_frame()
    carts = df[df.touchpoint == "add_to_cart"].groupby("customer_id")["timestamp"].min()
    reg = df.groupby("customer_id")["region"].first()
    cells = pd.DataFrame({"m": carts.dt.to_period("M"), "r": reg[carts.index]}).drop_duplicates()
    horizon = getattr(res, "horizon", None)
    left = getattr(res, "left_out", None)
    line(
        "F6",
        f"detect_dropoffs(horizon='auto') by month x region: {res.n_tests} tests of {len(cells)} "
        f"cells with carts; horizon reported: {horizon!r}; left out reported: "
        f"{None if left is None else len(left)}",
    )


def f7_tz() -> None:
    cols = shapes.aware_times(200)
    df = frame(cols)
    log = tp.EventLog.from_arrays(
        cols["journey"], cols["touchpoint"], cols["time"], cols["outcome"]
    )
    local = pd.to_datetime(df.time, utc=True).dt.tz_convert("America/New_York")
    weeks_local = local.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    first = df.assign(w=weeks_local).sort_values("time").groupby("journey")["w"].min()
    truth = first.value_counts().sort_index()
    r = tp.repeat_rate(log, "purchase", period="week")
    got = dict(zip(r.periods["period"].tolist(), r.periods["n"].tolist(), strict=False))
    same = {str(k.date()): int(v) for k, v in truth.items()} == {k: int(v) for k, v in got.items()}
    line(
        "F7", f"aware -05:00 Sunday evenings, week buckets (default): equal to local weeks: {same}"
    )
    try:
        r = tp.repeat_rate(log, "purchase", period="week", tz="America/New_York")
    except TypeError:
        return
    got = dict(zip(r.periods["period"].tolist(), r.periods["n"].tolist(), strict=False))
    same = {str(k.date()): int(v) for k, v in truth.items()} == {k: int(v) for k, v in got.items()}
    line("", f"tz='America/New_York': equal to local weeks: {same}")


if __name__ == "__main__":
    for f in (
        f1_journey_flags,
        f2_direct,
        f3_ties,
        f4_converting_event,
        f5_repeat,
        f6_dropoffs,
        f7_tz,
    ):
        try:
            f()
        except Exception as exc:  # noqa: PERF203  (a finding script reports, it does not stop)
            line(f.__name__[:2].upper(), f"failed: {type(exc).__name__}: {exc}")
