"""Markov journey models: counting, absorbing analysis, order tests, simulation.

References are independent dense numpy computations of the same chain
(Kemeny and Snell 1960: N = (I - Q)^-1, B = N R, t = N 1) and scipy.stats.
"""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import touchpoint as tp
from touchpoint.exceptions import UnknownTouchpointError, ValidationError
from touchpoint.markov import CONVERSION, NULL, START


def random_log(seed: int, n_journeys: int = 60, k: int = 4, max_len: int = 6) -> tp.EventLog:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_len + 1, n_journeys)
    j = np.repeat(np.arange(n_journeys), lengths)
    names = np.array([f"t{i}" for i in range(k)], dtype=object)
    # a sticky random walk so transitions are uneven
    t = rng.integers(0, k, len(j))
    time = np.arange(len(j), dtype=float)
    conv = rng.random(n_journeys) < 0.4
    last = np.r_[j[1:] != j[:-1], True]
    outcome = np.where(last & conv[j], 1.0, np.nan)
    return tp.EventLog.from_arrays(j, names[t], time, outcome=outcome)


def paths_of(log: tp.EventLog) -> list[tuple[tuple[str, ...], bool]]:
    return list(zip(log.paths(), log.converted().tolist(), strict=True))


def dense_chain(log: tp.EventLog, order: int = 1):
    """Independent reference: count k-tuples with Python loops, build dense P."""
    counts: dict[tuple, dict] = {}
    for path, conv in paths_of(log):
        prev: tuple = (START,)
        for i in range(len(path)):
            state = tuple(path[max(0, i - order + 1) : i + 1])
            counts.setdefault(prev, {}).setdefault(state, 0)
            counts[prev][state] += 1
            prev = state
        end = (CONVERSION,) if conv else (NULL,)
        counts.setdefault(prev, {}).setdefault(end, 0)
        counts[prev][end] += 1
    transient = sorted({s for s in counts if s != (START,)})
    states = [(START,), *transient, (CONVERSION,), (NULL,)]
    idx = {s: i for i, s in enumerate(states)}
    p = np.zeros((len(states), len(states)))
    for a, row in counts.items():
        tot = sum(row.values())
        for b, c in row.items():
            p[idx[a], idx[b]] = c / tot
    p[-2, -2] = p[-1, -1] = 1
    return states, p


def label(model, s):
    if s in ((START,), (CONVERSION,), (NULL,)):
        return s[0]
    return s[0] if model.order == 1 else s


def absorb(p):
    m = p.shape[0] - 2
    q, r = p[:m, :m], p[:m, m:]
    n = np.linalg.inv(np.eye(m) - q)
    return n, n @ r, n @ np.ones(m)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), order=st.integers(1, 3), k=st.integers(2, 6))
def test_absorbing_analysis_matches_dense_numpy(seed, order, k):
    log = random_log(seed, k=k)
    model = tp.fit_markov(log, order=order)
    states, p = dense_chain(log, order)
    n_mat, b, t = absorb(p)
    assert model.n_transient == len(states) - 3
    for i, s in enumerate(states[:-2]):
        lab = label(model, s)
        assert model.conversion_probability(lab) == pytest.approx(b[i, 0], abs=1e-10)
        assert model.expected_steps(lab) == pytest.approx(t[i], abs=1e-9)
    # every transition probability
    for i, a in enumerate(states[:-2]):
        for j, bb in enumerate(states):
            assert model.probability(label(model, a), label(model, bb)) == pytest.approx(
                p[i, j], abs=1e-12
            )
    # fundamental matrix, reordered to ours
    ours = [model._index(label(model, s)) for s in states[:-2]]
    fm = model.fundamental_matrix()
    np.testing.assert_allclose(fm[np.ix_(ours, ours)], n_mat, atol=1e-9)
    ab = model.absorption_probabilities()
    np.testing.assert_allclose(ab["conversion"] + ab["null"], 1.0, atol=1e-10)
    # rows of the transition matrix sum to one
    np.testing.assert_allclose(np.asarray(model.transition_matrix.sum(axis=1)).ravel(), 1.0)


