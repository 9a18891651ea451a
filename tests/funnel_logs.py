"""Shared test fixtures for funnels, drop-offs, exploration and drivers.

Log builders (``make_log``, ``simulate``), the brute-force funnel reference
(exhaustive search over all attempts and index sequences), the hand-built
``PATHS`` with known answers and a small designed journey.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import touchpoint as tp
from touchpoint import EventLog, Journey, Touchpoint

DAY = 86400.0


WEEK = 7 * DAY


def make_log(paths, times=None, extra=None, **kw):
    """A log from {journey: [touchpoints]} (times 0, 1, 2, ... unless given)."""
    j, t_, tm = [], [], []
    for jid, path in paths.items():
        ts = times[jid] if times is not None else range(len(path))
        for name, when in zip(path, ts, strict=True):
            j.append(jid)
            t_.append(name)
            tm.append(float(when))
    return EventLog.from_arrays(j, t_, np.array(tm), extra=extra, **kw)


def brute_depth(events, steps, mode, window, exclude):
    """Deepest step reached by the best attempt (exhaustive search)."""
    n = len(events)
    win = np.inf if window is None else window
    best = 0
    union = set().union(*steps)
    for s in range(n):
        if mode == "any":
            if events[s][0] not in union:
                continue
            stop = next((i for i in range(s, n) if events[i][0] in exclude), n)
            depth = 0
            for step in steps:
                if any(
                    events[e][0] in step and events[e][1] - events[s][1] <= win
                    for e in range(s, stop)
                ):
                    depth += 1
                else:
                    break
            best = max(best, depth)
            continue
        if events[s][0] not in steps[0]:
            continue
        depth = 1
        if mode == "strict":
            while (
                depth < len(steps)
                and s + depth < n
                and events[s + depth][0] in steps[depth]
                and events[s + depth][1] - events[s][1] <= win
            ):
                depth += 1
        else:  # ordered: exhaustive over index sequences

            def dfs(i, k, t0):
                if k == len(steps):
                    return k
                out = k
                for e in range(i + 1, n):
                    if events[e][0] in exclude:
                        break
                    if events[e][0] in steps[k] and events[e][1] - t0 <= win:
                        out = max(out, dfs(e, k + 1, t0))
                return out

            depth = dfs(s, 1, events[s][1])
        best = max(best, depth)
    return best


def brute_counts(paths, times, steps, mode, window, exclude):
    depths = [
        brute_depth(list(zip(paths[j], times[j], strict=True)), steps, mode, window, exclude)
        for j in paths
    ]
    return [sum(d > k for d in depths) for k in range(len(steps))]


journeys = st.dictionaries(
    st.integers(0, 30),
    st.lists(st.sampled_from("abcdx"), min_size=1, max_size=7),
    min_size=1,
    max_size=12,
)


PATHS = {
    1: ["a", "b", "c"],  # straight through
    2: ["a", "x", "b", "c"],  # other event between a and b
    3: ["b", "a", "c"],  # out of order
    4: ["a", "b"],  # drops before c
    5: ["x", "a"],  # drops before b
    6: ["c"],  # never starts
}


def simulate(rng, *, weeks=12, groups=("desktop", "mobile", "tablet"), n=750, drop=0.0):
    """Journeys view -> cart -> checkout, one cohort per group and week.

    view -> cart converts 0.8; cart -> checkout 0.5, except in group "mobile",
    weeks 7-9 (0-based), where it is ``0.5 - drop``.
    """
    G, W = len(groups), weeks
    g = np.repeat(np.arange(G), W * n)
    w = np.tile(np.repeat(np.arange(W), n), G)
    cart = rng.random(len(g)) < 0.8
    planted = (g == groups.index("mobile")) & (w >= 7) & (w <= 9)
    checkout = cart & (rng.random(len(g)) < np.where(planted, 0.5 - drop, 0.5))
    nev = 1 + cart + checkout
    j = np.repeat(np.arange(len(g)), nev)
    k = np.arange(len(j)) - np.repeat(np.cumsum(nev) - nev, nev)  # 0, 1, 2 within journey
    start = w * WEEK + rng.random(len(g)) * 6 * DAY
    t = start[j] + k * 60.0
    device = np.array(groups, dtype=object)[g][j]
    return EventLog.from_arrays(j, k, t, extra={"device": device})


def small_design():
    j = Journey(
        stages=tp.stages.CUSTOMER_LIFECYCLE,
        touchpoints=[
            Touchpoint("ad", stage="awareness"),
            Touchpoint("site", stage="consideration"),
            Touchpoint("reviews", stage="consideration"),
            Touchpoint("checkout", stage="purchase"),
            Touchpoint("onboarding", stage="usage"),
        ],
    )
    for a, b in [
        ("ad", "site"),
        ("site", "reviews"),
        ("reviews", "checkout"),
        ("site", "checkout"),
    ]:
        j.add_transition(a, b)
    j.add_transition("checkout", "onboarding")
    return j
