"""The report's headline and its consistency with the detailed sections.

The key findings are checked against independent computations on the raw
sample files (csv module, closed-form intervals), and the funnel's table and
chart against each other.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from statistics import NormalDist

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.datasets import sample_path
from touchpoint.report import build_report


@pytest.fixture(scope="module")
def sample_report():
    log, surveys, journey = tp.datasets.load_sample()
    return build_report(log, responses=surveys, design=journey, figures=True, progress=False)


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(sample_path(name), "rt", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    # Wilson (1927) score interval, written out independently of touchpoint._lib.stats
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _section(report, title):
    return next(s for s in report.sections if s.title == title)


def test_key_findings_come_first(sample_report):
    assert sample_report.sections[0].title == "Key findings"
    text = sample_report.to_text()
    assert text.index("Key findings") < text.index("Overview")


def test_conversion_finding_matches_the_raw_file(sample_report):
    rows = _rows("events.csv.gz")
    journeys = {r["customer_id"] for r in rows}
    bought = {r["customer_id"] for r in rows if r["revenue"] not in ("", "0")}
    z = NormalDist().inv_cdf(0.975)
    lo, hi = _wilson(len(bought), len(journeys), z)
    line = next(
        ln for ln in _section(sample_report, "Key findings").text.splitlines() if "Conversion" in ln
    )
    assert f"{100 * len(bought) / len(journeys):.1f}% of {len(journeys):,} journeys" in line
    assert f"95% CI {100 * lo:.1f}% to {100 * hi:.1f}%" in line


def test_nps_finding_matches_the_adjusted_wald_closed_form(sample_report):
    answers = [float(r["nps"]) for r in _rows("surveys.csv.gz") if r["nps"] != ""]
    n = len(answers)
    pro = sum(a >= 9 for a in answers)
    det = sum(a <= 6 for a in answers)
    # Rocks (2016): add 0.75 promoters, 0.75 detractors and 1.5 passives
    pp, pd = (pro + 0.75) / (n + 3), (det + 0.75) / (n + 3)
    se = math.sqrt((pp + pd - (pp - pd) ** 2) / (n + 3))
    centre = 100 * (pp - pd)
    z = NormalDist().inv_cdf(0.975)
    line = next(
        ln for ln in _section(sample_report, "Key findings").text.splitlines() if "NPS" in ln
    )
    score = 100 * (pro - det) / n
    assert (
        f"{score:+.1f} (95% CI {centre - 100 * z * se:+.1f} to {centre + 100 * z * se:+.1f}" in line
    )
    assert f"{n:,} answers" in line


def test_biggest_dropoff_is_the_largest_loss_in_the_funnel_table(sample_report):
    funnel_text = _section(sample_report, "Funnel by stage").text
    reached = {}
    for ln in funnel_text.splitlines():
        m = re.match(r"^(\w[\w-]*)\s+([\d,]+)\s+([\d,]+)\s", ln)
        if m:
            reached[m[1]] = int(m[3].replace(",", ""))
    steps = list(reached)
    losses = {(a, b): reached[a] - reached[b] for a, b in zip(steps, steps[1:])}
    (a, b), lost = max(losses.items(), key=lambda kv: kv[1])
    line = next(
        ln
        for ln in _section(sample_report, "Key findings").text.splitlines()
        if "Biggest drop-off" in ln
    )
    assert f"{a} to {b}: {lost:,} of the {reached[a]:,} journeys" in line


def test_funnel_table_and_chart_show_the_same_steps(sample_report):
    section = _section(sample_report, "Funnel by stage")
    table_steps = re.findall(r"<tr><td>([\w-]+)</td>", section.html)
    assert table_steps[0] == "awareness"
    svg = section.figures[0].html
    labels = [
        s for s in re.findall(r">([\w-]+)</text>", svg) if s in table_steps or s == "pre-awareness"
    ]
    assert "pre-awareness" not in labels  # the chart no longer starts at a skipped stage
    assert [s for s in table_steps if s in labels] == table_steps


def _before_conversion(rows: list[dict[str, str]]) -> set[str]:
    """Touchpoints with an event before its journey's first purchase, or in a journey
    without one (from the raw file: events ordered by time within each customer)."""
    by_journey: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        by_journey.setdefault(r["customer_id"], []).append(
            (r["timestamp"], r["touchpoint"], r["revenue"])
        )
    seen: set[str] = set()
    for events in by_journey.values():
        for _, name, revenue in sorted(events, key=lambda e: e[0]):
            if revenue not in ("", "0"):
                break
            seen.add(name)
    return seen


def test_key_touchpoints_are_one_set_in_findings_map_and_table(sample_report):
    """One definition: the three largest removal effects among touchpoints seen before a
    conversion. The finding names them, the map colours them, the table marks the rest."""
    log = tp.datasets.load_sample().events
    effects = tp.removal_effects(tp.fit_markov(log)).table
    before = _before_conversion(_rows("events.csv.gz"))
    top = [
        str(x)
        for x, e in zip(effects[effects.columns[0]].tolist(), effects["removal_effect"].tolist())
        if x in before and e > 0
    ][:3]
    line = next(
        ln
        for ln in _section(sample_report, "Key findings").text.splitlines()
        if "Key touchpoints:" in ln
    )
    assert re.findall(r"(\w+) \(\d+%\)", line) == top
    # touchpoints only seen at or after a purchase: marked, never shown as drivers
    table = _section(sample_report, "Key touchpoints").text.splitlines()
    names = set(log.touchpoint_names)
    shown = {ln.split()[0]: ln for ln in table if ln.split() and ln.split()[0] in names}
    assert len(shown) >= 10
    after = [n for n in shown if n not in before]
    assert "checkout_web" in after  # every checkout_web event is a purchase
    for name in after:
        row = shown[name]
        assert "conversion)" in row and "100.0%" not in row, row
    assert "(conversion)" in shown["checkout_web"]
    # listed after every touchpoint that is seen before a conversion
    order = list(shown)
    assert max(order.index(n) for n in shown if n in before) < min(order.index(n) for n in after)


def test_dropoff_finding_quotes_its_own_table_row(sample_report):
    """The week a drop-off finding names and the rates it quotes come from one row of
    the Drop-offs table (it once named 02-23 and quoted 03-02's figures)."""
    headline = _section(sample_report, "Key findings").text
    found = re.findall(
        r"(\w+) to (\w+) for (\w+)=(\w+) (?:since|in) the week of (\S+): "
        r"([\d.]+%) against ([\d.]+%)",
        headline,
    )
    assert found
    table = _section(sample_report, "Drop-offs").text.splitlines()
    for prev, step, seg, group, week, rate, expected in found:
        rows = [
            ln
            for ln in table
            if f"{prev} > {step}" in ln and f"{seg}={group}" in ln and f" {week} " in ln
        ]
        assert len(rows) == 1, (week, rows)
        assert f"{rate} vs {expected}" in rows[0], rows[0]


def test_design_less_report_still_leads_with_findings():
    log = tp.EventLog.from_arrays(
        ["a", "a", "b", "b", "c"],
        ["ad", "buy", "ad", "site", "site"],
        [0.0, 1.0, 0.0, 1.0, 0.0],
        conversions=["buy"],
    )
    rep = build_report(log, figures=False, progress=False)
    assert rep.sections[0].title == "Key findings"
    assert "33.3% of 3 journeys converted" in rep.sections[0].text


def test_dropoff_findings_are_the_planted_drop(sample_report):
    """The sample plants one drop: mobile checkouts (add_to_cart > checkout_web) from the
    week of 2026-02-23. The headline names it; no other segment's drop stands on its own
    (the west region's is the mobile drop seen through its mobile customers: it is either
    gone or marked as explained)."""
    drops = _section(sample_report, "Drop-offs").text
    rows = [ln for ln in drops.splitlines() if " > " in ln]
    assert rows
    for ln in rows:
        assert ("device=mobile" in ln and "add_to_cart > checkout_web" in ln) or "(device)" in ln
    headline = _section(sample_report, "Key findings").text
    assert "add_to_cart to checkout_web for device=mobile since the week of 2026-02-23" in headline


def test_report_reprs_are_short(sample_report):
    text = repr(sample_report)
    assert "\n" not in text and text.startswith("Report('Journey report', 11 sections")
    page = sample_report._repr_html_()
    assert "Key findings" in page and page.count("<svg") >= 4
    assert "plotly" not in page.lower()  # the interactive view stays in to_html
    assert len(page) < 400_000  # was 158,505 characters of raw HTML text in a repr


_BARE = re.compile(r"(?<![\w.,:/-])\d{4,}(?![\d,:/-]|\.\d)")  # 111776, not 111,776 or 2026-01-05
_CITED_YEAR = re.compile(r"\([A-Z][a-z]+ \d{4}\)")  # (Johnson 2000)


def _visible_text(page: str) -> str:
    import html as html_lib

    page = re.sub(r"<svg.*?</svg>|<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_every_number_has_separators_and_fixed_decimals(sample_report):
    text = sample_report.to_text()
    for where, body in (("text", text), ("html", _visible_text(sample_report.to_html()))):
        bare = [m.group() for m in _BARE.finditer(_CITED_YEAR.sub("", body))]
        assert bare == [], (where, bare)  # was "validation 111776 rows, all valid"
    assert "111,776 rows, all valid" in text
    # q-values read as the tables write them (two significant digits: 4.0e-37, not 4e-37)
    qs = re.findall(
        r"q=([^;)\s]+)", _section(sample_report, "Customer experience (NPS, CSAT, CES)").text
    )
    assert qs and all(re.fullmatch(r"\d\.\de-\d+|0\.\d+|1", q) for q in qs), qs
    # the funnel's median times: whole minutes, hours and days to one decimal
    funnel = _section(sample_report, "Funnel by stage").text.splitlines()
    times = [m.group(1) for ln in funnel if (m := re.search(r"  (\d[\d.]* (?:s|min|h|d))  ", ln))]
    assert len(times) >= 4, funnel
    assert all(re.fullmatch(r"\d+ (s|min)|\d+\.\d (h|d)", t) for t in times), times


def test_cx_note_names_the_interval_methods_the_numbers_use(sample_report):
    text = _section(sample_report, "Customer experience (NPS, CSAT, CES)").text
    # the defaults since 0.2: NPS score interval, CSAT Wilson, CES Dirichlet (the note
    # used to say adjusted Wald and t after the defaults had changed)
    assert "NPS: score interval (Tango)" in text
    assert "Wilson interval" in text and "Dirichlet interval" in text
    assert "adjusted-Wald" not in text and "t-interval" not in text
    # and the printed intervals are the metrics' default intervals, clustered by customer
    # (the sample has about 2 CSAT answers per customer)
    _, responses, _ = tp.datasets.load_sample()
    for fn, fmt in ((tp.nps, "{:+.1f} to {:+.1f}"), (tp.csat, "{:.1f}% to {:.1f}%")):
        name = fn.__name__
        r = fn(responses[name], cluster=responses["customer_id"])
        assert r.n < len(np.unique(responses["customer_id"])) * 10
        assert "95% CI " + fmt.format(*r.confidence_interval()) in text, name
        plain = fn(responses[name]).confidence_interval()
        if name == "csat":  # clustering widens the interval
            assert r.ci.high - r.ci.low > plain.high - plain.low
