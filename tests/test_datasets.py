"""The bundled sample data: shapes, determinism and the planted findings.

The planted effects are checked with plain numpy/scipy computations on the raw
CSV files (read with the standard library), independent of EventLog.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.datasets import SampleData, _generator as gen, load_sample, sample_path
from touchpoint.table import Table

FILES = ("events.csv.gz", "surveys.csv.gz", "journey.json")
EVENT_COLUMNS = ["customer_id", "timestamp", "touchpoint", "revenue", "device", "region"]
SURVEY_COLUMNS = [
    "customer_id",
    "timestamp",
    "touchpoint",
    "channel",
    "stage",
    "csat",
    "ces",
    "nps",
    "device",
    "region",
]
START = np.datetime64("2026-01-05T00:00")


def _read_raw(name: str) -> dict[str, np.ndarray]:
    with gzip.open(sample_path(name), "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    return {h: np.array([r[i] for r in body], dtype=object) for i, h in enumerate(header)}


def _num(col: np.ndarray) -> np.ndarray:
    return np.array([float(v) if v else np.nan for v in col])


@pytest.fixture(scope="module")
def sample() -> SampleData:
    return load_sample()


@pytest.fixture(scope="module")
def raw_events() -> dict[str, np.ndarray]:
    ev = _read_raw("events.csv.gz")
    ev["time"] = ev["timestamp"].astype("datetime64[m]")
    ev["week"] = ((ev["time"] - START) // np.timedelta64(7, "D")).astype(int) + 1
    ev["revenue_num"] = _num(ev["revenue"])
    return ev


@pytest.fixture(scope="module")
def raw_surveys() -> dict[str, np.ndarray]:
    sv = _read_raw("surveys.csv.gz")
    for c in ("csat", "ces", "nps"):
        sv[c + "_num"] = _num(sv[c])
    return sv


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("sample")
    assert gen.main(["--out", str(out)]) == 0
    return out


# -- shapes and documented columns -------------------------------------------


def test_load_sample_types_and_unpacking(sample):
    log, surveys, journey = sample
    assert isinstance(log, tp.EventLog)
    assert isinstance(surveys, Table)
    assert isinstance(journey, tp.Journey)
    assert log.design is journey


def test_event_log_shape(sample):
    log = sample.events
    assert log.n_journeys == 20_000
    assert 100_000 <= log.n_events <= 200_000
    assert 5 <= log.n_events / log.n_journeys <= 10
    assert log.is_datetime
    assert log.validation.n_dropped == 0
    assert set(log.extra) == {"device", "region"}
    assert set(log.extra["device"]) == {"mobile", "desktop", "tablet"}
    assert set(log.extra["region"]) == {"north", "south", "east", "west"}
    t = log.timestamp
    assert t.min() >= START
    assert t.max() < START + np.timedelta64(12 * 7, "D")
    weeks = (t - START) // np.timedelta64(7, "D")
    assert set(weeks.astype(int).tolist()) == set(range(12))


def test_journey_design(sample):
    j = sample.design
    assert [s.name for s in j.stages] == [s.name for s in tp.stages.CUSTOMER_LIFECYCLE]
    assert 12 <= len(j) <= 20
    # every stage has at least one touchpoint
    assert all(j.touchpoints_in(s) for s in j.stages)
    channels = {t.channel for t in j.touchpoints}
    assert len(channels) >= 5
    assert {"digital", "physical"} <= {t.kind for t in j.touchpoints}
    assert {t.name for t in j.touchpoints if t.key} == {
        "checkout_web",
        "checkout_store",
        "onboarding_email",
        "support_phone",
        "support_email",
        "support_chat",
    }
    assert {(a, b) for a, b in j.edges} == set(gen.DESIGNED_TRANSITIONS)
    # the JSON on disk is what Journey.to_json writes
    with open(sample_path("journey.json"), encoding="utf-8") as fh:
        assert fh.read() == j.to_json(indent=2) + "\n"


def test_event_touchpoints_are_in_the_design(sample, raw_events):
    names = {t.name for t in sample.design.touchpoints}
    assert set(raw_events["touchpoint"]) == names  # all used, none unknown
    assert set(sample.events.touchpoint_names) == names


def test_raw_event_file_format(raw_events):
    assert list(raw_events)[:6] == EVENT_COLUMNS
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00$")
    assert all(iso.match(s) for s in raw_events["timestamp"][:1000])
    assert all(re.fullmatch(r"C\d{5}", c) for c in raw_events["customer_id"][:1000])


def test_times_strictly_increase_within_customer(raw_events):
    c, t = raw_events["customer_id"], raw_events["time"]
    same = c[1:] == c[:-1]
    # the file is grouped by customer (ids sorted) and strictly time-ordered within
    assert np.all(c[1:] >= c[:-1])
    assert np.all(t[1:][same] > t[:-1][same])


def test_revenue_only_on_purchases(raw_events):
    rev = raw_events["revenue_num"]
    purchase = np.isin(raw_events["touchpoint"], ["checkout_web", "checkout_store"])
    assert np.all(rev[purchase] > 0)
    assert np.all(np.isnan(rev[~purchase]))
    # loader: outcome = revenue
    assert np.isfinite(rev).sum() > 5_000


def test_segments_constant_per_customer(raw_events):
    for col in ("device", "region"):
        pairs = set(zip(raw_events["customer_id"], raw_events[col], strict=True))
        assert len(pairs) == 20_000


def test_survey_table(sample, raw_surveys):
    s = sample.responses
    assert list(s.columns) == SURVEY_COLUMNS
    assert s["csat"].dtype == np.float64
    csat, ces, nps = s["csat"], s["ces"], s["nps"]
    assert set(np.unique(csat[np.isfinite(csat)])) <= set(range(1, 6))
    assert set(np.unique(ces[np.isfinite(ces)])) <= set(range(1, 8))
    assert set(np.unique(nps[np.isfinite(nps)])) == set(range(11))
    journey_row = s["touchpoint"] == ""
    # journey-level rows: NPS only, no touchpoint/channel/stage
    assert np.all(np.isfinite(nps[journey_row]))
    assert np.all(np.isnan(csat[journey_row]) & np.isnan(ces[journey_row]))
    assert np.all(s["channel"][journey_row] == "")
    assert np.all(s["stage"][journey_row] == "")
    # touchpoint rows: no NPS, CSAT mostly answered
    assert np.all(np.isnan(nps[~journey_row]))
    assert np.isfinite(csat[~journey_row]).mean() > 0.9
    # one NPS per surveyed customer
    ids = s["customer_id"]
    assert len(set(ids[journey_row])) == journey_row.sum() == len(set(ids))
    assert 3_000 <= journey_row.sum() <= 8_000
    assert len(raw_surveys["customer_id"]) == len(s)
    # all answers were received within the 12 weeks
    t = raw_surveys["timestamp"].astype("datetime64[m]")
    assert t.min() >= START
    assert t.max() < START + np.timedelta64(12 * 7, "D")


def test_survey_touchpoints_match_the_design(sample):
    s, j = sample.responses, sample.design
    rows = s["touchpoint"] != ""
    for name, channel, stage in set(
        zip(s["touchpoint"][rows], s["channel"][rows], s["stage"][rows], strict=True)
    ):
        t = j.touchpoint(name)  # raises for an unknown touchpoint
        assert (t.channel, t.stage) == (channel, stage)
        assert t.attributes["surveyed"]
    asked_ces = set(s["touchpoint"][np.isfinite(s["ces"])])
    assert asked_ces == {t.name for t in j.touchpoints if t.attributes["ces"]}
    assert len(set(s["channel"][rows])) >= 5


def test_surveyed_touchpoints_were_experienced(raw_events, raw_surveys):
    """A customer rates a touchpoint only after an event at it, with matching segments."""
    first_time: dict[tuple[str, str], np.datetime64] = {}
    for c, t, when in zip(
        raw_events["customer_id"], raw_events["touchpoint"], raw_events["time"], strict=True
    ):
        first_time.setdefault((c, t), when)
    segs = dict(
        zip(
            raw_events["customer_id"],
            zip(raw_events["device"], raw_events["region"], strict=True),
            strict=True,
        )
    )
    last_event = dict(zip(raw_events["customer_id"], raw_events["time"], strict=True))
    for c, t, when, dev, reg in zip(
        raw_surveys["customer_id"],
        raw_surveys["touchpoint"],
        raw_surveys["timestamp"].astype("datetime64[m]"),
        raw_surveys["device"],
        raw_surveys["region"],
        strict=True,
    ):
        assert segs[c] == (dev, reg)
        if t:
            assert first_time[c, t] < when
        else:  # the journey-level NPS comes after the customer's last event
            assert last_event[c] < when


# -- files: size and determinism ---------------------------------------------


def test_total_size_under_3mb():
    sizes = [os.path.getsize(sample_path(f)) for f in FILES]
    assert sum(sizes) < 2 * 1024 * 1024  # spec: < 3 MB; aim < 2 MB


def test_gzip_headers_have_no_timestamp():
    for f in FILES[:2]:
        with open(sample_path(f), "rb") as fh:
            head = fh.read(10)
        assert head[:2] == b"\x1f\x8b"
        assert head[4:8] == b"\x00\x00\x00\x00"  # MTIME = 0
        assert head[3] & 0x08 == 0  # no FNAME


@pytest.mark.parametrize("name", FILES)
def test_regeneration_is_byte_identical(regenerated, name):
    with open(sample_path(name), "rb") as fh:
        shipped = fh.read()
    assert (regenerated / name).read_bytes() == shipped


# -- planted findings ---------------------------------------------------------


def _cart_followed_by_checkout(ev: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Indices of add_to_cart events and whether the next event is checkout_web."""
    a, b = gen.DROP_STEP
    tpn, c = ev["touchpoint"], ev["customer_id"]
    cart = np.flatnonzero(tpn == a)
    nxt = cart + 1
    ok = nxt < len(tpn)
    followed = np.zeros(len(cart), dtype=bool)
    followed[ok] = (c[nxt[ok]] == c[cart[ok]]) & (tpn[nxt[ok]] == b)
    return cart, followed


