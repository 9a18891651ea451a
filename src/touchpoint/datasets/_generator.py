"""Generator of the bundled sample data (a synthetic brand, "Lumen Home").

Run ``python -m touchpoint.datasets._generator`` (or ``make data``) to rewrite
``events.csv.gz``, ``surveys.csv.gz`` and ``journey.json`` in
``src/touchpoint/datasets/data/``. Everything comes from one
:func:`numpy.random.default_rng` seeded with :data:`SampleConfig.seed`, and the
gzip headers carry no time stamp, so regenerating gives byte-identical files.

How it is organised (to add a finding, add a field to :class:`SampleConfig`, a
constant below, and a few lines in the part that draws the affected events):

1. **Design** (:data:`TOUCHPOINTS`, :data:`DESIGNED_TRANSITIONS`,
   :func:`build_journey`): 19 touchpoints over the seven lifecycle stages.
2. **Customers** (:func:`draw_customers`): device, region and arrival time.
3. **Journeys**: :func:`draw_pre_purchase` (pre-awareness, awareness,
   consideration), :func:`draw_purchase` (cart, checkout in web or store; the
   planted mobile drop-off), :func:`draw_usage` (onboarding, app, support and
   replies), :func:`draw_sentiment` (journey-level feeling, driven by the key
   touchpoints' experience), :func:`draw_after_usage` (advocacy, loyalty
   programme, repeat purchases).
4. **Surveys** (:func:`draw_surveys`): CSAT/CES per touchpoint, one NPS per
   surveyed customer.

Every event carries an experience value ``z`` (standard normal plus the
touchpoint's :data:`EXPERIENCE_SHIFT`); survey answers are noisy readings of it.
The planted findings are documented in ``docs/sample-data.md`` and exposed as
the ``PLANTED_*``/``DROP_*`` constants below so tests of other modules can
refer to them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint.core._journey import Journey, Touchpoint
from touchpoint.stages import CUSTOMER_LIFECYCLE

__all__ = [
    "DESIGNED_TRANSITIONS",
    "DROP_BASE_RATE",
    "DROP_RATE",
    "DROP_SEGMENT",
    "DROP_STEP",
    "DROP_WEEKS",
    "EXPERIENCE_SHIFT",
    "INCONSISTENT_STAGE",
    "LOYALTY_DRIVERS",
    "PARTS",
    "TOUCHPOINTS",
    "SampleConfig",
    "State",
    "TouchpointSpec",
    "build_journey",
    "cart_checkout_rate",
    "generate",
    "main",
    "write_sample",
]

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

# --------------------------------------------------------------------------
# Planted findings (documented in docs/sample-data.md; tests refer to these)
# --------------------------------------------------------------------------

#: Drop-off: the segment whose conversion falls ...
DROP_SEGMENT: tuple[str, str] = ("device", "mobile")
#: ... in these weeks (1-based; week 1 starts at ``SampleConfig.start``) ...
DROP_WEEKS: tuple[int, ...] = (8, 9, 10)
#: ... at this step (an ``add_to_cart`` followed by ``checkout_web``) ...
DROP_STEP: tuple[str, str] = ("add_to_cart", "checkout_web")
#: ... from this probability (every other segment and week) ...
DROP_BASE_RATE = 0.60
#: ... to this one. The week is the week of the ``add_to_cart`` event.
DROP_RATE = 0.40

#: Key drivers: weight of each touchpoint's experience in the journey-level
#: sentiment, which sets NPS, advocacy, loyalty-programme sign-up and repeat
#: purchases. Touchpoints not listed have no effect on them.
LOYALTY_DRIVERS: dict[str, float] = {
    "onboarding_email": 0.8,
    "support_phone": 0.6,
    "support_email": 0.6,
    "support_chat": 0.6,
    "checkout_web": 0.3,
    "checkout_store": 0.3,
}

#: The stage whose experience differs across channels (store far below web).
INCONSISTENT_STAGE = "purchase"


@attrs.frozen
class TouchpointSpec:
    """One designed touchpoint and how it is surveyed."""

    name: str
    stage: str
    channel: str
    kind: str
    description: str
    key: bool = False
    #: Asked for CSAT (1-5) in touchpoint surveys.
    surveyed: bool = True
    #: Also asked for CES (1-7, 7 = very easy).
    ces: bool = False
    #: Carries revenue.
    purchase: bool = False


#: The designed touchpoints, in stage order.
TOUCHPOINTS: tuple[TouchpointSpec, ...] = (
    TouchpointSpec(
        "need_search", "pre-awareness", "search", "digital",
        "Generic web search for the need, before the brand is known.", surveyed=False,
    ),
    TouchpointSpec("social_ad", "awareness", "social", "digital", "Ad in a social feed."),
    TouchpointSpec("search_ad", "awareness", "search", "digital", "Paid search ad."),
    TouchpointSpec(
        "word_of_mouth", "awareness", "offline", "physical",
        "Recommendation by a friend (as reported at sign-up).", surveyed=False,
    ),
    TouchpointSpec("product_page", "consideration", "web", "digital", "Product page visit."),
    TouchpointSpec("review_site", "consideration", "reviews", "digital", "Third-party review site."),
    TouchpointSpec("store_visit", "consideration", "store", "physical", "Visit to a store."),
    TouchpointSpec(
        "add_to_cart", "purchase", "web", "digital", "Product added to the web cart.", ces=True
    ),
    TouchpointSpec(
        "checkout_web", "purchase", "web", "digital", "Order paid on the web shop.",
        key=True, ces=True, purchase=True,
    ),
    TouchpointSpec(
        "checkout_store", "purchase", "store", "physical", "Purchase at a store till.",
        key=True, ces=True, purchase=True,
    ),
    TouchpointSpec(
        "onboarding_email", "usage", "email", "digital", "Onboarding e-mail series after purchase.",
        key=True, ces=True,
    ),
    TouchpointSpec("app_usage", "usage", "app", "digital", "Session in the companion app."),
    TouchpointSpec(
        "support_phone", "usage", "phone", "hybrid", "Support request by phone.", key=True, ces=True
    ),
    TouchpointSpec(
        "support_email", "usage", "email", "digital", "Support request by e-mail.", key=True, ces=True
    ),
    TouchpointSpec(
        "support_chat", "usage", "chat", "digital", "Support request by web chat.", key=True, ces=True
    ),
    TouchpointSpec(
        "support_reply", "usage", "support", "hybrid",
        "Agent's reply to a support request (same channel as the request).", surveyed=False,
    ),
    TouchpointSpec("product_review", "advocacy", "web", "digital", "Customer writes a review."),
    TouchpointSpec("referral", "advocacy", "web", "digital", "Customer refers a friend (link)."),
    TouchpointSpec(
        "loyalty_program", "loyalty", "app", "digital", "Joins the loyalty programme.", ces=True
    ),
)  # fmt: skip

#: Designed flow between touchpoints (the service blueprint's arrows).
DESIGNED_TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("need_search", "search_ad"),
    ("need_search", "social_ad"),
    ("social_ad", "product_page"),
    ("search_ad", "product_page"),
    ("word_of_mouth", "store_visit"),
    ("word_of_mouth", "product_page"),
    ("product_page", "review_site"),
    ("review_site", "product_page"),
    ("product_page", "add_to_cart"),
    ("store_visit", "checkout_store"),
    ("add_to_cart", "checkout_web"),
    ("checkout_web", "onboarding_email"),
    ("checkout_store", "onboarding_email"),
    ("onboarding_email", "app_usage"),
    ("app_usage", "support_chat"),
    ("app_usage", "support_email"),
    ("app_usage", "support_phone"),
    ("support_phone", "support_reply"),
    ("support_email", "support_reply"),
    ("support_chat", "support_reply"),
    ("app_usage", "product_review"),
    ("product_review", "referral"),
    ("app_usage", "loyalty_program"),
    ("loyalty_program", "checkout_web"),
    ("loyalty_program", "checkout_store"),
)

#: Mean shift of the experience value ``z`` per touchpoint (0 when absent).
#: CSAT top-2-box is about 66% at 0; the purchase stage is planted inconsistent:
#: the web steps are pleasant, the store till is not.
EXPERIENCE_SHIFT: dict[str, float] = {
    "social_ad": 0.0,
    "search_ad": 0.0,
    "product_page": 0.1,
    "review_site": 0.1,
    "store_visit": 0.1,
    "add_to_cart": 0.2,
    "checkout_web": 0.35,
    "checkout_store": -0.6,
    "onboarding_email": 0.0,
    "app_usage": 0.1,
    "support_phone": 0.0,
    "support_email": 0.0,
    "support_chat": 0.0,
    "product_review": 0.2,
    "referral": 0.2,
    "loyalty_program": 0.2,
}

#: CSAT cut points on ``z``: 1 below the first, 5 above the last.
CSAT_CUTS = (-2.0, -1.2, -0.4, 0.5)
#: CES (1-7) cut points on ``0.85 z + 0.5 noise``.
CES_CUTS = (-2.2, -1.6, -1.0, -0.4, 0.3, 1.1)


@attrs.frozen(kw_only=True)
class SampleConfig:
    """Sizes, seed and behaviour probabilities of the sample brand."""

    seed: int = 20260105
    n_customers: int = 20_000
    weeks: int = 12
    #: Monday 00:00 of week 1.
    start: str = "2026-01-05T00:00"
    devices: tuple[tuple[str, float], ...] = (("mobile", 0.55), ("desktop", 0.38), ("tablet", 0.07))
    regions: tuple[tuple[str, float], ...] = (
        ("north", 0.30),
        ("south", 0.25),
        ("east", 0.25),
        ("west", 0.20),
    )
    p_need_search: float = 0.35
    #: First awareness touchpoint.
    awareness: tuple[tuple[str, float], ...] = (
        ("social_ad", 0.45),
        ("search_ad", 0.35),
        ("word_of_mouth", 0.20),
    )
    p_second_ad: float = 0.25
    p_product_page: float = 0.80
    p_product_page_word_of_mouth: float = 0.50
    #: Extra product-page views ~ Poisson(this), in the same consideration phase.
    product_page_revisits: float = 0.7
    p_review_site: float = 0.35
    p_store_visit: float = 0.25
    p_store_visit_word_of_mouth: float = 0.60
    #: P(add_to_cart | product page seen).
    p_cart: float = 0.55
    #: P(checkout_store | store visit and no web cart).
    p_store_checkout: float = 0.50
    p_onboarding: float = 0.90
    p_app: float = 0.75
    app_sessions_mean: float = 3.0
    p_support: float = 0.35
    p_second_support: float = 0.20
    support_channels: tuple[tuple[str, float], ...] = (
        ("support_phone", 0.30),
        ("support_email", 0.35),
        ("support_chat", 0.35),
    )
    #: Median reply time in minutes and log-sd, per request touchpoint.
    reply_median_minutes: tuple[tuple[str, float, float], ...] = (
        ("support_phone", 4.0, 0.6),
        ("support_chat", 12.0, 0.7),
        ("support_email", 18 * 60.0, 0.7),
    )
    #: Share of requests never answered, per request touchpoint.
    unanswered: tuple[tuple[str, float], ...] = (
        ("support_phone", 0.03),
        ("support_chat", 0.06),
        ("support_email", 0.15),
    )
    #: Sentiment of buyers: intercept + sum(LOYALTY_DRIVERS * z) + N(0, sd).
    sentiment_buyer: float = 0.3
    sentiment_non_buyer: float = -0.4
    sentiment_sd: float = 0.7
    #: Logistic intercept/slope on sentiment.
    review: tuple[float, float] = (-2.0, 0.8)
    referral: tuple[float, float] = (-2.6, 1.0)
    loyalty: tuple[float, float] = (-1.2, 0.8)
    #: Repeat purchases ~ Poisson(exp(a + b * sentiment)) within the window.
    repeat: tuple[float, float] = (-1.0, 0.7)
    p_repeat_same_channel: float = 0.75
    #: Revenue: lognormal median and log-sd (first purchase; repeats x0.8).
    revenue_web: tuple[float, float] = (55.0, 0.5)
    revenue_store: tuple[float, float] = (70.0, 0.45)
    #: Survey: share of buyers / non-buyers invited who answer.
    p_surveyed_buyer: float = 0.45
    p_surveyed_non_buyer: float = 0.12
    #: Share of a surveyed customer's touchpoints (first visits) rated.
    p_rate_touchpoint: float = 0.6
    p_skip_csat: float = 0.03
    p_skip_ces: float = 0.08
    #: NPS = clip(round(a + b * sentiment + N(0, sd)), 0, 10).
    nps_scale: tuple[float, float, float] = (7.7, 1.7, 0.8)

    @property
    def end_minute(self) -> int:
        """Length of the observation window in minutes."""
        return self.weeks * MINUTES_PER_WEEK


# --------------------------------------------------------------------------
# Event accumulator
# --------------------------------------------------------------------------

_TP_INDEX = {t.name: i for i, t in enumerate(TOUCHPOINTS)}
_SHIFT = np.array([EXPERIENCE_SHIFT.get(t.name, 0.0) for t in TOUCHPOINTS])

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class _Events:
    """Collects event chunks (customer index, touchpoint code, minute, revenue, z)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.chunks: list[tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray]] = []

    def add(
        self,
        customers: IntArray,
        touchpoint: str | IntArray,
        minutes: IntArray,
        revenue: FloatArray | None = None,
    ) -> FloatArray:
        """Add events; returns their experience values ``z``."""
        n = len(customers)
        code = (
            np.full(n, _TP_INDEX[touchpoint], dtype=np.int64)
            if isinstance(touchpoint, str)
            else touchpoint.astype(np.int64)
        )
        z = _SHIFT[code] + self.rng.standard_normal(n)
        rev = np.full(n, np.nan) if revenue is None else revenue
        self.chunks.append((customers.astype(np.int64), code, minutes.astype(np.int64), rev, z))
        return z

    def concat(self) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray]:
        parts = list(zip(*self.chunks, strict=True))
        c, t, m, r, z = (np.concatenate(p) for p in parts)
        return c, t, m, r, z


