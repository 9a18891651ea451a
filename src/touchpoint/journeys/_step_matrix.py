"""The step matrix: where journeys are at each step (retentioneering's step matrix).

Cell ``(touchpoint, k)`` is the share of journeys whose ``k``-th event is that
touchpoint. The ``ENDED`` row holds the share of journeys that have already ended
by step ``k`` (shorter than ``k`` events), so every column sums to 1, as in
retentioneering (``ENDED`` is accumulated there too). With ``by=`` two groups are
compared cell by cell: the difference of shares, a test per cell and
Benjamini-Hochberg q-values over all tested cells (one family).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.core._results import TableResult
from touchpoint.journeys._common import ENDED, journey_groups, ranks
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = ["StepMatrix", "step_matrix"]

#: Expected count below which a cell is tested with Fisher's exact test, not z.
SMALL_EXPECTED = 5.0


@attrs.frozen(kw_only=True)
class StepMatrix(TableResult):
    """Shares of journeys at each touchpoint at each step (see :func:`step_matrix`).

    Attributes
    ----------
    table : Table
        Column ``touchpoint`` (the touchpoints, then ``ENDED``, then the merged rare
        ones when ``threshold`` merged any), then one column per step (``"1"``,
        ``"2"``, ...; relative to the target, ``"-2"`` ... ``"0"`` ... with ``target=``).
        With ``by=``, the difference first group minus second.
    steps : tuple of str
        The step columns.
    n_journeys : int
        Journeys counted (with ``target=``, those that reach it).
    groups : tuple of str or None
        The two groups compared (``by=``).
    group_sizes : tuple of int or None
        Journeys in each group.
    first, second : Table or None
        Each group's own step matrix (``by=``).
    tests : Table or None
        One row per tested cell (``by=``): ``touchpoint``, ``step``, the two
        ``count_*`` and ``share_*``, ``difference``, ``test`` (``"z"`` or
        ``"fisher"``), ``pvalue`` and ``qvalue`` (Benjamini-Hochberg over all cells).
    target : str or None
        The touchpoint the steps are centred on.
    """

    table: Table
    steps: tuple[str, ...]
    n_journeys: int
    groups: tuple[str, str] | None = None
    group_sizes: tuple[int, int] | None = None
    first: Table | None = None
    second: Table | None = None
    tests: Table | None = None
    target: str | None = None

    def __repr__(self) -> str:
        kind = "differential " if self.groups else ""
        return (
            f"StepMatrix({kind}{len(self.table)} rows x {len(self.steps)} steps, "
            f"{self.n_journeys:,} journeys)"
        )

    def _repr_html_(self) -> str:
        return f"<div><strong>{html.escape(repr(self))}</strong>{self.table.to_html()}</div>"

    def values(self) -> NDArray[np.float64]:
        """The matrix as a 2-d array (rows as in :attr:`table`, one column per step)."""
        return np.column_stack([self.table[s] for s in self.steps]).astype(np.float64)

    def significant(self, alpha: float = 0.05) -> Table:
        """The tested cells with ``qvalue < alpha`` (``by=`` only), largest difference first."""
        ck.number("alpha", alpha, low=0.0, high=1.0, closed="neither")
        if self.tests is None:
            msg = "significant() needs a differential step matrix (step_matrix(..., by=...))."
            raise ValueError(msg)
        t = self.tests
        keep = np.asarray(t["qvalue"] < alpha)
        out = t[keep]
        order = np.argsort(-np.abs(np.asarray(out["difference"], dtype=np.float64)), kind="stable")
        return out[order.astype(np.int64)]

    def plot(self, ax: Axes | None = None, *, annotate: bool = True) -> Axes:
        """The heatmap (diverging colours for a differential matrix). Needs matplotlib."""
        from touchpoint.journeys._draw import step_matrix_heatmap

        return step_matrix_heatmap(self, ax=ax, annotate=annotate)


def _positions(
    log: EventLog, target: str | None, before: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Per event its (shifted) 1-based step, per journey the step its ENDED lands on,
    and which journeys are counted."""
    rank = ranks(log)
    lengths = np.diff(log.offsets)
    keep = np.ones(log.n_journeys, dtype=bool)
    shift = np.zeros(log.n_journeys, dtype=np.int64)
    if target is not None:
        code = log.touchpoint_code(target)
        hit = np.flatnonzero(log.touchpoint == code)
        first = np.full(log.n_journeys, -1, dtype=np.int64)
        jr = log.journey[hit]
        # the first hit of each journey: hits are in event order, so the first per journey
        uniq, idx = np.unique(jr, return_index=True)
        first[uniq] = rank[hit[idx]]
        keep = first > 0
        shift = np.where(keep, first - before - 1, 0)
    return rank - shift[log.journey], lengths + 1 - shift, keep