def test_planted_dropoff(raw_events):
    from scipy.stats import norm

    cart, followed = _cart_followed_by_checkout(raw_events)
    col, value = gen.DROP_SEGMENT
    seg = raw_events[col][cart] == value
    in_weeks = np.isin(raw_events["week"][cart], gen.DROP_WEEKS)
    dropped = seg & in_weeks
    rate_drop = followed[dropped].mean()
    rate_seg_other_weeks = followed[seg & ~in_weeks].mean()
    rate_others_same_weeks = followed[~seg & in_weeks].mean()
    assert gen.DROP_RATE == 0.40
    assert gen.DROP_BASE_RATE == 0.60
    assert dropped.sum() > 1_000
    assert abs(rate_drop - gen.DROP_RATE) < 0.04
    assert abs(rate_seg_other_weeks - gen.DROP_BASE_RATE) < 0.03
    assert abs(rate_others_same_weeks - gen.DROP_BASE_RATE) < 0.04
    # every mobile week outside the drop stays near the base rate; each drop week is low
    for w in range(1, 13):
        r = followed[seg & (raw_events["week"][cart] == w)].mean()
        if w in gen.DROP_WEEKS:
            assert r < 0.46, (w, r)
        else:
            assert r > 0.52, (w, r)
    # two-proportion z test: the drop is unmistakable
    n1, n2 = dropped.sum(), (~dropped).sum()
    p1, p2 = followed[dropped].mean(), followed[~dropped].mean()
    p = followed.mean()
    z = (p2 - p1) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    assert norm.sf(z) < 1e-30


