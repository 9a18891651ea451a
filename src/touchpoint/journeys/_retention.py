"""Cohorts and retention, censoring-aware (Amplitude's, Mixpanel's and GA4's retention).

A journey (a customer) starts at its first event, or at its first ``start``
touchpoint, and joins the cohort of that day, week or month. Period ``p`` is the
window ``[p, p + 1)`` periods after the start. The journey is *at risk* for period
``p`` only when the data cover that whole window (it ends by the log's last
event, or ``end=``); a cohort that has not lived period ``p`` yet is left out of
it, never counted as 0%.

- ``"n_day"``: retained in ``p`` when it returns within period ``p``;
- ``"unbounded"``: when it returns in period ``p`` or later (until the data end);
- ``"bracket"``: periods are the brackets ``[a, b)`` given, retained when it
  returns within the bracket, at risk when the bracket is fully observed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.journeys._common import as_names, check_names
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from touchpoint.core._eventlog import EventLog

__all__ = ["Retention", "retention"]

RetentionKind = Literal["n_day", "unbounded", "bracket"]
RetentionView = Literal["curve", "cohorts"]
Period = Literal["day", "week", "month"]
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30}
_NS_PER_DAY = 86_400 * 10**9


@attrs.frozen(kw_only=True)
class Retention(TableResult):
    """Retention per cohort and period (see :func:`retention`).

    Attributes
    ----------
    table : Table
        ``cohort``, ``period``, ``at_risk`` (journeys of the cohort whose period
        is fully observed), ``retained``, ``rate`` and its Wilson interval
        ``ci_low`` / ``ci_high``; only cells with at least one journey at risk.
    curve : Table
        The same over all cohorts: ``period``, ``at_risk``, ``retained``,
        ``rate``, ``ci_low``, ``ci_high``.
    cohorts : Table
        ``cohort`` and its ``journeys``.
    kind : str
        ``"n_day"``, ``"unbounded"`` or ``"bracket"``.
    period : str
        The period unit (``"day"``, ``"week"``, ``"month"`` = 30 days; seconds
        of the unit for numeric times).
    confidence_level : float
        Of the intervals.
    """

    table: Table
    curve: Table
    cohorts: Table
    kind: str
    period: str
    confidence_level: float

    def __repr__(self) -> str:
        n = int(np.sum(self.cohorts["journeys"])) if len(self.cohorts) else 0
        return (
            f"Retention({self.kind}, {len(self.cohorts)} cohorts, {n:,} journeys, "
            f"{len(self.curve)} periods)"
        )

    def _repr_html_(self) -> str:
        return f"<div><strong>{html.escape(repr(self))}</strong>{self.table.to_html(max_rows=40)}</div>"

    def compare(self, first: str, second: str) -> Table:
        """Two cohorts period by period: rates, difference and the pooled z test.

        Only periods both cohorts have lived are compared.
        """
        from touchpoint._lib.stats import two_proportion_z

        t = self.table
        cells: dict[str, dict[int, tuple[int, int]]] = {first: {}, second: {}}
        for r in t.to_records():
            if r["cohort"] in cells:
                cells[r["cohort"]][int(r["period"])] = (int(r["retained"]), int(r["at_risk"]))
        for c in (first, second):
            if c not in {str(x) for x in self.cohorts["cohort"].tolist()}:
                msg = f"unknown cohort {c!r}; the cohorts are {self.cohorts['cohort'].tolist()}."
                raise ValidationError(msg)
        periods = sorted(set(cells[first]) & set(cells[second]))
        ra = np.array([cells[first][p][0] for p in periods], dtype=np.float64)
        na = np.array([cells[first][p][1] for p in periods], dtype=np.float64)
        rb = np.array([cells[second][p][0] for p in periods], dtype=np.float64)
        nb = np.array([cells[second][p][1] for p in periods], dtype=np.float64)
        z, p = two_proportion_z(ra / np.maximum(na, 1), na, rb / np.maximum(nb, 1), nb)
        return Table(
            {
                "period": np.array(periods, dtype=np.int64),
                f"rate_{first}": ra / np.maximum(na, 1),
                f"rate_{second}": rb / np.maximum(nb, 1),
                "difference": ra / np.maximum(na, 1) - rb / np.maximum(nb, 1),
                "statistic": z,
                "pvalue": p,
            },
            title=f"retention: {first} vs {second}",
        )

    def plot(self, ax: Axes | None = None, *, kind: RetentionView = "curve") -> Axes:
        """The retention curve with its band, or the cohort x period heatmap. Needs matplotlib."""
        from touchpoint.journeys._draw import retention_chart

        return retention_chart(self, ax=ax, kind=kind)


def _first_hit(log: EventLog, names: list[str] | None) -> NDArray[np.int64]:
    """Per journey, the index of its first event among ``names`` (any event when None), -1 if none."""
    if names is None:
        first = log.offsets[:-1].astype(np.int64).copy()
        first[np.diff(log.offsets) == 0] = -1
        return first
    mask = np.isin(log.touchpoint, [log.touchpoint_code(n) for n in names])
    idx = np.flatnonzero(mask)
    first = np.full(log.n_journeys, -1, dtype=np.int64)
    uniq, at = np.unique(log.journey[idx], return_index=True)
    first[uniq] = idx[at]
    return first


def _times(log: EventLog, period: str) -> tuple[NDArray[np.float64], float, bool]:
    """Event times in days (datetime logs) or in the log's own unit, the period length."""
    if log.is_datetime:
        ns = log.timestamp.astype("datetime64[ns]").view(np.int64)
        return ns / _NS_PER_DAY, float(_UNIT_DAYS[period]), True
    return log.timestamp.astype(np.float64), float(_UNIT_DAYS[period]) * 86_400.0, False


