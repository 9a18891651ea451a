"""Operational CX metrics from the event log: response times and returning customers.

:func:`response_times` measures how long a customer waits between a request
touchpoint (a complaint, a support ticket) and the touchpoint that answers it;
:func:`repeat_rate` is the share of customers who convert again within a
window of their first conversion, with customers who could not yet have
come back (the window runs past the end of the log) left out rather than
counted as lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.checks import did_you_mean, name_list
from touchpoint._lib.choices import Period, ProportionMethod
from touchpoint._lib.columns import factorize
from touchpoint._lib.stats import (
    PROPORTION_METHODS,
    ConfidenceInterval,
    KaplanMeier,
    benjamini_hochberg,
    check_confidence,
    proportion_ci,
)
from touchpoint._lib.time import check_tz, duration as _duration, format_duration, seconds
from touchpoint.core._results import IntervalResult, ScalarResult
from touchpoint.exceptions import UnknownTouchpointError, ValidationError
from touchpoint.metrics._core import two_proportion_z
from touchpoint.table import Table

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["RepeatRate", "ResponseTimes", "repeat_rate", "response_times"]

FloatArray = NDArray[np.float64]


def _codes(log: EventLog, names: str | Sequence[str], param: str) -> list[int]:
    items = [names] if isinstance(names, str) else list(names)
    if not items:
        msg = f"`{param}` must name at least one touchpoint."
        raise ValidationError(msg)
    unknown = [name for name in items if name not in log.touchpoint_names]
    if unknown:
        hint = did_you_mean(unknown[0], log.touchpoint_names)
        known = name_list(log.touchpoint_names)
        msg = f"`{param}`: unknown touchpoint {unknown[0]!r}{hint}; the log has {known}."
        raise UnknownTouchpointError(msg)
    return [log.touchpoint_code(name) for name in items]


def median_ci(sorted_values: FloatArray, confidence_level: float) -> ConfidenceInterval:
    """Distribution-free interval for the median from order statistics (binomial, conservative).

    Examples
    --------
    >>> median_ci(np.arange(1.0, 101.0), 0.95)
    ConfidenceInterval(low=40.0, high=61.0)
    """
    from scipy.special import bdtr

    n = len(sorted_values)
    a = (1 - check_confidence(confidence_level)) / 2
    if n == 0:
        return ConfidenceInterval(float("nan"), float("nan"))
    k = np.arange(n + 1)
    cdf = bdtr(k, n, 0.5)  # P(B <= k)
    ok = np.flatnonzero(cdf <= a)
    if ok.size == 0:  # too few values for this confidence: the whole range
        return ConfidenceInterval(float(sorted_values[0]), float(sorted_values[-1]))
    j = int(ok[-1])  # P(B <= j) <= a: the (j+1)-th smallest is a lower bound
    return ConfidenceInterval(float(sorted_values[j]), float(sorted_values[n - 1 - j]))


@attrs.frozen(kw_only=True)
class ResponseTimes(IntervalResult, ScalarResult):
    """Waiting times between a request and the touchpoint that answers it.

    Attributes
    ----------
    durations : ndarray
        Sorted waiting times, in seconds for datetime logs (``unit="s"``),
        else in the log's time units.
    n : int
        Answered requests (a run of repeated requests before one answer
        counts once, timed from its first request).
    n_unanswered : int
        Open requests: journeys whose last request got no answer in the log.
        :attr:`within_target` counts them as right-censored (still waiting
        when the log ends), not as answered and not as lost.
    target : float or None
        The service target, in the same units.
    within_target : float
        Kaplan-Meier share of all requests answered within ``target``, open
        requests censored at the time they had waited when the log ended
        (NaN without a target). An open request older than the target counts
        as not answered within it; a younger one only up to its waiting time.
    within_target_answered : float
        Share of the *answered* requests answered within ``target``: leaves
        the open requests out, so it overstates the service level when many
        are open (before 0.2 this was ``within_target``).
    periods : Table or None
        With ``period=``: per period of the request, ``n`` (answered),
        ``open`` (still open at the end of the log), median and 90th
        percentile of the answered waits, ``within_target`` (Kaplan-Meier,
        the period's open requests censored) and ``within_target_answered``,
        the change in median from the previous period and its Mann-Whitney
        p-value, BH q-value and flag.
    tz : str
        The time zone of the period calendar.
    """

    durations: FloatArray = attrs.field(repr=False, eq=False)
    n: int
    n_unanswered: int
    unit: str
    target: float | None = None
    within_target: float = float("nan")
    within_target_answered: float = float("nan")
    periods: Table | None = attrs.field(default=None, repr=False, eq=False)
    tz: str = "UTC"
    _km: KaplanMeier | None = attrs.field(default=None, eq=False, repr=False, alias="km")

    @property
    def _censored(self) -> bool:
        return self._km is not None and len(self._km.censored) > 0

    @property
    def median(self) -> float:
        """Median waiting time of all requests (Kaplan-Meier when some are still open).

        With open requests it is the product-limit median: the wait by which
        half of *all* requests were answered, open ones censored at the time
        they had waited (NaN when fewer than half were answered in the log).
        The median of the answered requests alone is biased low when slow
        waits are still open (its interval covered 67% at 200 requests).
        """
        return self.percentile(50)

    @property
    def median_answered(self) -> float:
        """Median wait of the answered requests only (the ``median`` before 0.5)."""
        return float(np.median(self.durations)) if self.n else float("nan")

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of the waiting times (Kaplan-Meier with open requests)."""
        if self._censored:
            assert self._km is not None
            return self._km.quantile(q / 100)
        if self.n == 0:
            return float("nan")
        return float(np.percentile(self.durations, q))

    @property
    def percentiles(self) -> dict[int, float]:
        """The 50th, 75th, 90th and 95th percentiles."""
        return {q: self.percentile(q) for q in (50, 75, 90, 95)}

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: Literal["kaplan_meier", "order_statistic"] | None = None,
    ) -> ConfidenceInterval:
        """Interval for :attr:`median`.

        ``method=None`` picks ``"kaplan_meier"`` when requests are still open
        (Brookmeyer-Crowley: the waits whose log-log Greenwood band of the
        answered share contains 1/2; it covers 95% at 200 requests with slow
        waits open, where the answered-only interval covered 67%) and
        ``"order_statistic"`` otherwise (distribution-free binomial order
        statistics of the answered waits). An upper limit of NaN means "not
        reached in the log".
        """
        if method is None:
            method = "kaplan_meier" if self._censored else "order_statistic"
        if method == "kaplan_meier" and self._km is not None and self._km.n:
            return self._km.quantile_interval(0.5, confidence_level)
        if method not in ("kaplan_meier", "order_statistic"):
            msg = f"`method` must be 'kaplan_meier', 'order_statistic' or None (got {method!r})."
            raise ValidationError(msg)
        return median_ci(self.durations, confidence_level)

    def target_confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: ProportionMethod = "modified_wilson",
    ) -> ConfidenceInterval:
        """Interval for :attr:`within_target`.

        With open requests: Greenwood's interval for the Kaplan-Meier share
        (log-log scale; ``method`` is used where the share is 0 or 1 and
        without open requests, when it is the binomial interval of the answered).
        """
        if self.target is None:
            msg = "no `target` was given to response_times()."
            raise ValidationError(msg)
        if self._km is not None and len(self._km.censored):
            return self._km.interval(self.target, confidence_level)
        k = int(np.count_nonzero(self.durations <= self.target))
        lo, hi = proportion_ci(k, self.n, confidence_level, method)
        return ConfidenceInterval(float(lo), float(hi))

    def to_table(self) -> Table:
        """A one-row summary table."""
        cols: dict[str, Any] = {
            "n": [self.n],
            "unanswered": [self.n_unanswered],
            **{f"p{q}": [v] for q, v in self.percentiles.items()},
        }
        if self.target is not None:
            cols["within_target"] = [self.within_target]
            cols["within_target_answered"] = [self.within_target_answered]
        return Table(cols, title="Response times")

    def __repr__(self) -> str:
        f = format_duration
        lo, hi = self.confidence_interval()
        s = (
            f"ResponseTimes(median {f(self.median, self.unit)} (95% CI {f(lo, self.unit)} to "
            f"{f(hi, self.unit)}), p90 {f(self.percentile(90), self.unit)}"
        )
        if self.target is not None:
            s += f", within {f(self.target, self.unit)}: {100 * self.within_target:.1f}%"
        return s + f", n={self.n:,}, unanswered={self.n_unanswered:,})"