def test_planted_dropoff_only_at_that_step(raw_events):
    """Earlier steps (product page -> cart) do not change for mobile in the drop weeks."""
    c, tpn = raw_events["customer_id"], raw_events["touchpoint"]
    page = np.flatnonzero(tpn == "product_page")
    # first product-page view per customer and whether the customer ever carts after it
    first = page[np.r_[True, c[page][1:] != c[page][:-1]]]
    carted = set(c[tpn == "add_to_cart"])
    reached = np.array([x in carted for x in c[first]])
    seg = raw_events["device"][first] == "mobile"
    in_weeks = np.isin(raw_events["week"][first], gen.DROP_WEEKS)
    diff = reached[seg & in_weeks].mean() - reached[seg & ~in_weeks].mean()
    assert abs(diff) < 0.04


def _nps(scores: np.ndarray) -> float:
    scores = scores[np.isfinite(scores)]
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def _by_customer_nps(sv: dict[str, np.ndarray]) -> dict[str, float]:
    rows = sv["touchpoint"] == ""
    return dict(zip(sv["customer_id"][rows], sv["nps_num"][rows], strict=True))


def _nps_gap(sv: dict[str, np.ndarray], touchpoints: list[str]) -> tuple[float, int, int]:
    """NPS of customers rating the touchpoints 4-5 minus those rating 1-3."""
    nps = _by_customer_nps(sv)
    m = np.isin(sv["touchpoint"], touchpoints)
    good = m & (sv["csat_num"] >= 4)
    bad = m & (sv["csat_num"] <= 3)
    g = np.array([nps.get(c, np.nan) for c in sv["customer_id"][good]])
    b = np.array([nps.get(c, np.nan) for c in sv["customer_id"][bad]])
    return _nps(g) - _nps(b), int(np.isfinite(g).sum()), int(np.isfinite(b).sum())