def _counts(
    log: EventLog,
    step: NDArray[np.int64],
    end: NDArray[np.int64],
    journeys: NDArray[np.bool_],
    n_steps: int,
) -> NDArray[np.int64]:
    """Counts (touchpoints + ENDED) x steps for the journeys where ``journeys`` holds."""
    k = log.n_touchpoints
    ev = journeys[log.journey] & (step >= 1) & (step <= n_steps)
    flat = log.touchpoint[ev].astype(np.int64) * n_steps + (step[ev] - 1)
    out = np.zeros((k + 1, n_steps), dtype=np.int64)
    out[:k] = np.bincount(flat, minlength=k * n_steps).reshape(k, n_steps)
    ended = np.bincount(np.clip(end[journeys], 1, n_steps + 1) - 1, minlength=n_steps + 1)
    out[k] = np.cumsum(ended[:n_steps])  # ENDED accumulates: ended by step s
    return out


def _order(shares: NDArray[np.float64]) -> list[int]:
    """retentioneering's row order: for each step the remaining row with the largest share."""
    left = list(range(shares.shape[0]))
    order: list[int] = []
    for col in range(shares.shape[1]):
        if not left:
            break
        best = max(left, key=lambda r: (shares[r, col], -r))
        order.append(best)
        left.remove(best)
    return order + left


