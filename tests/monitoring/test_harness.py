"""The validation's vectorised alarm (benchmarks/validate_stats.py) is the monitor's alarm."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

import touchpoint as tp

ROOT = Path(__file__).resolve().parents[2]


def _validate_stats():
    spec = importlib.util.spec_from_file_location(
        "validate_stats_monitor", ROOT / "benchmarks" / "validate_stats.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["validate_stats_monitor"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_vectorised_alarm_equals_the_monitor_run_by_run():
    vs = _validate_stats()
    rng = np.random.default_rng(12)
    looks = 80
    probs = np.vstack([np.tile([0.9, 0.1], (50, 1)), np.tile([0.93, 0.07], (looks - 50, 1))])
    counts = vs._monitor_counts(rng, 6, probs, 400)
    got = vs._alarm_looks(counts, np.array([0.0, 1.0]), 0.05)
    for r in range(len(counts)):
        rows = counts[r].astype(int).tolist()
        m = tp.Monitor(
            metric="conversion",
            alpha=0.05,
            period=1.0,
            tz="UTC",
            baseline=vs.MONITOR_BASELINE,
            reference=None,
            options={},
            support=(0.0, 1.0),
            scale=(0.0, 1.0),
            codes=tuple(range(looks)),
            counts=tuple(tuple(c) for c in rows),
        )
        assert (m.alarm_look or 0) == got[r]
    assert (got > 50).sum() >= 3  # the planted fall is found in most runs
