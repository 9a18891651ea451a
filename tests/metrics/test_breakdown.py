"""breakdown(): per-group metrics checked against one-group computations."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint._lib.stats import benjamini_hochberg
from touchpoint.exceptions import ValidationError


def survey(n: int = 1200, seed: int = 0) -> tp.Table:
    rng = np.random.default_rng(seed)
    tps = np.array(["ad", "web", "store", "call"], dtype=object)
    tpi = rng.integers(0, 4, n)
    nps = rng.choice(np.arange(11), size=n, p=np.r_[np.full(7, 0.03), [0.1, 0.2], [0.24, 0.25]])
    nps = np.where(tpi == 3, np.clip(nps - 4, 0, 10), nps).astype(float)  # call centre is worse
    csat = rng.integers(1, 6, n).astype(float)
    csat = np.where(tpi == 2, np.clip(csat + 1, 1, 5), csat)  # the store is better
    ces = rng.integers(1, 8, n).astype(float)
    nps[rng.random(n) < 0.1] = np.nan
    csat[rng.random(n) < 0.1] = np.nan
    days = rng.integers(0, 60, n)
    ts = (np.datetime64("2026-01-01") + days.astype("timedelta64[D]")).astype("datetime64[s]")
    return tp.Table(
        {
            "touchpoint": tps[tpi],
            "channel": np.array(["digital", "digital", "store", "phone"], dtype=object)[tpi],
            "timestamp": ts.astype(str).astype(object),
            "nps": nps,
            "csat": csat,
            "ces": ces,
            "weight": rng.uniform(0.5, 2, n),
        }
    )


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_breakdown_matches_one_group_metrics(metric):
    t = survey()
    res = tp.breakdown(t, metric=metric, by="touchpoint")
    assert list(res["group"]) == sorted(set(t["touchpoint"]))
    fn = {"nps": tp.nps, "csat": tp.csat, "ces": tp.ces}[metric]
    cmp = {"nps": tp.compare_nps, "csat": tp.compare_csat, "ces": tp.compare_ces}[metric]
    pvals = []
    for row in res.to_records():
        mine = t["touchpoint"] == row["group"]
        r = fn(t[metric][mine])
        assert row["n"] == r.n
        assert row["score"] == pytest.approx(r.score)
        ci = r.confidence_interval()
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
        if metric == "ces":  # breakdown keeps Welch's t distribution (compare_ces permutes)
            from scipy import stats

            a, b = t[metric][mine], t[metric][~mine]
            assert row["difference"] == pytest.approx(np.nanmean(a) - np.nanmean(b))
            p = stats.ttest_ind(a, b, equal_var=False, nan_policy="omit").pvalue
        else:
            c = cmp(t[metric][mine], t[metric][~mine])
            assert row["difference"] == pytest.approx(c.difference)
            p = c.pvalue
        assert row["pvalue"] == pytest.approx(p, rel=1e-9)
        pvals.append(p)
    np.testing.assert_allclose(res["qvalue"], benjamini_hochberg(pvals))
    assert res.title == f"{metric.upper()} by touchpoint"


def test_breakdown_flags_planted_differences():
    t = survey(4000, seed=1)
    nps_t = {r["group"]: r for r in tp.breakdown(t, "nps").to_records()}
    assert nps_t["call"]["significant"]
    assert nps_t["call"]["difference"] < 0
    csat_t = {r["group"]: r for r in tp.breakdown(t, "csat").to_records()}
    assert csat_t["store"]["significant"]
    assert csat_t["store"]["difference"] > 0
    ces_t = tp.breakdown(t, "ces")
    assert not ces_t["significant"].any()


def test_breakdown_weights_match_weighted_metric():
    t = survey()
    res = tp.breakdown(t, "nps", weights="weight")
    row = res.to_records()[0]
    mine = t["touchpoint"] == row["group"]
    r = tp.nps(t["nps"][mine], weights=t["weight"][mine])
    assert row["score"] == pytest.approx(r.score)
    assert row["ci_low"] == pytest.approx(r.confidence_interval().low)


def test_breakdown_by_stage_via_journey_and_column():
    t = survey()
    j = tp.Journey(
        stages=["awareness", "purchase", "service"],
        touchpoints=[
            tp.Touchpoint("ad", stage="awareness", channel="digital"),
            tp.Touchpoint("web", stage="purchase", channel="digital"),
            tp.Touchpoint("store", stage="purchase", channel="store"),
            tp.Touchpoint("call", stage="service", channel="phone"),
        ],
    )
    res = tp.breakdown(t, "csat", by="stage", design=j)
    assert list(res["group"]) == ["awareness", "purchase", "service"]  # stage order
    purchase = np.isin(t["touchpoint"], ["web", "store"])
    assert res["score"][1] == pytest.approx(tp.csat(t["csat"][purchase]).score)
    # the table's own column works without a journey
    t2 = t.with_column("stage", np.where(purchase, "purchase", "other").astype(object))
    res2 = tp.breakdown(t2, "csat", by="stage")
    assert res2["score"][list(res2["group"]).index("purchase")] == pytest.approx(res["score"][1])
    with pytest.raises(ValidationError, match="no 'stage' column"):
        tp.breakdown(t, "csat", by="stage")


def test_breakdown_periods_and_changes():
    t = survey(3000, seed=2)
    res = tp.breakdown(t, "csat", period="month")
    assert set(res["period"]) == {"2026-01", "2026-02", "2026-03"}
    months = np.array([s[:7] for s in t["timestamp"]])
    rec = [r for r in res.to_records() if r["group"] == "web"]
    for r in rec:
        sel = (t["touchpoint"] == "web") & (months == r["period"])
        assert r["score"] == pytest.approx(tp.csat(t["csat"][sel]).score)
    assert np.isnan(rec[0]["change"])
    a = (t["touchpoint"] == "web") & (months == rec[1]["period"])
    b = (t["touchpoint"] == "web") & (months == rec[0]["period"])
    c = tp.compare_csat(t["csat"][a], t["csat"][b])
    assert rec[1]["change"] == pytest.approx(c.difference)
    assert rec[1]["change_pvalue"] == pytest.approx(c.pvalue)
    weekly = tp.breakdown(t, "nps", period="week")
    # weeks start on Monday: 2026-01-01 is a Thursday, its week starts 2025-12-29
    assert min(weekly["period"]) == "2025-12-29"
    assert {"change_qvalue", "change_significant"} <= set(weekly.columns)


def test_breakdown_accepts_frames_and_exports():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    t = survey(300)
    ref = tp.breakdown(t, "ces")
    df = t.to_frame()
    for frame in (df, pl.from_pandas(df)):
        res = tp.breakdown(frame, "ces")
        np.testing.assert_allclose(res["score"], ref["score"])
    assert isinstance(ref.to_frame(), pd.DataFrame)
    assert ref.to_records()[0]["group"] == "ad"
    assert "<table>" in ref._repr_html_()


def test_breakdown_errors():
    t = survey(50)
    with pytest.raises(ValidationError, match="metric"):
        tp.breakdown(t, "foo")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="period"):
        tp.breakdown(t, "nps", period="day")  # type: ignore[arg-type]
    bad = t.with_column("csat", np.r_[[7.0], t["csat"][1:]])
    with pytest.raises(ValidationError, match=r"position 0: 7\.0 is outside"):
        tp.breakdown(bad, "csat")


def test_sample_data_integration():
    """The bundled sample: planted findings show up (purchase inconsistent across channels)."""
    log, surveys, journey = tp.datasets.load_sample()
    overall = tp.nps(surveys["nps"])
    assert overall.n == np.count_nonzero(~np.isnan(surveys["nps"]))
    assert overall.n_missing > 0
    by_stage = tp.breakdown(surveys, "csat", by="stage", design=journey)
    assert list(by_stage["group"]) == [
        s.name for s in journey.stages if s.name in set(by_stage["group"])
    ]
    by_tp = {r["group"]: r for r in tp.breakdown(surveys, "csat", design=journey).to_records()}
    assert by_tp["checkout_store"]["significant"]
    assert by_tp["checkout_store"]["difference"] < 0
    cons = {r["stage"]: r for r in tp.consistency(surveys, "csat", design=journey).to_records()}
    assert not cons["purchase"]["consistent"]
    monthly = tp.breakdown(surveys, "nps", by="device", period="month")
    assert len(set(monthly["period"])) >= 2
    support = ["support_email", "support_phone", "support_chat"]
    rt = tp.response_times(log, request=support, response="support_reply")
    assert rt.n > 0
    assert rt.median > 0
    assert 0 < tp.repeat_rate(log, window=30 * 86400).rate < 1


def test_breakdown_and_consistency_take_metric_options():
    t = survey(800, seed=6)
    res = tp.breakdown(t, "nps", promoters=(8, 10), detractors=(0, 5))
    mine = t["touchpoint"] == res["group"][0]
    r = tp.nps(t["nps"][mine], promoters=(8, 10), detractors=(0, 5))
    assert res["score"][0] == pytest.approx(r.score)
    assert res["ci_low"][0] == pytest.approx(r.confidence_interval().low)
    ten = t.with_column("csat", np.clip(t["csat"] * 2, 1, 10))
    res = tp.breakdown(ten, "csat", scale=(1, 10), satisfied=(8, 10))
    r = tp.csat(ten["csat"][ten["touchpoint"] == res["group"][0]], scale=(1, 10), satisfied=(8, 10))
    assert res["score"][0] == pytest.approx(r.score)
    v1 = t.with_column("ces", np.clip(t["ces"], 1, 5))
    res = tp.breakdown(v1, "ces", version=1)
    r = tp.ces(v1["ces"][v1["touchpoint"] == res["group"][0]], version=1)
    assert (res["ci_low"][0], res["ci_high"][0]) == pytest.approx(tuple(r.confidence_interval()))
    with pytest.raises(ValidationError, match="outside the scale 1-5"):
        tp.breakdown(t, "ces", version=1)
    with pytest.raises(ValidationError, match=r"unknown option\(s\) \['satisfied'\]"):
        tp.breakdown(t, "nps", satisfied=(4, 5))
    cons = tp.consistency(
        t.with_column("stage", np.full(len(t), "all", dtype=object)), "nps", promoters=(8, 10)
    )
    assert cons.table["df"][0] == 4


def _clustered_survey(seed: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    who = np.repeat(np.arange(150), rng.integers(1, 6, 150))
    u = rng.normal(size=150)[who]
    z = u + rng.normal(size=len(who))
    return {
        "customer_id": np.array([f"c{i}" for i in who]),
        "region": np.array(["n", "s", "e"])[rng.integers(0, 3, 150)][who],
        "week": np.array(["2026-01-05", "2026-01-12"])[rng.integers(0, 2, len(who))],
        "nps": np.clip(np.round(7 + 2 * z), 0, 10),
        "csat": np.clip(np.round(3.5 + z), 1, 5),
        "ces": np.clip(np.round(5 + z), 1, 7),
    }


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_breakdown_clusters_match_one_group_metrics(metric):
    # with a respondent column (found automatically), every interval and test
    # is the cluster-robust one of the one-sample and two-sample functions
    t = _clustered_survey()
    res = tp.breakdown(t, metric=metric, by="region")
    fn = {"nps": tp.nps, "csat": tp.csat, "ces": tp.ces}[metric]
    cmp = {"nps": tp.compare_nps, "csat": tp.compare_csat, "ces": tp.compare_ces}[metric]
    ids = t["customer_id"]
    for row in res.to_records():
        mine = t["region"] == row["group"]
        r = fn(t[metric][mine], cluster=ids[mine])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(r.ci))
        rest = fn(t[metric][~mine], cluster=ids[~mine])
        c = cmp(r, rest)  # CES: Welch's t on respondents' degrees of freedom
        assert row["pvalue"] == pytest.approx(c.pvalue, rel=1e-9)
    plain = tp.breakdown(t, metric=metric, by="region", cluster=None)
    # treating each answer as independent gives narrower intervals
    assert np.all(plain["ci_high"] - plain["ci_low"] < res["ci_high"] - res["ci_low"])


def test_breakdown_cluster_rest_of_period_matches_statsmodels():
    # the rest of a cell (other regions, same week) shares respondents across
    # weeks; its cluster-robust se is checked against statsmodels
    sm = pytest.importorskip("statsmodels.api")
    t = _clustered_survey(seed=7)
    t["timestamp"] = t["week"]
    res = tp.breakdown(t, metric="csat", by="region", period="week", cluster="customer_id")
    row = res.to_records()[0]
    rest = (t["region"] != row["group"]) & (t["week"] == row["period"])
    s = (t["csat"][rest] >= 4).astype(float)
    fit = sm.OLS(s, np.ones(len(s))).fit(
        cov_type="cluster", cov_kwds={"groups": t["customer_id"][rest]}
    )
    r = tp.csat(t["csat"][rest], cluster=t["customer_id"][rest])
    # CR2 (bias-reduced) is statsmodels' CR1 sandwich without its G/(G-1) factor and
    # with each respondent's residual sum scaled by 1/sqrt(1 - n_g/N)
    ids = t["customer_id"][rest]
    _, inv, n_g = np.unique(ids, return_inverse=True, return_counts=True)
    u = np.bincount(inv, weights=s - s.mean())
    cr2 = np.sqrt(np.sum(u * u / (1 - n_g / len(s)))) / len(s)
    g = len(n_g)
    cr1 = np.sqrt(np.sum(u * u) * g / (g - 1) * (len(s) - 1) / (len(s) - 1)) / len(s)
    assert cr1 == pytest.approx(fit.bse[0], rel=1e-3)  # the residual sums are statsmodels'
    assert r.se == pytest.approx(100 * cr2)
    assert row["rest_score"] == pytest.approx(r.score)
    mine = (t["region"] == row["group"]) & (t["week"] == row["period"])
    c = tp.compare_csat(tp.csat(t["csat"][mine], cluster=t["customer_id"][mine]), r)
    assert row["pvalue"] == pytest.approx(c.pvalue, rel=1e-9)


def test_breakdown_cluster_column_errors():
    t = _clustered_survey()
    with pytest.raises(tp.ValidationError, match="'respondent'"):
        tp.breakdown(t, metric="csat", by="region", cluster="respondent")


def test_blank_group_labels_join_the_missing_group():
    # blank or whitespace labels are missing: counted in "(missing)", never dropped
    t = {
        "touchpoint": ["web", "", "  ", None, "web", "app", "\t"],
        "csat": [5, 4, 2, 5, 1, 5, 3],
    }
    res = tp.breakdown(t, metric="csat")
    got = dict(zip(res["group"].tolist(), res["n"].tolist(), strict=True))
    assert got == {"(missing)": 4, "app": 1, "web": 2}
    assert sum(got.values()) == len(t["csat"])
    # numpy string arrays too
    arr = {"touchpoint": np.array(["web", " ", "app"]), "csat": [5, 4, 2]}
    got = dict(
        zip(*(tp.breakdown(arr, metric="csat")[c].tolist() for c in ("group", "n")), strict=True)
    )
    assert got == {"(missing)": 1, "app": 1, "web": 1}


def test_breakdown_intervals_contain_their_estimates():
    t = {"touchpoint": ["a", "a", "b", "b", "b"], "ces": [1, 1, 7, 6, 7], "csat": [5, 5, 1, 1, 2]}
    for metric in ("ces", "csat"):
        res = tp.breakdown(t, metric=metric)
        assert (res["ci_low"] <= res["score"]).all()
        assert (res["score"] <= res["ci_high"]).all()
