"""Every repr a user sees on real-sized data reads like the report: one line, separators."""

from __future__ import annotations

import re

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import StatisticalWarning

# 111776, not 111,776, 2026-01-05, 0.3252 or 1e-10; a comma counts only before a digit
_BARE = re.compile(r"(?<![\w.:/-])(?<!\d,)\d{4,}(?!\d|,\d|[:/-]|\.\d)")


@pytest.fixture(scope="module")
def objects():
    log, responses, design = tp.datasets.load_sample()
    model = tp.fit_markov(log)
    customers = responses["customer_id"]
    out = {
        "log": log,
        "responses": responses,
        "design": design,
        "validation": log.validation,
        "model": model,
        "counts": model.transition_counts,
        "nps": tp.nps(responses["nps"], cluster=customers),
        "csat": tp.csat(responses["csat"], cluster=customers),
        "ces": tp.ces(responses["ces"], cluster=customers),
        "compare_csat": tp.compare_csat(responses["csat"][:8000], responses["csat"][8000:]),
        "funnel": tp.funnel(log, ["product_page", "add_to_cart", "checkout_web"]),
        "attribution": tp.attribution(log, "markov"),
        "removal": tp.removal_effects(model),
        "conformance": tp.conformance(log, design),
        "paths": log.paths() if hasattr(log, "paths") else None,
        "repeat": tp.repeat_rate(log, window=7 * 86400.0),
        "select": tp.select_order(log, max_order=2),
        "consistency": tp.consistency(responses, design=design),
    }
    out["step"] = out["funnel"].steps[1]
    with pytest.warns(StatisticalWarning, match="left out"):
        out["dropoffs"] = tp.detect_dropoffs(log, by="device")
    return {k: v for k, v in out.items() if v is not None}


def test_reprs_are_one_line_with_thousands_separators(objects):
    bad = {}
    for name, obj in objects.items():
        text = repr(obj)
        assert "\n" not in text or name == "design", (name, text)
        found = _BARE.findall(text)
        if found:
            bad[name] = (found, text[:160])
    assert not bad, bad


def test_separators_do_not_hide_the_values(objects):
    log = objects["log"]
    assert f"events={log.n_events:,}" in repr(log)
    assert int(re.search(r"events=([\d,]+)", repr(log)).group(1).replace(",", "")) == len(
        np.asarray(log.journey)
    )


def test_scalar_notebook_view_names_rows_as_the_frame_and_shares_as_percent():
    """The NPS view showed 0.335 next to a score of 8.5 points, under headers that were
    not the frame's column names."""
    import re

    import touchpoint as tp

    answers = [10, 10, 9, 8, 7, 3, 0, 9]
    r = tp.nps(answers)
    page = r._repr_html_()
    assert re.findall(r"<th>([^<]+)</th>", page) == [
        k for k, v in r.to_dict().items() if v is not None
    ]
    promoters = sum(a >= 9 for a in answers) / len(answers)  # 4 of 8, counted here
    assert f'<th>promoters</th><td class="num">{100 * promoters:.1f}% of answers' in page
