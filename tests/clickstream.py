"""A generated e-commerce clickstream without a design (shared by tests and docs).

Sessions of 400 users over 16 weeks walk a browse -> cart -> shipping -> payment
path; a session that hits ``payment_error`` rarely recovers, so its conversion
is far below that of sessions that reach ``payment_details`` without an error
(the friction a design-less report must surface). Users come back in later
weeks (retention) and carry ``platform`` and ``channel`` segments.
"""

from __future__ import annotations

import numpy as np

NEXT = {
    "home": [("catalog", 0.5), ("search", 0.35), ("promo_page", 0.15)],
    "promo_page": [("catalog", 0.6), ("product_view", 0.4)],
    "catalog": [("product_view", 0.7), ("catalog", 0.15), ("search", 0.15)],
    "search": [("product_view", 0.65), ("catalog", 0.35)],
    "product_view": [
        ("add_to_cart", 0.3),
        ("catalog", 0.35),
        ("product_view", 0.2),
        ("search", 0.15),
    ],
    "add_to_cart": [("cart", 0.75), ("catalog", 0.25)],
    "cart": [("shipping_details", 0.7), ("catalog", 0.3)],
    "shipping_details": [("payment_details", 0.85), ("cart", 0.15)],
    "payment_details": [("purchase", 0.72), ("payment_error", 0.28)],
    "payment_error": [("payment_details", 0.15), ("support_chat", 0.5), ("home", 0.35)],
    "support_chat": [("payment_details", 0.2), ("home", 0.8)],
}
STOP = {
    "home": 0.25,
    "catalog": 0.22,
    "search": 0.2,
    "product_view": 0.18,
    "cart": 0.15,
    "promo_page": 0.3,
    "add_to_cart": 0.05,
    "shipping_details": 0.08,
    "payment_details": 0.04,
    "payment_error": 0.45,
    "support_chat": 0.5,
}


def clickstream(users: int = 400, weeks: int = 16, seed: int = 7) -> list[tuple]:
    """Rows ``(session, user, time, event, platform, channel)`` sorted by session and time."""
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2026-01-05T08:00")
    rows = []
    sid = 0
    for u in range(users):
        platform = rng.choice(["desktop", "mobile"], p=[0.6, 0.4])
        channel = rng.choice(["organic", "paid", "email"], p=[0.5, 0.3, 0.2])
        day = int(rng.integers(0, weeks * 7 - 7))
        while day < weeks * 7:
            sid += 1
            t = t0 + np.timedelta64(day, "D") + np.timedelta64(int(rng.integers(0, 600)), "m")
            page = "home"
            for _ in range(30):
                rows.append((f"s{sid:05d}", f"u{u:04d}", t, page, platform, channel))
                if page == "purchase" or rng.random() < STOP[page] * (
                    1.3 if platform == "mobile" else 1
                ):
                    break
                options = NEXT[page]
                page = options[int(rng.choice(len(options), p=[p for _, p in options]))][0]
                t = t + np.timedelta64(int(rng.integers(10, 200)), "s")
            day += int(rng.geometric(0.12)) + 1
    return rows


def write_csv(path, **kwargs) -> None:
    """The clickstream as a CSV with columns session_id, user_id, timestamp, event, platform, channel."""
    lines = ["session_id,user_id,timestamp,event,platform,channel"]
    lines += [f"{s},{u},{t},{e},{p},{c}" for s, u, t, e, p, c in clickstream(**kwargs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