@ck.validate_params(
    {
        "target": ck.Duration(none=True),
        "period": ck.Options("week", "month", None),
        "alpha": ck.ALPHA,
        "tz": ck.TZ,
    }
)
def response_times(
    log: EventLog,
    request: str | Sequence[str],
    response: str | Sequence[str],
    *,
    target: Any = None,
    period: Period | None = None,
    tz: str = "UTC",
    alpha: float = 0.05,
) -> ResponseTimes:
    """Time from a request touchpoint to the next answering touchpoint in the same journey.

    Parameters
    ----------
    log : EventLog
        Events; journeys are customers (or sessions).
    request, response : str or sequence of str
        Touchpoint names that ask (e.g. ``"complaint"``) and that answer
        (e.g. ``"support_reply"``). A request is answered by the next response
        event after it in its journey; repeated requests before that answer
        count once, timed from the first.
    target : timedelta or number, optional
        Service target (seconds for datetime logs) for ``within_target``:
        the Kaplan-Meier share answered within it, with requests still open
        when the log ends counted as censored at their waiting time. On the
        bundled sample (180 requests open) it is 81.6% within a day where the
        answered requests alone give 87.9%; in simulation with 10% never
        answered (truth 84.4%) it averages 84.4% and its interval covers
        94.4% (see the Validation page). ``within_target_answered`` keeps the
        answered-only share.
    period : {"week", "month"}, optional
        Also summarise per period of the request (ISO weeks, Monday to
        Sunday, or months) and flag significant changes of the waiting times
        from the previous period (Mann-Whitney U, Benjamini-Hochberg at
        ``alpha``). Needs a datetime log.
    tz : str
        Time zone of the calendar for ``period`` (an IANA name such as
        ``"America/New_York"``; default ``"UTC"``); the result's ``tz``.

    Returns
    -------
    ResponseTimes

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays(
    ...     [1, 1, 1, 2, 2, 3], ["ask", "ask", "reply", "ask", "reply", "ask"],
    ...     [0.0, 5.0, 30.0, 0.0, 10.0, 0.0])
    >>> rt = response_times(log, request="ask", response="reply", target=20)
    >>> rt.durations.tolist(), rt.n_unanswered, rt.within_target_answered
    ([10.0, 30.0], 1, 0.5)

    Journey 3's request is still open when the log ends (at 30, after 30 of
    waiting, longer than the target): Kaplan-Meier counts it as not answered
    within 20, so one of three requests was:

    >>> round(rt.within_target, 4)
    0.3333
    """
    req = _codes(log, request, "request")
    resp = _codes(log, response, "response")
    if set(req) & set(resp):
        msg = "`request` and `response` must name different touchpoints."
        raise ValidationError(msg)
    tp = log.touchpoint
    req_idx = np.flatnonzero(np.isin(tp, req))
    resp_idx = np.flatnonzero(np.isin(tp, resp))
    j = np.searchsorted(resp_idx, req_idx, side="right")
    has = j < len(resp_idx)
    matched = np.full(len(req_idx), -1, dtype=np.int64)
    matched[has] = resp_idx[j[has]]
    same = np.zeros(len(req_idx), dtype=bool)
    same[has] = log.journey[matched[has]] == log.journey[req_idx[has]]
    answered_req, answered_resp = req_idx[same], matched[same]
    _, first = np.unique(answered_resp, return_index=True)  # first request of each run
    t = seconds(log.timestamp)
    req_first = answered_req[first]
    raw = t[answered_resp[first]] - t[req_first]
    durations = np.sort(raw)
    open_req = req_idx[~same]
    open_journeys, first_open = np.unique(log.journey[open_req], return_index=True)
    n_unanswered = len(open_journeys)
    end = float(t.max()) if len(t) else 0.0
    km = KaplanMeier(raw.astype(np.float64), end - t[open_req[first_open]])
    unit = "s" if log.is_datetime else ""
    tgt = _duration(target, "target", datetime=log.is_datetime)
    answered = float(np.mean(durations <= tgt)) if tgt is not None and len(durations) else np.nan
    within = km.share(tgt) if tgt is not None and km.n else np.nan
    periods = None
    if period is not None:
        periods = _period_waits(
            log,
            req_first,
            raw,
            tgt,
            open_idx=open_req[first_open],
            open_waited=km.censored,
            period=period,
            alpha=alpha,
            tz=tz,
        )
    return ResponseTimes(
        durations=durations,
        n=len(durations),
        n_unanswered=n_unanswered,
        unit=unit,
        target=tgt,
        within_target=within,
        within_target_answered=answered,
        periods=periods,
        tz=check_tz(tz),
        km=km,
    )


