"""The statistics validation (benchmarks/validate_stats.py) in its fast mode.

Every measured coverage, size and false discovery rate must lie within
``nominal +- max(2.5 points, 3 MC SE)`` or be a miss documented in
``KNOWN_MISSES`` (and so on the Validation page). The harness itself is checked
against independent computations: statsmodels' binomial intervals and direct
Monte Carlo.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import touchpoint as tp

ROOT = Path(__file__).resolve().parents[1]


def _load() -> Any:
    spec = importlib.util.spec_from_file_location(
        "validate_stats", ROOT / "benchmarks" / "validate_stats.py"
    )
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["validate_stats"] = mod
    spec.loader.exec_module(mod)
    return mod


vs = _load()


@pytest.fixture(scope="module")
def rows() -> list[Any]:
    return vs.run(full=False)


@pytest.mark.slow
def test_every_row_meets_its_nominal_rate_or_is_a_documented_miss(rows: list[Any]) -> None:
    bad = [r for r in rows if r.ok is False and not r.known]
    lines = [
        f"{r.family} / {r.method} / {r.shape} / n={r.n}: {r.measure} "
        f"{100 * r.value:.2f}% vs nominal {100 * r.nominal:.2f}% (tol {100 * r.tol:.2f})"
        for r in bad
    ]
    assert not bad, "\n".join(lines)


@pytest.mark.slow
def test_the_key_figures_are_measured(rows: list[Any]) -> None:
    families = {r.family for r in rows}
    for fam in (
        "NPS interval",
        "CSAT interval",
        "CES mean interval",
        "CES two-sample test",
        "Paired test",
        "Breakdown test",
        "Breakdown interval",
        "Drop-off test",
        "Drop-off detection",
        "Funnel time to convert",
        "Response within target",
        "Key-driver test",
        "Key-driver interval",
        "CSAT interval at the ends",
        "NPS interval (few respondents)",
        "Breakdown test (few respondents)",
        "Paired interval",
        "Key-touchpoint CSAT gap",
        "Response-time median",
    ):
        assert fam in families
    # the CSAT default holds 95% within 0.005 of the ends at n = 8-30 (exact)
    ends = [
        r
        for r in rows
        if r.family == "CSAT interval at the ends" and r.method.startswith("default")
    ]
    assert len(ends) >= 7
    assert min(r.value for r in ends) >= 0.95 - 1e-9
    plain = {
        r.n: r.value
        for r in rows
        if r.family == "CSAT interval at the ends"
        and r.method == "wilson"
        and r.shape == "true share 0.98"
    }
    assert plain["8"] == pytest.approx(0.851, abs=0.001)  # the dip the default repairs
    # the NPS default: >= 93% at every n >= 10 and every share (exact enumeration)
    default = [
        r
        for r in rows
        if r.family == "NPS interval" and r.method == "score" and r.shape == "worst true shares"
    ]
    assert default
    assert min(r.value for r in default) >= 0.93
    # censoring: Kaplan-Meier recovers the truth the plain figures miss
    est = {(r.family, r.method): r for r in rows if r.nominal is None}
    km = est[("Funnel time to convert", "conversion_km")]
    plain = est[("Funnel time to convert", "conversion (seen only)")]
    assert abs(km.value - 0.5) <= max(0.01, 3 * km.mcse)
    assert plain.value < 0.47
    w14 = est[("Funnel time to convert", "conversion_within(14 days)")]
    assert abs(w14.value - 0.375) <= max(0.01, 3 * w14.mcse)
    med = est[("Funnel time to convert", "time_median_km")]
    assert med.unit == "days" and abs(med.value - 7.0) <= 0.3
    rt = est[("Response within target", "within_target (KM)")]
    assert abs(rt.value - 0.9 * (1 - 2.0**-4)) <= max(0.01, 3 * rt.mcse)
    assert est[("Response within target", "within_target_answered")].value > 0.9
    # key drivers: the weak driver is found more often than not
    power = est[("Key-driver test", "permutation")]
    assert power.value > 0.5


def test_enumeration_matches_statsmodels() -> None:
    # exact coverage of the Wilson interval at n=12, p=0.3 from the harness's
    # enumeration of CSAT answers, against statsmodels' proportion_confint
    sm = pytest.importorskip("statsmodels.stats.proportion")
    n, p = 12, 0.3
    k = np.arange(n + 1)
    lo, hi = sm.proportion_confint(k, n, alpha=0.05, method="wilson")
    from scipy.stats import binom

    expected = float(np.sum(binom.pmf(k, n, p) * ((lo <= p) & (p <= hi))))
    comps = vs.compositions(n, 2)  # (not satisfied, satisfied)
    pr = vs.multinomial_pmf(comps, np.array([1 - p, p]))
    cis = [tp.csat(np.repeat([2, 5], c)).confidence_interval(method="wilson") for c in comps]
    got = float(np.sum(pr * vs._cover([c.low for c in cis], [c.high for c in cis], 100 * p)))
    assert got == pytest.approx(expected, abs=1e-12)


def test_compositions_and_pmf_are_a_distribution() -> None:
    c = vs.compositions(6, 3)
    assert len(c) == 28  # C(8, 2)
    assert (c.sum(axis=1) == 6).all()
    assert vs.multinomial_pmf(c, np.array([0.2, 0.3, 0.5])).sum() == pytest.approx(1.0)


def test_row_tolerance() -> None:
    r = vs.Row("f", "m", "s", "10", "coverage", 0.95, 0.93, 0)
    assert r.tol == pytest.approx(0.025)
    assert r.ok
    r = vs.Row("f", "m", "s", "10", "coverage", 0.95, 0.92, 0)
    assert not r.ok
    r = vs.Row("f", "m", "s", "10", "size", 0.05, 0.07, 100)  # 3 MC SE = 6.5 points
    assert r.tol == pytest.approx(3 * np.sqrt(0.05 * 0.95 / 100))
    assert r.ok


def test_the_page_lists_every_family(rows: list[Any]) -> None:
    page = vs.render_markdown(rows)
    assert page.startswith("# Validation")
    for fam in {r.family for r in rows}:
        assert f"## {fam}" in page


def test_merge_replaces_only_the_rerun_rows() -> None:
    head = "| method | data shape | n | measure | nominal | measured | MC SE | reps | verdict | detail |"
    page = (
        "# Validation\n\nintro\n\n## A\n\n"
        + head
        + "\n|---|\n| x | s | 1 | coverage | 95.0% | 90.0% |"
        " 0.0 | 0 | meets |  |\n\n## B\n\n" + head + "\n|---|\n| m | s | 1 | coverage | 95.0% |"
        " 80.0% | 0.0 | 0 | meets |  |\n| other | s | 1 | coverage | 95.0% | 94.0% | 0.0 | 0 | meets |  |\n"
    )
    rows = [vs.Row("B", "m", "s", "1", "coverage", 0.95, 0.96, 10)]
    out = vs.merge_markdown(page, rows, full=True)
    assert "| x | s | 1 | coverage | 95.0% | 90.0% |" in out  # family A untouched
    assert "80.0%" not in out  # the re-run row replaced
    assert "| m | s | 1 | coverage | 95.0% | 96.0% |" in out
    assert "| other | s | 1 | coverage | 95.0% | 94.0% |" in out  # another experiment's row kept
    assert out.index("## A") < out.index("## B")
    new = vs.merge_markdown(out, [vs.Row("C", "m", "s", "1", "size", 0.05, 0.04, 10)], full=False)
    assert new.rstrip().split("## ")[-1].startswith("C")