def dense_removal(p: np.ndarray, removed: list[int]) -> float:
    """Brute force: send every transition into a removed state to null, re-solve densely."""
    p = p.copy()
    for s in removed:
        p[:, -1] += p[:, s]
        p[:, s] = 0.0
        p[s, :] = 0.0
        p[s, -1] = 1.0
    _, b, _ = absorb(p)
    return float(b[0, 0])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), order=st.integers(1, 3), dense=st.booleans())
def test_removal_effects_match_brute_force(seed, order, dense):
    attr = importlib.import_module("touchpoint.markov._absorbing")

    log = random_log(seed, k=4)
    model = tp.fit_markov(log, order=order)
    states, p = dense_chain(log, order)
    base = dense_removal(p, [])
    old = attr.DENSE_LIMIT
    attr.DENSE_LIMIT = 10**6 if dense else 0  # force the sparse LU path too
    try:
        re = tp.removal_effects(model)
    finally:
        attr.DENSE_LIMIT = old
    assert re.conversion_probability == pytest.approx(base, abs=1e-10)
    for name, eff in zip(re.names, re.effect.tolist(), strict=True):
        removed = [i for i, s in enumerate(states[1:-2], start=1) if name in s]
        expect = 1 - dense_removal(p, removed) / base if base > 0 else 0.0
        assert eff == pytest.approx(expect, abs=1e-9), name
    # shares credit all conversions
    assert re.table["markov_credit"].sum() == pytest.approx(log.converted().sum())


def test_removal_by_state_edge_sequence_and_group():
    log = random_log(3, k=3, n_journeys=80)
    m1 = tp.fit_markov(log)
    states, p = dense_chain(log)
    base = dense_removal(p, [])
    # by state at order 1 equals by touchpoint
    a = tp.removal_effects(m1, each_state=True).effect
    b = tp.removal_effects(m1).effect
    np.testing.assert_allclose(np.sort(a), np.sort(b), atol=1e-12)
    # groups = several touchpoints at once
    g = tp.removal_effects(m1, groups={"pair": ["t0", "t1"]})
    i0, i1 = (states.index((n,)) for n in ("t0", "t1"))
    assert g.effect[0] == pytest.approx(1 - dense_removal(p, [i0, i1]) / base)
    # an edge: redirect t0 > t1 to null
    q = p.copy()
    q[i0, -1] += q[i0, i1]
    q[i0, i1] = 0
    _, bb, _ = absorb(q)
    assert m1.conversion_probability_without(edges=[("t0", "t1")]) == pytest.approx(bb[0, 0])
    # a sequence in an order-2 model removes the states ending or containing it
    m2 = tp.fit_markov(log, order=2)
    states2, p2 = dense_chain(log, 2)
    rem = [i for i, s in enumerate(states2) if s[-2:] == ("t0", "t1") and len(s) == 2]
    assert m2.conversion_probability_without(sequences=[("t0", "t1")]) == pytest.approx(
        dense_removal(p2, rem)
    )
    with pytest.raises(ValidationError, match="order >= 3"):
        m2.conversion_probability_without(sequences=[("t0", "t1", "t2")])


def test_counts_are_mergeable_over_chunks():
    log = random_log(5, n_journeys=200)
    for order in (1, 2, 3):
        whole = tp.count_transitions(log, order=order)
        parts = [tp.count_transitions(c, order=order) for c in log.iter_chunks(37)]
        total = sum(parts)
        assert total == whole
        m1 = tp.fit_markov(log, order=order)
        m2 = tp.MarkovModel.from_counts(total)
        assert m1.states == m2.states
        assert (m1.transition_matrix != m2.transition_matrix).nnz == 0
        assert m1.conversion_probability() == pytest.approx(m2.conversion_probability())


def test_counts_merge_across_different_alphabets():
    a = tp.EventLog.from_arrays([1, 1], ["x", "y"], [0.0, 1.0], outcome=[0, 1])
    b = tp.EventLog.from_arrays([2, 2, 2], ["z", "y", "x"], [0.0, 1, 2], outcome=[0, 0, 0])
    both = tp.EventLog.from_arrays(
        [1, 1, 2, 2, 2], ["x", "y", "z", "y", "x"], [0.0, 1, 0, 1, 2], outcome=[0, 1, 0, 0, 0]
    )
    for order in (1, 2):
        merged = tp.count_transitions(a, order=order) + tp.count_transitions(b, order=order)
        assert merged == tp.count_transitions(both, order=order)
        ma, mb = tp.MarkovModel.from_counts(merged), tp.fit_markov(both, order=order)
        assert set(ma.states) == set(mb.states)
        assert ma.conversion_probability() == pytest.approx(mb.conversion_probability())
    with pytest.raises(ValidationError, match="order"):
        tp.count_transitions(a) + tp.count_transitions(b, order=2)


