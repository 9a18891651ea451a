"""Journey clustering: planted mixtures recovered, one chain left whole, ARI by hand.

The full simulation (replications, k recovery rate, spurious-cluster rate) is
``benchmarks/validate_stats.py``'s ``validate_journey_clusters`` and the
Validation page; these are quick single draws of the same shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.journeys._clusters import adjusted_rand_index


def chains(k: int, states: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(states, 0.4), size=(k, states)), rng.dirichlet(
        np.full(states, 0.4), size=k
    )


def oracle_labels(log, trans, starts, stop):
    """Each journey's most probable cluster under the true chains (the best any method can do)."""
    k = len(starts)
    codes = np.array([int(t[1:]) for t in log.touchpoint_names])[log.touchpoint]
    score = np.zeros((log.n_journeys, k))
    off = log.offsets
    for j in range(log.n_journeys):
        seq = codes[off[j] : off[j + 1]]
        for c in range(k):
            score[j, c] = np.log(starts[c, seq[0]]) + np.log(trans[c, seq[:-1], seq[1:]]).sum()
    del stop  # the stopping probability is the same in every chain
    return np.argmax(score, axis=1)


def simulate(n: int, k: int, *, states: int = 6, seed: int = 0, stop: float = 0.15):
    """``n`` journeys from ``k`` random first-order chains; returns (log, true cluster)."""
    trans, starts = chains(k, states, seed)
    rng = np.random.default_rng(seed + 1000)
    truth = rng.integers(0, k, size=n)
    jour, tps, times = [], [], []
    for j in range(n):
        c = truth[j]
        s = rng.choice(states, p=starts[c])
        for step in range(40):
            jour.append(j)
            tps.append(f"t{s}")
            times.append(float(step))
            if rng.random() < stop:
                break
            s = rng.choice(states, p=trans[c, s])
    return tp.EventLog.from_arrays(jour, tps, times), truth


def test_ari_by_hand():
    # contingency [[2, 1, 0], [0, 1, 2]]: sum C(n_ij, 2) = 2, rows 3 + 3 = 6, columns
    # 1 + 1 + 1 = 3, C(6, 2) = 15: (2 - 6 * 3 / 15) / ((6 + 3) / 2 - 6 * 3 / 15) = 0.8 / 3.3
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(0.8 / 3.3)
    assert adjusted_rand_index([1, 1, 2, 2], [5, 5, 7, 7]) == 1.0
    # independent labelings average 0
    rng = np.random.default_rng(1)
    vals = [
        adjusted_rand_index(rng.integers(0, 3, 300), rng.integers(0, 3, 300)) for _ in range(50)
    ]
    assert abs(np.mean(vals)) < 0.01


def test_planted_mixture_recovered():
    log, truth = simulate(900, 3, seed=3)
    cl = tp.cluster_journeys(log, seed=1, max_k=5, n_resamples=4)
    assert cl.k == 3
    trans, starts = chains(3, 6, 3)
    best = adjusted_rand_index(truth, oracle_labels(log, trans, starts, 0.15))
    ours = adjusted_rand_index(truth, cl.labels)
    # short journeys cannot all be told apart: compare with the true chains' own labels
    assert ours > best - 0.08, (ours, best)
    assert adjusted_rand_index(oracle_labels(log, trans, starts, 0.15), cl.labels) > 0.75
    assert cl.stability > 0.7
    assert np.allclose(cl.membership.sum(axis=1), 1.0)
    assert cl.table["journeys"].sum() == log.n_journeys
    assert list(cl.table["journeys"]) == sorted(cl.table["journeys"], reverse=True)


def test_one_chain_is_one_cluster():
    log, _ = simulate(800, 1, seed=5)
    cl = tp.cluster_journeys(log, seed=0, max_k=4, n_resamples=0)
    assert cl.k == 1
    assert set(cl.labels.tolist()) == {1}


def test_assign_reproduces_labels_and_handles_new_touchpoints():
    log, _ = simulate(400, 2, seed=7)
    cl = tp.cluster_journeys(log, k=2, seed=0, n_resamples=0)
    assert (cl.assign(log) == cl.labels).all()
    new = tp.EventLog.from_arrays([1, 1, 1], ["t0", "never_seen", "t1"], [0.0, 1, 2])
    out = cl.assign(new)
    assert out.shape == (1,) and out[0] in (1, 2)


def test_conversion_interval_per_cluster():
    # journeys a b a b (three, two convert) and a c a c (three): the second step tells them
    # apart (journeys differing only in where they start would not be identifiable)
    seqs = ["abab"] * 3 + ["acac"] * 3
    journey = [j for j, s in enumerate(seqs) for _ in s]
    names = [t for s in seqs for t in s]
    outcome = [0.0] * len(names)
    outcome[3] = outcome[7] = 1.0
    log = tp.EventLog.from_arrays(
        journey, names, [float(i) for i in range(len(names))], outcome=outcome
    )
    cl = tp.cluster_journeys(log, k=2, n_resamples=0)
    rec = {r["cluster"]: r for r in cl.table.to_records()}
    ab = next(r for r in cl.table.to_records() if "a > b" in r["characteristic"])
    assert ab["journeys"] == 3 and ab["converted"] == 2
    # Wilson 95% for 2 of 3, computed by hand: centre (2/3 + z^2/6) / (1 + z^2/3)
    z = 1.959963984540054
    p, n = 2 / 3, 3
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert ab["ci_low"] == pytest.approx(centre - half) and ab["ci_high"] == pytest.approx(
        centre + half
    )
    assert rec
