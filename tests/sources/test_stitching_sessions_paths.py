"""Identity stitching on a planted case, sessions by every rule, grouped paths vs ChannelAttribution."""

from __future__ import annotations

import numpy as np
import pytest

import touchpoint as tp
from touchpoint.exceptions import InvalidParameterError, ValidationError

pytest.importorskip("pyarrow")


# ------------------------------------------------------------------ stitching
def _planted():
    # a1: anonymous at t=0, 100, then logs in as U1 at t=200 -> both anonymous events move
    # a2: linked to U1 at t=50 and to U2 at t=60 (a shared device): conflict, first user U1
    # a3: anonymous at t=0, linked to U3 at t=10_000; lookback 3600 s leaves t=0 behind
    # a4: never linked (2 events); one event with neither id
    return {
        "anon": ["a1", "a1", "a1", "a2", "a2", "a2", "a3", "a3", "a4", "a4", None],
        "user": [None, None, "U1", "U1", "U2", None, None, "U3", None, "", None],
        "t": [0.0, 100.0, 200.0, 50.0, 60.0, 70.0, 0.0, 10_000.0, 5.0, 6.0, 7.0],
    }


def test_stitching_diagnostics_on_a_planted_case():
    s = tp.stitch_identities(_planted(), anonymous="anon", user="user", time="t")
    assert (s.n_events, s.n_anonymous_ids, s.n_users) == (11, 4, 3)
    assert s.n_stitched_ids == 3 and s.n_conflicts == 1
    # moved: a1 at 0 and 100, a2 at 70, a3 at 0 -> 4 of 11
    assert s.events_moved == pytest.approx(4 / 11)
    assert s.never_stitched == pytest.approx(2 / 11)  # a4's two events ("" is missing)
    assert s.n_without_id == 1
    rows = {r["anonymous"]: r for r in s.to_records()}
    assert rows["a2"]["user"] == "U1" and rows["a2"]["n_users"] == 2  # first user linked wins
    assert rows["a3"]["first_linked"] == 10_000.0
    assert "conflicts=1" in repr(s)


def test_lookback_leaves_old_anonymous_events_alone():
    s = tp.stitch_identities(_planted(), anonymous="anon", user="user", time="t", lookback=3600)
    assert s.n_outside_lookback == 1  # a3 at t=0 is 10_000 s before its link
    assert s.events_moved == pytest.approx(3 / 11)


def test_stitching_reads_frames_and_datetimes():
    pd = pytest.importorskip("pandas")
    d = _planted()
    frame = pd.DataFrame({**d, "t": pd.to_datetime(np.array(d["t"]) * 1e9, utc=True)})
    s = tp.stitch_identities(frame, anonymous="anon", user="user", time="t", lookback=3600)
    assert s.n_outside_lookback == 1 and s.n_conflicts == 1
    with pytest.raises(ValidationError, match=r"no column 'nope'"):
        tp.stitch_identities(frame, anonymous="nope", user="user", time="t")


# ------------------------------------------------------------------- sessions
def _log():
    return tp.EventLog.from_arrays(
        ["c", "c", "c", "c", "c", "k", "k"],
        ["home", "shoes", "home", "cart", "shoes", "home", "cart"],
        np.array(
            [
                "2026-01-05T22:30",
                "2026-01-05T22:50",
                "2026-01-05T23:10",
                "2026-01-05T23:20",
                "2026-01-06T08:00",
                "2026-01-05T10:00",
                "2026-01-05T10:05",
            ],
            dtype="datetime64[ns]",
        ),
        extra={"sid": [7, 7, 8, 8, 7, 7, 7]},
    )


def test_sessionize_by_gap_is_unchanged():
    s = _log().sessionize(gap=3600)
    assert [list(p) for p in s.paths()] == [
        ["home", "shoes", "home", "cart"],
        ["shoes"],
        ["home", "cart"],
    ]
    assert list(s.journey_ids) == ["c#1", "c#2", "k#1"]