def _choice(rng: np.random.Generator, options: Sequence[tuple[Any, float]], n: int) -> IntArray:
    p = np.array([w for _, w in options])
    return rng.choice(len(options), size=n, p=p / p.sum()).astype(np.int64)


def _gap(rng: np.random.Generator, n: int, median_minutes: float, sigma: float) -> IntArray:
    """Lognormal waiting times in whole minutes (at least 1)."""
    g = np.exp(np.log(median_minutes) + sigma * rng.standard_normal(n))
    out: IntArray = np.maximum(1, np.rint(g)).astype(np.int64)
    return out


def _cumsum_within(k: IntArray, values: IntArray) -> IntArray:
    """Cumulative sums of ``values`` restarting for each group (group sizes ``k``)."""
    cum: IntArray = np.cumsum(values)
    k = k[k > 0]
    first = np.cumsum(k) - k
    out: IntArray = cum - np.repeat(cum[first] - values[first], k)
    return out


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def _cut(x: FloatArray, cuts: Sequence[float]) -> IntArray:
    out: IntArray = 1 + np.searchsorted(np.asarray(cuts), x).astype(np.int64)
    return out


# --------------------------------------------------------------------------
# Parts
# --------------------------------------------------------------------------


def build_journey() -> Journey:
    """The designed journey: seven lifecycle stages, :data:`TOUCHPOINTS` and transitions.

    Returns
    -------
    Journey
        Every touchpoint with its stage, channel, kind, ``key`` flag and
        ``attributes`` (``description``, ``surveyed``, ``ces``, ``purchase``);
        one transition (``count=1``) per pair in :data:`DESIGNED_TRANSITIONS`.

    Examples
    --------
    >>> j = build_journey()
    >>> j
    Journey(name='Lumen Home (touchpoint sample brand)', stages=7, touchpoints=19, transitions=25)
    >>> [t.name for t in j.touchpoints_in("purchase")]
    ['add_to_cart', 'checkout_web', 'checkout_store']
    """
    j = Journey(stages=CUSTOMER_LIFECYCLE, name="Lumen Home (touchpoint sample brand)")
    for t in TOUCHPOINTS:
        j.add_touchpoint(
            Touchpoint(
                t.name,
                stage=t.stage,
                channel=t.channel,
                kind=t.kind,  # type: ignore[arg-type]
                key=t.key,
                attributes={
                    "description": t.description,
                    "surveyed": t.surveyed,
                    "ces": t.ces,
                    "purchase": t.purchase,
                },
            )
        )
    for a, b in DESIGNED_TRANSITIONS:
        j.add_transition(a, b)
    return j


