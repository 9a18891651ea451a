"""The documentation's code runs: every ```python block of the tutorial pages.

Each page runs top to bottom in one fresh namespace, in a temporary working
directory (pages may write files), with matplotlib's Agg backend. Which pages
run: the tour, getting started, the sample-data page and the how-to guides
(``docs/how-to/``), plus any other page that opts in with the HTML comment
``<!-- docs-test: run -->``. Code that only *illustrates* belongs in those
pages under another fence (```text, ```console).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OPT_IN = "<!-- docs-test: run -->"
CORE = {"tour.md", "getting-started.md", "sample-data.md"}


def _runs(p: Path) -> bool:
    rel = p.relative_to(DOCS).as_posix()
    text = p.read_text(encoding="utf-8")
    if "```python" not in text:
        return False
    return rel in CORE or rel.startswith("how-to/") or OPT_IN in text


RUNNABLE = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if _runs(p))

FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(page: str) -> list[str]:
    return FENCE.findall((DOCS / page).read_text(encoding="utf-8"))


def test_tutorial_pages_have_code():
    for page in ("tour.md", "getting-started.md", "how-to/load-data.md"):
        assert page in RUNNABLE
        assert python_blocks(page), page


@pytest.mark.parametrize("page", RUNNABLE)
def test_page_code_runs(page, tmp_path, monkeypatch):
    if "import pandas" in (DOCS / page).read_text(encoding="utf-8"):
        pytest.importorskip("pandas")
    if "import polars" in (DOCS / page).read_text(encoding="utf-8"):
        pytest.importorskip("polars")
    if "matplotlib" in (DOCS / page).read_text(encoding="utf-8"):
        mpl = pytest.importorskip("matplotlib")
        mpl.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOUCHPOINT_PROGRESS", "0")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for i, block in enumerate(python_blocks(page)):
        code = compile(block, f"{page}[block {i}]", "exec")
        exec(code, namespace)
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        pass
    else:
        plt.close("all")


def test_nav_pages_exist():
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    for page in re.findall(r":\s*([\w./-]+\.md)\s*$", nav, re.MULTILINE):
        assert (DOCS / page).is_file(), page


def test_readme_first_look_runs(tmp_path, monkeypatch):
    """The README's first example (the sample-data tour) runs as printed."""
    blocks = FENCE.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "load_sample" in blocks[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOUCHPOINT_PROGRESS", "0")
    exec(compile(blocks[0], "README.md[block 0]", "exec"), {"__name__": "__readme__"})
