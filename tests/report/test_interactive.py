"""The interactive journey view: its links counted by hand, and what it costs the page.

plotly.js is 4.8 MB; the report carries it once, gzip-compressed and base64-encoded
(about 2.0 MB), and unpacks it in the browser (tests/report/test_browser.py draws
it in Chromium). Without the view (``interactive=False``, ``--no-interactive``)
the page has no plotly at all.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import re
from collections import Counter

import pytest

import touchpoint as tp
from touchpoint.cli import main
from touchpoint.report import build_report
from touchpoint.report._interactive import journey_sankey_html, sankey_links

pytest.importorskip("matplotlib")  # the view sits beside the static journey map


def test_sankey_links_by_hand():
    # j1: ad ad site buy(converts) -> repeats collapse: ad > site > buy, converted
    # j2: ad site, j3: site -> left; j4: seven steps converting at the end -> "later"
    journey = [1, 1, 1, 1, 2, 2, 3] + [4] * 7
    touch = ["ad", "ad", "site", "buy", "ad", "site", "site", *"abcdefg"]
    time = [0, 1, 2, 3, 0, 1, 0, *range(7)]
    value = [0, 0, 0, 10, 0, 0, 0, *[0] * 6, 5]
    log = tp.EventLog.from_arrays(journey, touch, [float(t) for t in time], outcome=value)
    expected = {
        ("ad", "site"): 2,  # j1, j2 at step 1 -> 2
        ("site", "buy"): 1,
        ("buy", "converted"): 1,
        ("site", "left"): 2,  # j2 at step 2, j3 at step 1: two "site" nodes, one link each
        ("a", "b"): 1,
        ("b", "c"): 1,
        ("c", "d"): 1,
        ("d", "e"): 1,
        ("e", "converted later"): 1,  # j4 converts after the five steps shown
    }
    got: Counter[tuple[str, str]] = Counter()
    labels, src, dst, counts = sankey_links(log, steps=5)
    for a, b, c in zip(src, dst, counts, strict=True):
        got[(labels[a], labels[b])] += c
    assert dict(got) == expected
    assert "f" not in labels and "g" not in labels  # beyond the steps shown
    # journeys leaving the first column add up to all journeys
    assert sum(c for (a, _), c in got.items() if a in {"ad", "a"}) + 1 == 4


def test_sankey_keeps_top_touchpoints_per_step():
    # ten distinct first touchpoints, top=3: the other seven are one "other" node
    log = tp.EventLog.from_arrays(
        list(range(20)), [f"t{i % 10}" if i < 10 else "t0" for i in range(20)], [0.0] * 20
    )
    labels, src, dst, counts = sankey_links(log, steps=3, top=3)
    firsts = {labels[a] for a in src}
    assert "t0" in firsts and "other" in firsts and len(firsts) == 4
    assert sum(counts) == 20  # every journey ends once ("ended": no conversions defined)
    assert {labels[b] for b in dst} == {"ended"}


plotly = pytest.importorskip("plotly")


@pytest.fixture(scope="module")
def tiny():
    return tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2, 3],
        ["ad", "site", "buy", "ad", "site", "site"],
        [0.0, 1, 2, 0, 1, 0],
        outcome=[0, 0, 9.5, 0, 0, 0],
    )


def test_plotly_js_once_compressed_and_intact(tiny):
    from plotly.offline import get_plotlyjs

    page = build_report(tiny, interactive=True, progress=False).to_html()
    blobs = re.findall(
        r'<script type="application/octet-stream" id="touchpoint-plotlyjs">([^<]+)</script>', page
    )
    assert len(blobs) == 1  # once per page
    assert gzip.decompress(base64.b64decode(blobs[0])).decode("utf-8") == get_plotlyjs()
    raw = len(get_plotlyjs().encode("utf-8"))
    assert len(page.encode("utf-8")) < 0.5 * raw  # was raw plotly.js plus the report
    assert "Plotly.newPlot" in page and 'class="touchpoint-plot"' in page


def test_without_the_view_the_page_is_small(tiny):
    page = build_report(tiny, interactive=False, progress=False).to_html()
    assert "plotly" not in page.lower() and "<svg" in page
    assert len(page.encode("utf-8")) < 300_000


def test_names_cannot_close_the_script():
    log = tp.EventLog.from_arrays(
        [1, 1, 2], ["</script><b>x", "buy", "buy"], [0.0, 1, 0], outcome=[0, 1, 0]
    )
    frag = journey_sankey_html(log)
    assert frag.count("</script>") == 1 and frag.endswith("</script>")
    assert "\\u003c/script\\u003e\\u003cb\\u003ex" in frag


def test_cli_interactive_flags(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOUCHPOINT_PROGRESS", "0")
    rows = "\n".join(
        f"j{i},{t},2026-01-0{k + 1}T10:00:00,{9.5 if t == 'buy' else ''}"
        for i in range(30)
        for k, t in enumerate(["ad", "site", "buy"][: 2 + i % 2])
    )
    events = tmp_path / "events.csv"
    events.write_text("journey_id,touchpoint,timestamp,revenue\n" + rows + "\n", encoding="utf-8")
    base = ["report", str(events), "--outcome-col", "revenue", "--html"]
    small, big = tmp_path / "small.html", tmp_path / "big.html"
    assert main([*base, str(small), "--no-interactive"]) == 0
    assert main([*base, str(big)]) == 0  # default: the view, plotly being installed
    assert "plotly" not in small.read_text(encoding="utf-8").lower()
    assert small.stat().st_size < 300_000 < 1_500_000 < big.stat().st_size < 2_500_000
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a)
    )
    capsys.readouterr()
    assert main([*base, str(tmp_path / "x.html"), "--interactive"]) == 2
    err = capsys.readouterr().err
    assert "--interactive needs plotly" in err and "Traceback" not in err