def test_counting_vectorised_agrees_with_loop_counts():
    log = random_log(11, n_journeys=300, k=5)
    model = tp.fit_markov(log, order=2)
    ref: dict = {}
    for path, conv in paths_of(log):
        seq = [(START,)] + [tuple(path[max(0, i - 1) : i + 1]) for i in range(len(path))]
        seq.append((CONVERSION,) if conv else (NULL,))
        for x, y in itertools.pairwise(seq):
            ref[(x, y)] = ref.get((x, y), 0) + 1
    assert model.counts.sum() == sum(ref.values())
    for (x, y), c in ref.items():
        assert model.count(label(model, x), label(model, y)) == c


def test_collapse_repeats_and_until_conversion():
    log = tp.EventLog.from_arrays(
        [1, 1, 1, 1, 2, 2],
        ["ad", "ad", "site", "email", "ad", "site"],
        [0.0, 1, 2, 3, 0, 1],
        outcome=[0, 0, 10, 0, 0, 0],
    )
    m = tp.fit_markov(log)
    # journey 1 is cut at its conversion (site), so 'email' never appears
    assert "email" not in m.states
    assert m.count("ad", "ad") == 1
    mc = tp.fit_markov(log, collapse_repeats=True)
    assert mc.count("ad", "ad") == 0
    # self-loops do not change absorption probabilities
    assert m.conversion_probability() == pytest.approx(mc.conversion_probability())
    full = tp.fit_markov(log, until_conversion=False)
    assert "email" in full.states
    # conversion touchpoints are the conversion, not a state
    log2 = tp.EventLog.from_arrays([1, 1, 2], ["ad", "buy", "ad"], [0.0, 1, 0], conversions=["buy"])
    m2 = tp.fit_markov(log2)
    assert "buy" not in m2.states
    assert m2.probability("ad", CONVERSION) == 0.5


def test_smoothing_keeps_rows_stochastic_and_adds_unseen_edges():
    log = random_log(2, k=3)
    m = tp.fit_markov(log, smoothing=1.0)
    rows = np.asarray(m.transition_matrix.sum(axis=1)).ravel()
    np.testing.assert_allclose(rows, 1.0)
    m0 = tp.fit_markov(log)
    assert m.transition_matrix.nnz >= m0.transition_matrix.nnz
    # Dirichlet(1) posterior mean for a row with counts n_b: (n_b + 1) / (n + support)
    i = m._index("t0")
    row = m0.counts[i].toarray().ravel()
    support = 3 + 2  # three touchpoints, conversion, null
    assert m.probability("t0", "t1") == pytest.approx(
        (row[m._index("t1")] + 1) / (row.sum() + support)
    )
    with pytest.raises(ValidationError, match="smoothing"):
        tp.fit_markov(log, smoothing=-1)


def test_confidence_intervals():
    log = tp.EventLog.from_arrays(
        list(range(10)), ["ad"] * 10, [0.0] * 10, outcome=[1] * 8 + [0] * 2
    )
    m = tp.fit_markov(log)
    ci = m.confidence_interval("ad", CONVERSION)
    # Wilson 8/10 (statsmodels proportion_confint(8, 10, method="wilson"))
    assert ci.low == pytest.approx(0.4902, abs=1e-4)
    assert ci.high == pytest.approx(0.9433, abs=1e-4)
    d = m.confidence_interval("ad", CONVERSION, method="dirichlet")
    # Beta(8.5, 2.5) equal-tailed 95% interval (Jeffreys prior, two outcomes)
    from scipy.stats import beta

    assert d.low == pytest.approx(beta.ppf(0.025, 8.5, 2.5))
    assert d.high == pytest.approx(beta.ppf(0.975, 8.5, 2.5))


