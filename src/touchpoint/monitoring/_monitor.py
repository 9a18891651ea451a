"""`monitor`: a rate or score watched every day, with intervals and an alarm valid at every look."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint.core._results import TableResult
from touchpoint.exceptions import ValidationError
from touchpoint.monitoring import _sequences as seq
from touchpoint.table import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes


MonitorMetric = Literal["conversion", "step", "csat", "nps", "ces"]
_METRICS = ("conversion", "step", "csat", "nps", "ces")
MonitorMethod = Literal["betting", "beta-binomial"]
_METHODS = ("betting", "beta-binomial")
_CALENDAR = ("day", "week", "month")
#: Largest e-value shown in ``table["evidence"]`` (the alarm uses the exact value).
EVIDENCE_CAP = 1e6
#: Version of the ``to_dict`` layout.
_FORMAT = 1


def _check_period(name: str, value: Any) -> None:
    if isinstance(value, str) and value in _CALENDAR:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        ck.fail(name, "'day', 'week', 'month' or a positive number (float times)", value)
    if not math.isfinite(float(value)):
        ck.fail(name, "'day', 'week', 'month' or a positive number (float times)", value)


@attrs.frozen(kw_only=True, eq=False)
class Monitor(TableResult):
    """The state of :func:`monitor`: per-look counts, the settings, and what follows from them.

    Everything shown (``table``, ``alarm``) is recomputed from ``counts``, so a
    monitor read back with :meth:`from_dict` is the one that was saved.

    Attributes
    ----------
    metric : str
        ``"conversion"``, ``"step"``, ``"csat"``, ``"nps"`` or ``"ces"``.
    alpha : float
        Error level: the sequence misses the true value at any look with
        probability at most ``alpha``, and so does a false alarm.
    table : Table
        One row per look: ``look``, ``time`` (the period's label), ``n``,
        ``rate`` (that look alone), ``estimate`` (all looks so far), ``low`` and
        ``high`` (the anytime-valid confidence sequence for the value),
        ``evidence`` (the e-value against "no change since the baseline",
        shown up to 10^6; NaN during the baseline) and ``alarm`` (True from the first look whose
        evidence reached the threshold on).
    method : str
        The confidence sequence: ``"betting"`` or ``"beta-binomial"``.
    alarm : bool
        Whether the change alarm has sounded.
    alarm_look : int or None
        The first look (1-based) at which it sounded.
    direction : str or None
        ``"fall"`` or ``"rise"``: the side that carried the evidence at the alarm.
    baseline_interval : (float, float) or None
        The reference range the later looks are compared with: the baseline
        looks' confidence interval at level ``alpha / 2`` (or the given
        ``reference`` twice).
    """

    metric: str
    alpha: float
    period: str | float
    tz: str
    baseline: int
    reference: float | None
    options: Mapping[str, Any]
    support: tuple[float, ...]
    scale: tuple[float, float]
    codes: tuple[int, ...]
    counts: tuple[tuple[int, ...], ...]
    method: str = "betting"
    _state: dict[str, Any] = attrs.field(init=False, factory=dict, repr=False)

    # ------------------------------------------------------------------ computed
    def _computed(self) -> dict[str, Any]:
        if not self._state:
            self._state.update(_compute(self))
        return self._state

    @property
    def table(self) -> Table:
        """One row per look (see the class docstring)."""
        t: Table = self._computed()["table"]
        return t

    @property
    def alarm(self) -> bool:
        """Whether the change alarm has sounded at some look."""
        return self._computed()["alarm_look"] is not None

    @property
    def alarm_look(self) -> int | None:
        """The first look (1-based) whose evidence reached the threshold, else None."""
        look: int | None = self._computed()["alarm_look"]
        return look

    @property
    def direction(self) -> str | None:
        """``"fall"`` or ``"rise"`` at the alarm, else None."""
        d: str | None = self._computed()["direction"]
        return d

    @property
    def baseline_interval(self) -> tuple[float, float] | None:
        """The range of the baseline the alarm compares with (None before it is complete)."""
        b: tuple[float, float] | None = self._computed()["baseline_interval"]
        return b

    @property
    def n_looks(self) -> int:
        """How many looks the monitor holds."""
        return len(self.codes)

    def __repr__(self) -> str:
        if not self.codes:
            return f"Monitor({self.metric}, no looks)"
        t = self.table
        last = len(t) - 1
        state = f"ALARM at look {self.alarm_look} ({self.direction})" if self.alarm else "no alarm"
        return (
            f"Monitor({self.metric}, {len(t)} looks, estimate {t['estimate'][last]:.4g} "
            f"({1 - self.alpha:.0%} CS {t['low'][last]:.4g} to {t['high'][last]:.4g}), {state})"
        )

    # ------------------------------------------------------------------ update
    def update(self, data: Any) -> Monitor:
        """A new monitor with the looks of ``data`` added (this one is unchanged).

        ``data`` is read with the settings of this monitor. Rows of the last
        look's period join that look (a day fed in two parts); rows of an
        earlier period raise: a look, once taken, is not rewritten.
        """
        codes, counts = _looks(data, self)
        old = np.asarray(self.codes, dtype=np.int64)
        if len(codes) and len(old) and codes[0] < old[-1]:
            label = _labels(np.asarray([codes[0]]), self.period)[0]
            msg = (
                f"the new data has rows of period {label}, before the monitor's last look "
                f"({_labels(old[-1:], self.period)[0]}); a look is never rewritten."
            )
            raise ValidationError(msg)
        merged = [list(r) for r in self.counts]
        all_codes = list(self.codes)
        for c, row in zip(codes.tolist(), counts.tolist(), strict=True):
            if all_codes and c == all_codes[-1]:
                merged[-1] = [a + b for a, b in zip(merged[-1], row, strict=True)]
            else:
                all_codes.append(c)
                merged.append(row)
        return attrs.evolve(
            self, codes=tuple(all_codes), counts=tuple(tuple(int(v) for v in r) for r in merged)
        )

    # ------------------------------------------------------------------ serialise
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings and per-look counts; :meth:`from_dict` reads them back."""
        return {
            "format": _FORMAT,
            "metric": self.metric,
            "alpha": self.alpha,
            "period": self.period,
            "tz": self.tz,
            "baseline": self.baseline,
            "reference": self.reference,
            "options": dict(self.options),
            "support": list(self.support),
            "scale": list(self.scale),
            "codes": list(self.codes),
            "counts": [list(r) for r in self.counts],
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Monitor:
        """The monitor :meth:`to_dict` saved."""
        if state.get("format") != _FORMAT:
            msg = f"not a saved monitor of format {_FORMAT} (format {state.get('format')!r})."
            raise ValidationError(msg)
        opts = dict(state["options"])
        for key in ("range", "satisfied"):
            if key in opts:
                opts[key] = (float(opts[key][0]), float(opts[key][1]))
        return cls(
            metric=str(state["metric"]),
            alpha=float(state["alpha"]),
            period=state["period"],
            tz=str(state["tz"]),
            baseline=int(state["baseline"]),
            reference=None if state["reference"] is None else float(state["reference"]),
            options=opts,
            support=tuple(float(v) for v in state["support"]),
            scale=(float(state["scale"][0]), float(state["scale"][1])),
            codes=tuple(int(c) for c in state["codes"]),
            counts=tuple(tuple(int(v) for v in r) for r in state["counts"]),
            method=str(state.get("method", "betting")),
        )

    def plot(self, ax: Axes | None = None) -> Axes:
        """Each look's rate, the confidence sequence as a band, the baseline and the alarm.

        The chart of :func:`touchpoint.plot.monitor_chart`; needs matplotlib.
        """
        from touchpoint._lib.charts import monitor_chart

        return monitor_chart(
            self.table.to_dict(),
            metric=self.metric,
            alpha=self.alpha,
            baseline=self.baseline_interval,
            alarm_look=self.alarm_look,
            direction=self.direction,
            ax=ax,
        )


# ---------------------------------------------------------------------- reading
def _labels(codes: NDArray[np.int64], period: str | float) -> list[Any]:
    if isinstance(period, str):
        from touchpoint._lib.time import period_labels

        return list(period_labels(codes, period))
    return [float(c) * float(period) for c in codes.tolist()]


def _bucket(times: NDArray[Any], period: str | float, tz: str, what: str) -> NDArray[np.int64]:
    """Period code of every time: calendar periods for datetimes, buckets of width ``period``."""
    if times.dtype.kind == "M":
        if not isinstance(period, str):
            msg = f"the {what} are datetimes: `period` must be 'day', 'week' or 'month'."
            raise ValidationError(msg)
        from touchpoint._lib.time import local_days, period_codes

        return period_codes(local_days(times, tz), period)
    if isinstance(period, str):
        msg = f"the {what} are numbers, not datetimes: give `period` as a bucket width."
        raise ValidationError(msg)
    return np.floor(times.astype(np.float64) / float(period)).astype(np.int64)


def _aggregate(
    codes: NDArray[np.int64], values: NDArray[np.int64], n_values: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sorted distinct period codes and the count of each value code per period."""
    uniq, inv = np.unique(codes, return_inverse=True)
    inv = inv.ravel()
    counts = np.bincount(inv * n_values + values, minlength=len(uniq) * n_values)
    return uniq.astype(np.int64), counts.reshape(len(uniq), n_values).astype(np.int64)


def _log_outcomes(log: Any, metric: str, opts: Mapping[str, Any]) -> tuple[Any, Any]:
    """Per unit: a 0/1 outcome and the time that dates it (journey start or step entry)."""
    from touchpoint.core._eventlog import EventLog

    if not isinstance(log, EventLog):
        msg = f"metric={metric!r} reads an EventLog (got {type(log).__name__})."
        raise ValidationError(msg)
    if metric == "conversion":
        start = log.timestamp[log.offsets[:-1]]
        return log.converted().astype(np.int64), start
    from touchpoint.funnels._match import _prepare

    steps = [set(s) if isinstance(s, list | tuple) else s for s in opts["steps"]]
    p = _prepare(
        log,
        steps,
        window=opts.get("window"),
        mode=opts.get("mode", "ordered"),
        exclude=(),
        optional=(),
        count="journeys",
    )
    entered = p.match.reached[:, 0]
    t = p.match.time[entered, 0]
    if log.is_datetime:
        t = (np.rint(p.origin + t * 1e9)).astype(np.int64).view("datetime64[ns]")
    return p.match.reached[entered, -1].astype(np.int64), t


def _score_codes(data: Any, metric: str, opts: Mapping[str, Any]) -> tuple[Any, Any]:
    """Per answer: the index of its value in ``support`` and its time; missing answers skipped."""
    from touchpoint.metrics._breakdown import as_table

    table = as_table(data)
    for role in ("score", "time"):
        if opts[role] not in table:
            msg = f"the responses have no {opts[role]!r} column ({role}); they have {list(table.columns)}."
            raise ValidationError(msg)
    x = np.asarray(table[opts["score"]], dtype=np.float64)
    keep = ~np.isnan(x)
    x = x[keep]
    lo, hi = opts["range"]
    bad = (x < lo) | (x > hi) | (x != np.round(x))
    if bad.any():
        i = int(np.flatnonzero(keep)[np.flatnonzero(bad)[0]])
        msg = (
            f"column {opts['score']!r}, row {i}: {x[np.flatnonzero(bad)[0]]:g} is not a whole "
            f"number on the scale {lo:g}-{hi:g}."
        )
        raise ValidationError(msg)
    if metric == "csat":
        a, b = opts["satisfied"]
        code = ((x >= a) & (x <= b)).astype(np.int64)
    elif metric == "nps":
        code = np.where(x >= 9, 2, np.where(x <= 6, 0, 1)).astype(np.int64)
    else:
        code = (x - lo).astype(np.int64)
    from touchpoint._lib.columns import parse_time

    times = parse_time(np.asarray(table[opts["time"]])[keep]).values
    return code, times


def _looks(data: Any, m: Monitor | _Settings) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    if m.metric in ("conversion", "step"):
        code, times = _log_outcomes(data, m.metric, m.options)
        what = "journey times"
    else:
        code, times = _score_codes(data, m.metric, m.options)
        what = f"{m.options['time']!r} times"
    times = np.asarray(times)
    if times.dtype.kind == "M":
        ok = ~np.isnat(times)
    else:
        times = times.astype(np.float64)
        ok = np.isfinite(times)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        msg = f"{int((~ok).sum())} missing {what} (first at row {i}); every look needs a time."
        raise ValidationError(msg)
    periods = _bucket(times, m.period, m.tz, what)
    return _aggregate(periods, code, len(m.support))


@attrs.frozen(kw_only=True)
class _Settings:
    metric: str
    options: Mapping[str, Any]
    support: tuple[float, ...]
    period: str | float
    tz: str


# ---------------------------------------------------------------------- compute
def _compute(m: Monitor) -> dict[str, Any]:
    """The looks table, the alarm and the baseline range of a monitor's counts."""
    support = np.asarray(m.support, dtype=np.float64)
    counts = np.asarray(m.counts, dtype=np.float64).reshape(len(m.codes), len(support))
    n = counts.sum(axis=1)
    a, b = m.scale
    cum_n = np.cumsum(n)
    cum_s = np.cumsum(counts @ support)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (counts @ support) / n
        est = cum_s / cum_n
    evidence = np.full(len(n), np.nan)
    alarm = np.zeros(len(n), dtype=bool)
    out: dict[str, Any] = {"alarm_look": None, "direction": None, "baseline_interval": None}
    if len(n):
        if m.method == "beta-binomial":
            low, high = seq.beta_binomial_cs(counts, m.alpha)
        else:
            low, high = seq.betting_cs(counts, support, m.alpha)
        start, edges, var, threshold = _baseline(m, counts, support)
        if edges is not None and start < len(n):
            fall, rise = seq.change_evidence(
                counts[start:],
                support,
                low=edges[0],
                high=edges[1],
                variance=var,
                look_size=n[start:],
            )
            log_e = np.logaddexp(fall, rise) - np.log(2.0)
            evidence[start:] = np.exp(np.minimum(log_e, np.log(EVIDENCE_CAP)))
            hit = np.flatnonzero(log_e >= threshold)
            if len(hit):
                first = int(hit[0])
                alarm[start + first :] = True
                out["alarm_look"] = start + first + 1
                out["direction"] = "fall" if fall[first] >= rise[first] else "rise"
        if edges is not None:
            out["baseline_interval"] = (a + (b - a) * edges[0], a + (b - a) * edges[1])
    else:
        low = high = np.zeros(0)
    out["table"] = Table(
        {
            "look": np.arange(1, len(n) + 1),
            "time": _labels(np.asarray(m.codes, dtype=np.int64), m.period),
            "n": n.astype(np.int64),
            "rate": a + (b - a) * rate,
            "estimate": a + (b - a) * est,
            "low": a + (b - a) * low,
            "high": a + (b - a) * high,
            "evidence": evidence,
            "alarm": alarm,
        },
        title=f"monitor: {m.metric}",
    )
    return out


def _baseline(
    m: Monitor, counts: NDArray[np.float64], support: NDArray[np.float64]
) -> tuple[int, tuple[float, float] | None, float, float]:
    """First look of the detector, the reference range (scaled), its variance, log threshold."""
    if m.reference is not None:
        a, b = m.scale
        r = (m.reference - a) / (b - a)
        return 0, (r, r), max(r * (1.0 - r), 1e-4), math.log(1.0 / m.alpha)
    if len(counts) < m.baseline:
        return len(counts), None, 0.0, math.inf
    base = counts[: m.baseline]
    edges = seq.baseline_interval(base, support, m.alpha / 2.0)
    return m.baseline, edges, _variance(base, support), math.log(2.0 / m.alpha)


def _variance(base: NDArray[np.float64], support: NDArray[np.float64]) -> float:
    """The baseline answers' variance (at least that of one success in n Bernoulli trials)."""
    nb = float(base.sum())
    mean = float((base @ support).sum() / nb)
    var = float((base @ support**2).sum() / nb - mean**2)
    return max(var, 1.0 / (4.0 * nb))


# ---------------------------------------------------------------------- public
def _settings(
    metric: str,
    *,
    steps: Sequence[Any] | None,
    window: Any,
    scale: tuple[float, float] | None,
    satisfied: tuple[float, float],
    score: str,
    time: str,
) -> tuple[dict[str, Any], tuple[float, ...], tuple[float, float]]:
    """Options stored in the monitor, the support of the 0-1 variable and the value scale."""
    if metric in ("conversion", "step"):
        opts: dict[str, Any] = {}
        if metric == "step":
            if steps is None or len(steps) < 2:
                msg = "metric='step' needs `steps`: at least two funnel steps."
                raise ValidationError(msg)
            opts["steps"] = [sorted(s) if isinstance(s, set | frozenset) else s for s in steps]
            opts["window"] = ck.duration("window", window, allow_none=True)
        return opts, (0.0, 1.0), (0.0, 1.0)
    opts = {"score": score, "time": time}
    if metric == "nps":
        opts["range"] = (0.0, 10.0)
        return opts, (0.0, 0.5, 1.0), (-100.0, 100.0)
    lo, hi = scale if scale is not None else ((1.0, 5.0) if metric == "csat" else (1.0, 7.0))
    opts["range"] = (float(lo), float(hi))
    if metric == "csat":
        opts["satisfied"] = (float(satisfied[0]), float(satisfied[1]))
        return opts, (0.0, 1.0), (0.0, 1.0)
    k = int(hi - lo)
    return opts, tuple(float(i) / k for i in range(k + 1)), (float(lo), float(hi))


@ck.validate_params(
    {
        "metric": ck.Options(*_METRICS),
        "alpha": ck.ALPHA,
        "period": ck.Custom(_check_period, "fortnight", 0, -1.0, math.nan),
        "baseline": ck.Integer(1),
        "reference": ck.Number(none=True),
        "window": ck.Duration(none=True),
        "scale": ck.Pair(none=True),
        "satisfied": ck.Pair(),
        "score": ck.Text(),
        "time": ck.Text(),
        "tz": ck.TZ,
        "method": ck.Options(*_METHODS),
    }
)
def monitor(
    data: Any,
    metric: MonitorMetric = "conversion",
    *,
    alpha: float = 0.05,
    period: str | float = "day",
    baseline: int = 28,
    reference: float | None = None,
    steps: Sequence[Any] | None = None,
    window: Any = None,
    scale: tuple[float, float] | None = None,
    satisfied: tuple[float, float] = (4, 5),
    score: str = "score",
    time: str = "time",
    tz: str = "UTC",
    method: MonitorMethod = "betting",
) -> Monitor:
    """Watch a rate or a score look by look, with intervals and an alarm valid at every look.

    Every period (``period=``) is a look. At each look the monitor gives the
    value so far with a confidence *sequence*: the chance that it misses the
    true value at any look, however many looks are taken and whenever one
    stops, is at most ``alpha`` (a daily 95% interval misses at some day
    almost surely over a year). After a baseline (the first ``baseline``
    looks, or a known ``reference`` value) a change alarm watches every later
    look.

    Parameters
    ----------
    data : EventLog or table
        An :class:`~touchpoint.EventLog` for ``"conversion"`` (each journey,
        dated by its first event, converted or not) and ``"step"`` (each
        journey that reached ``steps[0]``, dated then, reached the last step
        or not); for ``"csat"``, ``"nps"`` and ``"ces"`` a table of answers
        (mapping of columns, pandas, polars or pyarrow) with a ``score`` and a
        ``time`` column. Feed each look once its outcomes are known (e.g.
        yesterday's journeys, once the conversion window has passed).
    metric : {"conversion", "step", "csat", "nps", "ces"}
        What is watched: a rate (conversion, funnel step, CSAT's satisfied
        share) or a bounded mean (NPS on -100..100, CES on its scale).
    alpha : float
        Error level of the confidence sequence and of the alarm.
    period : {"day", "week", "month"} or float
        One look per calendar period of ``tz`` (datetime times), or per bucket
        of this width (float times).
    baseline : int
        Looks that form the reference period when ``reference`` is not given.
    reference : float, optional
        A known reference value on the metric's scale (e.g. last quarter's
        conversion rate, 0.05): the alarm then compares every look with it.
    steps : list, optional
        For ``"step"``: the funnel steps, as in :func:`touchpoint.funnel`; the
        rate is reaching the last step among the journeys that reached the
        first.
    window : timedelta or float, optional
        For ``"step"``: the conversion window from the first step.
    scale : (low, high), optional
        The answer scale for ``"csat"`` (default 1-5) and ``"ces"`` (1-7).
    satisfied : (low, high)
        For ``"csat"``: the satisfied band (default 4-5).
    score, time : str
        For answers: the columns holding the score and its time.
    tz : str
        Time zone of the calendar periods.
    method : {"betting", "beta-binomial"}
        The confidence sequence: ``"betting"`` (any metric; Waudby-Smith &
        Ramdas 2023) or, for the rates (conversion, step, CSAT), the
        ``"beta-binomial"`` mixture (Howard et al. 2021, prior Beta(1/2, 1/2)),
        narrower at the very first look, 5-10% wider from the tenth on (see
        the Validation page). The alarm is the same for both.

    Returns
    -------
    Monitor
        ``.table`` (one row per look), ``.alarm``, ``.update(new_data)``,
        ``.to_dict()`` / ``Monitor.from_dict()``, ``.plot()``.

    Notes
    -----
    *Confidence sequence.* The value is rescaled to [0, 1] and estimated by
    betting (Waudby-Smith & Ramdas 2023, JRSS B): a candidate value ``m`` is
    out once the capital of a gambler betting that the mean is above ``m``,
    or one betting that it is below, has grown 2/alpha-fold. The bets are
    their predictable plug-in (fixed within a look from the looks before), so
    by Ville's inequality the sequence covers the mean at every look at once
    with probability at least 1 - alpha while the mean stays the same.
    Simulated coverage at every one of 1,000 looks is on the Validation page.

    *Alarm.* Guarantee: if the observations after the baseline are
    independent with the baseline's mean (or ``reference``), the probability
    that the alarm ever sounds, over any number of looks, is at most
    ``alpha``. It is not a CUSUM (which would alarm eventually, almost
    surely): the baseline's range is its confidence interval at level
    ``alpha / 2``; every later look multiplies the capitals of bets that the
    mean has fallen below that range, or risen above it, by 0.25, 0.5, 1, 2
    and 4 standard errors of a look; a change may start at any look ``j`` after
    the baseline, weighted ``1 / (j (j + 1))``. The average of those capitals
    (the ``evidence`` column) is an e-process; the alarm sounds when it reaches
    ``2 / alpha`` (``1 / alpha`` with a known ``reference``). A change that
    starts late costs about ``2 log j`` in evidence, so detection slows
    gently with the length of the quiet period; the Validation page gives the
    looks it took to detect planted changes.

    Examples
    --------
    >>> import numpy as np
    >>> from touchpoint import EventLog
    >>> rng = np.random.default_rng(0)
    >>> day = np.repeat(np.arange(60), 500)                   # 500 journeys a day
    >>> rate = np.where(day < 40, 0.10, 0.06)                 # a fall on day 40
    >>> bought = rng.random(len(day)) < rate
    >>> log = EventLog.from_arrays(np.arange(len(day)), np.full(len(day), "visit"),
    ...                            day * 86400.0, outcome=bought.astype(float))
    >>> m = monitor(log, period=86400.0, baseline=28)
    >>> m.alarm, m.direction, 40 < m.alarm_look < 50
    (True, 'fall', True)
    >>> bool(m.table["low"][27] < 0.10 < m.table["high"][27])
    True
    >>> m2 = Monitor.from_dict(m.to_dict())
    >>> m2.alarm_look == m.alarm_look
    True
    """
    opts, support, value_scale = _settings(
        metric,
        steps=steps,
        window=window,
        scale=scale,
        satisfied=satisfied,
        score=score,
        time=time,
    )
    if reference is not None and not value_scale[0] < reference < value_scale[1]:
        msg = (
            f"`reference` must lie strictly inside the metric's range {value_scale} "
            f"(got {reference})."
        )
        raise ValidationError(msg)
    if method == "beta-binomial" and support != (0.0, 1.0):
        msg = f"method='beta-binomial' is for rates (conversion, step, csat), not {metric!r}."
        raise ValidationError(msg)
    s = _Settings(metric=metric, options=opts, support=support, period=period, tz=tz)
    codes, counts = _looks(data, s)
    return Monitor(
        metric=metric,
        alpha=float(alpha),
        period=period,
        tz=tz,
        baseline=int(baseline),
        reference=None if reference is None else float(reference),
        options=opts,
        support=support,
        scale=value_scale,
        codes=tuple(codes.tolist()),
        counts=tuple(tuple(r) for r in counts.tolist()),
        method=method,
    )