def _cohort_labels(start: NDArray[np.float64], cohort: str, is_dt: bool) -> NDArray[Any]:
    """Cohort label per start: its calendar period (datetimes, ``start`` in days) or the
    number of whole cohort periods since 0 (numeric times in seconds)."""
    from touchpoint._lib.time import period_codes, period_labels

    if not is_dt:
        codes = np.floor(start / (_UNIT_DAYS[cohort] * 86_400.0)).astype(np.int64)
        return np.array([str(c) for c in codes.tolist()], dtype=object)
    codes = period_codes(np.floor(start).astype(np.int64), cohort)
    uniq, inv = np.unique(codes, return_inverse=True)
    return np.array(period_labels(uniq, cohort), dtype=object)[inv.ravel()]


def _check_brackets(name: str, value: Any) -> None:
    if value is None:
        return
    ok = isinstance(value, list | tuple) and len(value) > 0
    for pair in value if ok else ():
        if not (
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
            and 0 <= pair[0] < pair[1]
        ):
            ok = False
    if not ok:
        ck.fail(name, "None or a list of (start, stop) periods with 0 <= start < stop", value)


def _check_end(name: str, value: Any) -> None:
    import datetime as dt

    if value is None or isinstance(value, dt.datetime | np.datetime64):
        return
    if isinstance(value, str):
        try:
            np.datetime64(value, "ns")
        except ValueError:
            ck.fail(name, "None, a time or a number", value)
        return
    ck.number(name, value)


@ck.validate_params(
    {
        "start": ck.Custom(check_names, 5, ("a", 3), ""),
        "return_": ck.Custom(check_names, 5, ("a", 3), ""),
        "brackets": ck.Custom(_check_brackets, [(2, 1)], "x", [(0.5, 2)]),
        "end": ck.Custom(_check_end, "not a time", float("nan"), True),
        "cohort": ck.Options("day", "week", "month"),
        "period": ck.Options("day", "week", "month", None),
        "kind": ck.Options("n_day", "unbounded", "bracket"),
        "max_periods": ck.Integer(1, 10_000),
        "confidence_level": ck.CONFIDENCE,
        "customer": ck.Text(none=True),
    }
)
def retention(
    log: EventLog,
    *,
    cohort: Period = "week",
    start: str | Sequence[str] | None = None,
    return_: str | Sequence[str] | None = None,
    kind: RetentionKind = "n_day",
    period: Period | None = None,
    brackets: Sequence[tuple[int, int]] | None = None,
    max_periods: int = 12,
    end: Any = None,
    confidence_level: float = 0.95,
    customer: str | None = None,
) -> Retention:
    """Retention by cohort and period, with at-risk counts and Wilson intervals.

    Parameters
    ----------
    log : EventLog
        The events; a journey is one customer (use the customer id as the journey).
    cohort : {"day", "week", "month"}
        Cohorts by the calendar day, ISO week or month of the start (UTC; numeric
        times: by periods since 0).
    start : str or list of str, optional
        Touchpoint(s) that start a journey's clock (default: its first event);
        journeys without one are left out.
    return_ : str or list of str, optional
        Touchpoint(s) that count as a return (default: any event after the start).
    kind : {"n_day", "unbounded", "bracket"}
        Returned within period ``p``; in ``p`` or later; within each bracket.
    period : {"day", "week", "month"}, optional
        Period length (default: the cohort's; a month is 30 days).
    brackets : list of (int, int), optional
        For ``kind="bracket"``: half-open ranges of periods, ``[(1, 2), (2, 8)]``.
    max_periods : int
        Periods ``1..max_periods`` (not for brackets).
    end : datetime or float, optional
        When the data end (default: the last event).
    confidence_level : float
        Of the Wilson intervals.
    customer : str, optional
        A per-event column naming the customer (``"customer"`` after
        :meth:`~touchpoint.EventLog.sessionize`): retention is then per customer,
        over all their journeys, instead of per journey.

    Returns
    -------
    Retention

    Examples
    --------
    >>> import touchpoint as tp
    >>> day = 86_400.0
    >>> log = tp.EventLog.from_arrays([1, 1, 2, 3, 3], ["a", "a", "a", "a", "a"],
    ...                               [0.0, 1.5 * day, 0.0, 2 * day, 4 * day])
    >>> r = tp.retention(log, cohort="day", max_periods=2)
    >>> [(x["cohort"], x["period"], x["at_risk"], x["retained"]) for x in r.table.to_records()]
    [('0', 1, 2, 1), ('0', 2, 2, 0), ('2', 1, 1, 0)]
    """
    period = period or cohort
    if customer is not None:
        from touchpoint.core._eventlog import EventLog

        tp_names = np.array(log.touchpoint_names, dtype=object)
        log = EventLog.from_arrays(log.column(customer), tp_names[log.touchpoint], log.timestamp)
    if kind == "bracket":
        if not brackets:
            msg = "`kind='bracket'` needs `brackets`, e.g. [(1, 2), (2, 8)]."
            raise ValidationError(msg)
        spans = [(int(a), int(b)) for a, b in brackets]
        if any(a < 0 or b <= a for a, b in spans):
            msg = f"`brackets` must be (start, stop) with 0 <= start < stop (got {list(brackets)})."
            raise ValidationError(msg)
    else:
        spans = [(p, p + 1) for p in range(1, max_periods + 1)]
    t, unit, is_dt = _times(log, period)
    first = _first_hit(log, as_names(start) if start is not None else None)
    has = first >= 0
    t0 = np.where(has, t[np.maximum(first, 0)], np.nan)
    t_end = _end(end, t, is_dt)
    # returns: events after the start, of the return touchpoints
    ret = np.ones(log.n_events, dtype=bool)
    if return_ is not None:
        ret = np.isin(log.touchpoint, [log.touchpoint_code(n) for n in as_names(return_)])
    ev_j = log.journey
    after = has[ev_j] & (np.arange(log.n_events) > first[ev_j]) & ret
    elapsed = (t[after] - t0[ev_j[after]]) / unit
    jr = ev_j[after]
    labels = _cohort_labels(t0[has], cohort, is_dt)
    lived = (t_end - t0) / unit  # periods observed per journey
    rows: list[tuple[str, int, int, int]] = []
    cohort_of = np.empty(log.n_journeys, dtype=object)
    cohort_of[has] = labels
    names = sorted(set(labels.tolist()))
    retained_by_span = []
    for a, b in spans:
        hit = (elapsed >= a) & ((elapsed < b) if kind != "unbounded" else True)
        got = np.zeros(log.n_journeys, dtype=bool)
        got[jr[hit]] = True
        risk = has & (lived >= (b if kind != "unbounded" else a + 1))
        retained_by_span.append((got, risk))
    for c in names:
        in_c = cohort_of == c
        for (a, _b), (got, risk) in zip(spans, retained_by_span, strict=True):
            n = int((risk & in_c).sum())
            if n:
                rows.append((c, a, n, int((got & risk & in_c).sum())))
    return _result(
        rows,
        spans,
        retained_by_span,
        names,
        cohort_of,
        kind=kind,
        period=period,
        conf=confidence_level,
    )


