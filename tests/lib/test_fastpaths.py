"""Each fast path of ``_lib/fastpaths`` equals its plain numpy fallback."""

from __future__ import annotations

import numpy as np
import pytest

from touchpoint._lib import columns, fastpaths

pd = pytest.importorskip("pandas")


@pytest.mark.parametrize("n_groups", [1, 7, 70_000])
def test_counting_sort_equals_a_stable_argsort(n_groups: int) -> None:
    rng = np.random.default_rng(n_groups)
    j = rng.integers(0, n_groups, 50_000)
    got = fastpaths.counting_sort(j, n_groups)
    assert got is not None
    order, jg = got
    ref = np.argsort(j, kind="stable")
    assert order.tolist() == ref.tolist()
    assert jg.tolist() == j[ref].tolist()


def test_object_identities_are_the_objects() -> None:
    names = np.array(["ad", "site", "buy"], dtype=object)
    values = names[np.array([0, 2, 1, 0, 0])]
    if not fastpaths.pointers_usable():  # pragma: no cover - not CPython
        pytest.skip("object arrays do not hold addresses here")
    ptrs = fastpaths.object_identities(values)
    assert ptrs.tolist() == [id(v) for v in values.tolist()]
    assert fastpaths.objects_at(ptrs[:3].tolist()) == ["ad", "buy", "site"]


def test_factorize_by_identity_equals_factorize_by_value() -> None:
    """Few shared objects (the identity path) and fresh copies (hashing) give one coding."""
    rng = np.random.default_rng(3)
    names = np.array(["ad", "site", "", "buy", None], dtype=object)
    shared = names[rng.integers(0, len(names), 20_000)]
    fresh = np.array([None if v is None else (v + "x")[:-1] for v in shared], dtype=object)
    assert columns._factorize_by_identity(shared, pd) is not None  # the fast path ran
    assert columns._factorize_by_identity(fresh, pd) is None  # one object per row: hashed
    a, b = columns.factorize(shared), columns.factorize(fresh)
    assert a.codes.tolist() == b.codes.tolist()
    assert a.uniques.tolist() == b.uniques.tolist()
    assert a.missing.tolist() == b.missing.tolist() and a.empty.tolist() == b.empty.tolist()