def _looping_log(seed: int = 3, journeys: int = 300):
    """Journeys a (a)* [b]: half the customers loop a lot, half leave soon."""
    rng = np.random.default_rng(seed)
    j, t, tps = [], [], []
    for i in range(journeys):
        stay = 0.8 if i % 2 else 0.1
        path = ["a"]
        while rng.random() < stay:
            path.append("a")
        if rng.random() < 0.5:
            path.append("b")
        j += [i] * len(path)
        tps += path
        t += list(range(len(path)))
    return tp.EventLog.from_arrays(np.array(j), np.array(tps), np.array(t, dtype=float))


def test_transition_intervals_are_cluster_robust_over_journeys():
    # the variance of P(a > a) is the cluster-robust (sandwich over journeys)
    # variance of the ratio estimator, checked against statsmodels; the
    # Wilson interval runs on the variance-equivalent number of transitions
    sm = pytest.importorskip("statsmodels.api")
    from touchpoint._lib.stats import proportion_ci

    log = _looping_log()
    m = tp.fit_markov(log)
    journey, rows, cols = m.journey_transitions()
    i, j = m._index("a"), m._index("a")
    mine = rows == i
    y = (cols[mine] == j).astype(float)
    fit = sm.OLS(y, np.ones(len(y))).fit(cov_type="cluster", cov_kwds={"groups": journey[mine]})
    p = y.mean()
    n_star = p * (1 - p) / fit.bse[0] ** 2
    lo, hi = proportion_ci(p * n_star, n_star)
    ci = m.confidence_interval("a", "a")
    assert (ci.low, ci.high) == pytest.approx((float(lo), float(hi)))
    assert n_star < len(y) / 2  # looping customers carry much less information
    assert m.design_effect("a") > 1.5
    # a model from counts alone has no journeys: the plain binomial interval
    bare = tp.MarkovModel.from_counts(m.transition_counts)
    assert bare.journey_transitions() is None
    assert bare.design_effect("a") == 1.0
    k, n = float(m.counts[i, j]), float(m.counts[i].sum())
    lo, hi = proportion_ci(k, n)
    assert tuple(bare.confidence_interval("a", "a")) == pytest.approx((float(lo), float(hi)))


def test_compare_transitions_divides_by_the_design_effect():
    a, b = tp.fit_markov(_looping_log(3)), tp.fit_markov(_looping_log(4))
    robust = tp.compare_transitions(a, b).table.to_records()
    plain = tp.compare_transitions(
        tp.MarkovModel.from_counts(a.transition_counts),
        tp.MarkovModel.from_counts(b.transition_counts),
    ).table.to_records()
    r = next(x for x in robust if x["state"] == "a")
    q = next(x for x in plain if x["state"] == "a")
    deff = (q["n_a"] * a.design_effect("a") + q["n_b"] * b.design_effect("a")) / (
        q["n_a"] + q["n_b"]
    )
    assert r["statistic"] == pytest.approx(q["statistic"] / deff)


def test_likelihood_aic_bic():
    log = random_log(4, k=3)
    m = tp.fit_markov(log)
    states, p = dense_chain(log)
    ll = 0.0
    for path, conv in paths_of(log):
        seq = [START, *path, CONVERSION if conv else NULL]
        for a, b in itertools.pairwise(seq):
            ll += np.log(p[states.index((a,)), states.index((b,))])
    assert m.log_likelihood == pytest.approx(ll)
    assert m.aic == pytest.approx(-2 * ll + 2 * m.n_parameters)
    assert m.bic == pytest.approx(-2 * ll + m.n_parameters * np.log(m.n_transitions))