def _cell_tests(
    ca: NDArray[np.int64], na: int, cb: NDArray[np.int64], nb: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Two-sided p-values per cell: pooled z, or Fisher's exact test where an expected
    count is below :data:`SMALL_EXPECTED`; NaN where both groups are 0."""
    from scipy.stats import fisher_exact

    from touchpoint._lib.stats import two_proportion_z

    a, b = ca.ravel().astype(np.float64), cb.ravel().astype(np.float64)
    n = na + nb
    pool = (a + b) / max(n, 1)
    expected = np.minimum.reduce([pool * na, pool * nb, (1 - pool) * na, (1 - pool) * nb])
    small = expected < SMALL_EXPECTED
    _, p = two_proportion_z(a / max(na, 1), na, b / max(nb, 1), nb)
    p = np.array(p, dtype=np.float64)
    for i in np.flatnonzero(small & ((a + b) > 0)).tolist():
        table = np.array([[a[i], na - a[i]], [b[i], nb - b[i]]], dtype=np.int64)
        p[i] = float(fisher_exact(table).pvalue)
    p[(a + b) == 0] = np.nan
    return p.reshape(ca.shape), small.reshape(ca.shape)


def _threshold(
    labels: list[str], shown: NDArray[np.float64], threshold: float
) -> tuple[list[int], int]:
    """Rows kept (ENDED always) and how many were merged as rare."""
    n = len(labels)
    rare = [i for i in range(n - 1) if threshold > 0 and np.all(np.abs(shown[i]) < threshold)]
    return [i for i in range(n) if i not in set(rare)], len(rare)


def _rows(
    labels: list[str], shown: NDArray[np.float64], threshold: float, others: list[NDArray[Any]]
) -> tuple[list[str], list[NDArray[Any]]]:
    """Labels and matrices after thresholding and ordering (rare rows summed into one)."""
    kept, n_rare = _threshold(labels, shown, threshold)
    body = [i for i in kept if i != len(labels) - 1]
    order = [body[i] for i in _order(shown[body])]
    rows = [*order, len(labels) - 1]
    rare = [i for i in range(len(labels) - 1) if i not in set(kept)]
    out_labels = [labels[i] for i in rows]
    mats = [shown, *others]
    out = [m[rows] for m in mats]
    if n_rare:
        out_labels.append(f"(other {n_rare})")
        out = [
            np.vstack([o, m[rare].sum(axis=0, keepdims=True)])
            for o, m in zip(out, mats, strict=True)
        ]
    return out_labels, out


def _table(labels: list[str], steps: list[str], m: NDArray[Any], title: str) -> Table:
    cols: dict[str, Any] = {"touchpoint": labels}
    for j, s in enumerate(steps):
        cols[s] = m[:, j]
    return Table(cols, title=title)


def _check_groups(name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, tuple | list) or len(value) != 2 or value[0] is None:
        ck.fail(name, "None or a pair (first value, second value or None)", value)


@ck.validate_params(
    {
        "max_steps": ck.Integer(1, 1000),
        "by": ck.Text(none=True),
        "threshold": ck.Number(0.0, 1.0),
        "target": ck.Text(none=True),
        "before": ck.Integer(0, 999),
        "groups": ck.Custom(_check_groups, "ab", ("a",), 3),
    }
)
def step_matrix(
    log: EventLog,
    max_steps: int = 20,
    *,
    by: str | None = None,
    threshold: float = 0.0,
    target: str | None = None,
    before: int = 5,
    groups: tuple[str, str | None] | None = None,
) -> StepMatrix:
    """Share of journeys at each touchpoint at each step, with an ``ENDED`` row.

    The numbers are those of retentioneering's step matrix (``weight_col`` the
    journey, ``accumulated`` ENDED): cell ``(t, k)`` is the share of journeys whose
    ``k``-th event is ``t``; ``ENDED`` at ``k`` is the share with fewer than ``k``
    events, so each column sums to 1.

    Parameters
    ----------
    log : EventLog
        The events; each journey is one path (sessionize first for sessions).
    max_steps : int
        Steps shown (columns).
    by : str, optional
        ``"converted"`` (converters minus the rest) or a per-journey column with
        two values (the first in sorted order minus the second): the matrix is the
        difference, each cell tested (pooled two-proportion z, Fisher's exact test
        where an expected count is below 5) and q-values from Benjamini-Hochberg
        over all cells with any journey (``scipy.stats.false_discovery_control``).
    threshold : float
        Touchpoints whose share stays below this at every step are summed into one
        ``"(other n)"`` row (retentioneering's ``THRESHOLDED_n``); 0 keeps all.
    target : str, optional
        Centre the steps on each journey's first ``target`` event (step ``"0"``);
        only journeys that reach it are counted, as retentioneering's ``centered``.
    before : int
        With ``target``, the steps shown before it (retentioneering's ``left_gap``).
    groups : (str, str or None), optional
        With a ``by`` column of more than two values, the two to compare
        (``(value, None)``: that value against all other journeys), as
        retentioneering's ``diff=(column, value1, value2 | "<REST>")``.

    Returns
    -------
    StepMatrix

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 1, 2, 2, 3], ["ad", "site", "buy", "ad", "buy",
    ...                               "site"], [0.0, 1, 2, 0, 1, 0])
    >>> sm = tp.step_matrix(log, max_steps=3)
    >>> sm
    StepMatrix(4 rows x 3 steps, 3 journeys)
    >>> sm.table.to_records()[0]
    {'touchpoint': 'ad', '1': 0.666..., '2': 0.0, '3': 0.0}
    >>> sm.table["3"].tolist()  # ad, site, buy, ENDED
    [0.0, 0.0, 0.333..., 0.666...]
    """
    from scipy.stats import false_discovery_control

    n_steps = max_steps
    step, end, counted = _positions(log, target, before)
    if target is not None:
        steps = [str(s - before - 1) for s in range(1, n_steps + 1)]
    else:
        steps = [str(s) for s in range(1, n_steps + 1)]
    labels = [*log.touchpoint_names, ENDED]
    if by is None:
        n = int(counted.sum())
        c = _counts(log, step, end, counted, n_steps)
        shares = c / max(n, 1)
        out_labels, (m,) = _rows(labels, shares, threshold, [])
        return StepMatrix(
            table=_table(out_labels, steps, m, "step matrix"),
            steps=tuple(steps),
            n_journeys=n,
            target=target,
        )
    group, names = journey_groups(log, by, groups)
    ga, gb = counted & (group == 0), counted & (group == 1)
    na, nb = int(ga.sum()), int(gb.sum())
    ca, cb = _counts(log, step, end, ga, n_steps), _counts(log, step, end, gb, n_steps)
    sa, sb = ca / max(na, 1), cb / max(nb, 1)
    p, small = _cell_tests(ca, na, cb, nb)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = false_discovery_control(p[ok])
    out_labels, (diff, ma, mb) = _rows(labels, sa - sb, threshold, [sa, sb])
    tests = _tests_table(labels, steps, (ca, cb, sa, sb, p, q, small), names)
    return StepMatrix(
        table=_table(out_labels, steps, diff, "differential step matrix"),
        steps=tuple(steps),
        n_journeys=na + nb,
        groups=names,
        group_sizes=(na, nb),
        first=_table(out_labels, steps, ma, f"step matrix: {names[0]}"),
        second=_table(out_labels, steps, mb, f"step matrix: {names[1]}"),
        tests=tests,
        target=target,
    )


def _tests_table(
    labels: list[str], steps: list[str], parts: tuple[NDArray[Any], ...], names: tuple[str, str]
) -> Table:
    ca, cb, sa, sb, p, q, small = parts
    rows, cols = np.nonzero(~np.isnan(p))
    return Table(
        {
            "touchpoint": [labels[i] for i in rows.tolist()],
            "step": [steps[j] for j in cols.tolist()],
            "count_first": ca[rows, cols],
            "count_second": cb[rows, cols],
            "share_first": sa[rows, cols],
            "share_second": sb[rows, cols],
            "difference": sa[rows, cols] - sb[rows, cols],
            "test": np.where(small[rows, cols], "fisher", "z").astype(object),
            "pvalue": p[rows, cols],
            "qvalue": q[rows, cols],
        },
        title=f"cell tests: {names[0]} vs {names[1]}",
    )
