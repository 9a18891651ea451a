"""consistency(): per-stage channel tests checked against scipy."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp


def channel_survey(seed: int = 3) -> tp.Table:
    rng = np.random.default_rng(seed)
    n = 3000
    stage = rng.choice(["consider", "buy", "service"], n).astype(object)
    channel = rng.choice(["web", "app", "store"], n).astype(object)
    csat = rng.integers(1, 6, n).astype(float)
    worse = (stage == "buy") & (channel == "app")
    csat[worse] = np.clip(csat[worse] - 2, 1, 5)
    ces = rng.integers(1, 8, n).astype(float)
    slow = (stage == "service") & (channel == "store")
    ces[slow] = np.clip(ces[slow] - 3, 1, 7)
    nps = rng.integers(0, 11, n).astype(float)
    return tp.Table({"stage": stage, "channel": channel, "csat": csat, "ces": ces, "nps": nps})


def test_consistency_chi_square_matches_scipy():
    from scipy import stats

    t = channel_survey()
    res = tp.consistency(t, metric="csat")
    recs = {r["stage"]: r for r in res.to_records()}
    for stage, r in recs.items():
        sel = t["stage"] == stage
        sat = t["csat"][sel] >= 4
        ch = t["channel"][sel]
        table = np.array([[np.sum(sat & (ch == c)), np.sum(~sat & (ch == c))] for c in set(ch)])
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        assert r["statistic"] == pytest.approx(chi2)
        assert r["pvalue"] == pytest.approx(p)
        assert r["df"] == dof
        assert r["effect_size"] == pytest.approx(np.sqrt(chi2 / table.sum()))  # Cramér's V, 2 cols
    assert not recs["buy"]["consistent"]
    assert recs["buy"]["stands_out"].startswith("app")
    assert recs["consider"]["consistent"]
    assert recs["service"]["consistent"]
    assert "buy" in repr(res)
    det = res.detail
    app_buy = (det["stage"] == "buy") & (det["channel"] == "app")
    assert det["stands_out"][app_buy].all()


def test_consistency_kruskal_matches_scipy():
    from scipy import stats

    t = channel_survey()
    res = tp.consistency(t, metric="ces")
    recs = {r["stage"]: r for r in res.to_records()}
    sel = t["stage"] == "service"
    groups = [t["ces"][sel & (t["channel"] == c)] for c in ("web", "app", "store")]
    ref = stats.kruskal(*groups)
    assert recs["service"]["statistic"] == pytest.approx(ref.statistic)
    assert recs["service"]["pvalue"] == pytest.approx(ref.pvalue)
    assert recs["service"]["effect_size"] == pytest.approx(ref.statistic / (sel.sum() - 1))
    assert recs["service"]["test"] == "Kruskal-Wallis"
    assert not recs["service"]["consistent"]
    assert "store" in recs["service"]["stands_out"]
    nps_res = tp.consistency(t, metric="nps")
    assert nps_res.table["test"][0] == "chi-square"
    assert nps_res.table["df"][0] == 4  # 3 channels x 3 NPS groups


def test_consistency_uses_journey_lookup():
    t = tp.Table(
        {
            "touchpoint": np.array(["web_buy", "app_buy"] * 50, dtype=object),
            "csat": np.array([5.0, 1.0] * 50),
        }
    )
    j = tp.Journey(
        stages=["buy"],
        touchpoints=[
            tp.Touchpoint("web_buy", stage="buy", channel="web"),
            tp.Touchpoint("app_buy", stage="buy", channel="app"),
        ],
    )
    res = tp.consistency(t, design=j)
    assert res.to_records()[0]["consistent"] is False
    assert "<table>" in res._repr_html_()


def test_consistency_divides_by_the_design_effect_with_respondents():
    # several answers per customer: the chi-square is divided by the stage's
    # design effect (Rao-Scott first order), computed here independently
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(2)
    who = np.repeat(np.arange(200), rng.integers(1, 6, 200))
    z = rng.normal(size=200)[who] * 1.2 + rng.normal(size=len(who))
    t = {
        "customer_id": who,
        "stage": np.array(["buy"] * len(who), dtype=object),
        "channel": np.array(["web", "app", "store"], dtype=object)[rng.integers(0, 3, 200)][who],
        "csat": np.clip(np.round(3.5 + z), 1, 5),
    }
    plain = tp.consistency(t, metric="csat", cluster=None).to_records()[0]
    robust = tp.consistency(t, metric="csat").to_records()[0]  # customer_id found
    s = (t["csat"] >= 4).astype(float)
    fit = sm.OLS(s, np.ones(len(s))).fit(cov_type="cluster", cov_kwds={"groups": who})
    # the CR2 (bias-reduced) variance: statsmodels' residual sums without G/(G-1), each
    # respondent's scaled by 1/(1 - n_g/N)
    _, inv, n_g = np.unique(who, return_inverse=True, return_counts=True)
    u = np.bincount(inv, weights=s - s.mean())
    assert np.sum(u * u) * len(n_g) / (len(n_g) - 1) / len(s) ** 2 == pytest.approx(
        fit.bse[0] ** 2, rel=1e-2
    )
    deff = np.sum(u * u / (1 - n_g / len(s))) / len(s) ** 2 / (s.var() / len(s))
    assert deff > 1.5
    assert robust["statistic"] == pytest.approx(plain["statistic"] / deff)
    from scipy.stats import chi2

    assert robust["pvalue"] == pytest.approx(chi2.sf(plain["statistic"] / deff, plain["df"]))
    assert robust["test"] == "chi-square (Rao-Scott)"
