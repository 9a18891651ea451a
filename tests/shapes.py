"""Generators of real data shapes (numpy only, seeded), shared by tests and benchmarks.

Each function returns plain numpy columns, the shape a warehouse export has:

- :func:`baskets`: item-level transactions (one row per item, every item of
  a basket at the basket's time, the item price as outcome), coupon
  redemptions tied on the same day, campaign receipts tied on the campaign
  start (several campaigns may start at once).
- :func:`journey_flags`: a journey-level conversion flag (or order value)
  copied onto every row of the journey.
- :func:`mostly_direct`: most households convert with no campaign before.
- :func:`big_households`: a few households with thousands of events each.
- :func:`aware_times`: events in a time zone west of UTC, late on Sundays.

Nothing here imports touchpoint: the tests compare touchpoint's answers with
independent pandas computations on these same columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Columns = dict[str, NDArray[Any]]

DAY = np.timedelta64(1, "D").astype("timedelta64[ns]")
T0 = np.datetime64("2026-01-05T00:00:00", "ns")  # a Monday


def _columns(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> Columns:
    out: Columns = {}
    for i, name in enumerate(names):
        vals = [r[i] for r in rows]
        if name == "time":
            out[name] = np.array(vals, dtype="datetime64[ns]")
        elif name in ("outcome", "price"):
            out[name] = np.array(vals, dtype=np.float64)
        elif name in ("journey", "basket"):
            out[name] = np.array(vals, dtype=np.int64)
        else:
            out[name] = np.array(vals, dtype=object)
    return out


#: Shelf prices of :func:`baskets` (several items of a basket often cost the same).
PRICES = np.array([0.99, 1.49, 1.99, 2.49, 2.99, 3.99, 4.99, 9.99])


def baskets(n: int = 300, *, seed: int = 0, weeks: int = 12) -> Columns:
    """Households with campaign receipts, coupon redemptions and item-level baskets.

    Columns: ``journey`` (household), ``touchpoint`` (``campaign_A``,
    ``campaign_B``, ``coupon``, ``purchase``), ``time`` (datetime64[ns]),
    ``outcome`` (item price on purchase rows, NaN elsewhere) and ``basket``
    (basket id on purchase rows, -1 elsewhere). Every item of a basket has
    the basket's time; each household redeems up to three coupons at one
    time; the campaigns are received at their start (both start together on
    day 14, so some households get two receipts at the same time).
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    basket_id = 0
    starts = {"campaign_A": T0 + 14 * DAY, "campaign_B": T0 + 14 * DAY}
    for h in range(n):
        for camp, t in starts.items():
            if rng.random() < 0.5:
                rows.append((h, camp, t, np.nan, -1))
        if rng.random() < 0.4:
            t = T0 + int(rng.integers(0, weeks * 7)) * DAY + np.timedelta64(10, "h")
            rows.extend((h, "coupon", t, np.nan, -1) for _ in range(int(rng.integers(1, 4))))
        for _ in range(int(rng.poisson(2.0))):
            minute = int(rng.integers(0, weeks * 7 * 24 * 60))
            t = T0 + np.timedelta64(minute, "m").astype("timedelta64[ns]")
            for _ in range(int(rng.integers(1, 9))):  # items of one basket
                price = float(PRICES[int(rng.integers(0, len(PRICES)))])
                rows.append((h, "purchase", t, price, basket_id))
            basket_id += 1
    order = rng.permutation(len(rows))  # an export is not sorted
    rows = [rows[i] for i in order]
    return _columns(rows, ("journey", "touchpoint", "time", "outcome", "basket"))


#: The chain of :func:`journey_flags`: P(next | current); "(end)" ends the journey.
FLAG_CHAIN: dict[str, dict[str, float]] = {
    "(start)": {"ad": 0.6, "email": 0.4},
    "ad": {"site": 0.6, "email": 0.1, "(end)": 0.3},
    "email": {"site": 0.5, "ad": 0.2, "(end)": 0.3},
    "site": {"cart": 0.5, "ad": 0.1, "(end)": 0.4},
    "cart": {"site": 0.3, "(end)": 0.7},
}