def _period_labels(
    log: EventLog, idx: NDArray[np.int64], period: str, tz: str = "UTC"
) -> NDArray[Any]:
    """The ``period`` label (ISO week or month in ``tz``) of the events at ``idx`` of a datetime log."""
    from touchpoint.metrics._breakdown import period_labels

    if not log.is_datetime:
        msg = "`period` needs a log with datetime timestamps."
        raise ValidationError(msg)
    return period_labels(Table({"t": log.timestamp[idx]}), period, "t", tz)


def _period_waits(
    log: EventLog,
    req_idx: NDArray[np.int64],
    waits: FloatArray,
    target: float | None,
    *,
    open_idx: NDArray[np.int64],
    open_waited: FloatArray,
    period: str,
    alpha: float,
    tz: str,
) -> Table:
    labels = _period_labels(log, req_idx, period, tz).astype(str)
    open_labels = _period_labels(log, open_idx, period, tz).astype(str)
    names = np.unique(np.concatenate([labels, open_labels]))
    groups = [waits[labels == p] for p in names]
    n = np.array([len(g) for g in groups], dtype=np.int64)
    median = np.array([np.median(g) if len(g) else np.nan for g in groups])
    p90 = np.array([np.percentile(g, 90) if len(g) else np.nan for g in groups])
    change = np.full(len(names), np.nan)
    pv = np.full(len(names), np.nan)
    if len(names) > 1:
        from scipy.stats import mannwhitneyu

        change[1:] = median[1:] - median[:-1]
        for i in range(1, len(names)):
            both = np.concatenate([groups[i], groups[i - 1]])
            if len(groups[i]) and len(groups[i - 1]) and np.ptp(both) > 0:
                pv[i] = mannwhitneyu(groups[i], groups[i - 1], alternative="two-sided").pvalue
    q = benjamini_hochberg(pv)
    opened = [open_waited[open_labels == p] for p in names]
    cols: dict[str, Any] = {
        "period": names.astype(object),
        "n": n,
        "open": np.array([len(o) for o in opened], dtype=np.int64),
        "median": median,
        "p90": p90,
    }
    if target is not None:
        cols["within_target"] = np.array(
            [KaplanMeier(g, o).share(target) for g, o in zip(groups, opened, strict=True)]
        )
        cols["within_target_answered"] = np.array(
            [np.mean(g <= target) if len(g) else np.nan for g in groups]
        )
    cols |= {
        "change_median": change,
        "pvalue": pv,
        "qvalue": q,
        "significant": np.nan_to_num(q, nan=1.0) < alpha,
    }
    return Table(cols, title=f"Response times by {period} ({tz}) of the request")


