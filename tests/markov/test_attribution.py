"""Attribution models, checked against hand computations and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import touchpoint as tp
from touchpoint.exceptions import ValidationError


def small_log() -> tp.EventLog:
    # j1: ad > site > email (converts, 100); j2: site (converts, 40); j3: ad > ad (no)
    return tp.EventLog.from_arrays(
        [1, 1, 1, 2, 3, 3],
        ["ad", "site", "email", "site", "ad", "ad"],
        np.array([0.0, 86400, 3 * 86400, 0, 0, 10]),
        outcome=[0, 0, 100, 40, 0, 0],
    )


def credit(att: tp.Attribution) -> dict[str, tuple[float, float]]:
    t = att.table
    return {r["touchpoint"]: (r["conversions"], r["value"]) for r in t.to_records()}


def test_heuristic_models_by_hand():
    log = small_log()
    c = credit(tp.attribution(log, "first_touch"))
    assert c["ad"] == (1, 100)
    assert c["site"] == (1, 40)
    assert c["email"] == (0, 0)
    c = credit(tp.attribution(log, "last_touch"))
    assert c["email"] == (1, 100)
    assert c["site"] == (1, 40)
    assert c["ad"] == (0, 0)
    c = credit(tp.attribution(log, "linear"))
    assert c["ad"] == pytest.approx((1 / 3, 100 / 3))
    assert c["site"] == pytest.approx((1 + 1 / 3, 40 + 100 / 3))
    c = credit(tp.attribution(log, "position"))
    # three touches: 40% first, 40% last, 20% middle
    assert c["ad"] == pytest.approx((0.4, 40))
    assert c["site"] == pytest.approx((1.2, 40 + 20))
    assert c["email"] == pytest.approx((0.4, 40))
    # time decay, half-life 1 day: weights 2^-3, 2^-2, 1 for ad, site, email
    c = credit(tp.attribution(log, "time_decay", half_life=86400.0))
    w = np.array([2**-3, 2**-2, 1.0])
    w /= w.sum()
    assert c["ad"][0] == pytest.approx(w[0])
    assert c["site"][0] == pytest.approx(w[1] + 1)
    assert c["email"][1] == pytest.approx(100 * w[2])
    for model in ("first_touch", "last_touch", "linear", "position", "time_decay", "shapley"):
        t = tp.attribution(log, model).table
        assert t["conversions"].sum() == pytest.approx(2)
        assert t["value"].sum() == pytest.approx(140)


def test_markov_attribution_splits_by_removal_effect():
    log = small_log()
    att = tp.attribution(log, "markov", allocation="journey")
    re = att.removal_effects
    assert re is not None
    eff = dict(zip(re.names, re.effect.tolist(), strict=True))
    c = credit(att)
    # by hand: each converting journey split over its own touchpoints by removal effect
    j1 = {t: eff[t] / (eff["ad"] + eff["site"] + eff["email"]) for t in ("ad", "site", "email")}
    expected = {t: (j1[t], 100 * j1[t]) for t in j1}
    expected["site"] = (j1["site"] + 1, 100 * j1["site"] + 40)  # j2 is site alone
    for name, want in expected.items():
        assert c[name] == pytest.approx(want)
    # ChannelAttribution's allocation stays available in the removal-effects table
    share = dict(zip(re.names, re.share.tolist(), strict=True))
    ca = dict(zip(re.table["touchpoint"].tolist(), re.table["markov_credit"].tolist()))
    total = credit(tp.attribution(log, "markov"))  # the default: allocation="total"
    for name, s in share.items():
        assert ca[name] == pytest.approx(2 * s)
        assert total[name][0] == pytest.approx(2 * s)
    mv = dict(zip(re.table["touchpoint"].tolist(), re.table["markov_value"].tolist()))
    assert sum(mv.values()) == pytest.approx(140)
    for name, v in mv.items():  # value spread by the same shares
        assert total[name][1] == pytest.approx(v)
    # per journey: each converting journey's credit sums to 1 and its value
    pj = tp.attribution(log, "markov", allocation="journey", per_journey=True).per_journey
    assert pj is not None
    for jid, val in ((1, 100), (2, 40)):
        rows = pj[pj["journey"] == jid]
        assert rows["conversions"].sum() == pytest.approx(1)
        assert rows["value"].sum() == pytest.approx(val)
    assert set(pj[pj["journey"] == 2]["touchpoint"].tolist()) == {"site"}


def simplified_shapley_bruteforce(sets: list[frozenset[str]], conv: list[bool]) -> dict[str, float]:
    """Shapley value of v(S) = conversions of journeys whose channel set is inside S,
    by enumerating every permutation of the players (definition, Shapley 1953)."""
    players = sorted(set().union(*sets))

    def v(s: frozenset[str]) -> float:
        return float(sum(c for t, c in zip(sets, conv, strict=True) if t and t <= s))

    phi = dict.fromkeys(players, 0.0)
    perms = list(itertools.permutations(players))
    for perm in perms:
        have: frozenset[str] = frozenset()
        for p in perm:
            phi[p] += v(have | {p}) - v(have)
            have = have | {p}
    return {p: x / len(perms) for p, x in phi.items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 5000))
def test_shapley_equals_enumeration_over_coalitions(seed):
    rng = np.random.default_rng(seed)
    names = np.array(["a", "b", "c", "d", "e"], dtype=object)
    n = 25
    lengths = rng.integers(1, 5, n)
    j = np.repeat(np.arange(n), lengths)
    t = names[rng.integers(0, 5, len(j))]
    conv = rng.random(n) < 0.5
    last = np.r_[j[1:] != j[:-1], True]
    log = tp.EventLog.from_arrays(
        j, t, np.arange(len(j), dtype=float), outcome=np.where(last & conv[j], 1.0, 0.0)
    )
    att = credit(tp.attribution(log, "shapley"))
    sets = [frozenset(p) for p in log.paths()]
    ref = simplified_shapley_bruteforce(sets, log.converted().tolist())
    for p, x in ref.items():
        assert att[p][0] == pytest.approx(x, abs=1e-12)


def test_removal_bootstrap_is_seeded_and_covers():
    rng = np.random.default_rng(0)
    n = 400
    lengths = rng.integers(1, 4, n)
    j = np.repeat(np.arange(n), lengths)
    names = np.array(["ad", "site", "email"], dtype=object)
    t = names[rng.integers(0, 3, len(j))]
    conv = rng.random(n) < 0.3
    last = np.r_[j[1:] != j[:-1], True]
    log = tp.EventLog.from_arrays(
        j, t, np.arange(len(j), dtype=float), outcome=np.where(last & conv[j], 1.0, 0.0)
    )
    m = tp.fit_markov(log)
    a = tp.removal_effects(m, n_resamples=30, seed=1)
    b = tp.removal_effects(m, n_resamples=30, seed=1)
    assert a.replicates is not None
    assert b.replicates is not None
    np.testing.assert_array_equal(a.replicates, b.replicates)
    for name, eff in zip(a.names, a.effect.tolist(), strict=True):
        ci = a.confidence_interval(name)
        assert ci.low <= eff <= ci.high
    assert {"ci_low", "ci_high"} <= set(a.table.columns)
    with pytest.raises(ValidationError, match="bootstrap"):
        tp.removal_effects(tp.fit_markov(log)).confidence_interval("ad")
    counts_only = tp.MarkovModel.from_counts(tp.count_transitions(log))
    with pytest.raises(ValidationError, match="journeys"):
        tp.removal_effects(counts_only, n_resamples=5)


def test_attribution_by_channel_and_errors():
    j = tp.Journey()
    j.add_touchpoint(tp.Touchpoint("ad", channel="paid"))
    j.add_touchpoint(tp.Touchpoint("search", channel="paid"))
    j.add_touchpoint(tp.Touchpoint("site", channel="web"))
    log = tp.EventLog.from_arrays(
        [1, 1, 2, 2, 3],
        ["ad", "site", "search", "site", "ad"],
        [0.0, 1, 0, 1, 0],
        outcome=[0, 5, 0, 7, 0],
        design=j,
    )
    att = tp.attribution(log, "linear", states="channel")
    c = {r["channel"]: r["conversions"] for r in att.table.to_records()}
    assert c == {"paid": 1.0, "web": 1.0}
    mk = tp.attribution(log, "markov", states="channel")
    assert set(mk.table["channel"].tolist()) == {"paid", "web"}
    assert mk.table["value"].sum() == pytest.approx(12)
    with pytest.raises(ValidationError, match="method"):
        tp.attribution(log, "magic")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="position_weights"):
        tp.attribution(log, "position", position_weights=(0.8, 0.8))
    assert "Attribution(method='markov', allocation='total'" in repr(mk)
    assert "RemovalEffects(" in repr(mk.removal_effects)


def test_higher_order_markov_attribution_runs_and_credits_all():
    rng = np.random.default_rng(4)
    n = 300
    lengths = rng.integers(1, 6, n)
    j = np.repeat(np.arange(n), lengths)
    names = np.array(["a", "b", "c", "d"], dtype=object)
    t = names[rng.integers(0, 4, len(j))]
    conv = rng.random(n) < 0.35
    last = np.r_[j[1:] != j[:-1], True]
    log = tp.EventLog.from_arrays(
        j, t, np.arange(len(j), dtype=float), outcome=np.where(last & conv[j], 2.0, 0.0)
    )
    for order in (1, 2, 3):
        att = tp.attribution(log, "markov", order=order)
        assert att.table["conversions"].sum() == pytest.approx(conv.sum())
        assert att.table["value"].sum() == pytest.approx(2 * conv.sum())
        assert np.all(att.table["conversions"] >= 0)
    assert math.isfinite(att.removal_effects.conversion_probability)  # type: ignore[union-attr]


def test_sample_data_markov_section_and_unseen_symbols():
    from touchpoint.report import ReportContext, section_markov

    log, _, journey = tp.datasets.load_sample()
    sec = section_markov(ReportContext(log=log, design=journey))
    assert sec is not None
    assert "Conversion probability from start" in sec.text
    # touchpoints seen only after a conversion get no state and no credit
    att = tp.attribution(log, "markov", states="channel", allocation="journey", per_journey=True)
    assert att.table["conversions"].sum() == pytest.approx(log.converted().sum())
    assert att.per_journey is not None
    assert att.per_journey["value"].sum() == pytest.approx(log.value()[log.converted()].sum())


def test_removal_effects_max_steps():
    log = tp.EventLog.from_arrays(
        [1, 1, 1, 2, 2, 3],
        ["a", "b", "c", "a", "c", "b"],
        [0.0, 1, 2, 0, 1, 0],
        outcome=[0, 0, 1, 0, 1, 0],
    )
    m = tp.fit_markov(log)
    for steps in (2, 3, 4, 50):
        re = tp.removal_effects(m, max_steps=steps)
        assert re.conversion_probability == pytest.approx(m.conversion_probability(max_steps=steps))
        # brute force: remove b by sending its inbound edges to null, count conversions within steps
        p = m.transition_matrix.toarray()
        ib = m._index("b")
        p[:, -1] += p[:, ib]
        p[:, ib] = 0
        p[ib, :] = 0
        p[ib, -1] = 1
        v = np.zeros(len(p))
        v[0] = 1
        for _ in range(steps):
            v = v @ p
        assert re.without[re.names.index("b")] == pytest.approx(v[-2])
    assert tp.removal_effects(m, max_steps=50).effect == pytest.approx(tp.removal_effects(m).effect)
    with pytest.raises(ValidationError, match="max_steps"):
        tp.removal_effects(m, max_steps=0)


def test_shapley_conversion_rate_equals_enumeration():
    rng = np.random.default_rng(3)
    names = np.array(["a", "b", "c", "d"], dtype=object)
    n = 60
    lengths = rng.integers(1, 4, n)
    j = np.repeat(np.arange(n), lengths)
    t = names[rng.integers(0, 4, len(j))]
    conv = rng.random(n) < 0.4
    last = np.r_[j[1:] != j[:-1], True]
    log = tp.EventLog.from_arrays(
        j, t, np.arange(len(j), dtype=float), outcome=np.where(last & conv[j], 3.0, 0.0)
    )
    sets = [frozenset(p) for p in log.paths()]
    conv_l = log.converted().tolist()
    rate = {}
    for s_ in set(sets):
        idx = [i for i, x in enumerate(sets) if x == s_]
        rate[s_] = sum(conv_l[i] for i in idx) / len(idx)
    players = sorted(set().union(*sets))

    def v(s_):
        return sum(r for t_, r in rate.items() if t_ <= s_)

    phi = dict.fromkeys(players, 0.0)
    perms = list(itertools.permutations(players))
    for perm in perms:
        have = frozenset()
        for p in perm:
            phi[p] += v(have | {p}) - v(have)
            have = have | {p}
    tot = sum(phi.values())
    att = tp.attribution(log, "shapley", shapley_value="conversion_rate", per_journey=True)
    c = credit(att)
    for p in players:
        assert c[p][0] == pytest.approx(sum(conv_l) * phi[p] / tot)
        assert c[p][1] == pytest.approx(3 * sum(conv_l) * phi[p] / tot)
    assert att.per_journey is not None
    assert att.per_journey["conversions"].sum() == pytest.approx(sum(conv_l))
    with pytest.raises(ValidationError, match="shapley_value"):
        tp.attribution(log, "shapley", shapley_value="magic")  # type: ignore[arg-type]


def test_no_value_column_without_outcome():
    log = tp.EventLog.from_arrays([1, 1, 2], ["ad", "buy", "ad"], [0.0, 1, 0], conversions=["buy"])
    att = tp.attribution(log, "linear", per_journey=True)
    assert att.table.columns == ("touchpoint", "conversions", "share")
    assert att.per_journey is not None
    assert "value" not in att.per_journey.columns
    assert credit_no_value(att) == {"ad": 1.0}


def credit_no_value(att):
    return {r["touchpoint"]: r["conversions"] for r in att.table.to_records()}