def _end(end: Any, t: NDArray[np.float64], is_dt: bool) -> float:
    if end is None:
        return float(np.max(t)) if len(t) else 0.0
    if is_dt:
        return float(np.datetime64(end, "ns").astype(np.int64)) / _NS_PER_DAY
    return float(ck.number("end", end))


def _result(
    rows: list[tuple[str, int, int, int]],
    spans: list[tuple[int, int]],
    by_span: list[tuple[NDArray[np.bool_], NDArray[np.bool_]]],
    names: list[str],
    cohort_of: NDArray[Any],
    *,
    kind: str,
    period: str,
    conf: float,
) -> Retention:
    from touchpoint._lib.stats import proportion_ci

    at = np.array([r[2] for r in rows], dtype=np.int64)
    kept = np.array([r[3] for r in rows], dtype=np.int64)
    lo, hi = proportion_ci(kept, at, conf)
    table = Table(
        {
            "cohort": np.array([r[0] for r in rows], dtype=object),
            "period": np.array([r[1] for r in rows], dtype=np.int64),
            "at_risk": at,
            "retained": kept,
            "rate": kept / np.maximum(at, 1),
            "ci_low": lo,
            "ci_high": hi,
        },
        title="retention by cohort",
    )
    c_at = np.array([int(risk.sum()) for _, risk in by_span], dtype=np.int64)
    c_kept = np.array([int((got & risk).sum()) for got, risk in by_span], dtype=np.int64)
    live = c_at > 0
    clo, chi = proportion_ci(c_kept[live], c_at[live], conf)
    curve = Table(
        {
            "period": np.array([a for a, _ in spans], dtype=np.int64)[live],
            "at_risk": c_at[live],
            "retained": c_kept[live],
            "rate": c_kept[live] / c_at[live],
            "ci_low": clo,
            "ci_high": chi,
        },
        title="retention curve",
    )
    cohorts = Table(
        {
            "cohort": np.array(names, dtype=object),
            "journeys": np.array([int((cohort_of == c).sum()) for c in names], dtype=np.int64),
        },
        title="cohorts",
    )
    return Retention(
        table=table, curve=curve, cohorts=cohorts, kind=kind, period=period, confidence_level=conf
    )
