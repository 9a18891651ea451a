"""The built documentation site: strict build, executed outputs, links, and a look in Chromium.

The site is built once (``mkdocs build --strict``, what ``make docs`` runs); the
tour, the how-to pages and the plot gallery execute their code at build time
(markdown-exec), so outputs and figures cannot go stale. Checked here: no
warning, no raw Sphinx role (``:func:``) and no private base class on the API
pages, printed output in the tour, figures in the gallery, and both pages
rendered by headless Chromium with every figure drawn (screenshots in the
test's temporary folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "report"))
from chromium import MISSING, Browser, find_chromium  # noqa: E402

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")
pytest.importorskip("markdown_exec")
pytest.importorskip("matplotlib")

ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|mod|data|obj|exc):`")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", TOUCHPOINT_PROGRESS="0")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr, done.stderr[-4000:]
    assert (out / "reference" / "eventlog" / "index.html").is_file()
    return out


def _page(site: Path, rel: str) -> str:
    return (site / rel / "index.html").read_text(encoding="utf-8")


def test_api_pages_link_and_hide_private_bases(site):
    pages = sorted((site / "reference").glob("*/index.html"))
    assert len(pages) >= 8
    links = 0
    for p in pages:
        text = p.read_text(encoding="utf-8")
        raw = ROLE.findall(text)
        assert not raw, f"{p.parent.name}: raw roles {raw[:5]}"
        assert not re.search(r"Bases:\s*(<[^>]+>\s*)*_", text), p.parent.name
        links += text.count('class="autorefs autorefs-internal"')
    assert links >= 50  # cross references became links


def test_tour_shows_outputs(site):
    tour = _page(site, "tour")
    # printed results, rendered at build time (not in the source code blocks)
    assert "NPS +" in tour
    assert "conversion 32.5%" in tour
    assert tour.count("<svg") >= 1  # the tour draws at least one figure


def test_gallery_has_every_figure(site):
    gallery = _page(site, "how-to/gallery")
    assert gallery.count("<svg") >= 7
    for fn in (
        "journey_graph",
        "transition_heatmap",
        "funnel_bars",
        "breakdown",
        "attribution_bars",
    ):
        assert fn in gallery


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium(install=True)
    if exe is None:
        if os.environ.get("TOUCHPOINT_SKIP_BROWSER") == "1":
            pytest.skip("TOUCHPOINT_SKIP_BROWSER=1: browser tests skipped on request")
        pytest.fail(MISSING, pytrace=False)
    with Browser(exe) as b:
        yield b


FIGURES = """(() => [...document.querySelectorAll('article svg')]
  .filter(s => !s.closest('.md-icon, .md-header, .md-nav, button, .md-clipboard, label'))
  .filter(s => s.getAttribute('width') || s.getAttribute('viewBox'))
  .map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })
  .filter(([w, h]) => w > 100))()"""


@pytest.mark.parametrize("page", ["tour", "how-to/gallery"])
def test_docs_page_in_chromium(browser, site, page, tmp_path):
    tab = browser.page(1280, 900)
    tab.goto((site / page / "index.html").as_uri())
    tab.screenshot(tmp_path / f"{page.replace('/', '-')}.png")
    sizes = tab.evaluate(FIGURES)
    assert len(sizes) >= (7 if "gallery" in page else 1), sizes
    for w, h in sizes:
        assert w >= 200 and h >= 120, sizes
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280


# The smallest text of each figure as shown (a figure wider than the column is
# scaled down, and so is its text): an 11-inch two-panel figure showed 5.1 px labels.
TEXT_SIZES = r"""(() => [...document.querySelectorAll('article svg')]
  .filter(s => s.querySelectorAll('text').length > 3)
  .map(s => {
    const px = [...s.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
      const m = t.getScreenCTM();
      return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    });
    return {first: s.querySelector('text').textContent, smallest: Math.min(...px)};
  }))()"""


@pytest.mark.parametrize("page", ["tour", "how-to/gallery", "how-to/plots"])
def test_docs_figures_readable_at_800px(browser, site, page, tmp_path):
    tab = browser.page(800, 900)
    tab.goto((site / page / "index.html").as_uri())
    tab.screenshot(tmp_path / f"{page.replace('/', '-')}-800.png")
    figures = tab.evaluate(TEXT_SIZES)
    assert figures, page
    small = [f for f in figures if f["smallest"] < 9.0]
    assert small == [], small
    assert tab.evaluate("document.documentElement.scrollWidth") <= 800


def test_no_page_loads_from_a_cdn_or_has_math(site):
    """Offline readers saw MathJax errors on every page, though no page has math."""
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for p in pages:
        text = p.read_text(encoding="utf-8")
        scripts = re.findall(r"<script[^>]*>", text)
        assert not [t for t in scripts if "mathjax" in t.lower()], p
        assert not [t for t in scripts if re.search(r'src="(https?:)?//', t)], p
        assert 'class="arithmatex"' not in text, p


def test_report_picture_on_the_home_page_and_in_the_tour(site):
    image = site / "images" / "report.png"
    assert image.is_file() and 10_000 < image.stat().st_size < 300_000
    for page in ("", "tour"):
        html = (site / page / "index.html").read_text(encoding="utf-8")
        assert re.search(r'<img[^>]+src="(\.\./)?images/report\.png"', html), page


def test_tour_source_has_no_assert():
    source = (ROOT / "docs" / "tour.md").read_text(encoding="utf-8")
    assert not re.search(r"^\s*assert\b", source, flags=re.M)


# Each table's last header and the right edge of its longest row, at 1280 px; a
# table may scroll inside its own box (the page itself never does).
TABLE_EDGES = r"""(() => [...document.querySelectorAll('article table')].map(t => {
  const ths = t.querySelectorAll('thead th');
  const last = ths[ths.length - 1];
  const box = t.getBoundingClientRect();
  return {head: last ? last.textContent : '', right: last ? last.getBoundingClientRect().right : 0,
          boxRight: box.right, scrolls: t.scrollWidth > t.clientWidth + 1,
          rowHeight: Math.max(...[...t.querySelectorAll('tbody tr')].map(
            r => r.getBoundingClientRect().height), 0)};
}))()"""


def test_validation_verdicts_visible_at_1280(browser, site, tmp_path):
    tab = browser.page(1280, 900)
    tab.goto((site / "validation" / "index.html").as_uri())
    tab.screenshot(tmp_path / "validation-1280.png")
    tables = tab.evaluate(TABLE_EDGES)
    assert tables
    width = tab.evaluate("document.documentElement.clientWidth")
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    for t in tables:
        assert t["boxRight"] <= width, t
        assert t["right"] <= width and not t["scrolls"], t  # the verdict column is on screen