@attrs.define
class State:
    """What the parts share: the random stream, config, events and per-customer arrays.

    Parts read what earlier parts drew and add their own arrays; a new effect
    usually needs one new field here and a few lines in one part.
    """

    rng: np.random.Generator
    cfg: SampleConfig
    events: _Events
    #: Segments (codes into ``cfg.devices`` / ``cfg.regions``) and first-event minute.
    device: IntArray = attrs.field(factory=lambda: np.empty(0, np.int64))
    region: IntArray = attrs.field(factory=lambda: np.empty(0, np.int64))
    arrival: IntArray = attrs.field(factory=lambda: np.empty(0, np.int64))
    #: Minute of the customer's latest event so far (set by each part).
    clock: IntArray = attrs.field(factory=lambda: np.empty(0, np.int64))
    saw_page: BoolArray = attrs.field(factory=lambda: np.empty(0, bool))
    saw_store: BoolArray = attrs.field(factory=lambda: np.empty(0, bool))
    #: First purchase: whether, channel (0 web, 1 store), minute, experience z.
    bought: BoolArray = attrs.field(factory=lambda: np.empty(0, bool))
    channel: IntArray = attrs.field(factory=lambda: np.empty(0, np.int64))
    purchased_at: IntArray = attrs.field(factory=lambda: np.empty(0, np.int64))
    #: Experience z at the key touchpoints (0 when the customer had none).
    z_key: dict[str, FloatArray] = attrs.field(factory=dict)
    #: Journey-level sentiment (drives NPS, advocacy, loyalty, repeats).
    sentiment: FloatArray = attrs.field(factory=lambda: np.empty(0))

    @property
    def n(self) -> int:
        """Number of customers."""
        return self.cfg.n_customers

    @property
    def ids(self) -> IntArray:
        """Customer indices 0..n-1."""
        return np.arange(self.n, dtype=np.int64)


