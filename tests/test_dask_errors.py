"""Dask readers: preconditions checked, errors name the original index.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import touchpoint as tp


# ---------------------------------------------------------------------------------
# Dask: preconditions checked, errors name the original index
# ---------------------------------------------------------------------------------
def _dask_frame(npartitions=2):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    df = pd.DataFrame(
        {
            "id": ["a", "b", "a", "b", "c", "a"],
            "tp": ["x", "x", "y", "y", "x", "z"],
            "t": [1.0, 1.0, 2.0, 2.0, 1.0, 3.0],
        },
        index=[100, 101, 102, 103, 104, 105],
    )
    return df, dd.from_pandas(df, npartitions=npartitions, sort=False)


def test_error_dask_shuffle_false_with_split_journeys():
    from touchpoint import dask as tpd

    _, ddf = _dask_frame()
    with pytest.raises(tp.ValidationError, match=r"journey.*(partition|shuffle)"):
        tpd.count_transitions(
            ddf, journey="id", touchpoint="tp", time="t", shuffle=False, scheduler="sync"
        )


def test_ok_dask_shuffle_auto_matches_memory():
    from touchpoint import dask as tpd

    df, ddf = _dask_frame()
    counts = tpd.count_transitions(ddf, journey="id", touchpoint="tp", time="t", scheduler="sync")
    local = tp.EventLog.from_frame(df, journey="id", touchpoint="tp", time="t")
    assert counts == tp.count_transitions(local)


def test_error_dask_names_original_index():
    from touchpoint import dask as tpd

    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    df = pd.DataFrame(
        {"id": ["a", "b", "c", "d"] * 3, "tp": ["x"] * 12, "t": [1.0] * 11 + [math.nan]},
        index=range(500, 512),
    )
    ddf = dd.from_pandas(df, npartitions=3)
    with pytest.raises(tp.ValidationError, match=r"index 511"):
        tpd.count_transitions(ddf, journey="id", touchpoint="tp", time="t", scheduler="sync")


SCORE_COLUMNS = {
    "booleans": ([True, False, True], r"column 'nps': a boolean .* is not a survey answer"),
    "text": (["9", "x", "10"], r"column 'nps': not a number 'x'"),
}


@pytest.mark.parametrize("case", sorted(SCORE_COLUMNS))
def test_error_dask_score_counts_refuses_non_answers(case):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from touchpoint import dask as tpd

    values, pattern = SCORE_COLUMNS[case]
    ddf = dd.from_pandas(pd.DataFrame({"nps": values}), npartitions=2)
    with pytest.raises(tp.ValidationError, match=pattern):
        tpd.score_counts(ddf, "nps", scheduler="sync")


def test_drop_dask_score_counts_missing_group_is_counted():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from touchpoint import dask as tpd

    df = pd.DataFrame({"nps": [9.0, np.nan, 9.0, 3.0, 10.0], "g": ["u", None, "u", np.nan, "v"]})
    tally = tpd.score_counts(dd.from_pandas(df, npartitions=2), "nps", by="g", scheduler="sync")
    assert set(tally) == {"u", "v", "(missing)"}
    assert sum(sum(t.values()) for t in tally.values()) == 5  # every answer counted once
    missing = tally["(missing)"]
    assert missing[3.0] == 1
    assert [int(v) for k, v in missing.items() if k != k] == [1]  # the NaN answer
