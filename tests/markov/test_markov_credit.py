"""The default Markov credit is the field's allocation: touched conversions x RE / sum RE.

Checked three ways: an independent dense absorbing chain written here,
DP6's marketing-attribution-models (its removal effects, exact), and
ChannelAttribution's ``markov_model`` (which simulates, so to its noise).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest

import touchpoint as tp

CHANNELS = ("search", "social", "email", "display")


def journeys(n: int, seed: int) -> tuple[list[list[str]], list[bool], list[float]]:
    """Paths over four channels (each with a channel: no direct conversions)."""
    rng = np.random.default_rng(seed)
    lift = {"search": 0.10, "social": 0.02, "email": 0.06, "display": 0.0}
    paths, conv, value = [], [], []
    for _ in range(n):
        k = 1 + rng.geometric(0.45) - 1
        path = [str(c) for c in rng.choice(CHANNELS, size=max(k, 1), p=[0.35, 0.3, 0.2, 0.15])]
        p = 0.03 + sum(lift[c] for c in set(path))
        c = bool(rng.random() < p)
        paths.append(path)
        conv.append(c)
        value.append(float(rng.integers(10, 200)) if c else 0.0)
    return paths, conv, value


def as_log(paths: list[list[str]], conv: list[bool], value: list[float]) -> tp.EventLog:
    j, t, tm, out = [], [], [], []
    for i, (p, c, v) in enumerate(zip(paths, conv, value, strict=True)):
        for s, name in enumerate(p):
            j.append(i)
            t.append(name)
            tm.append(float(s))
            out.append(v if (c and s == len(p) - 1) else 0.0)
    return tp.EventLog.from_arrays(np.array(j), np.array(t), np.array(tm), outcome=np.array(out))


def dense_total_credit(
    paths: list[list[str]], conv: list[bool], value: list[float]
) -> dict[str, tuple[float, float]]:
    """Removal effects from a dense absorbing chain, then conversions (and value) x RE / sum RE."""
    names = sorted({s for p in paths for s in p})
    idx = {s: i + 1 for i, s in enumerate(names)}
    m = len(names) + 1
    conv_i, null_i = m, m + 1
    counts = np.zeros((m + 2, m + 2))
    for p, c in zip(paths, conv, strict=True):
        states = [0] + [idx[s] for s in p] + [conv_i if c else null_i]
        for a, b in zip(states[:-1], states[1:], strict=True):
            counts[a, b] += 1
    p_mat = counts[:m] / counts[:m].sum(axis=1, keepdims=True)

    def p_conv(removed: int | None) -> float:
        q = p_mat[:, :m].copy()
        r = p_mat[:, conv_i].copy()
        if removed is not None:
            q[:, removed] = 0.0  # into the removed state: to (null)
            r[removed] = 0.0
        return float(np.linalg.solve(np.eye(m) - q, r)[0])

    base = p_conv(None)
    re = np.array([1.0 - p_conv(idx[s]) / base for s in names])
    share = re / re.sum()
    n_conv, total_value = float(sum(conv)), float(sum(value))
    return {s: (n_conv * share[i], total_value * share[i]) for i, s in enumerate(names)}


def credit(att: tp.Attribution) -> dict[str, tuple[float, float]]:
    return {r["touchpoint"]: (r["conversions"], r["value"]) for r in att.table.to_records()}


def test_default_markov_credit_equals_an_independent_dense_chain():
    paths, conv, value = journeys(400, seed=1)
    log = as_log(paths, conv, value)
    att = tp.attribution(log)  # default: method="markov", allocation="total"
    assert att.allocation == "total"
    want = dense_total_credit(paths, conv, value)
    got = credit(att)
    assert got.keys() == want.keys()
    for name, (c, v) in want.items():
        assert got[name][0] == pytest.approx(c, rel=1e-10), name
        assert got[name][1] == pytest.approx(v, rel=1e-10), name
    # the removal-effects table carries the same numbers under its one label
    re = tp.removal_effects(tp.fit_markov(log))
    mk = dict(zip(re.table["touchpoint"].tolist(), re.table["markov_credit"].tolist()))
    for name, (c, _) in want.items():
        assert mk[name] == pytest.approx(c, rel=1e-10)
    # the journey split is a different quantity, and still there by name
    journey = credit(tp.attribution(log, allocation="journey"))
    assert sum(c for c, _ in journey.values()) == pytest.approx(sum(conv))
    assert max(abs(journey[n][0] - want[n][0]) for n in want) > 0.5


def test_default_markov_credit_equals_dp6_removal_effects_allocation():
    mam = pytest.importorskip("mam")
    pd = pytest.importorskip("pandas")
    paths, conv, value = journeys(300, seed=2)
    frame = pd.DataFrame(
        {
            "journey_id": np.arange(len(paths)),
            "path": [" > ".join(p) for p in paths],
            "times": [" > ".join(["0"] * len(p)) for p in paths],
            "has_conv": conv,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peer's own deprecation noise
        res = mam.MAM(
            frame,
            format_type="journey",
            channels_colname="path",
            journey_with_conv_colname="has_conv",
            time_till_conv_colname="times",
            user_id_colname="journey_id",
        ).run_markov()
    re = res.metadata["removal_effect"]["removal_effect"].to_dict()
    total = sum(re.values())
    got = credit(tp.attribution(as_log(paths, conv, value)))
    for name, e in re.items():
        assert got[name][0] == pytest.approx(sum(conv) * e / total, rel=1e-10), name


def test_default_markov_credit_equals_channelattribution():
    pytest.importorskip("matplotlib")  # ChannelAttribution imports it
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca = pytest.importorskip("ChannelAttribution")
    pd = pytest.importorskip("pandas")
    paths, conv, value = journeys(600, seed=3)
    grouped: dict[str, list[float]] = {}
    for p, c, v in zip(paths, conv, value, strict=True):
        row = grouped.setdefault(" > ".join(p), [0.0, 0.0, 0.0])
        row[0 if c else 1] += 1
        row[2] += v
    df = pd.DataFrame(
        {
            "path": list(grouped),
            "conv": [r[0] for r in grouped.values()],
            "null": [r[1] for r in grouped.values()],
            "value": [r[2] for r in grouped.values()],
        }
    )
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ca.markov_model(
            df,
            var_path="path",
            var_conv="conv",
            var_null="null",
            var_value="value",
            nsim_start=1_000_000,
            verbose=0,
            flg_pro=False,
        )
    theirs = {
        r["channel_name"]: (r["total_conversions"], r["total_conversion_value"])
        for r in res.to_dict("records")
    }
    got = credit(tp.attribution(as_log(paths, conv, value)))
    assert got.keys() == theirs.keys()
    # ChannelAttribution estimates P(conversion | removed) by simulation: agree to its noise
    # (its value column uses a value-weighted removal effect; value here is spread by the
    # conversion removal effect, checked against the dense chain above)
    for name, (c, _) in theirs.items():
        assert got[name][0] == pytest.approx(c, rel=0.02), name
    assert sum(c for c, _ in got.values()) == pytest.approx(sum(conv))


def test_attribution_of_a_fitted_model_is_the_attribution_of_its_log():
    paths, conv, value = journeys(200, seed=4)
    log = as_log(paths, conv, value)
    m = tp.fit_markov(log, order=2)
    assert credit(tp.attribution(m)) == credit(tp.attribution(log, order=2))
    assert credit(tp.attribution(m, "linear")) == credit(tp.attribution(log, "linear"))
    with pytest.warns(DeprecationWarning, match="method"):
        old = tp.attribution(log, model="shapley")  # type: ignore[call-arg]
    assert credit(old) == credit(tp.attribution(log, method="shapley"))
    counted = tp.MarkovModel.from_counts(tp.count_transitions(log))
    with pytest.raises(tp.ValidationError, match="markov_credit"):
        tp.attribution(counted)
    with pytest.raises(tp.ValidationError, match="allocation='journey'"):
        tp.attribution(log, per_journey=True)


def test_credit_labels_say_which_allocation():
    log = as_log(*journeys(100, seed=5))
    total, journey = tp.attribution(log), tp.attribution(log, allocation="journey")
    assert "total allocation" in total.label and "journey allocation" in journey.label
    assert "total" in total.table.title and "journey" in journey.table.title
    assert "allocation='total'" in repr(total)
    re = tp.removal_effects(tp.fit_markov(log))
    assert "markov_credit" in re.table.columns and "conversions" not in re.table.columns
    with pytest.warns(DeprecationWarning, match="markov_credit"):
        np.testing.assert_allclose(re.table["conversions"], re.table["markov_credit"])
    assert re.states == "touchpoint"
    with pytest.warns(DeprecationWarning, match="states"):
        assert re.by == "touchpoint"
