"""The one formatting pass: what a table looks like in the report, text and notebooks."""

from __future__ import annotations

import math

import numpy as np

import touchpoint as tp
from touchpoint._lib.format import format_columns, format_html, format_text, human_label


def test_columns_read_alike():
    headers, cells, numeric = format_columns(
        ["touchpoint", "events", "value", "share", "pvalue", "empty"],
        [
            ["ad", 25031, 93896.87, 0.173, 3.4e-10, None],
            ["site", 7, 79598.3, 0.1, 0.0162, math.nan],
        ],
    )
    assert headers == ["touchpoint", "events", "value", "share", "p"]  # empty column dropped
    assert cells == [
        ["ad", "25,031", "93,896.87", "17.3%", "3.4e-10"],
        ["site", "7", "79,598.30", "10.0%", "0.016"],
    ]
    assert numeric == [False, True, True, True, True]


def test_text_is_right_aligned_and_long_tables_say_so():
    t = tp.Table({"step": [f"s{i}" for i in range(50)], "n": np.arange(50) * 1000})
    text = t.to_text(max_rows=5).splitlines()
    assert text[1].endswith("     0") and text[5].endswith("4,000")
    assert text[-1] == "... 45 more rows not shown (50 in all)"
    page = t._repr_html_()
    assert page.count("<tr>") == 21 + 1  # header, 20 rows, the note
    assert "30 more rows not shown (50 in all)" in page
    assert '<td class="num">19,000</td>' in page


def test_human_labels_and_numeric_text():
    assert human_label("removal_effect") == "removal effect"
    assert human_label("ci_low") == "CI low"
    _, _, numeric = format_columns(
        ["interval", "effect", "since"], [["62.0–67.6%", "-19.6 pts", "2026-02-23"]]
    )
    assert numeric == [True, True, False]
    assert format_text(["a"], []) == "a"
    assert "<th>a</th>" in format_html(["a"], [])
