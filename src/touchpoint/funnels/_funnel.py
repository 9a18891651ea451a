"""Funnels: how many journeys reach each step, how fast, and where the others go.

:func:`funnel` matches every journey against an ordered list of steps (a
touchpoint, a stage, or a set of touchpoints) and reports, per step, how many
entered and reached it, conversion rates with Wilson intervals, drop-off, the
time from the previous step, and for the journeys that dropped, where they
exited and what they did instead. With ``by=`` it builds one funnel per segment
and tests each step's conversion across segments (chi-square).

Matching is vectorised over journeys: for each step the candidate events are
a sorted array of positions, and every attempt finds its next match with one
:func:`numpy.searchsorted` call, so the cost is ``O(steps x events x log events)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.checks import did_you_mean
from touchpoint._lib.choices import MatchMode, ProportionMethod
from touchpoint._lib.groups import BY
from touchpoint._lib.stats import (
    ConfidenceInterval,
    KaplanMeier,
    benjamini_hochberg,
    chi2_independence,
    proportion_ci,
)
from touchpoint._lib.time import duration as _duration, format_duration, required_duration
from touchpoint._lib.types import DurationLike
from touchpoint.core._lazy import is_scan, pushdown
from touchpoint.core._results import IntervalResult, ScalarResult, TableResult
from touchpoint.exceptions import UnknownTouchpointError
from touchpoint.funnels._match import (
    CountUnit,
    StepSpec,
    _prepare,
    _Prepared,
)
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = ["END", "CountUnit", "Funnel", "FunnelStep", "StepSpec", "funnel"]

#: Label used for "the journey ended here" in exit and next-event rankings.
END = "(end)"


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
def _ranked(names: Sequence[str], counts: NDArray[np.int64]) -> tuple[tuple[str, int], ...]:
    order = np.argsort(-counts, kind="stable")
    return tuple((names[i], int(counts[i])) for i in order.tolist() if counts[i] > 0)


@attrs.frozen(kw_only=True)
class FunnelStep(IntervalResult, ScalarResult):
    """One step of a :class:`Funnel`.

    ``entered`` counts the units that reached the previous required step (all
    units for the first step); ``reached`` those that also matched this step.
    Times are in seconds for datetime logs, else in the log's time unit.
    ``exits`` ranks the last touchpoint of the units that dropped at this
    step; ``next_events`` ranks what they did right after the previous step
    (:data:`END` when nothing).

    ``conversion`` counts every unit that has not reached the step by the end
    of the log as lost, which understates conversion when the log ends before
    recent units had time to get there. The Kaplan-Meier figures
    (:attr:`conversion_km`, :attr:`time_median_km`, :meth:`conversion_within`,
    :meth:`km_interval`) count those units as right-censored at the time
    they had been waiting when the log ended (or, with ``window=``, when
    their window closed after it; a unit whose window closed inside the log
    has not converted, for good). ``censored`` counts the units whose outcome
    the log cannot tell yet: not reached, window still open at the end, and
    waiting less than the longest time any unit took to reach the step. All
    Kaplan-Meier figures are NaN for the first step and optional steps.

    Examples
    --------
    >>> from touchpoint import EventLog, funnel
    >>> log = EventLog.from_arrays(
    ...     [1, 1, 2, 2, 3, 4], ["visit", "buy", "visit", "buy", "visit", "visit"],
    ...     [0.0, 2.0, 0.0, 4.0, 1.0, 9.0])
    >>> step = funnel(log, ["visit", "buy"])["buy"]
    >>> step.conversion, step.censored
    (0.5, 1)
    >>> round(step.conversion_km, 4), round(step.conversion_within(3.0), 4)
    (0.6667, 0.3333)
    """

    index: int
    label: str
    touchpoints: tuple[str, ...]
    optional: bool
    entered: int
    reached: int
    first_reached: int
    time_median: float
    time_q1: float
    time_q3: float
    exits: tuple[tuple[str, int], ...] = ()
    next_events: tuple[tuple[str, int], ...] = ()
    censored: int = 0
    _km: KaplanMeier | None = attrs.field(default=None, eq=False, repr=False, alias="km")

    _dict_properties: ClassVar[tuple[str, ...]] = (
        "conversion",
        "conversion_from_first",
        "dropped",
        "drop_rate",
        "conversion_km",
        "time_median_km",
    )

    def __repr__(self) -> str:
        conv = "" if not self.entered else f" ({100 * self.conversion:.1f}%)"
        return (
            f"FunnelStep({self.index}, {self.label!r}: {self.reached:,} of {self.entered:,}"
            f"{conv}, dropped={self.dropped:,})"
        )

    @property
    def dropped(self) -> int:
        """Units that entered but did not reach this step (0 for optional steps)."""
        return 0 if self.optional else self.entered - self.reached

    @property
    def conversion(self) -> float:
        """Conversion from the previous required step (share of ``entered``)."""
        return self.reached / self.entered if self.entered else float("nan")

    @property
    def conversion_from_first(self) -> float:
        """Share of the units that reached the first step."""
        return self.reached / self.first_reached if self.first_reached else float("nan")

    @property
    def drop_rate(self) -> float:
        """``dropped / entered``."""
        return self.dropped / self.entered if self.entered else float("nan")

    @property
    def conversion_km(self) -> float:
        """Kaplan-Meier share of ``entered`` that reaches the step, units still waiting censored.

        ``1 - S(t)`` at the longest time any unit took to reach the step: the
        eventual conversion the log supports. NaN for the first and optional steps.
        """
        return float("nan") if self._km is None else self._km.share()

    @property
    def time_median_km(self) -> float:
        """Kaplan-Meier median time from the previous step among the units that convert.

        The time by which half of :attr:`conversion_km` has converted; unlike
        :attr:`time_median` it is not pulled down by the recent units whose
        slower conversions the log has not seen yet.
        """
        return float("nan") if self._km is None else self._km.median_of_events()

    def conversion_within(self, within: float | timedelta) -> float:
        """Kaplan-Meier share of ``entered`` that reaches the step within ``within`` of the previous.

        ``within`` is a timedelta or a number of seconds (datetime logs), else
        in the log's time unit. Past the longest follow-up the estimate stays
        at its last value.
        """
        w = required_duration(within, "within")
        return float("nan") if self._km is None else self._km.share(w)

    def km_interval(
        self, within: float | timedelta | None = None, confidence_level: float = 0.95
    ) -> ConfidenceInterval:
        """Interval for :meth:`conversion_within` (``within=None``: :attr:`conversion_km`).

        Greenwood's variance on the log-log scale (:func:`scipy.stats.ecdf`);
        where the estimate is 0 or 1, the Wilson interval of the units still
        followed then.
        """
        w = _duration(within, "within")
        if self._km is None:
            return ConfidenceInterval(float("nan"), float("nan"))
        return self._km.interval(w, confidence_level)

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: ProportionMethod = "wilson",
        *,
        of: Literal["previous", "first"] = "previous",
    ) -> ConfidenceInterval:
        """Interval for :attr:`conversion` (``of="previous"``) or :attr:`conversion_from_first`."""
        if of not in ("previous", "first"):
            raise ck.error("of", "'previous' or 'first'", of)
        n = self.entered if of == "previous" else self.first_reached
        lo, hi = proportion_ci(self.reached, n, confidence_level, method)
        return ConfidenceInterval(float(lo), float(hi))


@attrs.frozen(kw_only=True)
class Funnel(TableResult):
    """The result of :func:`funnel`.

    Attributes
    ----------
    table : Table
        One row per step (and per segment with ``by``), as :meth:`to_table`.
    steps : tuple of FunnelStep
        Per-step counts, rates, times and exits.
    segments : mapping
        One :class:`Funnel` per value of ``by`` (empty without ``by``).
    tests : Table or None
        With ``by``: per step, the chi-square test of equal conversion across
        segments (``statistic``, ``df``, ``pvalue``, Benjamini-Hochberg ``qvalue``; ``df``
        was ``dof`` before 0.2).
    """

    steps: tuple[FunnelStep, ...]
    mode: str
    window: float | None
    count: str
    n_units: int
    time_unit: str
    by: str | tuple[str, ...] | None = None
    segments: Mapping[Any, Funnel] = attrs.field(factory=dict)
    tests: Table | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, key: int | str) -> FunnelStep:
        if isinstance(key, str):
            for s in self.steps:
                if s.label == key:
                    return s
            labels = [s.label for s in self.steps]
            msg = f"unknown step {key!r}{did_you_mean(key, labels)}; steps are {labels}."
            raise UnknownTouchpointError(msg)
        return self.steps[key]

    def to_table(self, confidence_level: float = 0.95) -> Table:
        """One row per step (and per segment with ``by``)."""
        parts = [(None, self)] if not self.segments else list(self.segments.items())
        cols: dict[str, list[Any]] = {}
        for seg, f in parts:
            for s in f.steps:
                lo, hi = s.confidence_interval(confidence_level)
                flo, fhi = s.confidence_interval(confidence_level, of="first")
                row: dict[str, Any] = {} if seg is None else {"segment": seg}
                row |= {
                    "step": s.label,
                    "optional": s.optional,
                    "entered": s.entered,
                    "reached": s.reached,
                    "conversion": s.conversion,
                    "ci_low": lo,
                    "ci_high": hi,
                    "from_first": s.conversion_from_first,
                    "first_ci_low": flo,
                    "first_ci_high": fhi,
                    "dropped": s.dropped,
                    "drop_rate": s.drop_rate,
                    "time_median": s.time_median,
                    "time_q1": s.time_q1,
                    "time_q3": s.time_q3,
                    "conversion_km": s.conversion_km,
                    "time_median_km": s.time_median_km,
                    "censored": s.censored,
                    "top_exit": s.exits[0][0] if s.exits else "",
                    "top_next": s.next_events[0][0] if s.next_events else "",
                }
                for c, v in row.items():
                    cols.setdefault(c, []).append(v)
        return Table(cols, title="funnel")

    @property
    def table(self) -> Table:
        """One row per step (and per segment with ``by``), 95% intervals."""
        return self.to_table()

    def exits(self, step: int | str) -> Table:
        """Where the units that dropped at ``step`` exited (their last touchpoint), ranked."""
        return _ranked_table(self[step].exits, "exit")

    def next_events(self, step: int | str) -> Table:
        """What the units that dropped at ``step`` did right after the previous step, ranked."""
        return _ranked_table(self[step].next_events, "next")

    def _time(self, x: float) -> str:
        return format_duration(x, self.time_unit, missing="")

    def _rows(self, km: bool = True) -> tuple[list[str], list[list[Any]]]:
        """Headers and rows of the text / HTML view (``km``: the Kaplan-Meier column)."""
        headers = ["step", "entered", "reached", "conversion (95% CI)", "from first", "dropped"]
        headers += ["median time", *(["eventually (KM)"] if km else []), "top exit"]
        rows = []
        for s in self.steps:
            lo, hi = s.confidence_interval()
            rows.append(
                [
                    s.label + (" (optional)" if s.optional else ""),
                    s.entered,
                    s.reached,
                    f"{100 * s.conversion:.1f}% ({100 * lo:.1f}-{100 * hi:.1f})"
                    if s.entered
                    else "",
                    f"{100 * s.conversion_from_first:.1f}%" if s.first_reached else "",
                    s.dropped,
                    self._time(s.time_median),
                    *(
                        [f"{100 * s.conversion_km:.1f}%" if np.isfinite(s.conversion_km) else ""]
                        if km
                        else []
                    ),
                    s.exits[0][0] if s.exits else "",
                ]
            )
        return headers, rows

    def _segment_parts(self) -> list[tuple[str, list[Any], list[int]]]:
        """Per ``by`` column: its name, its segments and its rows of ``tests``."""
        assert self.tests is not None
        if isinstance(self.by, str) or self.by is None:
            return [(str(self.by), list(self.segments), list(range(len(self.steps))))]
        cols = self.tests["by"].tolist()
        return [
            (
                col,
                [g for g in self.segments if str(g).startswith(f"{col}=")],
                [i for i, c in enumerate(cols) if c == col],
            )
            for col in self.by
        ]

    def _segment_rows(
        self, groups: list[Any], rows_of: list[int]
    ) -> tuple[list[str], list[list[Any]]]:
        """Per step: each segment's conversion from the previous step, and the test."""
        assert self.tests is not None
        headers = ["step", *(str(g) for g in groups), "chi2", "p", "q"]
        rows = []
        for k, s in enumerate(self.steps):
            rates = [
                f"{100 * f.steps[k].conversion:.1f}%" if f.steps[k].entered else ""
                for f in (self.segments[g] for g in groups)
            ]
            test = self.tests.row(rows_of[k])
            rows.append([s.label, *rates, test["statistic"], test["pvalue"], test["qvalue"]])
        return headers, rows

    def to_text(self) -> str:
        """A plain-text rendering of the steps (and the segments' conversions and tests)."""
        from touchpoint.table import format_text

        headers, rows = self._rows()
        out = [format_text(headers, rows), _KM_NOTE]
        if self.tests is not None:
            for col, groups, rows_of in self._segment_parts():
                out += [
                    "",
                    f"conversion by {col}:",
                    format_text(*self._segment_rows(groups, rows_of)),
                ]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        from touchpoint.table import format_html

        headers, rows = self._rows()
        cap = f"Funnel ({self.mode}, {self.n_units:,} {self.count})"
        out = format_html(headers, rows, caption=cap) + f"<p><small>{_KM_NOTE}</small></p>"
        if self.tests is not None:
            for col, groups, rows_of in self._segment_parts():
                out += format_html(
                    *self._segment_rows(groups, rows_of), caption=f"Conversion by {col}"
                )
        return out

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{s.label}: {s.reached:,}" + (f" ({100 * s.conversion:.1f}%)" if s.index else "")
            for s in self.steps
        )
        seg = f", segments={len(self.segments)}" if self.segments else ""
        return f"Funnel({self.mode}, {self.n_units:,} {self.count}: {parts}{seg})"

    def plot(
        self, ax: Axes | None = None, *, segments: bool = True, confidence_level: float = 0.95
    ) -> Axes:
        """The funnel chart, the same as :func:`touchpoint.plot.funnel_bars` draws.

        Bars are the share of the first step reaching each step, with Wilson
        intervals, labelled with the count and the share. With segments
        (``by=``) and ``segments=True``, one bar per segment and step, each a
        share of its own segment's first step. Needs matplotlib; returns the Axes.
        """
        from touchpoint._lib.charts import funnel_chart, funnel_segments_chart

        labels = [s.label for s in self.steps]
        if segments and self.segments:
            shares = {
                str(seg): [s.conversion_from_first if s.first_reached else 0.0 for s in f.steps]
                for seg, f in self.segments.items()
            }
            return funnel_segments_chart(
                labels,
                shares,
                ax=ax,
                legend_title=(
                    self.by if isinstance(self.by, str) else ", ".join(self.by or ["segment"])
                ),
            )
        t = self.to_table(confidence_level=confidence_level)
        return funnel_chart(
            labels,
            np.asarray(t["reached"], dtype=float),
            np.asarray(t["from_first"], dtype=float),
            np.asarray(t["first_ci_low"], dtype=float),
            np.asarray(t["first_ci_high"], dtype=float),
            ax=ax,
            confidence_level=confidence_level,
        )


