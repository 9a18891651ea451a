"""The step matrix against retentioneering, hand counts and independent tests.

``data/retentioneering_step_matrix.json`` holds retentioneering 5.2.4's step
matrices of the bundled sample (``max_steps=12``; plain, and the differential one
of mobile customers against the rest). retentioneering is not in the ``test``
extra: it pulls in mcp, gensim, duckdb, anywidget and a PostHog client that
phones home on import. The file was written in a throwaway venv:

    python -m venv /tmp/rv && /tmp/rv/bin/pip install retentioneering==5.2.4
    RETENTIONEERING_NO_TRACK=1 /tmp/rv/bin/python compute.py events.csv.gz out.json

with ``compute.py`` (the ``compute`` field of the JSON holds it verbatim):
``Eventstream(df, schema={"path_cols": ["customer_id"], "event_col": "touchpoint",
"timestamp_col": "timestamp"}).step_matrix_data(max_steps=12)`` and
``step_matrix_data(max_steps=12, diff=(mobile_ids, other_ids))``. Its
``path_end`` row is our ``ENDED`` row; its step-0 ``path_start`` column has no
counterpart here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import fisher_exact

import touchpoint as tp

REFERENCE = Path(__file__).parent / "data" / "retentioneering_step_matrix.json"


@pytest.fixture(scope="module")
def sample_log():
    return tp.datasets.load_sample().events


def _ours(sm, table=None):
    table = sm.table if table is None else table
    return {
        ("path_end" if r["touchpoint"] == "ENDED" else r["touchpoint"]): r
        for r in table.to_records()
    }


def test_equals_retentioneering_on_the_sample(sample_log):
    ref = json.loads(REFERENCE.read_text())
    assert ref["version"] == "5.2.4"
    sm = tp.step_matrix(sample_log, 12)
    ours = _ours(sm)
    assert set(ours) == set(ref["plain"]) - {"path_start"}
    for name, row in ours.items():
        for s in sm.steps:
            assert row[s] == pytest.approx(ref["plain"][name][s], abs=1e-12), (name, s)


def test_differential_equals_retentioneering(sample_log):
    ref = json.loads(REFERENCE.read_text())
    sm = tp.step_matrix(sample_log, 12, by="device", groups=("mobile", None))
    assert sm.groups == ("mobile", "not mobile")
    for name, row in _ours(sm).items():
        for s in sm.steps:
            assert row[s] == pytest.approx(ref["diff"][name][s], abs=1e-12), (name, s)
    for name, row in _ours(sm, sm.first).items():
        for s in sm.steps:
            assert row[s] == pytest.approx(ref["first"][name][s], abs=1e-12), (name, s)


def _small_log():
    # a: ad site buy | b: ad buy | c: site | d: site ad site ad
    return tp.EventLog.from_arrays(
        list("aaabbcdddd"),
        ["ad", "site", "buy", "ad", "buy", "site", "site", "ad", "site", "ad"],
        [0.0, 1, 2, 0, 1, 0, 0, 1, 2, 3],
        conversions=["buy"],
    )


def test_hand_counts_and_ended_row():
    sm = tp.step_matrix(_small_log(), 5)
    t = {r["touchpoint"]: [r[s] for s in sm.steps] for r in sm.table.to_records()}
    # step 1: ad (a, b), site (c, d); step 2: site (a), buy (b), ad (d); 3: buy (a), site (d)
    assert t["ad"] == [0.5, 0.25, 0.0, 0.25, 0.0]
    assert t["site"] == [0.5, 0.25, 0.25, 0.0, 0.0]
    assert t["buy"] == [0.0, 0.25, 0.25, 0.0, 0.0]
    assert t["ENDED"] == [0.0, 0.25, 0.5, 0.75, 1.0]  # lengths 3, 2, 1, 4
    assert np.allclose(sm.values().sum(axis=0), 1.0)
    assert sm.table["touchpoint"].tolist()[-1] == "ENDED"


def test_threshold_merges_rare_rows_but_never_ended():
    sm = tp.step_matrix(_small_log(), 5, threshold=0.3)
    names = sm.table["touchpoint"].tolist()
    # buy never reaches 0.3 -> merged; ad and site reach 0.5
    assert "buy" not in names and names[-1] == "(other 1)" and "ENDED" in names
    assert np.allclose(sm.values().sum(axis=0), 1.0)


def test_centred_on_a_target_as_retentioneering_3():
    # retentioneering 3's centered={"event": "site", "left_gap": 1, "occurrence": 1}:
    # keep journeys with a site (a, c, d); shift so the first site is step 0
    sm = tp.step_matrix(_small_log(), 4, target="site", before=1)
    assert sm.steps == ("-1", "0", "1", "2")
    assert sm.n_journeys == 3
    t = {r["touchpoint"]: [r[s] for s in sm.steps] for r in sm.table.to_records()}
    assert t["site"] == pytest.approx([0, 1, 0, 1 / 3])
    assert t["ad"] == pytest.approx([1 / 3, 0, 1 / 3, 0])  # a before; d after (its 2nd ad is cut)
    assert t["buy"] == pytest.approx([0, 0, 1 / 3, 0])
    assert t["ENDED"] == pytest.approx([0, 0, 1 / 3, 2 / 3])  # c ends after 0, a after 1


def test_cell_tests_match_fisher_and_z_and_bh():
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    rng = np.random.default_rng(4)
    n = 400
    conv = rng.random(n) < 0.3
    rows_j, rows_t, rows_time = [], [], []
    for j in range(n):
        steps = ["home", "cart" if conv[j] or rng.random() < 0.2 else "faq"]
        if conv[j]:
            steps.append("pay")
        for i, s in enumerate(steps):
            rows_j.append(j)
            rows_t.append(s)
            rows_time.append(float(i))
    log = tp.EventLog.from_arrays(rows_j, rows_t, rows_time, conversions=["pay"])
    sm = tp.step_matrix(log, 3, by="converted")
    tests = {(r["touchpoint"], r["step"]): r for r in sm.tests.to_records()}
    na, nb = sm.group_sizes
    for r in tests.values():
        a, b = r["count_first"], r["count_second"]
        if r["test"] == "fisher":
            ref = fisher_exact([[a, na - a], [b, nb - b]]).pvalue
        else:
            ref = proportions_ztest([a, b], [na, nb])[1]
        assert r["pvalue"] == pytest.approx(ref, rel=1e-9), r
    ps = [r["pvalue"] for r in sm.tests.to_records()]
    qs = multipletests(ps, method="fdr_bh")[1]
    assert np.allclose(qs, [r["qvalue"] for r in sm.tests.to_records()])
    # a small cell goes to Fisher: "faq" at step 2 among the converters is 0
    assert tests[("faq", "2")]["count_first"] == 0
    assert sm.significant(0.05)["touchpoint"].tolist()[0] in {"pay", "ENDED", "cart", "faq"}


def test_by_needs_two_values(sample_log):
    with pytest.raises(tp.ValidationError, match="exactly two values"):
        tp.step_matrix(sample_log, 5, by="region")


def test_plot_draws():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    ax = tp.step_matrix(_small_log(), 4, by="converted").plot()
    assert ax.get_title(loc="left").startswith("differential step matrix")
    plt.close("all")