@attrs.frozen(kw_only=True)
class RepeatRate(IntervalResult, ScalarResult):
    """Share of converting customers who convert again within a window.

    Attributes
    ----------
    rate : float
        ``repeaters / n``.
    n : int
        Customers with a first conversion whose window is fully observed.
    repeaters : int
        Of those, customers with a second conversion within the window.
    n_censored : int
        Customers left out because the log ends before their window does.
    window : float or None
        The window (seconds for datetime logs), None for "any time in the log".
    periods : Table or None
        With ``period=``: the rate per period of first conversion, with the
        change from the previous period, its p-value, BH q-value and flag.
    min_gap : float
        A repeat came more than this long after the first conversion.
    tz : str
        The time zone of the period calendar.
    """

    rate: float
    n: int
    repeaters: int
    n_censored: int
    window: float | None
    unit: str
    periods: Table | None = attrs.field(default=None, repr=False, eq=False)
    min_gap: float = 0.0
    tz: str = "UTC"

    def confidence_interval(
        self,
        confidence_level: float = 0.95,
        method: ProportionMethod = "modified_wilson",
    ) -> ConfidenceInterval:
        """Interval for ``rate`` (Wilson with the Brown-Cai-DasGupta boundary modification by default)."""
        if method not in PROPORTION_METHODS:
            raise ck.error("method", f"one of {PROPORTION_METHODS}", method)
        lo, hi = proportion_ci(self.repeaters, self.n, confidence_level, method)
        return ConfidenceInterval(float(lo), float(hi))

    def __repr__(self) -> str:
        lo, hi = self.confidence_interval()
        win = "" if self.window is None else f" within {format_duration(self.window, self.unit)}"
        return (
            f"RepeatRate({100 * self.rate:.1f}%{win} (95% CI {100 * lo:.1f}% to "
            f"{100 * hi:.1f}%), n={self.n:,}, censored={self.n_censored:,})"
        )


