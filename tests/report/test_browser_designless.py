"""The report of a clickstream without a design, rendered in headless Chromium.

A generated e-commerce clickstream (``tests/clickstream.py``: sessions as journeys,
``purchase`` the conversion, a ``payment_error`` that sinks conversion, users who
come back) goes through ``touchpoint report`` as a user would run it. Checked at 800
and 1280 px: the design-less sections replace the designed ones, the comparative
finding surfaces the payment error, every figure is drawn with labels of at least
9 px that do not overlap, and nothing is wider than the window. Screenshots land in
the test's temporary folder (``pytest --basetemp=DIR`` keeps them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from chromium import MISSING, Browser, find_chromium

pytest.importorskip("matplotlib")

from clickstream import write_csv
from touchpoint.cli import main

MEASURE = r"""(() => {
  const w = document.documentElement.clientWidth;
  const figures = [...document.querySelectorAll('figure')].map(f => {
    const g = f.querySelector('svg');
    const r = g ? g.getBoundingClientRect() : {width: 0, height: 0, right: 0};
    const texts = [...f.querySelectorAll('svg text')].filter(t => {
      const m = /rotate\((-?[\d.]+)\)/.exec(t.getAttribute('transform') || '');
      return (!m || Math.abs(parseFloat(m[1])) < 0.5) && t.textContent.trim();
    }).map(t => {
      const m = t.getScreenCTM();
      return {text: t.textContent, box: t.getBoundingClientRect(),
              px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)};
    });
    const overlaps = [];
    texts.forEach((a, i) => texts.slice(i + 1).forEach(b => {
      const p = a.box, q = b.box;
      if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1
          && q.top < p.bottom - 1) overlaps.push(a.text + ' | ' + b.text);
    }));
    return {caption: (f.querySelector('figcaption') || {}).textContent || '',
            width: r.width, height: r.height, right: r.right, texts: texts.length, overlaps,
            smallest: texts.length ? Math.min(...texts.map(t => t.px)) : null};
  });
  return {headings: [...document.querySelectorAll('section h2')].map(h => h.textContent),
          text: document.body.innerText, scrollWidth: document.documentElement.scrollWidth,
          clientWidth: w, figures};
})()"""


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium(install=True)
    if exe is None:
        if os.environ.get("TOUCHPOINT_SKIP_BROWSER") == "1":
            pytest.skip("TOUCHPOINT_SKIP_BROWSER=1: browser tests skipped on request")
        pytest.fail(MISSING, pytrace=False)
    with Browser(exe) as b:
        yield b


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("designless")
    os.environ.setdefault("TOUCHPOINT_PROGRESS", "0")
    csv = folder / "clickstream.csv"
    write_csv(csv, users=250)
    out = folder / "clickstream.html"
    args = ["report", str(csv), "--journey-col", "session_id", "--touchpoint-col", "event"]
    args += ["--time-col", "timestamp", "--conversions", "purchase", "--extra", "platform"]
    args += ["--extra", "channel", "--extra", "user_id", "--title", "Clickstream, no design"]
    assert main([*args, "--html", str(out)]) == 0
    return out


@pytest.mark.parametrize("width", [800, 1280])
def test_designless_report_in_chromium(browser, report, tmp_path_factory, width):
    page = browser.page(width, 900)
    page.goto(report.as_uri())
    info = page.evaluate(MEASURE)
    shot = page.screenshot(tmp_path_factory.mktemp("shots") / f"clickstream-{width}.png")
    assert shot.stat().st_size > 10_000

    heads = info["headings"]
    for title in (
        "What sets converting journeys apart",
        "Process map",
        "How journeys begin",
        "Step matrix",
        "Journey clusters",
        "Retention",
    ):
        assert title in heads, heads
    assert "Journey map" not in heads and "Paths" not in heads, heads
    assert heads.index("What sets converting journeys apart") < heads.index("Process map")
    # the friction is found by comparison, with its test
    assert "Journeys with payment_error convert at" in info["text"]
    assert "payment_details" in info["text"] and "q < 0.001" in info["text"]

    assert info["scrollWidth"] <= info["clientWidth"]
    captions = [f["caption"] for f in info["figures"]]
    for start in ("Process map", "Step matrix", "Retention curve", "Retention by weekly cohort"):
        assert any(c.startswith(start) for c in captions), (start, captions)
    for f in info["figures"]:
        assert f["width"] >= 200 and f["height"] >= 120, f
        assert f["right"] <= info["clientWidth"] + 1, f
        assert f["overlaps"] == [], (f["caption"][:40], f["overlaps"])
        if f["texts"]:
            assert f["smallest"] >= 9.0, (f["caption"][:40], f["smallest"])
    pm = next(f for f in info["figures"] if f["caption"].startswith("Process map"))
    assert pm["texts"] >= 20  # every node labelled beside it
