"""The HTML report in a real browser: headless Chromium renders it and we measure.

Two reports, built through the command line as a user would: the bundled
sample (with its journey design and survey answers) and a user's own CSV with
other column names, a semicolon delimiter and no design. Each page is opened
at 800 and 1280 px; full-page screenshots land in the test's temporary folder
(``pytest --basetemp=DIR`` keeps them somewhere you choose). Checked: the page
rendered (title, sections, no script errors), nothing is wider than the
window at 800 px, and every figure is drawn, visible and inside the page.

Chromium comes from the Debian package ``chromium``; ``.ci/run`` installs it
when it is missing and CI runs as root, and so does :func:`find_chromium`.
Without a browser the tests fail with a message saying how to get one; they
skip only when ``TOUCHPOINT_SKIP_BROWSER=1`` says so explicitly.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from chromium import MISSING, Browser, find_chromium

pytest.importorskip("matplotlib")  # figures need the plot extra (part of the dev install)

import touchpoint as tp
from touchpoint.cli import main
from touchpoint.report import build_report

# What the page reports about itself: size, overflow, figures and anything wider
# than the window (the culprit when there is overflow).
MEASURE = r"""(() => {
  const doc = document.documentElement, w = doc.clientWidth;
  const figures = [...document.querySelectorAll('figure')].map(f => {
    const g = f.querySelector('svg, img, .js-plotly-plot, canvas');
    const r = g ? g.getBoundingClientRect() : {width: 0, height: 0, left: 0, right: 0};
    // text drawn in the figure: its size on screen and any two labels on top of each
    // other (rotated tick labels left out: their boxes overlap without the glyphs)
    const texts = [...f.querySelectorAll('svg text')].filter(t => {
      const m = /rotate\((-?[\d.]+)\)/.exec(t.getAttribute('transform') || '');
      return (!m || Math.abs(parseFloat(m[1])) < 0.5) && t.textContent.trim();
    }).map(t => {
      const m = t.getScreenCTM();
      return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize)
              * Math.hypot(m.a, m.b), box: t.getBoundingClientRect()};
    });
    const overlaps = [];
    texts.forEach((a, i) => texts.slice(i + 1).forEach(b => {
      const r = a.box, q = b.box;
      if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1
          && q.top < r.bottom - 1) overlaps.push(a.text + ' | ' + b.text);
    }));
    return {caption: (f.querySelector('figcaption') || {}).textContent || '',
            texts: texts.length, overlaps,
            smallest: texts.length ? Math.min(...texts.map(t => t.px)) : null,
            kind: g ? g.tagName.toLowerCase() : 'none',
            width: r.width, height: r.height, left: r.left, right: r.right,
            complete: g && g.tagName === 'IMG' ? (g.complete && g.naturalWidth > 0) : true,
            visible: g ? getComputedStyle(g).visibility !== 'hidden'
                         && getComputedStyle(g).display !== 'none' : false};
  });
  const wide = [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > w + 1
                 && !e.closest('.scroll'))  // a table may scroll inside its own box
    .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(
      e.getBoundingClientRect().right));
  return {title: document.title, h1: (document.querySelector('h1') || {}).textContent,
          sections: document.querySelectorAll('section h2').length,
          headings: [...document.querySelectorAll('section h2')].map(h => h.textContent),
          text: document.body.innerText.length,
          scrollWidth: doc.scrollWidth, clientWidth: w, wide, figures,
          scrolling: [...document.querySelectorAll('.scroll')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.closest('section').querySelector('h2').textContent),
          errors: window.__errors || []};
})()"""

# The interactive view is drawn after plotly.js is unpacked (asynchronously): wait
# until every plot is drawn or shows its fallback note, at most 20 s.
WAIT_FOR_PLOTS = """new Promise(done => {
  const t0 = Date.now();
  const ready = () => [...document.querySelectorAll('.touchpoint-plot')]
    .every(d => d.classList.contains('js-plotly-plot') || d.textContent.trim());
  const poll = () => ready() || Date.now() - t0 > 20000 ? done(null) : setTimeout(poll, 100);
  poll();
})"""

CATCH_ERRORS = "window.__errors = []; addEventListener('error', e => __errors.push(e.message));"


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
def shots(tmp_path_factory):
    """Where the screenshots go: ``<basetemp>/screenshots<N>/{sample,user}-{800,1280}.png``."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The two HTML reports, built through the CLI."""
    folder = tmp_path_factory.mktemp("reports")
    os.environ.setdefault("TOUCHPOINT_PROGRESS", "0")
    sample = folder / "sample.html"
    assert main(["demo", "--html", str(sample)]) == 0
    # a user's export: own column names, semicolons, no journey design, 1,500 customers
    from touchpoint.datasets import sample_path

    with gzip.open(sample_path("events.csv.gz"), "rt", encoding="utf-8") as fh:
        _header, *rows = fh.read().splitlines()
    keep = [r for r in rows if int(r.split(",", 1)[0][1:]) <= 1500]
    user_csv = folder / "export.csv"
    user_csv.write_text(
        "user;ts;event;amount;device;region\n" + "\n".join(r.replace(",", ";") for r in keep),
        encoding="utf-8",
    )
    user = folder / "user.html"
    code = main(
        [
            "report",
            str(user_csv),
            "--delimiter",
            ";",
            "--journey-col",
            "user",
            "--touchpoint-col",
            "event",
            "--time-col",
            "ts",
            "--outcome-col",
            "amount",
            "--extra",
            "device",
            "--title",
            "Export, no design",
            "--html",
            str(user),
        ]
    )
    assert code == 0
    return {"sample": sample, "user": user}