def test_key_touchpoints_drive_nps(raw_surveys):
    gap, ng, nb = _nps_gap(raw_surveys, ["onboarding_email"])
    assert ng > 500
    assert nb > 300
    assert gap > 50
    gap, ng, nb = _nps_gap(raw_surveys, ["support_phone", "support_email", "support_chat"])
    assert ng > 200
    assert nb > 100
    assert gap > 25
    # non-drivers: the gap is noise
    for name in ("product_page", "social_ad", "app_usage", "review_site"):
        gap, _, _ = _nps_gap(raw_surveys, [name])
        assert abs(gap) < 12, (name, gap)


def test_key_touchpoints_drive_repeat_purchases(raw_events, raw_surveys):
    purchases: dict[str, int] = {}
    for c in raw_events["customer_id"][np.isfinite(raw_events["revenue_num"])]:
        purchases[c] = purchases.get(c, 0) + 1
    sv = raw_surveys
    m = sv["touchpoint"] == "onboarding_email"
    repeat = np.array([purchases.get(c, 0) >= 2 for c in sv["customer_id"][m]])
    good = sv["csat_num"][m] >= 4
    bad = sv["csat_num"][m] <= 3
    assert repeat[good].mean() - repeat[bad].mean() > 0.08
    # repeat purchases overall: a clear minority of buyers
    counts = np.array(list(purchases.values()))
    assert 0.15 < (counts >= 2).mean() < 0.40


def test_planted_inconsistent_stage(raw_surveys):
    from scipy.stats import chi2_contingency

    sv = raw_surveys
    answered = np.isfinite(sv["csat_num"])
    pvalues = {}
    top2 = {}
    for stage in ("awareness", "consideration", "purchase", "usage", "advocacy", "loyalty"):
        m = answered & (sv["stage"] == stage)
        channels = sorted(set(sv["channel"][m]))
        if len(channels) < 2:
            continue
        table = [
            [
                int(((sv["channel"] == ch) & m & (sv["csat_num"] >= 4)).sum()),
                int(((sv["channel"] == ch) & m & (sv["csat_num"] <= 3)).sum()),
            ]
            for ch in channels
        ]
        pvalues[stage] = chi2_contingency(table).pvalue
        top2[stage] = {ch: r[0] / sum(r) for ch, r in zip(channels, table, strict=True)}
    assert gen.INCONSISTENT_STAGE == "purchase"
    assert pvalues["purchase"] < 1e-20
    assert top2["purchase"]["web"] - top2["purchase"]["store"] > 0.25
    for stage, p in pvalues.items():
        if stage != "purchase":
            assert p > 0.01, (stage, p, top2[stage])