def draw_customers(st: State) -> None:
    """Device and region shares, arrival uniform over the window."""
    rng, cfg, n = st.rng, st.cfg, st.n
    st.device = _choice(rng, cfg.devices, n)
    st.region = _choice(rng, cfg.regions, n)
    st.arrival = rng.integers(0, cfg.end_minute, size=n).astype(np.int64)
    st.clock = st.arrival.copy()


def draw_pre_purchase(st: State) -> None:
    """Pre-awareness, awareness and consideration (every customer)."""
    rng, cfg, ev, n, ids = st.rng, st.cfg, st.events, st.n, st.ids
    clock = st.clock
    searched = rng.random(n) < cfg.p_need_search
    ev.add(ids[searched], "need_search", clock[searched])
    clock[searched] += _gap(rng, int(searched.sum()), 12 * 60, 1.0)

    aware = _choice(rng, cfg.awareness, n)
    codes = np.array([_TP_INDEX[name] for name, _ in cfg.awareness])[aware]
    ev.add(ids, codes, clock)
    wom = codes == _TP_INDEX["word_of_mouth"]
    # a second ad, of the other kind
    second = (rng.random(n) < cfg.p_second_ad) & ~wom
    other = np.where(
        codes == _TP_INDEX["social_ad"], _TP_INDEX["search_ad"], _TP_INDEX["social_ad"]
    )
    t2 = clock[second] + _gap(rng, int(second.sum()), 24 * 60, 1.0)
    ev.add(ids[second], other[second], t2)
    clock[second] = t2

    p_page = np.where(wom, cfg.p_product_page_word_of_mouth, cfg.p_product_page)
    p_store = np.where(wom, cfg.p_store_visit_word_of_mouth, cfg.p_store_visit)
    page = rng.random(n) < p_page
    review = page & (rng.random(n) < cfg.p_review_site)
    store = rng.random(n) < p_store
    # consideration events happen in any order within a few days
    start = clock.copy()
    views = np.where(page, 1 + rng.poisson(cfg.product_page_revisits, n), 0)
    for name, who, median in (
        ("product_page", np.repeat(ids, views), 30.0),
        ("review_site", ids[review], 6 * 60.0),
        ("store_visit", ids[store], 2 * 24 * 60.0),
    ):
        t = start[who] + _gap(rng, len(who), median, 1.2)
        ev.add(who, name, t)
        np.maximum.at(clock, who, t)
    st.saw_page, st.saw_store = page, store


