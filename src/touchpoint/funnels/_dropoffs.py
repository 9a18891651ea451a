"""Drop-off detection: which step conversions fell, for whom, since when, beyond chance.

:func:`detect_dropoffs` counts, for every funnel step x segment x period, how
many units entered the step and how many converted, tests each cell against a
baseline (the other segments in the same period, or the same segment's
earlier or other periods) with a two-proportion z-test, controls the false
discovery rate with Benjamini-Hochberg across all tests, and for every series
with a discovery scans the binomial series for the period the drop started.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import Alternative, MatchMode, ProportionMethod
from touchpoint._lib.compat import deprecated_params
from touchpoint._lib.groups import BY
from touchpoint._lib.stats import ConfidenceInterval, benjamini_hochberg, proportion_ci
from touchpoint._lib.time import check_tz, duration as _duration
from touchpoint._lib.types import DurationLike
from touchpoint.core._lazy import is_scan, pushdown
from touchpoint.core._results import ScalarResult, TableResult, short_repr
from touchpoint.exceptions import StatisticalWarning, ValidationError
from touchpoint.funnels._dropoff_stats import (
    _ALTERNATIVES,
    _fisher,
    _fisher_midp,
    _periods,
    _zstat,
    _ztest,
    binomial_changepoint,
)
from touchpoint.funnels._match import CountUnit, StepSpec, _prepare
from touchpoint.table import Table, format_cell, format_html, format_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = [
    "ChangePoint",
    "DropOff",
    "DropOffs",
    "binomial_changepoint",
    "detect_dropoffs",
]

# The leading columns of a drop-off row (the discoveries table and the tested cells).
#: Columns of ``DropOffs.left_out`` (``previous`` is the step the units entered from).
_LEFT_OUT = (
    "previous",
    "step",
    "group",
    "period",
    "entered",
    "mature",
    "baseline_mature",
    "reason",
)
_ROW_COLUMNS = ("previous", "step", "group", "period", "entered", "reached", "rate")


def _row_columns(*extra: str) -> dict[str, list[Any]]:
    """Empty lists for the columns of drop-off rows: the leading ones, then ``extra``."""
    return {c: [] for c in (*_ROW_COLUMNS, *extra)}


Baseline = Literal["auto", "others", "past", "rest"]
_BASELINES = ("auto", "others", "past", "rest")


@attrs.frozen(kw_only=True)
class DropOff(ScalarResult):
    """One cell (step x group x period) whose conversion differs from its baseline.

    ``rate`` is the cell's step conversion (``reached / entered``), ``expected``
    the baseline's pooled conversion, ``effect = rate - expected`` and ``ci``
    the Wilson interval of ``rate``. ``statistic`` is the pooled two-proportion
    z of the cell against its baseline (``df`` is None: a normal reference; with
    ``test="midp"`` or ``"exact"`` the p-value is Fisher's, the z only describes the gap). ``start`` is the period the series'
    change began (binomial change-point scan), when the analysis has periods.
    ``explained_by`` names the cell of another segment column (same step and
    period) that accounts for this drop, when one does (see
    :func:`detect_dropoffs`).
    """

    step: str
    previous: str
    group: Any
    period: Any
    rate: float
    expected: float
    ci: ConfidenceInterval
    pvalue: float
    qvalue: float
    effect: float
    entered: int
    reached: int
    start: Any = None
    statistic: float = float("nan")
    df: float | None = None
    explained_by: Any = None

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: ProportionMethod = "wilson",
    ) -> ConfidenceInterval:
        """Interval for :attr:`rate`."""
        lo, hi = proportion_ci(self.reached, self.entered, confidence_level, method)
        return ConfidenceInterval(float(lo), float(hi))

    def __repr__(self) -> str:
        when = "" if self.period is None else f", period={self.period}"
        since = "" if self.start is None else f", since={self.start}"
        return (
            f"DropOff({self.previous} -> {self.step}, group={self.group!r}{when}: "
            f"{100 * self.rate:.1f}% vs {100 * self.expected:.1f}% expected, "
            f"effect={100 * self.effect:+.1f} pts, q={self.qvalue:.3g}{since})"
        )


@attrs.frozen(kw_only=True)
class ChangePoint(ScalarResult):
    """The segment of periods where a binomial series departs from the rest.

    ``start``/``end`` are period labels (``end`` is None when the change lasts
    to the last period); ``statistic`` is the likelihood-ratio statistic of
    "one rate inside [start, end], another outside" against "one rate", and
    ``pvalue`` its Monte Carlo p-value under a constant rate (so ``df`` is None:
    the scan's maximum has no chi-square reference).
    """

    step: str
    group: Any
    start: Any
    end: Any
    rate_before: float
    rate_during: float
    statistic: float
    pvalue: float
    df: float | None = None

    def __repr__(self) -> str:
        return short_repr(
            self, ("step", "group", "start", "end", "rate_before", "rate_during", "pvalue")
        )


@attrs.frozen(kw_only=True)
class DropOffs(TableResult, Sequence[DropOff]):
    """The discoveries of :func:`detect_dropoffs` (q-value <= alpha), most negative effect first.

    Attributes
    ----------
    table : Table
        The discoveries, one row each (as :meth:`to_table`).
    tests : Table
        Every test made (one row per step x group x period), with p- and q-values.
    changes : tuple of ChangePoint
        Onset of the change for every step x group series with a discovery.
    explained : tuple of DropOff
        Significant cells whose drop is accounted for by a cell of another
        segment column (their ``explained_by``); not counted as findings.
    horizon : dict of str to float or None
        Per step, the censoring horizon used (seconds for datetime logs;
        None without one). With ``horizon="auto"`` it is the 95th
        percentile of the observed step times.
    left_out : Table
        Every step x group x period cell that units entered but that was not
        tested: ``entered`` (all units), ``mature`` (those entered at least
        ``horizon`` before the end of the data), ``baseline_mature`` and the
        ``reason``: ``"horizon"`` (no mature unit: the whole cell is too
        recent), ``"min_count"`` (fewer than ``min_count`` mature units),
        ``"baseline"`` (a baseline under ``min_count``) or ``"no_past"``
        (a group's first period under ``baseline="past"``: nothing before it).
    periods_left_out : tuple of (str, label)
        ``(step, period)`` pairs with entries but none mature: periods the
        horizon removed entirely.
    tz : str
        Time zone of the period calendar.
    """

    dropoffs: tuple[DropOff, ...]
    tests: Table
    changes: tuple[ChangePoint, ...]
    alpha: float
    baseline: str
    period: Any
    explained: tuple[DropOff, ...] = ()
    horizon: dict[str, float | None] = attrs.field(factory=dict)
    left_out: Table = attrs.field(factory=lambda: Table({c: [] for c in _LEFT_OUT}))
    periods_left_out: tuple[tuple[str, Any], ...] = ()
    tz: str = "UTC"

    def plot(self, ax: Axes | None = None, *, step: str | None = None) -> Axes:
        """Each group's conversion per period, the flagged periods ringed.

        The chart :func:`touchpoint.plot.dropoff_lines` draws (``step``: which
        step, by default the one of the largest drop); needs matplotlib.
        """
        from touchpoint._lib.charts import dropoff_chart

        return dropoff_chart(self, step=step, ax=ax)

    def __len__(self) -> int:
        return len(self.dropoffs)

    @overload
    def __getitem__(self, i: int) -> DropOff: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[DropOff]: ...
    def __getitem__(self, i: int | slice) -> DropOff | Sequence[DropOff]:
        return self.dropoffs[i]

    def __iter__(self) -> Iterator[DropOff]:
        return iter(self.dropoffs)

    @property
    def n_tests(self) -> int:
        """Number of tests made (the Benjamini-Hochberg family size)."""
        return len(self.tests)

    def to_table(self) -> Table:
        """The discoveries as a table."""
        cols = _row_columns("ci_low", "ci_high", "expected", "effect", "pvalue", "qvalue", "start")
        for d in self.dropoffs:
            row = attrs.asdict(d, recurse=False)
            row["ci_low"], row["ci_high"] = d.ci.low, d.ci.high
            for c, col in cols.items():
                col.append(row[c])
        return Table(cols, title="drop-offs")

    @property
    def table(self) -> Table:
        """The discoveries, one row each."""
        return self.to_table()

    def _rows(self) -> tuple[list[str], list[list[Any]]]:
        headers = [
            "step",
            "group",
            "period",
            "rate",
            "expected",
            "effect",
            "q",
            "since",
        ]
        rows = [
            [
                f"{d.previous} > {d.step}",
                d.group,
                "" if d.period is None else d.period,
                f"{100 * d.rate:.1f}% ({100 * d.ci.low:.1f}-{100 * d.ci.high:.1f})",
                f"{100 * d.expected:.1f}%",
                f"{100 * d.effect:+.1f} pts",
                format_cell(d.qvalue),
                "" if d.start is None else d.start,
            ]
            for d in self.dropoffs
        ]
        return headers, rows

    def to_text(self) -> str:
        """Plain-text table of the discoveries."""
        return format_text(*self._rows())

    def _repr_html_(self) -> str:
        cap = (
            f"{len(self)} drop-offs among {self.n_tests} tests "
            f"(baseline {self.baseline}, FDR {self.alpha})"
        )
        return format_html(*self._rows(), caption=cap)

    def __repr__(self) -> str:
        more = f", {len(self.explained)} explained by another cell" if self.explained else ""
        return (
            f"DropOffs({len(self)} of {self.n_tests} tests significant at FDR {self.alpha}, "
            f"baseline={self.baseline!r}{more})"
        )


def _check_period(name: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and value in ("day", "week", "month")):
        return
    if isinstance(value, str):
        ck.fail(
            name,
            "'day', 'week', 'month', None, a timedelta or a number of seconds",
            value,
        )
    ck.duration(name, value)


@deprecated_params(renamed={"changepoint_resamples": "n_resamples"})
@ck.validate_params(
    {
        "by": BY,
        "period": ck.Custom(_check_period, "fortnight", math.nan, -1.0, 0),
        "baseline": ck.Options(*_BASELINES),
        "alpha": ck.ALPHA,
        "alternative": ck.Options(*_ALTERNATIVES),
        "min_count": ck.Integer(1),
        "test": ck.Options("midp", "exact", "z"),
        "horizon": ck.Duration(none=True, auto=True),
        "mode": ck.Options("strict", "ordered", "any"),
        "window": ck.Duration(none=True),
        "count": ck.Options("journeys", "customers", "sessions"),
        "n_resamples": ck.Integer(0),
        "seed": ck.Seed(),
        "tz": ck.TZ,
    }
)
def detect_dropoffs(
    log: EventLog,
    steps: Sequence[StepSpec] | None = None,
    *,
    by: str | Sequence[str] | None = None,
    period: str | float | _dt.timedelta | None = "week",
    baseline: Baseline = "auto",
    alpha: float = 0.05,
    alternative: Alternative = "less",
    min_count: int = 20,
    test: Literal["midp", "exact", "z"] = "midp",
    horizon: Any = "auto",
    mode: MatchMode = "ordered",
    window: DurationLike | None = None,
    exclude: Iterable[str] = (),
    optional: Iterable[int | str] = (),
    count: CountUnit = "journeys",
    n_resamples: int = 199,
    seed: int | None = 0,
    tz: str = "UTC",
) -> DropOffs:
    """Find step conversions that fell in a segment or period, beyond chance.

    Every unit (journey, customer or session) is matched against the funnel
    ``steps`` as in :func:`touchpoint.funnel`. For every step after the first,
    every group of ``by`` and every period, the cell's conversion (units that
    reached the step among those that entered it, i.e. reached the previous
    required step, dated by when they entered) is tested against a baseline.

    Parameters
    ----------
    log : EventLog
        The events.
    steps : list, optional
        Funnel steps (touchpoints, stages or sets); default the design's stages.
    by : str or list of str, optional
        Segment column (value at each unit's first event), or several: every
        column's groups are tested in one call and form one multiple-testing
        family (groups are then labelled ``"column=value"``). Running one call
        per column instead multiplies the chance of a false discovery.
    period : {"week", "day", "month"}, timedelta, float or None
        Time bucket of the step entry (ISO weeks, Monday to Sunday, days and
        months of the ``tz`` calendar); None for no time split.
    baseline : {"auto", "others", "past", "rest"}
        What a cell is compared with: ``"others"`` the other groups in the same
        period; ``"past"`` the same group's earlier periods; ``"rest"`` the same
        group's other periods. ``"auto"``: ``"past"`` with periods, else ``"others"``.
    alpha : float
        False discovery rate (Benjamini-Hochberg over all tests of the call).
    alternative : {"less", "two-sided", "greater"}
        ``"less"`` looks for drops only.
    min_count : int
        Cells, and baselines, with fewer entered units are not tested.
    test : {"midp", "exact", "z"}
        ``"midp"`` (default): Fisher's test with the mid-p correction (half the
        probability of the observed table), which holds its size in small
        cells at high conversion rates where the z-test does not; ``"exact"``:
        Fisher's exact test (conditional on the margins; two-sided doubles the
        smaller tail), conservative; ``"z"``: the pooled two-proportion
        z-test, liberal in the far tail for cells of 20-50 at rates of 0.8-0.95
        (2-3x its nominal size at p <= 0.001, see the Validation page).
    horizon : "auto", timedelta, float or None
        Right-censoring guard: a conversion counts only if it happens within
        ``horizon`` of entering the step, and units that entered less than
        ``horizon`` before the end of the data are left out (their outcome is
        not known yet). ``"auto"`` uses, per step, the 95th percentile of the
        observed step times; None counts every conversion (recent periods then
        look like drops). The result's ``horizon`` gives the value used and
        ``left_out`` the cells not tested; a
        :class:`~touchpoint.exceptions.StatisticalWarning` says when more
        than a quarter of the cells it could test were left out (every
        reason but ``"no_past"``).
    mode, window, exclude, optional, count
        As in :func:`touchpoint.funnel`.
    n_resamples : int
        Monte Carlo draws for the change-point p-values.
    seed : int or None
        Seed for those draws.
    tz : str
        Time zone of the calendar for ``period`` (an IANA name such as
        ``"America/New_York"``; default ``"UTC"``).

    Returns
    -------
    DropOffs
        The discoveries (most negative effect first), every test in
        ``.tests``, change points in ``.changes``.

    Notes
    -----
    Each test compares the cell with its baseline (cell and baseline are
    disjoint). Benjamini-Hochberg controls the expected share of false
    discoveries among discoveries at ``alpha`` for independent or positively
    dependent tests; with no real drop, the chance of any discovery is then at
    most about ``alpha``.

    With several segment columns, a significant cell whose drop is carried by
    a significant cell of another column (same step and period) is *explained*
    by it: without the other cell's units (in this cell and its baseline) this
    cell would not be a discovery (p above the Benjamini-Hochberg cut), while
    the other cell stays one without this cell's units (when both lose it, the
    weaker one is explained).
    Explained cells are listed in ``.explained`` with ``explained_by`` set, and
    in the ``explained_by`` column of ``.tests``, not as separate findings.

    For every step x group
    with a discovery and at least three periods, :func:`binomial_changepoint`
    scans the group's series for the segment of periods with a lower rate and
    reports its first period as ``start``.

    Examples
    --------
    >>> import numpy as np
    >>> from touchpoint import EventLog
    >>> rng = np.random.default_rng(1)
    >>> n = 4000
    >>> week = rng.integers(0, 8, n)
    >>> bought = rng.random(n) < np.where(week >= 5, 0.3, 0.6)
    >>> j = np.repeat(np.arange(n), 1 + bought)
    >>> tps = np.where(np.arange(len(j)) == np.searchsorted(j, j), "cart", "buy")
    >>> t = week[j] * 7 * 86400.0 + (tps == "buy")
    >>> found = detect_dropoffs(EventLog.from_arrays(j, tps, t), ["cart", "buy"],
    ...                         period=7 * 86400.0)
    >>> [d.period for d in found] == [5 * 7 * 86400.0, 6 * 7 * 86400.0, 7 * 7 * 86400.0]
    True
    >>> found.changes[0].start == 5 * 7 * 86400.0, found.changes[0].end
    (True, None)
    """
    if is_scan(log):  # a lazy scan (touchpoint.scan) counts in its engine
        return pushdown(log, "detect_dropoffs", DropOffs, locals())
    baseline = _resolve_baseline(baseline, period, by)
    p = _prepare(
        log, steps, window=window, mode=mode, exclude=exclude, optional=optional, count=count
    )
    segments = _segments(log, p.units.first_event, by, len(p.match.reached))
    tester = _TESTERS[test]
    tz = check_tz(tz)
    cells = _Cells()
    spec = _TestSpec(baseline, min_count, tester, alternative, keep_series=period is not None)
    _count_and_test(
        cells,
        p,
        segments,
        is_datetime=log.is_datetime,
        period=period,
        tz=tz,
        horizon=horizon,
        spec=spec,
    )
    recs = cells.recs
    pvalues = np.asarray(recs["pvalue"], dtype=np.float64)
    q = benjamini_hochberg(pvalues)
    sig = q <= alpha
    explained_by = _explain(
        np.flatnonzero(sig),
        cells.where,
        recs["group"],
        pvalues,
        step_units=cells.step_units,
        segments=segments,
        baseline=baseline,
        tester=tester,
        alternative=alternative,
    )
    tests = Table(
        recs | {"qvalue": q, "significant": sig, "explained_by": explained_by},
        title="drop-off tests",
    )
    changes = (
        _change_points(
            cells,
            p.steps.labels,
            sig,
            alternative=alternative,
            n_resamples=n_resamples,
            seed=seed,
        )
        if period is not None
        else []
    )
    found = _findings(
        recs, q, sig, explained_by=explained_by, changes=changes, alternative=alternative
    )
    left_out = Table({c: cells.left[c] for c in _LEFT_OUT}, title="drop-off cells not tested")
    _warn_left_out(cells.left["reason"], len(tests), cells.used_horizon, log.is_datetime)
    return DropOffs(
        dropoffs=tuple(d for d in found if d.explained_by is None),
        tests=tests,
        changes=tuple(changes),
        alpha=alpha,
        baseline=baseline,
        period=period,
        explained=tuple(d for d in found if d.explained_by is not None),
        horizon=cells.used_horizon,
        left_out=left_out,
        periods_left_out=tuple(cells.periods_left),
        tz=tz,
    )


_TESTERS = {"z": _ztest, "exact": _fisher, "midp": _fisher_midp}


def _resolve_baseline(baseline: Baseline, period: Any, by: Any) -> Baseline:
    """``"auto"`` made concrete, and the baselines that need periods or groups checked."""
    if baseline == "auto":
        baseline = "past" if period is not None else "others"
    if baseline in ("past", "rest") and period is None:
        msg = f"baseline={baseline!r} compares periods; give 'period'."
        raise ValidationError(msg)
    if baseline == "others" and by is None:
        msg = "baseline='others' compares groups; give 'by'."
        raise ValidationError(msg)
    return baseline


@attrs.frozen
class _TestSpec:
    """How every cell is tested: its baseline, the smallest cell, the test and its side."""

    baseline: str
    min_count: int
    tester: Any
    alternative: str
    #: keep each group's per-period series (for the change points; with periods only)
    keep_series: bool


@attrs.define
class _Cells:
    """What the step x group x period counting collects for the later phases."""

    recs: dict[str, list[Any]] = attrs.field(
        factory=lambda: _row_columns(
            "baseline_entered", "baseline_reached", "expected", "effect", "pvalue"
        )
    )
    #: (step k, segment column, group, period) of every test, in ``recs`` order
    where: list[tuple[int, int, int, int]] = attrs.field(factory=list)
    #: (step k, group label) -> per-period reached and entered counts
    series: dict[tuple[int, Any], tuple[NDArray[np.float64], NDArray[np.float64]]] = attrs.field(
        factory=dict
    )
    step_periods: dict[int, list[Any]] = attrs.field(factory=dict)
    step_units: dict[int, tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64]]] = (
        attrs.field(factory=dict)
    )
    used_horizon: dict[str, float | None] = attrs.field(factory=dict)
    left: dict[str, list[Any]] = attrs.field(
        factory=lambda: _row_columns("mature", "baseline_mature", "reason")
    )
    periods_left: list[tuple[str, Any]] = attrs.field(factory=list)


def _step_entries(
    p: Any, k: int, fixed_horizon: float | None, horizon: Any, t_end: float
) -> tuple[int, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], float | None]:
    """Step ``k``: its previous required step, who entered, who entered mature, who converted.

    With a horizon only units that entered at least ``h`` before the end count as
    mature, and only conversions within ``h`` count (``"auto"``: the 95th percentile
    of the step's observed delays).
    """
    m = p.match
    j = int(m.prev[k])
    entered = m.reached[:, j].copy()
    ent = entered.copy()
    conv = m.reached[:, k].copy()
    h: float | None = None
    if horizon is not None:
        delay = m.time[:, k] - m.time[:, j]
        if fixed_horizon is None:
            ok = conv & ent
            h = float(np.quantile(delay[ok], 0.95)) if ok.any() else 0.0
        else:
            h = fixed_horizon
        ent &= m.time[:, j] <= t_end - h
        conv &= delay <= h
    return j, entered, ent, conv, h


def _count_and_test(
    cells: _Cells,
    p: Any,
    segments: list[tuple[NDArray[np.int64], list[Any]]],
    *,
    is_datetime: bool,
    period: Any,
    tz: str,
    horizon: Any,
    spec: _TestSpec,
) -> None:
    """Per step after the first: date the entries, then count and test every segment's cells."""
    m = p.match
    t_end = float(p.t.max()) if len(p.t) else 0.0
    fixed_horizon = (
        None if horizon in (None, "auto") else _duration(horizon, "horizon", datetime=is_datetime)
    )
    for k in range(1, m.reached.shape[1]):
        j, entered, ent, conv, h = _step_entries(p, k, fixed_horizon, horizon, t_end)
        cells.used_horizon[p.steps.labels[k]] = h
        if not entered.any():
            continue
        # periods over every entry (mature or not), so the cells left out can be named
        if period is not None:
            t_entry = m.time[entered, j]
            abs_t = (p.origin / 1e9 + t_entry) if is_datetime else t_entry
            pcode_all, labels = _periods(abs_t, is_datetime, period, tz)
        else:
            pcode_all, labels = np.zeros(int(entered.sum()), dtype=np.int64), [None]
        pcode = pcode_all[ent[entered]]
        cells.step_periods[k] = labels
        cells.step_units[k] = (ent, conv[ent], pcode)
        if period is not None:
            seen_p = np.bincount(pcode_all, minlength=len(labels)) > 0
            mature_p = np.bincount(pcode, minlength=len(labels)) > 0
            cells.periods_left.extend(
                (p.steps.labels[k], labels[i]) for i in np.flatnonzero(seen_p & ~mature_p)
            )
        for si, (gcode, groups) in enumerate(segments):
            cell_all = gcode[entered] * len(labels) + pcode_all
            n_all = np.bincount(cell_all, minlength=len(groups) * len(labels))
            _test_segment(
                cells,
                (k, si, p.steps.labels[j], p.steps.labels[k]),
                (gcode[ent], groups),
                conv[ent],
                periods=(pcode, labels),
                n_all=n_all.reshape(len(groups), len(labels)),
                spec=spec,
            )


def _test_segment(
    cells: _Cells,
    at: tuple[int, int, str, str],
    segment: tuple[NDArray[np.int64], list[Any]],
    conv: NDArray[np.bool_],
    *,
    periods: tuple[NDArray[np.int64], list[Any]],
    n_all: NDArray[np.int64],
    spec: _TestSpec,
) -> None:
    """One step x segment column: the left-out cells, the series and the tests of every cell.

    ``at`` is (step index, segment column index, previous step label, step label);
    ``segment`` the mature units' group codes and the group labels, ``periods`` their
    period codes and the period labels; ``n_all`` counts every entry (mature or not)
    per group x period.
    """
    k, si, previous, step = at
    gcode, groups = segment
    pcode, labels = periods
    baseline, min_count = spec.baseline, spec.min_count
    n, x, nb, xb = _cell_counts(gcode, pcode, conv, G=len(groups), P=len(labels), baseline=baseline)
    testable = (n >= min_count) & (nb >= min_count)
    left = cells.left
    for g_, p_ in zip(*np.nonzero((n_all > 0) & ~testable), strict=True):
        left["previous"].append(previous)
        left["step"].append(step)
        left["group"].append(groups[g_])
        left["period"].append(labels[p_])
        left["entered"].append(int(n_all[g_, p_]))
        left["mature"].append(int(n[g_, p_]))
        left["baseline_mature"].append(int(nb[g_, p_]))
        left["reason"].append(_left_out_reason(n[g_, p_], nb[g_, p_], min_count, baseline))
    if spec.keep_series:
        for g in range(len(groups)):
            cells.series[(k, groups[g])] = (x[g], n[g])
    gi, pi = np.nonzero(testable)
    if len(gi) == 0:
        return
    pv = spec.tester(x[gi, pi], n[gi, pi], xb[gi, pi], nb[gi, pi], spec.alternative)
    rate = x[gi, pi] / n[gi, pi]
    exp = xb[gi, pi] / nb[gi, pi]
    recs = cells.recs
    for i in range(len(gi)):
        recs["previous"].append(previous)
        recs["step"].append(step)
        recs["group"].append(groups[gi[i]])
        recs["period"].append(labels[pi[i]])
        cells.where.append((k, si, int(gi[i]), int(pi[i])))
    recs["entered"].extend(n[gi, pi].astype(np.int64).tolist())
    recs["reached"].extend(x[gi, pi].astype(np.int64).tolist())
    recs["rate"].extend(rate.tolist())
    recs["baseline_entered"].extend(nb[gi, pi].astype(np.int64).tolist())
    recs["baseline_reached"].extend(xb[gi, pi].astype(np.int64).tolist())
    recs["expected"].extend(exp.tolist())
    recs["effect"].extend((rate - exp).tolist())
    recs["pvalue"].extend(pv.tolist())


def _change_points(
    cells: _Cells,
    step_labels: Sequence[str],
    sig: NDArray[np.bool_],
    *,
    alternative: Alternative,
    n_resamples: int,
    seed: int | None,
) -> list[ChangePoint]:
    """For every step x group with a discovery and three periods or more, where its drop began."""
    recs = cells.recs
    step_index = {lab: i for i, lab in enumerate(step_labels)}
    done: set[tuple[int, Any]] = set()
    changes: list[ChangePoint] = []
    for i in np.flatnonzero(sig).tolist():
        key = (step_index[recs["step"][i]], recs["group"][i])
        if key in done or key not in cells.series:
            continue
        done.add(key)
        xs, ns = cells.series[key]
        used = np.flatnonzero(ns > 0)
        if len(used) < 3:
            continue
        k, g = key
        lo, hi = int(used[0]), int(used[-1])
        a, b, stat, pval = binomial_changepoint(
            xs[lo : hi + 1],
            ns[lo : hi + 1],
            direction=alternative,
            n_resamples=n_resamples,
            seed=seed,
        )
        plabels = cells.step_periods[k]
        a, b = a + lo, b + lo
        inside = np.zeros(len(xs), dtype=bool)
        inside[a : b + 1] = True
        rate_in = xs[inside].sum() / max(ns[inside].sum(), 1)
        rate_out = xs[~inside].sum() / max(ns[~inside].sum(), 1)
        changes.append(
            ChangePoint(
                step=step_labels[k],
                group=g,
                start=plabels[a],
                end=None if b >= hi else plabels[b],
                rate_before=float(rate_out),
                rate_during=float(rate_in),
                statistic=stat,
                pvalue=pval,
            )
        )
    return changes


def _findings(
    recs: dict[str, list[Any]],
    q: NDArray[np.float64],
    sig: NDArray[np.bool_],
    *,
    explained_by: list[Any],
    changes: list[ChangePoint],
    alternative: str,
) -> list[DropOff]:
    """The significant cells as :class:`DropOff`, the largest effect (in ``alternative``) first."""
    start_of = {(cp.step, cp.group): cp.start for cp in changes}
    z = _zstat(
        *(
            np.asarray(recs[c], dtype=np.float64)
            for c in ("reached", "entered", "baseline_reached", "baseline_entered")
        )
    )
    found = [
        DropOff(
            step=recs["step"][i],
            previous=recs["previous"][i],
            group=recs["group"][i],
            period=recs["period"][i],
            rate=recs["rate"][i],
            expected=recs["expected"][i],
            ci=ConfidenceInterval(
                *(float(v) for v in proportion_ci(recs["reached"][i], recs["entered"][i]))
            ),
            pvalue=recs["pvalue"][i],
            qvalue=float(q[i]),
            effect=recs["effect"][i],
            entered=recs["entered"][i],
            reached=recs["reached"][i],
            start=start_of.get((recs["step"][i], recs["group"][i])),
            statistic=float(z[i]),
            explained_by=explained_by[i],
        )
        for i in np.flatnonzero(sig).tolist()
    ]
    if alternative == "less":
        found.sort(key=lambda d: d.effect)
    elif alternative == "greater":
        found.sort(key=lambda d: -d.effect)
    else:
        found.sort(key=lambda d: -abs(d.effect))
    return found


def _left_out_reason(n: float, nb: float, min_count: int, baseline: str) -> str:
    """Why a cell that units entered was not tested (see ``DropOffs.left_out``)."""
    if n == 0:
        return "horizon"
    if n < min_count:
        return "min_count"
    if baseline == "past" and nb == 0:
        return "no_past"
    return "baseline"


def _warn_left_out(
    reasons: list[Any], n_tested: int, horizon: dict[str, float | None], is_datetime: bool
) -> None:
    """Warn when more than a quarter of the cells that could be tested were left out."""
    # a group's first period has no past to compare with: not a cell the data left out
    n_left = len(reasons) - reasons.count("no_past")
    n_cells = n_tested + n_left
    if n_left <= n_cells / 4:
        return
    why = ", ".join(
        f"{r}: {reasons.count(r)}" for r in ("horizon", "min_count", "baseline") if r in reasons
    )
    hs = ", ".join(f"{s}: {_format_horizon(v, is_datetime)}" for s, v in horizon.items())
    warnings.warn(
        f"detect_dropoffs left out {n_left} of {n_cells} cells (step x group x period) it "
        f"could have tested ({why}); horizon {hs}. See .left_out and .horizon; a smaller "
        "horizon, a coarser period or a lower min_count tests more cells.",
        StatisticalWarning,
        stacklevel=3,
    )


def _format_horizon(h: float | None, is_datetime: bool) -> str:
    if h is None:
        return "none"
    if not is_datetime:
        return f"{h:g}"
    if h >= 86400:
        return f"{h / 86400:.1f} days"
    if h >= 3600:
        return f"{h / 3600:.1f} h"
    return f"{h / 60:.1f} min"


def _segments(
    log: EventLog,
    first_event: NDArray[np.int64],
    by: str | Sequence[str] | None,
    n_units: int,
) -> list[tuple[NDArray[np.int64], list[Any]]]:
    """Per segment column: each unit's group code and the group labels (the one group order).

    Several columns label their groups ``"column=value"`` so they stay apart.
    """
    if by is None:
        return [(np.zeros(n_units, dtype=np.int64), ["all"])]
    from touchpoint._lib.groups import groupings

    return [
        (codes, labels) for _, codes, labels in groupings(by, lambda c: log.column(c)[first_event])
    ]


def _cell_counts(
    gcode: NDArray[np.int64],
    pcode: NDArray[np.int64],
    conv: NDArray[np.bool_],
    *,
    G: int,
    P: int,
    baseline: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Entered and converted units per group x period, and the same for each cell's baseline."""
    cell = gcode * P + pcode
    n = np.bincount(cell, minlength=G * P).reshape(G, P).astype(np.float64)
    x = np.bincount(cell, weights=conv, minlength=G * P).reshape(G, P).astype(np.float64)
    if baseline == "others":
        nb, xb = n.sum(axis=0) - n, x.sum(axis=0) - x
    elif baseline == "past":
        nb = np.cumsum(n, axis=1) - n
        xb = np.cumsum(x, axis=1) - x
    else:
        nb, xb = n.sum(axis=1, keepdims=True) - n, x.sum(axis=1, keepdims=True) - x
    return n, x, nb, xb


def _explain(
    significant: NDArray[np.int64],
    where: list[tuple[int, int, int, int]],
    labels: list[Any],
    pvalues: NDArray[np.float64],
    *,
    step_units: dict[int, tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64]]],
    segments: list[tuple[NDArray[np.int64], list[Any]]],
    baseline: str,
    tester: Any,
    alternative: str,
) -> list[Any]:
    """For every test, the label of the significant cell that explains it (else None).

    Cell ``i`` is explained by ``j`` (another segment column, same step and
    period) when, without ``j``'s units in ``i`` and in ``i``'s baseline, ``i``
    would no longer be a discovery (p-value above the Benjamini-Hochberg cut,
    the largest significant p-value) while ``j`` stays one without ``i``'s
    units; when both lose it, the one with the larger p-value is explained.
    """
    out: list[Any] = [None] * len(where)
    if len(segments) < 2 or len(significant) < 2:
        return out
    cut = float(pvalues[significant].max())

    def without(i: int, j: int) -> float:
        k, si, gi, pi = where[i]
        _, sj, gj, _ = where[j]
        ent, conv, pcode = step_units[k]
        keep = segments[sj][0][ent] != gj
        gcode = segments[si][0][ent][keep]
        G, P = len(segments[si][1]), int(pcode.max()) + 1
        n, x, nb, xb = _cell_counts(gcode, pcode[keep], conv[keep], G=G, P=P, baseline=baseline)
        if n[gi, pi] == 0 or nb[gi, pi] == 0:
            return 1.0
        p = tester(
            x[gi : gi + 1, pi],
            n[gi : gi + 1, pi],
            xb[gi : gi + 1, pi],
            nb[gi : gi + 1, pi],
            alternative,
        )
        return float(p[0])

    by_cell: dict[tuple[int, int], list[int]] = {}
    for i in significant.tolist():
        k, _, _, pi = where[i]
        by_cell.setdefault((k, pi), []).append(i)
    for members in by_cell.values():
        for i in members:
            best: tuple[float, int] | None = None
            for j in members:
                if where[j][1] == where[i][1] or out[j] is not None:
                    continue
                if without(i, j) <= cut:
                    continue
                keeps = without(j, i) <= cut
                if keeps or pvalues[i] > pvalues[j]:
                    cand = (float(pvalues[j]), j)
                    best = cand if best is None or cand < best else best
            if best is not None:
                out[i] = labels[best[1]]
    return out