def test_sessionize_by_start_and_end_events():
    starts = _log().sessionize(start="home")
    assert [list(p) for p in starts.paths()] == [
        ["home", "shoes"],
        ["home", "cart", "shoes"],
        ["home", "cart"],
    ]
    ends = _log().sessionize(end=["cart"])
    assert [list(p) for p in ends.paths()] == [
        ["home", "shoes", "home", "cart"],
        ["shoes"],
        ["home", "cart"],
    ]
    both = _log().sessionize(start="home", end="cart")
    assert both.n_journeys == 4


def test_sessionize_by_calendar_day_in_an_explicit_zone():
    # 23:10 UTC is 00:10 in Berlin (UTC+1 in January): Berlin splits before it, and
    # 08:00 UTC the next morning is the same Berlin day
    utc = _log().sessionize(calendar="UTC")
    assert [list(p) for p in utc.paths()][:2] == [["home", "shoes", "home", "cart"], ["shoes"]]
    berlin = _log().sessionize(calendar="Europe/Berlin")
    assert [list(p) for p in berlin.paths()][:2] == [["home", "shoes"], ["home", "cart", "shoes"]]
    with pytest.raises(InvalidParameterError, match=r"`calendar` must be a time-zone name"):
        _log().sessionize(calendar="Mars/Base")


def test_sessionize_by_id_column_groups_non_contiguous_events():
    s = _log().sessionize(column="sid")
    # c's session 7 holds its events at 22:30, 22:50 and 08:00, session 8 the other two
    assert [list(p) for p in s.paths()] == [
        ["home", "shoes", "shoes"],
        ["home", "cart"],
        ["home", "cart"],
    ]
    assert s.column("customer").tolist() == ["c"] * 5 + ["k"] * 2
    with pytest.raises(InvalidParameterError, match=r"`column` must be None when gap"):
        _log().sessionize(gap=60, column="sid")
    with pytest.raises(InvalidParameterError, match=r"`gap` must be"):
        _log().sessionize()


# -------------------------------------------------------------- grouped paths
PATHS = {
    "path": ["a > b > c", "a", "b > c", "c > a", "b", "c > c > b"],
    "total_conversions": [3, 1, 2, 0, 1, 2],
    "total_null": [2, 4, 1, 3, 5, 1],
    "value": [30.0, 5.0, 20.0, 0.0, 7.0, 12.0],
}


def test_from_paths_expands_one_journey_per_count():
    log = tp.EventLog.from_paths(PATHS, value="value")
    assert log.n_journeys == sum(PATHS["total_conversions"]) + sum(PATHS["total_null"])
    assert int(log.converted().sum()) == 9
    assert log.value().sum() == pytest.approx(74.0)
    lengths = np.diff(log.offsets)
    assert lengths.sum() == 5 * 3 + 5 * 1 + 3 * 2 + 3 * 2 + 6 * 1 + 3 * 3
    with pytest.raises(ValidationError, match=r"column 'total_null', row 1: -1 is not a count"):
        tp.EventLog.from_paths({**PATHS, "total_null": [2, -1, 1, 3, 5, 1]})
    with pytest.raises(ValidationError, match=r"column 'path', row 0: 'a > > c'"):
        tp.EventLog.from_paths({**PATHS, "path": ["a > > c", *PATHS["path"][1:]]})


def _absorbing_conversion(p: dict, removed: str | None) -> float:
    """Closed form: probability of reaching conversion from start, by a linear solve."""
    counts: dict = {}
    for path, c, n in zip(p["path"], p["total_conversions"], p["total_null"], strict=True):
        steps = ["(start)", *[s.strip() for s in path.split(">")]]
        for a, b in zip(steps, steps[1:], strict=False):
            counts.setdefault(a, {}).setdefault(b, 0)
            counts[a][b] += c + n
        counts.setdefault(steps[-1], {})
        counts[steps[-1]]["(conversion)"] = counts[steps[-1]].get("(conversion)", 0) + c
        counts[steps[-1]]["(null)"] = counts[steps[-1]].get("(null)", 0) + n
    states = sorted(counts)
    idx = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    r = np.zeros(len(states))
    for a, out in counts.items():
        total = sum(out.values())
        for b, k in out.items():
            if b == "(conversion)":
                r[idx[a]] += k / total
            elif b != "(null)" and b != removed:
                q[idx[a], idx[b]] += k / total
    if removed is not None:
        q[idx[removed]] = 0.0
        r[idx[removed]] = 0.0
    x = np.linalg.solve(np.eye(len(states)) - q, r)
    return float(x[idx["(start)"]])