def cart_checkout_rate(cfg: SampleConfig, device: IntArray, minutes: IntArray) -> FloatArray:
    """P(checkout_web | add_to_cart) per cart: the planted drop for mobile in DROP_WEEKS.

    Parameters
    ----------
    cfg : SampleConfig
        Gives the device codes.
    device : array of int
        Device code of each cart's customer (index into ``cfg.devices``).
    minutes : array of int
        Minute of each ``add_to_cart`` since ``cfg.start``.

    Returns
    -------
    array of float
        :data:`DROP_RATE` for mobile carts in :data:`DROP_WEEKS`, else
        :data:`DROP_BASE_RATE`.

    Examples
    --------
    >>> week = 7 * 24 * 60
    >>> cart_checkout_rate(SampleConfig(), np.array([0, 0, 1]), np.array([6, 7, 7]) * week)
    array([0.6, 0.4, 0.6])
    """
    seg_col, seg_value = DROP_SEGMENT
    if seg_col != "device":  # pragma: no cover - guard for future edits of the constants
        msg = f"DROP_SEGMENT must be a device segment (got {DROP_SEGMENT!r})."
        raise ValueError(msg)
    seg_code = [d for d, _ in cfg.devices].index(seg_value)
    week = minutes // MINUTES_PER_WEEK + 1
    dropped = (device == seg_code) & np.isin(week, DROP_WEEKS)
    out: FloatArray = np.where(dropped, DROP_RATE, DROP_BASE_RATE)
    return out


def _revenue(rng: np.random.Generator, n: int, median_sd: tuple[float, float]) -> FloatArray:
    median, sd = median_sd
    out: FloatArray = np.round(np.exp(np.log(median) + sd * rng.standard_normal(n)), 2)
    return out