def test_select_order_detects_second_order_dependence():
    # next touch depends on the one before the last: a > b > a, c > b > c
    rng = np.random.default_rng(0)
    paths = []
    for _ in range(800):
        first = rng.choice(["a", "c"])
        paths.append([first, "b", first if rng.random() < 0.9 else ("c" if first == "a" else "a")])
    j = np.repeat(np.arange(len(paths)), 3)
    t = np.array([x for p in paths for x in p], dtype=object)
    log = tp.EventLog.from_arrays(j, t, np.tile([0.0, 1, 2], len(paths)))
    sel = tp.select_order(log, max_order=3)
    tab = sel.table
    assert tab["pvalue"][1] == pytest.approx(1 / 200)  # no Monte Carlo table reaches G
    assert sel.best_bic == 2
    assert sel.best_heldout == 2
    # G is 2 (logL_2 - logL_1) of the fitted chains
    ll = [tp.fit_markov(log, order=k).log_likelihood for k in (1, 2)]
    assert tab["statistic"][1] == pytest.approx(2 * (ll[1] - ll[0]))


def test_select_order_monte_carlo_pvalue_agrees_with_chi2_on_dense_tables():
    # plenty of transitions per context: the chi-square reference holds, so the
    # conditional Monte Carlo p-value must agree with it to Monte Carlo error
    from scipy.stats import chi2

    rng = np.random.default_rng(3)
    n = 3000
    lengths = rng.integers(2, 6, n)
    j = np.repeat(np.arange(n), lengths)
    t = rng.choice(np.array(["a", "b"], dtype=object), size=len(j))
    log = tp.EventLog.from_arrays(j, t, np.arange(len(j), dtype=float))
    tab = tp.select_order(log, max_order=2, n_resamples=999).table
    want = chi2.sf(tab["statistic"][1], tab["df"][1])
    assert tab["pvalue"][1] == pytest.approx(
        want, abs=4 * np.sqrt(want * (1 - want) / 1000) + 0.002
    )
    assert np.isnan(tp.select_order(log, max_order=2, n_resamples=0).table["pvalue"][1])


def test_compare_transitions_matches_scipy_chi2():
    from scipy.stats import chi2_contingency

    a = random_log(1, n_journeys=300, k=3)
    b = random_log(2, n_journeys=300, k=3)
    ma, mb = tp.fit_markov(a), tp.fit_markov(b)
    cmp = tp.compare_transitions(ma, mb)
    row = {r["state"]: r for r in cmp.table.to_records()}["t0"]
    labels = ["t0", "t1", "t2", CONVERSION, NULL]
    ta = [ma.count("t0", x) for x in labels]
    tb = [mb.count("t0", x) for x in labels]
    keep = [i for i in range(len(labels)) if ta[i] + tb[i] > 0]
    res = chi2_contingency(
        np.array([[ta[i] for i in keep], [tb[i] for i in keep]]), correction=False
    )
    assert row["statistic"] == pytest.approx(res.statistic)
    assert row["pvalue"] == pytest.approx(res.pvalue)
    assert set(cmp.table.columns) >= {"qvalue", "significant", "top_to"}
    assert len(cmp.edges) > 0


def test_simulate_recovers_the_chain():
    log = random_log(7, n_journeys=200, k=3)
    m = tp.fit_markov(log)
    sim = m.simulate(40_000, seed=3)
    assert sim.converted().mean() == pytest.approx(m.conversion_probability(), abs=0.01)
    m2 = tp.fit_markov(sim)
    assert m2.probability("t0", "t1") == pytest.approx(m.probability("t0", "t1"), abs=0.02)
    # same seed, same journeys
    assert list(m.simulate(50, seed=1).paths()) == list(m.simulate(50, seed=1).paths())
    # higher order simulation emits touchpoints
    m3 = tp.fit_markov(log, order=2)
    s3 = m3.simulate(20_000, seed=2)
    assert s3.converted().mean() == pytest.approx(m3.conversion_probability(), abs=0.015)


def test_what_if_renormalises_row():
    log = random_log(8, k=3)
    m = tp.fit_markov(log)
    w = m.what_if({("t0", CONVERSION): 0.05})
    new = w.model
    row = np.asarray(new.transition_matrix[new._index("t0")].todense()).ravel()
    assert row.sum() == pytest.approx(1.0)
    old_p = m.probability("t0", CONVERSION)
    assert new.probability("t0", CONVERSION) == pytest.approx(old_p + 0.05)
    # others scaled by (1 - new) / (1 - old)
    f = (1 - old_p - 0.05) / (1 - old_p)
    assert new.probability("t0", "t1") == pytest.approx(m.probability("t0", "t1") * f)
    assert w.after > w.before
    assert w.change == pytest.approx(w.after - w.before)