def _open(browser, path: Path, width: int, shots: Path) -> dict:
    page = browser.page(width, 900)
    browser.send(
        "Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_ERRORS}, session=page.session
    )
    page.goto(path.as_uri())
    page.evaluate(WAIT_FOR_PLOTS)
    info = page.evaluate(MEASURE)
    page.screenshot(shots / f"{path.stem}-{width}.png")
    return info


@pytest.mark.parametrize("name", ["sample", "user"])
@pytest.mark.parametrize("width", [800, 1280])
def test_report_renders_in_chromium(browser, reports, shots, name, width):
    info = _open(browser, reports[name], width, shots)
    assert (shots / f"{name}-{width}.png").stat().st_size > 10_000  # a real picture

    # rendered: the title, the headline first, several sections, text, no script errors
    assert info["h1"] == info["title"] != ""
    assert info["headings"][0] == "Key findings", info["headings"]
    assert info["sections"] >= 5, info["headings"]
    assert info["text"] > 2_000
    assert info["errors"] == []

    # nothing wider than the window, and no table needs its own scroll bar either
    assert info["scrollWidth"] <= info["clientWidth"], info["wide"]
    assert info["scrolling"] == [], info["scrolling"]

    # every figure drawn, with a caption, visible, inside the page
    figures = info["figures"]
    expected = 4 if name == "sample" else 3  # journey, heatmap, removal (+ funnel, CSAT)
    assert len(figures) >= expected, figures
    for f in figures:
        assert f["kind"] in ("svg", "img", "div", "canvas"), f
        assert f["caption"].strip(), f
        assert f["visible"] and f["complete"], f
        assert f["width"] >= 200 and f["height"] >= 120, f
        assert f["left"] >= 0 and f["right"] <= info["clientWidth"] + 1, f
        # readable and uncluttered: no label on another, nothing below 9 px on screen
        assert f["overlaps"] == [], (f["caption"][:40], f["overlaps"])
        if f["texts"]:
            assert f["smallest"] >= 9.0, (f["caption"][:40], f["smallest"])
    # the journey map's labels (were 5.1 px at 800 px: 7.5 pt in a 13-inch figure)
    if name == "sample":  # without a design the process map takes its place (test_designless)
        journey = next(f for f in figures if f["caption"].startswith("The observed journey"))
        assert journey["texts"] >= 20 and journey["smallest"] >= 11.0, journey["smallest"]


def test_report_interactive_view_when_installed(browser, reports, tmp_path):
    """With plotly installed the journey also shows as an interactive Sankey."""
    if importlib.util.find_spec("plotly") is None:
        pytest.skip("plotly (extra 'interactive') is not installed")
    info = _open(browser, reports["sample"], 1280, tmp_path)
    kinds = [f["kind"] for f in info["figures"]]
    assert "div" in kinds, kinds  # the plotly graph div, drawn (non-zero size checked above)
    sankey = info["figures"][kinds.index("div")]
    # drawn from the compressed plotly.js: node labels are there, not the fallback note
    assert sankey["texts"] >= 10 and sankey["overlaps"] == [], sankey
    assert info["errors"] == []