@ck.validate_params(
    {
        "window": ck.Duration(none=True),
        "customer": ck.Text(none=True),
        "censor": ck.Boolean(),
        "period": ck.Options("week", "month", None),
        "alpha": ck.ALPHA,
        "min_gap": ck.Duration(none=True),
        "tz": ck.TZ,
    }
)
def repeat_rate(
    log: EventLog,
    conversion: str | Sequence[str] | None = None,
    *,
    window: Any = None,
    customer: str | None = None,
    censor: bool = True,
    period: Period | None = None,
    min_gap: Any = None,
    tz: str = "UTC",
    alpha: float = 0.05,
) -> RepeatRate:
    """Share of customers with a second conversion within ``window`` of their first.

    A repeat is a later conversion: one at a strictly later time than the
    first (rows at the first conversion's own time, such as the items of one
    basket, are that one conversion), and more than ``min_gap`` after it.

    Parameters
    ----------
    log : EventLog
        Events; by default each journey is one customer.
    conversion : str or sequence of str, optional
        Touchpoints that count as a conversion; defaults to the log's
        ``conversions`` and events with a positive ``outcome``.
    window : timedelta or number, optional
        How soon the second conversion must follow (seconds for datetime
        logs); None accepts any later conversion in the log.
    customer : str, optional
        An extra column identifying customers when journeys are sessions.
    censor : bool
        Leave out customers whose first conversion is less than ``window``
        before the end of the log (they could not yet have come back).
    period : {"week", "month"}, optional
        Also give the rate per period of first conversion (ISO weeks,
        Monday to Sunday, or months), flagging significant period-over-period
        changes (two-proportion z, BH at ``alpha``). Needs a datetime log.
    min_gap : timedelta or number, optional
        A conversion counts as a repeat only when it comes more than this
        long after the first (seconds for datetime logs); the default counts
        any strictly later time. E.g. one day, when orders split into
        several shipments on the same day are one purchase.
    tz : str
        Time zone of the calendar for ``period`` (an IANA name such as
        ``"America/New_York"``; default ``"UTC"``); the result's ``tz``.

    Returns
    -------
    RepeatRate

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays(
    ...     [1, 1, 1, 2, 2, 3, 3], ["buy", "visit", "buy", "buy", "visit", "visit", "buy"],
    ...     [0.0, 5.0, 10.0, 0.0, 3.0, 0.0, 95.0])
    >>> r = repeat_rate(log, "buy", window=20)
    >>> r.rate, r.n, r.repeaters, r.n_censored
    (0.5, 2, 1, 1)
    """
    if conversion is not None:
        hit = np.isin(log.touchpoint, _codes(log, conversion, "conversion"))
    else:
        hit = np.zeros(log.n_events, dtype=bool)
        if log.outcome is not None:
            hit |= np.nan_to_num(log.outcome) > 0
        if log.conversions:
            hit |= np.isin(log.touchpoint, [log.touchpoint_code(c) for c in log.conversions])
        if not hit.any() and log.outcome is None and not log.conversions:
            msg = "the log has no outcome or conversions; pass `conversion=` touchpoint names."
            raise ValidationError(msg)
    t = seconds(log.timestamp)
    idx = np.flatnonzero(hit)
    if customer is None:
        cust = log.journey[idx].astype(np.int64)
    else:
        cust = factorize(log.column(customer)).codes[idx]
        ok = cust >= 0
        idx, cust = idx[ok], cust[ok]
    order = np.lexsort((t[idx], cust))
    idx, cust = idx[order], cust[order]
    tc = t[idx]
    first = np.ones(len(cust), dtype=bool)
    first[1:] = cust[1:] != cust[:-1]
    pos = np.flatnonzero(first)
    # the next conversion strictly later than the first (and beyond min_gap)
    g = _duration(min_gap, "min_gap", datetime=log.is_datetime) or 0.0
    run = np.cumsum(first) - 1  # customer index of each conversion
    later = np.flatnonzero(tc > tc[pos][run] + g)
    has2 = np.zeros(len(pos), dtype=bool)
    gap = np.full(len(pos), np.inf)
    if later.size:
        who, at = np.unique(run[later], return_index=True)
        has2[who] = True
        gap[who] = tc[later[at]] - tc[pos[who]]
    w = _duration(window, "window", datetime=log.is_datetime)
    repeat = has2 & (gap <= (np.inf if w is None else w))
    eligible = np.ones(len(pos), dtype=bool)
    if w is not None and censor and log.n_events:
        eligible = tc[pos] + w <= float(t.max())
    n = int(eligible.sum())
    k = int((repeat & eligible).sum())
    periods = None
    if period is not None:
        periods = _period_rates(log, idx[pos], repeat, eligible, period=period, alpha=alpha, tz=tz)
    return RepeatRate(
        rate=k / n if n else float("nan"),
        n=n,
        repeaters=k,
        n_censored=int((~eligible).sum()),
        window=w,
        unit="s" if log.is_datetime else "",
        periods=periods,
        min_gap=g,
        tz=check_tz(tz),
    )


