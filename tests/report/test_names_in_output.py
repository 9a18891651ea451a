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