def journey_flags(n: int = 2000, *, seed: int = 1, value: bool = False) -> Columns:
    """Journeys whose conversion flag (or order value) is repeated on each of their rows.

    Paths follow :data:`FLAG_CHAIN`; a journey that reaches ``cart``
    converts with probability 0.6. ``outcome`` is 1 (or the order value) on
    *every* row of a converting journey and 0 on every row of the others,
    the shape of an export that joins a journey table onto its events.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    for j in range(n):
        state, path = "(start)", []
        while True:
            nxt = FLAG_CHAIN[state]
            state = str(rng.choice(list(nxt), p=list(nxt.values())))
            if state == "(end)":
                break
            path.append(state)
        conv = "cart" in path and rng.random() < 0.6
        val = float(np.round(rng.lognormal(3, 0.5), 2)) if value else 1.0
        for k, tp in enumerate(path):
            rows.append((j, tp, T0 + k * DAY, val if conv else 0.0))
    return _columns(rows, ("journey", "touchpoint", "time", "outcome"))


def mostly_direct(n: int = 1000, *, seed: int = 2) -> Columns:
    """Households that mostly buy with no campaign before their first purchase.

    ``purchase`` rows carry the order value as outcome. About 70% of the
    households buy first and receive campaigns only afterwards; 20% receive
    campaigns, then buy; 10% never buy. ``campaign_B`` is received late by
    most households, so it precedes few first purchases.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    for h in range(n):
        u = rng.random()
        t_buy = T0 + int(rng.integers(0, 30)) * DAY
        if u < 0.7:  # direct: purchase, then campaigns
            rows.append((h, "purchase", t_buy, float(rng.integers(10, 100))))
            for camp in ("campaign_A", "campaign_B", "mailer"):
                if rng.random() < 0.6:
                    rows.append((h, camp, t_buy + int(rng.integers(1, 20)) * DAY, np.nan))  # noqa: PERF401
            if rng.random() < 0.5:
                rows.append((h, "purchase", t_buy + 25 * DAY, float(rng.integers(10, 100))))
        elif u < 0.9:  # touched, then purchase
            before = rng.choice(
                ["campaign_A", "campaign_B", "mailer"], size=int(rng.integers(1, 4))
            )
            for k, camp in enumerate(before):
                rows.append((h, str(camp), t_buy - (k + 1) * DAY, np.nan))
            rows.append((h, "purchase", t_buy, float(rng.integers(10, 100))))
        else:  # never buys
            for k in range(int(rng.integers(1, 4))):
                camp = str(rng.choice(["campaign_A", "campaign_B", "mailer"]))
                rows.append((h, camp, t_buy + k * DAY, np.nan))
    return _columns(rows, ("journey", "touchpoint", "time", "outcome"))


def big_households(n: int = 4, *, events: int = 3000, seed: int = 3) -> Columns:
    """A few households with ``events`` events each (loyalty-card scans, visits, purchases)."""
    rng = np.random.default_rng(seed)
    names = np.array(["scan", "visit", "app", "purchase"], dtype=object)
    j = np.repeat(np.arange(n, dtype=np.int64), events)
    tp = names[rng.integers(0, 4, size=n * events)]
    minutes = np.sort(rng.integers(0, 365 * 24 * 60, size=(n, events)), axis=1).ravel()
    t = T0 + minutes.astype("timedelta64[m]").astype("timedelta64[ns]")
    out = np.where(tp == "purchase", np.round(rng.lognormal(2, 0.5, size=n * events), 2), np.nan)
    return {"journey": j, "touchpoint": tp, "time": t, "outcome": out}


def aware_times(n: int = 200, *, seed: int = 4) -> Columns:
    """Purchases late on Sunday evenings in New York (Monday morning in UTC).

    ``time`` holds ISO 8601 strings with their UTC offset (``-05:00`` in
    winter), ``local_day`` the local calendar day (for the independent check).
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    for h in range(n):
        for _ in range(int(rng.integers(1, 4))):
            week = int(rng.integers(0, 8))
            # Sunday 19:00-23:59 local (EST, UTC-5); 2026-01-11 is a Sunday
            day = np.datetime64("2026-01-11", "D") + 7 * week
            minute = int(rng.integers(19 * 60, 24 * 60))
            local = day.astype("datetime64[m]") + minute
            text = str(local) + ":00-05:00"
            rows.append((h, "purchase", text, float(rng.integers(5, 100)), str(day)))
    names = ("journey", "touchpoint", "time", "outcome", "local_day")
    cols: Columns = {}
    for i, name in enumerate(names):
        vals = [r[i] for r in rows]
        cols[name] = np.array(
            vals,
            dtype=np.int64 if name == "journey" else np.float64 if name == "outcome" else object,
        )
    return cols
