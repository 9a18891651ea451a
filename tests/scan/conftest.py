"""Shared data for the scan tests: random event tables written to Parquet.

Every equality test reads the same rows twice: lazily (the counting runs in the
engine) and into memory (``EventLog.from_frame`` of the rows in file order), and
compares the two analyses, which share no counting code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

TOUCHPOINTS = np.array(["ad", "site", "mail", "cart", "buy", "call"])


def events(
    n: int = 3000,
    *,
    n_journeys: int = 400,
    seed: int = 0,
    string_ids: bool = False,
    datetimes: bool = False,
    outcome: bool = True,
) -> pd.DataFrame:
    """Ungrouped events with many equal times (integer times 0..39) and a segment column."""
    rng = np.random.default_rng(seed)
    j = rng.integers(0, n_journeys, n)
    t = rng.integers(0, 40, n).astype(np.float64)
    df = pd.DataFrame(
        {
            "journey_id": np.char.add("c", j.astype(str)).astype(object) if string_ids else j,
            "touchpoint": TOUCHPOINTS[rng.choice(6, n, p=[0.3, 0.25, 0.15, 0.12, 0.1, 0.08])],
            "timestamp": (
                pd.Timestamp("2026-03-02") + pd.to_timedelta(t * 7200, unit="s") if datetimes else t
            ),
            "segment": np.array(["north", "south", "west"])[j % 3],
            "channel": np.array(["paid", "owned"])[rng.integers(0, 2, n)],
        }
    )
    if outcome:
        df["revenue"] = np.where(rng.random(n) < 0.06, rng.integers(1, 90, n), 0).astype(float)
    return df


def journey_level(df: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """One value per journey repeated on its rows (some journeys without one)."""
    rng = np.random.default_rng(seed)
    ids = df["journey_id"].unique()
    value = pd.Series(np.where(rng.random(len(ids)) < 0.3, rng.integers(1, 50, len(ids)), 0.0), ids)
    out = df.copy()
    out["revenue"] = value[df["journey_id"]].to_numpy(dtype=float)
    return out


@pytest.fixture
def write(tmp_path):
    """Write a frame to Parquet (row groups of 500 rows) and return the path."""
    count = iter(range(1000))

    def _write(df: pd.DataFrame, name: str | None = None) -> str:
        path = tmp_path / (name or f"events{next(count)}.parquet")
        df.to_parquet(path, index=False, row_group_size=500)
        return str(path)

    return _write
