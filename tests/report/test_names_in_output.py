"""Names that could mislead in text and figures: path separators, mathtext.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import pytest

import touchpoint as tp


# ---------------------------------------------------------------------------------
# messages that point at the right place
# ---------------------------------------------------------------------------------
def test_ok_paths_with_separator_in_names_print_distinctly():
    log = tp.EventLog.from_arrays(["a", "b", "b"], ["x > y", "x", "y"], [1.0, 1.0, 2.0])
    paths = log.paths()
    shown = repr(paths)
    assert paths[0] != paths[1]
    lines = [ln for ln in shown.splitlines() if "x" in ln]
    assert len(set(lines)) == len(lines)


def test_ok_paths_separator_in_report_text():
    log = tp.EventLog.from_arrays(
        ["a", "b", "b"], ["x > y", "x", "y"], [1.0, 1.0, 2.0], outcome=[1, 0, 1]
    )
    from touchpoint.report import build_report

    text = build_report(log, figures=False).to_text()
    assert "'x > y'" in text or '"x > y"' in text


MATHTEXT_NAMES = [r"$\frac{a}{$", "$x$", "100$ off", r"a\$b", "$$", "^_{"]


@pytest.mark.parametrize("name", MATHTEXT_NAMES)
def test_ok_report_figures_with_mathtext_names(name):
    pytest.importorskip("matplotlib")
    log = tp.EventLog.from_arrays(
        ["a", "a", "b", "b"], [name, "y", name, "z"], [1.0, 2.0, 1.0, 2.0], outcome=[0, 1, 0, 0]
    )
    from touchpoint.report import build_report

    html = build_report(log, figures=True).to_html()
    assert "<svg" in html or "<img" in html


def test_ok_a_100000_character_name_in_report_figures():
    """Figure texts over plot.MAX_FIGURE_TEXT characters are cut (a canvas too large
    to allocate crashed the report before)."""
    import numpy as np

    import touchpoint as tp
    from touchpoint.plot import CUT_FIGURE_TEXT
    from touchpoint.report import build_report

    rng = np.random.default_rng(0)
    long = "a" * 100_000
    names = np.array([long, "b", "c"])
    j = np.repeat(np.arange(100), 4)
    t = np.tile(np.arange(4), 100).astype(float)
    out = np.where(rng.random(400) < 0.1, 1.0, np.nan)
    log = tp.EventLog.from_arrays(j, names[rng.integers(0, 3, size=400)], t, out)
    html = build_report(log, figures=True).to_html()
    assert "<svg" in html
    assert "a" * (CUT_FIGURE_TEXT - 1) + "…" in html  # the cut name, drawn