#: The footnote of the funnel's text and HTML views.
_KM_NOTE = (
    "eventually (KM): the share expected to reach the step in the end, journeys still "
    "under way counted as censored (Kaplan-Meier); conversion (95% CI): Wilson interval."
)


def _ranked_table(items: tuple[tuple[str, int], ...], name: str) -> Table:
    counts = np.array([c for _, c in items], dtype=np.int64)
    total = counts.sum()
    share = counts / total if total else counts.astype(np.float64)
    return Table({"touchpoint": [t for t, _ in items], "count": counts, "share": share}, title=name)


def _build(
    p: _Prepared, mask: NDArray[np.bool_] | None, names: tuple[str, ...], **meta: Any
) -> Funnel:
    m = p.match
    reached = m.reached if mask is None else m.reached[mask]
    times = m.time if mask is None else m.time[mask]
    pos = m.pos if mask is None else m.pos[mask]
    offsets = p.units.offsets
    ends = offsets[1:] if mask is None else offsets[1:][mask]
    n_units = len(reached)
    K = reached.shape[1]
    ext = (*names, END)
    end_code = len(names)
    first = int(reached[:, 0].sum())
    end = float(p.t.max()) if len(p.t) else float("nan")
    window = meta.get("window")
    out = []
    for k in range(K):
        j = int(m.prev[k])
        entered_mask = reached[:, j] if j >= 0 else np.ones(n_units, dtype=bool)
        hit = reached[:, k] & entered_mask
        dt = times[hit, k] - times[hit, j] if j >= 0 else np.empty(0)
        if p.steps.optional[k] and j >= 0:
            dt = np.maximum(dt, 0.0)
        q1, med, q3 = np.percentile(dt, [25, 50, 75]) if len(dt) else (np.nan,) * 3
        exits: tuple[tuple[str, int], ...] = ()
        nexts: tuple[tuple[str, int], ...] = ()
        km, censored = None, 0
        if j >= 0 and not p.steps.optional[k]:
            waiting = entered_mask & ~reached[:, k]
            limit = None if window is None else times[waiting, 0] + window
            km, censored = step_km(dt, times[waiting, j], limit, end)
            drop = entered_mask & ~reached[:, k]
            last = p.codes[ends[drop] - 1]
            exits = _ranked(ext, np.bincount(last, minlength=len(ext)))
            after = pos[drop, j] + 1
            nxt = np.where(
                after < ends[drop], p.codes[np.minimum(after, len(p.codes) - 1)], end_code
            )
            nexts = _ranked(ext, np.bincount(nxt, minlength=len(ext)))
        out.append(
            FunnelStep(
                index=k,
                label=p.steps.labels[k],
                touchpoints=p.steps.touchpoints[k],
                optional=bool(p.steps.optional[k]),
                entered=int(entered_mask.sum()),
                reached=int(hit.sum()),
                first_reached=first,
                time_median=float(med),
                time_q1=float(q1),
                time_q3=float(q3),
                exits=exits,
                next_events=nexts,
                censored=censored,
                km=km,
            )
        )
    return Funnel(steps=tuple(out), n_units=n_units, **meta)


