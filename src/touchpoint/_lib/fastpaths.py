"""The fast paths that rely on CPython's object layout or on pandas' private API (internal).

Each has a plain numpy fallback that gives the same result, and
``tests/lib/test_fastpaths.py`` checks them equal:

- :func:`object_identities` and :func:`objects_at`: an object array's
  pointers read as integers (CPython stores an object array as ``PyObject*``),
  so strings taken from a small table (``names[codes]``) are coded by identity
  without hashing a string; the fallback hashes the values
  (:func:`touchpoint._lib.columns.factorize` of a copy with distinct objects).
- :func:`counting_sort`: pandas' compiled ``groupsort_indexer`` (a stable
  O(n + groups) counting sort); the fallback is ``np.argsort(kind="stable")``.
"""

from __future__ import annotations

import ctypes
import platform
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "counting_sort",
    "groupsort_indexer",
    "object_identities",
    "objects_at",
    "pointers_usable",
]

_IMPLEMENTATION = platform.python_implementation()


def pointers_usable() -> bool:
    """Whether an object array holds its objects' addresses (CPython, pointer-sized slots)."""
    return _IMPLEMENTATION == "CPython" and np.dtype(object).itemsize == np.dtype(np.intp).itemsize


def object_identities(values: NDArray[Any]) -> NDArray[np.intp]:
    """The object array's pointers as integers (a view: ``values`` must outlive it)."""
    addr = values.__array_interface__["data"][0]
    buf = (ctypes.c_ssize_t * len(values)).from_address(addr)
    return np.ctypeslib.as_array(buf)


def objects_at(addresses: list[int]) -> list[Any]:
    """The objects at ``addresses`` (which something alive must still hold)."""
    return [ctypes.cast(p, ctypes.py_object).value for p in addresses]


def groupsort_indexer() -> Any:
    """pandas' compiled stable counting sort (``groupsort_indexer``, O(n + groups)), or None.

    ``groupsort_indexer(codes, n_groups)`` returns the order and the counts per
    code (``counts[0]`` for code -1).
    """
    try:
        from pandas._libs.algos import groupsort_indexer
    except ImportError:  # pragma: no cover - pandas is optional
        return None
    return groupsort_indexer


def counting_sort(
    j: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
    """Stable counting sort of codes ``0..n_groups-1``: ``(order, j[order])``; None without pandas.

    The sorted codes are rebuilt from the counts, not gathered. Equal to
    ``order = np.argsort(j, kind="stable")`` and ``j[order]``.

    Examples
    --------
    >>> order, jg = counting_sort(np.array([2, 0, 2, 1]), 3)
    >>> order.tolist(), jg.tolist()
    ([1, 3, 0, 2], [0, 1, 2, 2])
    """
    sorter = groupsort_indexer()
    if sorter is None:
        return None
    order, counts = sorter(np.asarray(j, dtype=np.intp), int(n_groups))
    sizes = counts[1:]
    jg = np.repeat(np.arange(n_groups, dtype=np.int64), sizes)
    if len(jg) != len(j):  # pragma: no cover - codes out of range: not ours to sort
        return None
    return order.astype(np.int64, copy=False), jg