def test_removal_effects_from_grouped_paths_equal_the_closed_form():
    log = tp.EventLog.from_paths(PATHS, value="value")
    re = tp.removal_effects(tp.fit_markov(log))
    base = _absorbing_conversion(PATHS, None)
    got = dict(
        zip(re.table["touchpoint"].tolist(), re.table["removal_effect"].tolist(), strict=True)
    )
    for ch in "abc":
        assert got[ch] == pytest.approx(1 - _absorbing_conversion(PATHS, ch) / base, abs=1e-12)


def test_attribution_from_grouped_paths_equals_channelattribution():
    ca = pytest.importorskip("ChannelAttribution")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(PATHS)
    log = tp.EventLog.from_paths(frame, value="value")
    theirs = ca.heuristic_models(
        frame, "path", "total_conversions", var_value="value", flg_pro=False
    )
    theirs = theirs.set_index("channel_name")
    for ours, col in (
        ("first_touch", "first_touch"),
        ("last_touch", "last_touch"),
        ("linear", "linear_touch"),
    ):
        a = tp.attribution(log, ours).to_frame().set_index("touchpoint")
        assert a["conversions"].to_dict() == pytest.approx(
            theirs[f"{col}_conversions"].to_dict(), abs=1e-9
        )
        assert a["value"].to_dict() == pytest.approx(theirs[f"{col}_value"].to_dict(), abs=1e-9)
    # Markov: ChannelAttribution simulates the chain; its removal effects are within
    # simulation error of the exact ones (measured gap on these paths: < 0.03)
    m = ca.markov_model(
        frame,
        "path",
        "total_conversions",
        var_value="value",
        var_null="total_null",
        out_more=True,
        verbose=False,
        flg_pro=False,
        seed=1,
    )
    their_re = m["removal_effects"].set_index("channel_name")["removal_effects_conversion"]
    ours = tp.removal_effects(tp.fit_markov(log)).to_frame().set_index("touchpoint")
    assert ours["removal_effect"].to_dict() == pytest.approx(their_re.to_dict(), abs=0.04)
    # the allocation total x RE / sum(RE) of the same removal effects agrees too
    their_conv = m["result"].set_index("channel_name")["total_conversions"]
    assert ours["conversions"].to_dict() == pytest.approx(their_conv.to_dict(), abs=0.15)


def _naive(anon, user, t, lookback):
    """A loop over events: the first user linked to each device, then each event's journey."""
    first = {}
    for a, u, ti, _k in sorted(zip(anon, user, t, range(len(t))), key=lambda r: (r[2], r[3])):
        if a is not None and u is not None and a not in first:
            first[a] = (u, ti)
    out = []
    for a, u, ti in zip(anon, user, t):
        if u is not None:
            out.append(u)
        elif a is not None and a in first and (lookback is None or ti >= first[a][1] - lookback):
            out.append(first[a][0])
        else:
            out.append(a)
    return out


def test_resolve_matches_a_loop_on_random_tables():
    from touchpoint.sources._identity import resolve

    rng = np.random.default_rng(11)
    for _ in range(30):
        n = int(rng.integers(1, 60))
        anon = [None if x == 0 else f"a{x}" for x in rng.integers(0, 6, n)]
        user = [None if x < 3 else f"u{x}" for x in rng.integers(0, 6, n)]
        t = rng.integers(0, 50, n).astype(np.float64)
        lookback = None if rng.random() < 0.5 else 10.0
        ids, s = resolve(
            np.array(anon, dtype=object), np.array(user, dtype=object), t, lookback=lookback
        )
        assert ids.tolist() == _naive(anon, user, t.tolist(), lookback)
        expected_conflicts = sum(
            len({u for a2, u in zip(anon, user) if a2 == a and u is not None}) > 1
            for a in set(anon) - {None}
        )
        assert s.n_conflicts == expected_conflicts