def step_km(
    delays: NDArray[np.float64],
    since: NDArray[np.float64],
    limit: NDArray[np.float64] | None,
    end: float,
) -> tuple[KaplanMeier, int]:
    """The Kaplan-Meier estimate of a step, and how many units are still open.

    ``delays`` are the times from the previous step of the units that reached
    the step; ``since`` the time the others reached the previous step and
    ``limit`` when their window closes (None: no window). A unit is censored
    at ``end - since`` when its window was still open at ``end``; one whose
    window closed inside the log stays at risk throughout (it did not convert).
    """
    delays = np.maximum(np.asarray(delays, dtype=np.float64), 0.0)
    follow = np.maximum(end - since, 0.0)
    open_ = np.ones(len(since), dtype=bool) if limit is None else limit > end
    longest = float(delays.max()) if len(delays) else 0.0
    top = max(longest, float(follow.max()) if len(follow) else 0.0) + 1.0
    follow = np.where(open_, follow, top)
    censored = int(np.count_nonzero(open_ & (follow < longest)))
    return KaplanMeier(delays, follow), censored


def _homogeneity(reached: NDArray[np.float64], entered: NDArray[np.float64]) -> tuple[float, int]:
    """Pearson chi-square of equal proportions across groups (rows with entered > 0)."""
    ok = entered > 0
    k, n = reached[ok], entered[ok]
    if len(n) < 2 or k.sum() in (0, n.sum()):
        return float("nan"), max(len(n) - 1, 0)
    stat, df, _ = chi2_independence(np.column_stack([k, n - k]))
    return stat, df