def _period_rates(
    log: EventLog,
    first_idx: NDArray[np.int64],
    repeat: NDArray[np.bool_],
    eligible: NDArray[np.bool_],
    *,
    period: str,
    alpha: float,
    tz: str,
) -> Table:
    labels = _period_labels(log, first_idx, period, tz)
    labels = labels[eligible]
    rep = repeat[eligible]
    names, inv = np.unique(labels.astype(str), return_inverse=True)
    n = np.bincount(inv, minlength=len(names)).astype(np.float64)
    k = np.bincount(inv, weights=rep.astype(np.float64), minlength=len(names))
    rate = k / n
    lo, hi = proportion_ci(k, n)
    change = np.full(len(names), np.nan)
    p = np.full(len(names), np.nan)
    if len(names) > 1:
        change[1:] = rate[1:] - rate[:-1]
        _, p[1:] = two_proportion_z(rate[1:], n[1:], rate[:-1], n[:-1])
    q = benjamini_hochberg(p)
    return Table(
        {
            "period": names.astype(object),
            "n": n.astype(np.int64),
            "repeaters": k.astype(np.int64),
            "rate": rate,
            "ci_low": lo,
            "ci_high": hi,
            "change": change,
            "pvalue": p,
            "qvalue": q,
            "significant": np.nan_to_num(q, nan=1.0) < alpha,
        },
        title=f"Repeat rate by {period} ({tz}) of first conversion",
    )
