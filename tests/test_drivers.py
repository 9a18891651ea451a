"""Tests for key touchpoints, exit points, relative weights and the report sections
that use them."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

import touchpoint as tp
from funnel_logs import (
    make_log,
    simulate,
    small_design,
)
from touchpoint import EventLog, Journey, Touchpoint

# ---------------------------------------------------------------------------
# hand-built logs with known answers
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# drop-off detection
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# key touchpoints, exits, relative weights, report sections
# ---------------------------------------------------------------------------
def test_relative_weights_match_shapley_r2_for_two_predictors():
    # for two predictors the Shapley R^2 decomposition has a closed form:
    # w1 = (R2 - r2y^2 + r1y^2) / 2 (Lipovetsky & Conklin 2001); relative weights agree
    # closely and sum exactly to R^2.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 2)) @ np.array([[1.0, 0.5], [0.0, 1.0]])
    y = x @ np.array([1.0, 0.5]) + rng.normal(size=5000)
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    w = tp.relative_weights(r)
    beta = np.linalg.solve(r[:2, :2], r[:2, 2])
    r2 = float(beta @ r[:2, 2])
    assert w.sum() == pytest.approx(r2)
    shapley1 = (r2 - r[1, 2] ** 2 + r[0, 2] ** 2) / 2
    assert w[0] == pytest.approx(shapley1, abs=0.02)


def test_shapley_r2_matches_permutation_brute_force():
    # independent reference: average over all 4! orders of the incremental R^2 of
    # least-squares fits on the raw data (numpy lstsq with intercept)
    rng = np.random.default_rng(5)
    n, p = 400, 4
    x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p))
    y = x @ np.array([1.0, -0.5, 0.2, 0.0]) + rng.normal(size=n)

    def r2(cols):
        if not cols:
            return 0.0
        a = np.column_stack([np.ones(n), x[:, list(cols)]])
        resid = y - a @ np.linalg.lstsq(a, y, rcond=None)[0]
        return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))

    ref = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        for i, j in enumerate(order):
            ref[j] += r2(order[: i + 1]) - r2(order[:i])
    ref /= len(perms)
    r = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    assert tp.shapley_r2(r) == pytest.approx(ref, abs=1e-10)
    assert tp.relative_weights(r).sum() == pytest.approx(ref.sum())
    assert tp.relative_weights(r) == pytest.approx(ref, abs=0.05)  # an approximation
    with pytest.raises(tp.ValidationError, match="predictors"):
        tp.shapley_r2(np.eye(20))


def test_exit_points_and_key_touchpoints():
    design = small_design()
    paths = {i: ["ad", "site", "checkout"] for i in range(40)}
    paths |= {100 + i: ["ad", "reviews"] for i in range(30)}  # reviews: an exit point
    paths |= {200 + i: ["ad", "site"] for i in range(10)}
    log = make_log(paths, design=design, conversions=["checkout"])
    ex = tp.exit_points(log)
    top = ex.to_records()[0]
    assert top["touchpoint"] == "reviews"
    assert top["exit_rate"] == 1.0
    assert top["stage_rate"] == pytest.approx(10 / 50)
    assert top["significant"]
    kt = tp.key_touchpoints(log)
    rows = {r["touchpoint"]: r for r in kt.to_records()}
    assert rows["site"]["conversion_with"] == pytest.approx(40 / 50)
    assert rows["site"]["conversion_without"] == pytest.approx(0 / 30)
    assert rows["reviews"]["exit_significant"]


def _exit_log():
    design = small_design()
    paths = {i: ["ad", "site", "checkout"] for i in range(40)}
    paths |= {100 + i: ["ad", "reviews"] for i in range(30)}
    paths |= {200 + i: ["ad", "site"] for i in range(10)}
    return make_log(paths, design=design, conversions=["checkout"])


def test_exit_points_from_a_markov_like_model():
    # a stand-in with the MarkovModel interface (states, counts, source): first-order
    # counts of the log above, journeys absorbed at conversion
    sparse = pytest.importorskip("scipy.sparse")
    log = _exit_log()
    states = ["(start)", "ad", "site", "reviews", "checkout", "(conversion)", "(null)"]
    c = np.zeros((7, 7))
    c[0, 1] = 80
    c[1, 2], c[1, 3] = 50, 30
    c[2, 4], c[2, 6] = 40, 10
    c[3, 6] = 30
    c[4, 5] = 40

    class Model:
        pass

    m = Model()
    m.states, m.counts, m.source = tuple(states), sparse.csr_matrix(c), log
    from_model = tp.exit_points(m).to_records()
    from_log = {r["touchpoint"]: r for r in tp.exit_points(log).to_records()}
    for r in from_model:
        if r["touchpoint"] == "checkout":  # the log counts the checkout event itself
            continue
        assert r["exit_rate"] == pytest.approx(from_log[r["touchpoint"]]["exit_rate"])
        assert r["significant"] == from_log[r["touchpoint"]]["significant"]
    with pytest.raises(tp.ValidationError, match="EventLog or a MarkovModel"):
        tp.exit_points([1, 2])


def test_exit_points_with_fit_markov():
    markov = pytest.importorskip("touchpoint.markov")  # lands with the Markov module
    log = _exit_log()
    got = {r["touchpoint"]: r["exit_rate"] for r in tp.exit_points(markov.fit_markov(log))}
    assert got["reviews"] == 1.0
    assert got["site"] == pytest.approx(10 / 50)
    attribution = importlib.import_module("touchpoint.markov._attribution")
    re_ = attribution.removal_effects(markov.fit_markov(log))
    kt = {r["touchpoint"]: r["removal_effect"] for r in tp.key_touchpoints(log)}
    for name, effect in zip(re_.names, re_.effect.tolist(), strict=True):
        assert kt[name] == pytest.approx(effect)


def test_key_touchpoints_experience_drivers():
    rng = np.random.default_rng(2)
    n = 600
    paths = {i: ["ad", "site", "support"] for i in range(n)}
    conv = rng.random(n) < 0.5
    j, names, t, out = [], [], [], []
    for i in range(n):
        for k, name in enumerate(paths[i]):
            j.append(i)
            names.append(name)
            t.append(float(k))
            out.append(1.0 if (conv[i] and k == 2) else 0.0)
    log = EventLog.from_arrays(j, names, np.array(t), outcome=out)
    support = rng.normal(size=n)
    site = rng.normal(size=n)
    nps = np.clip(np.round(6 + 2 * support + 0.2 * rng.normal(size=n)), 0, 10)
    rows = []
    for i in range(n):
        rows.append({"journey": i, "touchpoint": "support", "ease": 3 + support[i] + conv[i]})
        rows.append({"journey": i, "touchpoint": "site", "ease": 3 + site[i]})
        rows.append({"journey": i, "touchpoint": "", "ease": np.nan, "nps": nps[i]})
    responses = tp.Table.from_records(rows)
    kt = tp.key_touchpoints(log, responses, metric="ease", n_resamples=30)
    r = {x["touchpoint"]: x for x in kt.to_records()}
    rating = 3 + support + conv
    a, b = rating[conv], rating[~conv]
    assert r["support"]["ease_gap"] == pytest.approx(a.mean() - b.mean())
    # one rating per customer: the cluster-robust (CR2) se is s / sqrt(n) and the t
    # quantile is on the smaller side's n - 1 degrees of freedom
    from scipy import stats

    q = stats.t.ppf(0.975, min(len(a), len(b)) - 1)
    half = q * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert r["support"]["gap_ci_high"] == pytest.approx(a.mean() - b.mean() + half, rel=1e-5)
    assert r["support"]["gap_qvalue"] < 1e-6
    assert r["support"]["driver_share"] > 0.9
    assert r["support"]["driver_ci_low"] <= r["support"]["driver_share"]
    assert np.isnan(r["ad"]["driver_weight"])  # never rated
    sh = tp.key_touchpoints(log, responses, metric="ease", method="shapley", n_resamples=10)
    s2 = {x["touchpoint"]: x for x in sh.to_records()}
    assert s2["support"]["driver_share"] == pytest.approx(r["support"]["driver_share"], abs=0.02)
    with pytest.raises(tp.ValidationError, match="`method`"):
        tp.key_touchpoints(log, responses, metric="ease", method="ols")


def test_report_sections_on_simulated_log():
    from touchpoint.report import build_report

    log = simulate(np.random.default_rng(3), weeks=10, n=300, drop=0.25)
    design = Journey(
        stages=tp.stages.CUSTOMER_LIFECYCLE,
        touchpoints=[
            Touchpoint("0", stage="consideration"),
            Touchpoint("1", stage="purchase"),
            Touchpoint("2", stage="usage"),
        ],
    )
    design.add_transition("0", "1")
    design.add_transition("1", "2")
    origin = np.datetime64("2026-01-05T00:00:00", "ns")
    t = origin + (log.timestamp * 1e9).astype("timedelta64[ns]")
    # conversion as an outcome on the checkout event (report.section_markov needs a value
    # column: with conversions= alone it raises KeyError 'value', reported to the lead)
    outcome = (np.array(log.touchpoint_names)[log.touchpoint] == "2").astype(float)
    dlog = EventLog.from_arrays(
        log.journey, log.touchpoint, t, outcome, extra=dict(log.extra), design=design
    )
    text = build_report(dlog).to_text()
    assert "Funnel by stage" in text
    assert "Drop-offs" in text
    assert "1 > 2" in text
    assert "device=mobile" in text
    assert "Key touchpoints" in text


def _driver_fixture(seed: int, n: int = 300):
    """Customers rate t0..t3 (1-5); NPS follows t0 strongly, t1 a little, not t2 or t3."""
    rng = np.random.default_rng(seed)
    names = ["t0", "t1", "t2", "t3"]
    j = np.repeat(np.arange(n), 4)
    log = EventLog.from_arrays(
        j, np.tile(names, n), np.tile(np.arange(4.0), n), outcome=np.tile([0, 0, 0, 1], n)
    )
    z = rng.normal(size=(n, 4))
    csat = np.clip(np.round(3 + z), 1, 5)
    nps = np.clip(np.round(6 + 1.5 * z[:, 0] + 0.6 * z[:, 1] + 1.5 * rng.normal(size=n)), 0, 10)
    rows = [
        {"journey": i, "touchpoint": names[k], "csat": csat[i, k], "nps": np.nan}
        for i in range(n)
        for k in range(4)
    ]
    rows += [{"journey": i, "touchpoint": "", "csat": np.nan, "nps": nps[i]} for i in range(n)]
    return log, tp.Table.from_records(rows), csat, nps


def test_driver_pvalue_matches_shuffling_the_score_by_hand():
    from touchpoint.drivers import _pairwise_corr, relative_weights

    log, responses, csat, nps = _driver_fixture(3, n=120)
    csat = csat.copy()
    csat[::7, 2] = np.nan  # customers who did not rate t2
    rows = []
    for i in range(len(nps)):
        for k, name in enumerate(["t0", "t1", "t2", "t3"]):
            rows.append({"journey": i, "touchpoint": name, "csat": csat[i, k], "nps": np.nan})
        rows.append({"journey": i, "touchpoint": "", "csat": np.nan, "nps": nps[i]})
    responses = tp.Table.from_records(rows)
    b = 40
    kt = tp.key_touchpoints(log, responses, n_resamples=b, seed=11)
    r = {x["touchpoint"]: x for x in kt.to_records()}
    # by hand: the same shuffles (drawn after the bootstrap's weights), each
    # rating's correlation with the shuffled score over the customers who rated it
    rng = np.random.default_rng(11)
    rng.multinomial(len(nps), np.full(len(nps), 1 / len(nps)), b)

    def abs_corr(y):
        out = []
        for k in range(4):
            ok = ~np.isnan(csat[:, k])
            out.append(abs(np.corrcoef(csat[ok, k], y[ok])[0, 1]))
        return np.array(out)

    observed = abs_corr(nps)
    exceed = np.zeros(4)
    for _ in range(b):
        exceed += abs_corr(rng.permutation(nps)) >= observed - 1e-12
    want = (1 + exceed) / (1 + b)
    got = [r[t]["driver_pvalue"] for t in ("t0", "t1", "t2", "t3")]
    np.testing.assert_allclose(got, want)
    assert r["t0"]["driver_pvalue"] == pytest.approx(1 / (1 + b))  # the strong driver
    w0 = relative_weights(_pairwise_corr(np.column_stack([csat, nps]), np.ones((1, len(nps))))[0])
    assert r["t0"]["driver_weight"] == pytest.approx(w0[0])
    assert "driver_qvalue" in kt.columns


def test_driver_intervals_hold_zero_for_unrelated_touchpoints_only():
    # the percentile interval of a share (always > 0) never held 0; now an
    # unrelated touchpoint's interval starts at 0 unless its test rejects
    covered = rejected = 0
    for seed in range(12):
        log, responses, _, _ = _driver_fixture(100 + seed)
        r = {
            x["touchpoint"]: x
            for x in tp.key_touchpoints(log, responses, n_resamples=60).to_records()
        }
        assert r["t0"]["driver_ci_low"] > 0  # the strong driver is never "maybe zero"
        assert r["t0"]["driver_pvalue"] <= 0.05
        for t in ("t2", "t3"):
            lo, hi, p = r[t]["driver_ci_low"], r[t]["driver_ci_high"], r[t]["driver_pvalue"]
            assert lo <= r[t]["driver_share"] <= hi
            assert (lo == 0.0) == (p > 0.05)
            covered += lo <= 0.0 <= hi
            rejected += p <= 0.05
    # 24 unrelated touchpoints: a 5% test rejects more than 5 of them with prob. < 0.01
    assert rejected <= 5
    assert covered == 24 - rejected


def test_driver_pvalue_needs_resamples():
    log, responses, _, _ = _driver_fixture(1, n=60)
    kt = tp.key_touchpoints(log, responses, n_resamples=0)
    assert np.isnan(kt["driver_pvalue"]).all()
    assert np.isfinite(kt["driver_weight"][np.isin(kt["touchpoint"], ["t0"])]).all()


def test_key_touchpoints_csat_gap_is_clustered_by_customer():
    # repeat ratings of one customer are one respondent: the gap and its test are
    # compare_csat of csat(..., cluster=customer) on each side
    rng = np.random.default_rng(4)
    customers = 120
    visits = 1 + rng.poisson(2.0, customers)
    j = np.repeat(np.arange(customers), visits)
    u = rng.normal(size=customers)
    score = np.clip(np.round(3.3 + u[j] + 0.6 * rng.normal(size=len(j))), 1, 5)
    conv = rng.random(customers) < 0.4
    jj = np.concatenate([j, np.arange(customers)])
    names = np.concatenate([["t0"] * len(j), ["end"] * customers])
    t = np.concatenate([np.arange(len(j), dtype=float), np.full(customers, 1e9)])
    out = np.concatenate([np.zeros(len(j)), conv.astype(float)])
    order = np.lexsort((t, jj))
    log = EventLog.from_arrays(jj[order], names[order], t[order], outcome=out[order])
    resp = tp.Table(
        {"customer": j, "touchpoint": np.array(["t0"] * len(j), dtype=object), "csat": score}
    )
    kt = tp.key_touchpoints(log, resp, journey="customer", n_resamples=0, min_responses=2)
    row = {r["touchpoint"]: r for r in kt.to_records()}["t0"]
    a, b = conv[j], ~conv[j]
    ref = tp.compare_csat(tp.csat(score[a], cluster=j[a]), tp.csat(score[b], cluster=j[b]))
    assert row["csat_gap"] == pytest.approx(ref.difference)
    assert row["gap_pvalue"] == pytest.approx(ref.pvalue)
    assert (row["gap_ci_low"], row["gap_ci_high"]) == pytest.approx(
        tuple(ref.confidence_interval())
    )
    # independent check of the CR2 se of one side: sum_g u_g^2 / (1 - n_g / N) / N^2
    s = (score[a] >= 4).astype(float)
    _, inv, n_g = np.unique(j[a], return_inverse=True, return_counts=True)
    res = np.bincount(inv, weights=s - s.mean())
    cr2 = np.sqrt(np.sum(res * res / (1 - n_g / len(s)))) / len(s)
    assert tp.csat(score[a], cluster=j[a]).se == pytest.approx(100 * cr2)
    # the Markov removal effect is computed (a plain import, never a silent NaN column)
    assert np.isfinite(kt["removal_effect"]).all()