def test_stationary_distribution_and_networkx():
    log = random_log(9, k=3)
    m = tp.fit_markov(log)
    pi = m.stationary_distribution()
    # restarting chain: absorbing states jump back to start; pi P = pi
    p = m.transition_matrix.toarray()
    p[-2:, :] = 0
    p[-2:, 0] = 1
    v = np.asarray(pi["probability"], dtype=float)
    np.testing.assert_allclose(v @ p, v, atol=1e-12)
    g = m.to_networkx()
    assert g.number_of_nodes() == len(m.states)
    assert g["t0"]["t1"]["probability"] == pytest.approx(m.probability("t0", "t1"))
    assert g["t0"]["t1"]["count"] == m.count("t0", "t1")


def test_max_steps_conversion():
    log = tp.EventLog.from_arrays(
        [1, 1, 1, 2], ["a", "b", "c", "a"], [0.0, 1, 2, 0], outcome=[0, 0, 1, 0]
    )
    m = tp.fit_markov(log)
    # conversion needs 4 transitions: start > a > b > c > conversion
    assert m.conversion_probability(max_steps=3) == 0
    assert m.conversion_probability(max_steps=4) == pytest.approx(0.5)


def test_stage_states_and_errors():
    j = tp.Journey(stages=tp.stages.PURCHASE_PHASES)
    j.add_touchpoint(tp.Touchpoint("ad", stage="pre-purchase", channel="paid"))
    j.add_touchpoint(tp.Touchpoint("cart", stage="purchase", channel="web"))
    log = tp.EventLog.from_arrays(
        [1, 1, 2], ["ad", "cart", "ad"], [0.0, 1, 0], outcome=[0, 1, 0], design=j
    )
    m = tp.fit_markov(log, states="stage")
    assert set(m.states[1:-2]) == {"pre-purchase", "purchase"}
    mc = tp.fit_markov(log, states="channel")
    assert set(mc.states[1:-2]) == {"paid", "web"}
    re = tp.removal_effects(tp.fit_markov(log), states="channel")
    assert set(re.names) == {"paid", "web"}
    with pytest.raises(UnknownTouchpointError):
        tp.fit_markov(log).probability("nope", "ad")
    with pytest.raises(ValidationError, match="order"):
        tp.fit_markov(log, order=0)
    with pytest.raises(ValidationError, match="states"):
        tp.fit_markov(log, states="bogus")  # type: ignore[arg-type]
    nodesign = tp.EventLog.from_arrays([1], ["ad"], [0.0])
    with pytest.raises(ValidationError, match="design"):
        tp.fit_markov(nodesign, states="stage")
    assert "MarkovModel(order=1" in repr(m)


@pytest.mark.parametrize("order", [1, 2])
def test_large_chain_iterative_path_matches_lu(order, monkeypatch):
    log = random_log(21, n_journeys=150, k=4)
    ref = tp.fit_markov(log, order=order)
    monkeypatch.setattr(importlib.import_module("touchpoint.markov._absorbing"), "DENSE_LIMIT", 0)
    big = tp.fit_markov(log, order=order)
    assert big.conversion_probability() == pytest.approx(ref.conversion_probability(), abs=1e-12)
    assert big.expected_steps() == pytest.approx(ref.expected_steps(), abs=1e-10)
    np.testing.assert_allclose(
        big.stationary_distribution()["probability"],
        ref.stationary_distribution()["probability"],
        atol=1e-12,
    )
    assert big.conversion_probability_without(touchpoints=["t1"]) == pytest.approx(
        ref.conversion_probability_without(touchpoints=["t1"]), abs=1e-12
    )
    np.testing.assert_allclose(
        tp.removal_effects(big).effect, tp.removal_effects(ref).effect, atol=1e-11
    )


def test_select_order_verdict_first_order_chain():
    # journeys simulated from a first-order chain: order 1 should be enough
    log = random_log(30, n_journeys=40, k=3)
    sim = tp.fit_markov(log).simulate(4000, seed=5)
    sel = tp.select_order(sim, max_order=3)
    assert sel.best_bic == 1
    assert sel.verdict.startswith("order 1 is good enough")