# What a reader of the sample report saw and tripped on (issue 21), measured in the page.
DEFECTS = r"""(() => {
  const section = t => [...document.querySelectorAll('section')]
    .find(s => (s.querySelector('h2') || {}).textContent === t);
  const tables = s => [...(s ? s.querySelectorAll('table') : [])].map(t => {
    const head = [...t.querySelectorAll('thead th')].map(h => h.textContent);
    const rows = [...t.querySelectorAll('tbody tr')].map(
      r => [...r.querySelectorAll('td')].map(d => d.textContent));
    return {caption: (t.querySelector('caption') || {}).textContent || '', head, rows};
  });
  const figs = s => [...(s ? s.querySelectorAll('figure') : [])].map(f => ({
    caption: (f.querySelector('figcaption') || {}).textContent || '',
    ticks: [...f.querySelectorAll('svg text')].map(t => t.textContent)}));
  const facts = document.querySelector('table.facts td');
  return {
    headings: [...document.querySelectorAll('section h2')].map(h => h.textContent),
    findings: [...document.querySelectorAll('ul.findings li')].map(l => l.textContent),
    paths: tables(section('Paths')), dropoffs: tables(section('Drop-offs')),
    dropFigs: figs(section('Drop-offs')), cx: tables(section('Customer experience (NPS, CSAT, CES)')),
    cxFigs: figs(section('Customer experience (NPS, CSAT, CES)')),
    cxText: (section('Customer experience (NPS, CSAT, CES)') || {}).innerText || '',
    sankeyEnds: (document.querySelector('.sankey-ends') || {}).textContent || '',
    factsAlign: facts ? getComputedStyle(facts).textAlign : null,
    chartLinks: [...document.querySelectorAll('ul.findings li')].map(li => {
      const a = li.querySelector('a.chart-link');
      const target = a ? document.getElementById(a.getAttribute('href').slice(1)) : null;
      const sec = target ? target.closest('section') : null;
      return {finding: li.querySelector('strong').textContent,
              figures: sec ? sec.querySelectorAll('figure svg').length : 0};
    }),
  };
})()"""


def test_report_defects_stay_fixed(browser, reports, tmp_path):
    page = browser.page(1280, 900)
    page.goto(reports["sample"].as_uri())
    page.evaluate(WAIT_FOR_PLOTS)
    d = page.evaluate(DEFECTS)
    # a drop-off finding has its chart: weekly conversion per segment, flagged weeks ringed
    assert any(f["caption"].startswith("Weekly conversion") for f in d["dropFigs"]), d["dropFigs"]
    # no column that says the same thing on every row (0.0% / 100.0% conversion)
    for t in d["paths"]:
        assert len(t["rows"]) >= 5, t
        for i, h in enumerate(t["head"][1:], start=1):
            assert len({r[i] for r in t["rows"]}) > 1, (t["caption"], h)
    # no header twice in one table ("95% CI", "95% CI"); CES reads as one number
    for t in [*d["cx"], *d["dropoffs"], *d["paths"]]:
        assert len(t["head"]) == len(set(t["head"])), t["head"]
    assert "CES 2.0 5" not in d["cxText"] and "CES (version 2, 1-7 scale)" in d["cxText"]
    # q-values in one format: two significant digits, exponent for the small ones
    qs = [r[t["head"].index("q-value")] for t in d["dropoffs"] for r in t["rows"]]
    assert qs and all(re.fullmatch(r"0\.0*[1-9]\d?|\d\.\de-\d+", q) for q in qs), qs
    # the CSAT chart shows the table's rows (touchpoints) on a percent axis
    csat = next(f for f in d["cxFigs"] if f["caption"].startswith("CSAT"))
    assert "by touchpoint" in csat["caption"]
    assert "checkout_store" in csat["ticks"] and "100%" in csat["ticks"], csat["ticks"]
    # the interactive view names its end nodes
    assert "converted" in d["sankeyEnds"] and "left" in d["sankeyEnds"], d["sankeyEnds"]
    # a chart for every finding: each links to a section that draws one
    assert len(d["chartLinks"]) >= 5, d["chartLinks"]
    assert all(c["figures"] >= 1 for c in d["chartLinks"]), d["chartLinks"]
    # findings: the key touchpoints are named as the map colours them
    assert any(f.startswith("Key touchpoints:") for f in d["findings"]), d["findings"]


def test_report_in_a_notebook_keeps_its_alignment(browser, tmp_path):
    """JupyterLab's CSS right-aligns every table cell; the report's overview stays left."""
    log, _, design = tp.datasets.load_sample()
    small = log.select_journeys(np.arange(log.n_journeys) < 2000)
    rep = build_report(small, design=design, figures=False, progress=False)
    page_html = (
        "<html><head><style>.jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th"
        "{text-align:right;padding:.5em}</style></head><body>"
        f'<div class="jp-RenderedHTMLCommon">{rep._repr_html_()}</div></body></html>'
    )
    path = tmp_path / "notebook.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.page(1280, 900)
    page.goto(path.as_uri())
    align = page.evaluate(
        "[...document.querySelectorAll('table.facts td')].map(t => getComputedStyle(t).textAlign)"
    )
    assert align and set(align) == {"left"}, align
