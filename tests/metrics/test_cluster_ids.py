"""Respondent ids given to ``cluster=``: refusals name ``cluster`` and the position."""

from __future__ import annotations

import pytest

import touchpoint as tp


@pytest.mark.parametrize(
    ("cluster", "pattern"),
    [
        ([1, "1", 2, 2], r"^`cluster`: 1 \(row 0\) and '1' \(row 1\) .*print the same"),
        ("customer", r"^`cluster` must be one respondent id per answer .*'customer'"),
        ([[1], [1], [2], [2]], r"^`cluster` at position 0: \[1\] is not a respondent id"),
    ],
    ids=["collision", "column-name", "list-ids"],
)
def test_bad_cluster_ids_name_cluster(cluster, pattern) -> None:
    """19-21/22: these raised a raw TypeError or a collision error that never said `cluster`."""
    for fn in (tp.nps, tp.csat):
        with pytest.raises(tp.ValidationError, match=pattern):
            fn([9, 10, 3, 5] if fn is tp.nps else [5, 4, 1, 2], cluster=cluster)


def test_good_cluster_ids_of_any_kind_agree() -> None:
    scores = [9, 10, 3, 5, 7, 9]
    a = tp.nps(scores, cluster=["x", "x", "y", "y", "z", "z"])
    b = tp.nps(scores, cluster=[10, 10, 20, 20, 30, 30])
    assert a.confidence_interval() == b.confidence_interval()