def _web_purchase(
    st: State, who: IntArray, cart_time: IntArray, scale: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """``add_to_cart`` at ``cart_time``, then ``checkout_web`` with the step's rate.

    Returns the buying customers, their checkout minutes and checkout ``z``.
    """
    rng, ev = st.rng, st.events
    ev.add(who, "add_to_cart", cart_time)
    rate = cart_checkout_rate(st.cfg, st.device[who], cart_time)
    buys = rng.random(len(who)) < rate
    b = who[buys]
    t = cart_time[buys] + _gap(rng, len(b), 6.0, 0.6)
    z = ev.add(b, "checkout_web", t, scale * _revenue(rng, len(b), st.cfg.revenue_web))
    return b, t, z


def draw_purchase(st: State) -> None:
    """First purchase: web cart and checkout, or checkout in the store."""
    rng, cfg, ev, n, ids = st.rng, st.cfg, st.events, st.n, st.ids
    cart = st.saw_page & (rng.random(n) < cfg.p_cart)
    cart_time = st.clock[cart] + _gap(rng, int(cart.sum()), 10.0, 0.8)
    st.bought = np.zeros(n, dtype=bool)
    st.channel = np.full(n, -1, dtype=np.int64)
    st.purchased_at = np.full(n, -1, dtype=np.int64)
    z_checkout = np.zeros(n)
    b, t, z = _web_purchase(st, ids[cart], cart_time, 1.0)
    st.bought[b], st.channel[b], st.purchased_at[b], z_checkout[b] = True, 0, t, z

    store = st.saw_store & ~cart & (rng.random(n) < cfg.p_store_checkout)
    k = int(store.sum())
    t = st.clock[store] + _gap(rng, k, 20.0, 0.6)
    z = ev.add(ids[store], "checkout_store", t, _revenue(rng, k, cfg.revenue_store))
    st.bought[store], st.channel[store], st.purchased_at[store], z_checkout[store] = True, 1, t, z
    st.z_key["checkout"] = z_checkout
    st.clock = np.where(st.bought, st.purchased_at, st.clock)


def draw_usage(st: State) -> None:
    """Onboarding e-mail, app sessions, support requests and replies (buyers only)."""
    rng, cfg, ev = st.rng, st.cfg, st.events
    ids = np.flatnonzero(st.bought).astype(np.int64)
    when, last = st.purchased_at, st.clock
    z_onboarding = np.zeros(st.n)
    z_support = np.zeros(st.n)

    onb = ids[rng.random(len(ids)) < cfg.p_onboarding]
    t = when[onb] + _gap(rng, len(onb), 6 * 60.0, 0.8)
    z_onboarding[onb] = ev.add(onb, "onboarding_email", t)
    np.maximum.at(last, onb, t)

    app = ids[rng.random(len(ids)) < cfg.p_app]
    k = 1 + rng.poisson(cfg.app_sessions_mean - 1.0, size=len(app))
    who = np.repeat(app, k)
    t = when[who] + _cumsum_within(k, _gap(rng, len(who), 3 * 24 * 60.0, 0.9))
    ev.add(who, "app_usage", t)
    np.maximum.at(last, who, t)

    sup = ids[rng.random(len(ids)) < cfg.p_support]
    two = rng.random(len(sup)) < cfg.p_second_support
    req_who = np.concatenate([sup, sup[two]])
    first = np.arange(len(req_who)) < len(sup)
    req_t = when[req_who] + _gap(rng, len(req_who), 5 * 24 * 60.0, 0.9)
    req_t[~first] += _gap(rng, int((~first).sum()), 7 * 24 * 60.0, 0.8)
    channel = _choice(rng, cfg.support_channels, len(req_who))
    codes = np.array([_TP_INDEX[name] for name, _ in cfg.support_channels])
    z = ev.add(req_who, codes[channel], req_t)
    z_support[req_who[first]] = z[first]
    np.maximum.at(last, req_who, req_t)
    median = {name: (m, s) for name, m, s in cfg.reply_median_minutes}
    lost = dict(cfg.unanswered)
    for c, (name, _) in enumerate(cfg.support_channels):
        answered = (channel == c) & (rng.random(len(req_who)) >= lost[name])
        m, s = median[name]
        rt = req_t[answered] + _gap(rng, int(answered.sum()), m, s)
        ev.add(req_who[answered], "support_reply", rt)
        np.maximum.at(last, req_who[answered], rt)
    st.z_key["onboarding_email"] = z_onboarding
    st.z_key["support"] = z_support


def draw_sentiment(st: State) -> None:
    """Journey-level sentiment: the key touchpoints' experience drives it (buyers)."""
    cfg = st.cfg
    checkout_w = np.where(
        st.channel == 0, LOYALTY_DRIVERS["checkout_web"], LOYALTY_DRIVERS["checkout_store"]
    )
    driven = (
        cfg.sentiment_buyer
        + checkout_w * st.z_key["checkout"]
        + LOYALTY_DRIVERS["onboarding_email"] * st.z_key["onboarding_email"]
        # the three support channels share one weight
        + LOYALTY_DRIVERS["support_phone"] * st.z_key["support"]
    )
    noise = cfg.sentiment_sd * st.rng.standard_normal(st.n)
    st.sentiment = np.where(st.bought, driven, cfg.sentiment_non_buyer) + noise


def draw_after_usage(st: State) -> None:
    """Advocacy (review, referral), loyalty programme and repeat purchases."""
    rng, cfg, ev = st.rng, st.cfg, st.events
    ids = np.flatnonzero(st.bought).astype(np.int64)
    s = st.sentiment[ids]
    after = st.clock[ids]
    when = st.purchased_at
    for name, (a, b), median in (
        ("product_review", cfg.review, 2 * 24 * 60.0),
        ("referral", cfg.referral, 4 * 24 * 60.0),
    ):
        yes = rng.random(len(ids)) < _sigmoid(a + b * s)
        ev.add(ids[yes], name, after[yes] + _gap(rng, int(yes.sum()), median, 0.8))
    loyal = rng.random(len(ids)) < _sigmoid(cfg.loyalty[0] + cfg.loyalty[1] * s)
    t = when[ids[loyal]] + _gap(rng, int(loyal.sum()), 6 * 24 * 60.0, 0.8)
    ev.add(ids[loyal], "loyalty_program", t)

    # repeat purchases: successive gaps of one week plus an exponential wait
    k = rng.poisson(np.exp(cfg.repeat[0] + cfg.repeat[1] * s))
    who = np.repeat(ids, k)
    gaps = MINUTES_PER_WEEK + np.rint(rng.exponential(14 * MINUTES_PER_DAY, len(who)))
    t = when[who] + _cumsum_within(k, gaps.astype(np.int64))
    keep = t < cfg.end_minute
    who, t = who[keep], t[keep]
    same = rng.random(len(who)) < cfg.p_repeat_same_channel
    web = np.where(same, st.channel[who] == 0, st.channel[who] != 0)
    _web_purchase(st, who[web], t[web], 0.8)
    n_store = int((~web).sum())
    ev.add(who[~web], "checkout_store", t[~web], 0.8 * _revenue(rng, n_store, cfg.revenue_store))


@attrs.frozen
class _Log:
    """Sorted, windowed events."""

    customer: IntArray
    touchpoint: IntArray
    minute: IntArray
    revenue: FloatArray
    z: FloatArray


def _finalise(st: State) -> _Log:
    """Sort by customer and time, make times strictly increasing, cut at the window end."""
    c, t, m, r, z = st.events.concat()
    order = np.lexsort((m, c))
    c, t, m, r, z = c[order], t[order], m[order], r[order], z[order]
    # strictly increasing minutes within a customer: m_i >= m_{i-1} + 1
    n = len(c)
    start = np.r_[True, c[1:] != c[:-1]]
    rank = np.arange(n) - np.maximum.accumulate(np.where(start, np.arange(n), 0))
    big = np.int64(st.cfg.end_minute) * 1000
    m = np.maximum.accumulate(m - rank + c * big) - c * big + rank
    keep = m < st.cfg.end_minute
    return _Log(c[keep], t[keep], m[keep], r[keep], z[keep])


def draw_surveys(st: State, log: _Log) -> dict[str, Any]:
    """Touchpoint CSAT/CES rows and one journey-level NPS row per surveyed customer.

    Answers that would arrive after the window's end are not in the data; nor
    are the touchpoint answers of customers whose NPS answer would.
    """
    rng, cfg, n = st.rng, st.cfg, st.n
    p_surveyed = np.where(st.bought, cfg.p_surveyed_buyer, cfg.p_surveyed_non_buyer)
    surveyed = rng.random(n) < p_surveyed
    # first visit of each touchpoint per customer
    key = log.customer * len(TOUCHPOINTS) + log.touchpoint
    _, first_idx = np.unique(key, return_index=True)
    first = np.zeros(len(key), dtype=bool)
    first[first_idx] = True
    rateable = np.array([t.surveyed for t in TOUCHPOINTS])[log.touchpoint]
    chosen = rng.random(len(key)) < cfg.p_rate_touchpoint
    idx = np.flatnonzero(first & rateable & surveyed[log.customer] & chosen)
    z = log.z[idx]
    csat = _cut(z, CSAT_CUTS).astype(np.float64)
    ces = _cut(0.85 * z + 0.5 * rng.standard_normal(len(idx)), CES_CUTS).astype(np.float64)
    asks_ces = np.array([t.ces for t in TOUCHPOINTS])[log.touchpoint[idx]]
    ces[~asks_ces | (rng.random(len(idx)) < cfg.p_skip_ces)] = np.nan
    csat[rng.random(len(idx)) < cfg.p_skip_csat] = np.nan
    t_survey = log.minute[idx] + _gap(rng, len(idx), 4 * 60.0, 1.0)

    # journey-level NPS, a few days after the customer's last event
    who = np.flatnonzero(surveyed & np.isin(st.ids, log.customer)).astype(np.int64)
    last = np.zeros(n, dtype=np.int64)
    np.maximum.at(last, log.customer, log.minute)
    a, b, sd = cfg.nps_scale
    nps = np.clip(np.rint(a + b * st.sentiment[who] + sd * rng.standard_normal(len(who))), 0, 10)
    t_nps = last[who] + _gap(rng, len(who), 2 * 24 * 60.0, 0.5)

    customer = np.concatenate([log.customer[idx], who])
    tpcode = np.concatenate([log.touchpoint[idx], np.full(len(who), -1)])
    minute = np.concatenate([t_survey, t_nps])
    # only answers received within the window are in the data, and only of
    # customers whose NPS answer arrived (one NPS row per surveyed customer)
    answered_nps = np.zeros(n, dtype=bool)
    answered_nps[who[t_nps < cfg.end_minute]] = True
    received = (minute < cfg.end_minute) & answered_nps[customer]
    order = np.lexsort((tpcode, minute, customer))
    order = order[received[order]]
    none = np.full(len(who), np.nan)
    return {
        "customer": customer[order],
        "touchpoint": tpcode[order],
        "minute": minute[order],
        "csat": np.concatenate([csat, none])[order],
        "ces": np.concatenate([ces, none])[order],
        "nps": np.concatenate([np.full(len(idx), np.nan), nps])[order],
    }


#: The parts, in drawing order. Each reads and extends the shared :class:`State`.
PARTS = (
    draw_customers,
    draw_pre_purchase,
    draw_purchase,
    draw_usage,
    draw_sentiment,
    draw_after_usage,
)


# --------------------------------------------------------------------------
# Assembly and writing
# --------------------------------------------------------------------------


@attrs.frozen
class GeneratedSample:
    """The generated tables as string columns, ready to write."""

    events: dict[str, NDArray[Any]]
    surveys: dict[str, NDArray[Any]]
    journey: Journey


def _timestamps(cfg: SampleConfig, minutes: IntArray) -> NDArray[np.str_]:
    t = np.datetime64(cfg.start, "m") + minutes.astype("timedelta64[m]")
    return np.char.add(np.datetime_as_string(t, unit="m"), ":00")


def _numbers(values: FloatArray, fmt: str) -> list[str]:
    return ["" if math.isnan(v) else format(v, fmt) for v in values.tolist()]


def generate(cfg: SampleConfig | None = None) -> GeneratedSample:
    """Draw the whole sample (deterministic for a given ``cfg``).

    Parameters
    ----------
    cfg : SampleConfig, optional
        Sizes, seed and probabilities; the default is the shipped sample.

    Returns
    -------
    GeneratedSample
        ``events`` and ``surveys`` as dicts of string columns (as written to
        the CSV files) and the designed ``journey``.

    Examples
    --------
    >>> s = generate(SampleConfig(n_customers=200, seed=1))
    >>> list(s.events)
    ['customer_id', 'timestamp', 'touchpoint', 'revenue', 'device', 'region']
    >>> len(set(s.events["customer_id"]))
    200
    """
    cfg = cfg or SampleConfig()
    rng = np.random.default_rng(cfg.seed)
    journey = build_journey()
    st = State(rng=rng, cfg=cfg, events=_Events(rng))
    for part in PARTS:
        part(st)
    log = _finalise(st)
    sv = draw_surveys(st, log)

    ids = np.array([f"C{i + 1:05d}" for i in range(cfg.n_customers)], dtype=object)
    devices = np.array([d for d, _ in cfg.devices], dtype=object)
    regions = np.array([r for r, _ in cfg.regions], dtype=object)
    names = np.array([t.name for t in TOUCHPOINTS], dtype=object)
    events = {
        "customer_id": ids[log.customer],
        "timestamp": _timestamps(cfg, log.minute),
        "touchpoint": names[log.touchpoint],
        "revenue": np.array(_numbers(log.revenue, ".2f"), dtype=object),
        "device": devices[st.device[log.customer]],
        "region": regions[st.region[log.customer]],
    }
    tp = sv["touchpoint"]
    journey_row = tp < 0
    safe = np.where(journey_row, 0, tp)

    def attr(values: Sequence[str]) -> NDArray[Any]:
        arr = np.array(values, dtype=object)[safe]
        arr[journey_row] = ""
        return arr

    surveys = {
        "customer_id": ids[sv["customer"]],
        "timestamp": _timestamps(cfg, sv["minute"]),
        "touchpoint": attr([t.name for t in TOUCHPOINTS]),
        "channel": attr([t.channel for t in TOUCHPOINTS]),
        "stage": attr([t.stage for t in TOUCHPOINTS]),
        "csat": np.array(_numbers(sv["csat"], ".0f"), dtype=object),
        "ces": np.array(_numbers(sv["ces"], ".0f"), dtype=object),
        "nps": np.array(_numbers(sv["nps"], ".0f"), dtype=object),
        "device": devices[st.device[sv["customer"]]],
        "region": regions[st.region[sv["customer"]]],
    }
    return GeneratedSample(events=events, surveys=surveys, journey=journey)


def _write_csv_gz(path: Path, columns: dict[str, NDArray[Any]]) -> None:
    """Write columns as CSV (no quoting needed: no commas in values), gzip with mtime 0."""
    names = list(columns)
    body = io.StringIO()
    body.write(",".join(names) + "\n")
    rows = zip(*(columns[c].tolist() for c in names), strict=True)
    body.writelines(",".join(map(str, r)) + "\n" for r in rows)
    data = body.getvalue().encode("utf-8")
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(data)


def write_sample(directory: str | os.PathLike[str], cfg: SampleConfig | None = None) -> list[Path]:
    """Generate the sample and write the three files into ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Created if missing; ``events.csv.gz``, ``surveys.csv.gz`` and
        ``journey.json`` are overwritten.
    cfg : SampleConfig, optional
        As in :func:`generate`.

    Returns
    -------
    list of Path
        The written files. The gzip headers carry no time stamp and no file
        name, so the same ``cfg`` always gives the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_sample(tempfile.mkdtemp(), SampleConfig(n_customers=100))
    >>> [p.name for p in paths]
    ['events.csv.gz', 'surveys.csv.gz', 'journey.json']
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    sample = generate(cfg)
    paths = [out / "events.csv.gz", out / "surveys.csv.gz", out / "journey.json"]
    _write_csv_gz(paths[0], sample.events)
    _write_csv_gz(paths[1], sample.surveys)
    text = sample.journey.to_json(indent=2) + "\n"
    paths[2].write_bytes(text.encode("utf-8"))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m touchpoint.datasets._generator [--out DIR]``."""
    default = Path(__file__).resolve().parent / "data"
    p = argparse.ArgumentParser(description="Regenerate the touchpoint sample data.")
    p.add_argument("--out", default=str(default), help=f"output directory [{default}]")
    args = p.parse_args(argv)
    for path in write_sample(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