@ck.validate_params(
    {
        "window": ck.Duration(none=True),
        "mode": ck.Options("strict", "ordered", "any"),
        "by": BY,
        "count": ck.Options("journeys", "customers", "sessions"),
    }
)
def funnel(
    log: EventLog,
    steps: Sequence[StepSpec] | None = None,
    *,
    window: DurationLike | None = None,
    mode: MatchMode = "ordered",
    by: str | Sequence[str] | None = None,
    exclude: Iterable[str] = (),
    optional: Iterable[int | str] = (),
    count: CountUnit = "journeys",
) -> Funnel:
    """How many journeys reach each step, how fast, and where the others leave.

    Parameters
    ----------
    log : EventLog
        The events.
    steps : list
        Each step is a touchpoint name, a stage name of the log's design (any
        touchpoint of that stage), or a set of touchpoint names (any of them).
        Defaults to the design's stages in order.
    window : timedelta or float, optional
        Conversion window from the first step: later steps must happen within
        it (seconds for datetime logs, else the log's time unit).
    mode : {"ordered", "strict", "any"}
        ``"ordered"``: the steps in order, other events allowed in between;
        ``"strict"``: the steps as consecutive events; ``"any"``: steps in any
        order (step ``k`` is reached once steps ``1..k`` all happened; the steps
        must be disjoint).
    by : str or list of str, optional
        A column (value at each unit's first event), or several: one funnel
        per segment and a chi-square test of each step's conversion across
        the segments of each column (one Benjamini-Hochberg family). Segments
        are sorted (numbers by value, then text; ``"(missing)"``, the units
        without a value, last); with several columns each is its own
        segmentation and its segments are labelled ``"column=value"``.
    exclude : iterable of str
        Touchpoints that disqualify an attempt when they happen between two
        steps (the attempt stops at the earlier step). No effect in
        ``"strict"`` mode, where nothing happens between steps; in ``"any"``
        mode an excluded event ends the attempt.
    optional : iterable of int or str
        Steps (index or label) that may be skipped. An optional step counts as
        reached when it happens between the previous and the next required step
        (anywhere after the previous one when the next is never reached);
        nobody drops at an optional step, and the next step's conversion is
        relative to the previous required step.
    count : {"journeys", "customers", "sessions"}
        The unit counted. ``"customers"`` merges the sessions of a customer
        (the ``"customer"`` column from :meth:`EventLog.sessionize`, else each
        journey is a customer); ``"sessions"`` needs the ``"session"`` column.

    Returns
    -------
    Funnel

    Notes
    -----
    Re-entry: a unit that starts the funnel several times (several events of
    the first step) is counted once, by its best attempt: the one reaching the
    deepest step (then the most optional steps, then the earliest). Each
    attempt matches greedily (the earliest event of each step after the
    previous one), which is optimal for ordered matching within a window.
    Without window and exclusions only the first attempt is needed.

    Conversion intervals are Wilson score intervals; the ``by`` test is
    Pearson's chi-square for equal proportions (for two segments equal to the
    pooled two-proportion z-test squared), with Benjamini-Hochberg q-values
    across steps.

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays(
    ...     [1, 1, 1, 2, 2, 3, 3, 3],
    ...     ["ad", "site", "buy", "ad", "site", "ad", "mail", "buy"],
    ...     [0.0, 1.0, 2.0, 0.0, 5.0, 0.0, 1.0, 9.0])
    >>> f = funnel(log, ["ad", "site", "buy"])
    >>> [(s.label, s.entered, s.reached) for s in f.steps]
    [('ad', 3, 3), ('site', 3, 2), ('buy', 2, 1)]
    >>> f["site"].exits
    (('buy', 1),)
    >>> f["site"].next_events
    (('mail', 1),)
    >>> funnel(log, ["ad", "buy"], window=5.0)["buy"].reached
    1
    >>> funnel(log, ["ad", "buy"], mode="strict")["buy"].reached
    0
    """
    if is_scan(log):  # a lazy scan (touchpoint.scan) counts in its engine
        return pushdown(log, "funnel", Funnel, locals())
    p = _prepare(
        log, steps, window=window, mode=mode, exclude=exclude, optional=optional, count=count
    )
    names = log.touchpoint_names
    meta: dict[str, Any] = {
        "mode": mode,
        "window": _duration(window, "window", datetime=log.is_datetime),
        "count": count,
        "time_unit": "s" if log.is_datetime else "",
    }
    total = _build(p, None, names, **meta)
    if by is None:
        return total
    from touchpoint._lib.groups import groupings

    found = groupings(by, lambda c: log.column(c)[p.units.first_event])
    segs = {
        label: _build(p, codes == i, names, **meta)
        for _, codes, labels in found
        for i, label in enumerate(labels)
    }
    columns = {col: labels for col, _, labels in found}
    return _with_segments(total, segs, by if isinstance(by, str) else tuple(by), columns)


