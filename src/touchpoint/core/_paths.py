"""The per-journey touchpoint sequences of an EventLog."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

__all__ = ["Paths"]


class Paths(Sequence[tuple[str, ...]]):
    """The ordered touchpoint sequence of each journey (a lazy, indexable view).

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_records(
    ...     [{"id": "a", "tp": "ad", "t": 2}, {"id": "a", "tp": "site", "t": 1},
    ...      {"id": "b", "tp": "ad", "t": 0}], journey="id", touchpoint="tp", time="t")
    >>> paths = log.paths()
    >>> list(paths)
    [('site', 'ad'), ('ad',)]
    >>> paths.most_common(1)
    [(('site', 'ad'), 1)]
    """

    def __init__(
        self,
        codes: NDArray[np.int32],
        offsets: NDArray[np.int64],
        names: tuple[str, ...],
        journey_ids: NDArray[Any],
    ) -> None:
        self.codes = codes
        self.offsets = offsets
        self.names = names
        self.journey_ids = journey_ids

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> tuple[str, ...]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[str, ...]]: ...
    def __getitem__(self, i: int | slice) -> tuple[str, ...] | list[tuple[str, ...]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        names = self.names
        return tuple(names[c] for c in self.codes[self.offsets[i] : self.offsets[i + 1]].tolist())

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        names = self.names
        codes = self.codes.tolist()
        bounds = self.offsets.tolist()
        for a, b in itertools.pairwise(bounds):
            yield tuple(names[c] for c in codes[a:b])

    @property
    def lengths(self) -> NDArray[np.int64]:
        """Number of events of each journey."""
        return np.diff(self.offsets)

    def most_common(self, n: int | None = None) -> list[tuple[tuple[str, ...], int]]:
        """The ``n`` most frequent paths with their counts."""
        return Counter(self).most_common(n)

    def prefixes(self, k: int) -> list[tuple[tuple[str, ...], int]]:
        """The first ``k`` steps of every path, counted, most frequent first.

        Unique long paths group by how they begin; :func:`touchpoint.path_prefixes`
        adds the cut at the first conversion and conversion rates with intervals.

        Examples
        --------
        >>> from touchpoint import EventLog
        >>> log = EventLog.from_arrays([1, 1, 1, 2, 2], ["ad", "site", "buy", "ad", "site"],
        ...                            [0.0, 1, 2, 0, 1])
        >>> log.paths().prefixes(2)
        [(('ad', 'site'), 2)]
        """
        from touchpoint._lib import checks as ck

        k = ck.integer("k", k, low=1)
        return Counter(p[:k] for p in self).most_common()

    def __repr__(self) -> str:
        """The counts and the three most common paths (``a > b: 12``)."""
        top = "; ".join(
            f"{' > '.join(p) if len(p) <= 6 else ' > '.join(p[:5]) + ' > ...'}: {k:,}"
            for p, k in self.most_common(3)
        )
        return f"Paths(journeys={len(self):,}, events={len(self.codes):,}" + (
            f"; most common: {top})" if top else ")"
        )