def test_support_response_times(raw_events):
    c, tpn, t = raw_events["customer_id"], raw_events["touchpoint"], raw_events["time"]
    reply_idx = np.flatnonzero(tpn == "support_reply")
    medians, unanswered = {}, {}
    for req in ("support_phone", "support_email", "support_chat"):
        times, missing = [], 0
        for i in np.flatnonzero(tpn == req):
            # the next reply of the same customer before any other request
            k = reply_idx[np.searchsorted(reply_idx, i) :]
            nxt = k[0] if len(k) else -1
            between = tpn[i + 1 : nxt] if nxt > 0 else []
            if nxt > 0 and c[nxt] == c[i] and not any(x.startswith("support_") for x in between):
                times.append((t[nxt] - t[i]) / np.timedelta64(1, "m"))
            else:
                missing += 1
        medians[req] = float(np.median(times))
        unanswered[req] = missing / (missing + len(times))
    assert medians["support_phone"] < 10
    assert 5 < medians["support_chat"] < 30
    assert medians["support_email"] > 6 * 60
    assert unanswered["support_phone"] < unanswered["support_chat"] < unanswered["support_email"]
    assert 0.08 < unanswered["support_email"] < 0.25


def test_generator_constants_are_consistent():
    names = {t.name for t in gen.TOUCHPOINTS}
    assert set(gen.LOYALTY_DRIVERS) <= names
    assert set(gen.EXPERIENCE_SHIFT) <= names
    assert {x for pair in gen.DESIGNED_TRANSITIONS for x in pair} <= names
    assert set(gen.DROP_STEP) <= names
    assert gen.DROP_SEGMENT[1] in dict(gen.SampleConfig().devices)
    rate = gen.cart_checkout_rate(
        gen.SampleConfig(),
        np.array([0, 0, 1]),
        np.array([7, 8, 8]) * gen.MINUTES_PER_WEEK,  # weeks 8 and 9 (1-based)
    )
    assert rate.tolist() == [gen.DROP_RATE, gen.DROP_RATE, gen.DROP_BASE_RATE]


def test_small_config_generates(tmp_path):
    """A smaller brand with another seed: the generator is reusable for simulations."""
    cfg = gen.SampleConfig(seed=7, n_customers=500, weeks=4)
    s = gen.generate(cfg)
    assert len(set(s.events["customer_id"])) == 500
    t = s.events["timestamp"].astype("datetime64[m]")
    assert t.max() < np.datetime64(cfg.start) + np.timedelta64(28, "D")


# -- the documentation matches the data -----------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "sample-data.md"


def _doc_table(first_header: str) -> list[list[str]]:
    """Rows of the markdown table whose first header cell is ``first_header``."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"| {first_header} |"))
    rows = []
    for ln in lines[start + 2 :]:
        if not ln.startswith("|"):
            break
        rows.append([c.strip() for c in ln.strip("|").split("|")])
    return rows


def test_doc_touchpoint_table_matches_data(sample, raw_events):
    rows = _doc_table("touchpoint")
    counts = dict(zip(*np.unique(raw_events["touchpoint"], return_counts=True), strict=True))
    assert [r[0].strip("`") for r in rows] == [t.name for t in sample.design.touchpoints]
    for r in rows:
        t = sample.design.touchpoint(r[0].strip("`"))
        assert [r[1], r[2], r[3]] == [t.stage, t.channel, t.kind]
        assert (r[4] == "yes") == t.key
        assert (r[5] == "yes") == t.attributes["surveyed"]
        assert (r[6] == "yes") == t.attributes["ces"]
        assert int(r[7].replace(",", "")) == counts[t.name]
        assert r[8] == t.attributes["description"]


def test_doc_dropoff_table_matches_data(raw_events):
    rows = {r[0]: r for r in _doc_table("group")}
    cart, followed = _cart_followed_by_checkout(raw_events)
    mobile = raw_events["device"][cart] == "mobile"
    in_weeks = np.isin(raw_events["week"][cart], gen.DROP_WEEKS)
    for label, m in [
        ("mobile, weeks 8-10", mobile & in_weeks),
        ("mobile, other weeks", mobile & ~in_weeks),
        ("desktop + tablet, weeks 8-10", ~mobile & in_weeks),
        ("desktop + tablet, other weeks", ~mobile & ~in_weeks),
    ]:
        r = rows[label]
        assert int(r[1].replace(",", "")) == m.sum()
        assert int(r[2].replace(",", "")) == followed[m].sum()
        assert r[3] == f"{100 * followed[m].mean():.1f}%"