def _with_segments(
    total: Funnel,
    segs: dict[Any, Funnel],
    by: str | tuple[str, ...],
    columns: Mapping[str, Sequence[Any]] | None = None,
) -> Funnel:
    """``total`` with per-segment funnels and a homogeneity test of each step across them.

    ``columns`` names the segments of each column (default: all of ``segs``, one
    column); with several columns each step is tested once per column, all tests one
    Benjamini-Hochberg family, and the tests table gains a leading ``by`` column.
    """
    from scipy.special import chdtrc

    columns = columns or {str(by): list(segs)}
    several = len(columns) > 1
    rows: dict[str, list[Any]] = {"step": [], "statistic": [], "df": [], "pvalue": []}
    if several:
        rows = {"by": [], **rows}
    for col, labels in columns.items():
        for k, s in enumerate(total.steps):
            ent = np.array([segs[g].steps[k].entered for g in labels], dtype=np.float64)
            rea = np.array([segs[g].steps[k].reached for g in labels], dtype=np.float64)
            stat, dof = _homogeneity(rea, ent)
            if several:
                rows["by"].append(col)
            rows["step"].append(s.label)
            rows["statistic"].append(stat)
            rows["df"].append(dof)
            rows["pvalue"].append(float(chdtrc(dof, stat)) if dof > 0 else float("nan"))
    title = f"by {by}" if isinstance(by, str) else "by " + ", ".join(by)
    tests = Table(
        rows | {"qvalue": benjamini_hochberg(rows["pvalue"])},
        title=title,
        renamed={"dof": "df"},
    )
    return attrs.evolve(total, by=by, segments=segs, tests=tests)
