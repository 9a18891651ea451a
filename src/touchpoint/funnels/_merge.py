"""Mergeable funnel counts (internal; used by :mod:`touchpoint.dask`).

A :class:`FunnelCounts` holds what :func:`touchpoint.funnel` reports, in a
form that adds up across disjoint sets of journeys: per-step entered and
reached counts, exit and next-event tallies by touchpoint name, and the
per-journey step durations (so time quantiles stay exact after merging), and
for the units still waiting at a step when their partition ends, when they
entered it and when their window closes (so the Kaplan-Meier estimates censor
them at the end of the whole log, as :func:`touchpoint.funnel` does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib.choices import MatchMode
from touchpoint.core._eventlog import EventLog, _replace_design
from touchpoint.exceptions import ValidationError
from touchpoint.funnels._funnel import _with_segments, step_km

if TYPE_CHECKING:
    from touchpoint.funnels._funnel import Funnel

__all__ = ["FunnelCounts", "SegmentedCounts", "funnel_counts", "segmented_counts"]


def _add_tallies(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


@attrs.frozen(kw_only=True, eq=False)
class FunnelCounts:
    """Funnel tallies of a set of journeys; ``a + b`` is the tally of both sets."""

    template: Any  # a Funnel of one partition: fields not counted here come from it
    labels: tuple[str, ...]
    optional: tuple[bool, ...]
    entered: NDArray[np.int64]
    reached: NDArray[np.int64]
    first: int
    exits: tuple[Mapping[str, int], ...]
    next_events: tuple[Mapping[str, int], ...]
    durations: tuple[NDArray[np.float64], ...]
    n_units: int
    mode: str
    window: float | None
    time_unit: str
    # units waiting at each Kaplan-Meier step (None: no estimate): when they
    # entered it and when their window closes, in seconds from ``origin``
    # (nanoseconds since the epoch for datetime logs, else 0); ``end`` the last event
    since: tuple[NDArray[np.float64] | None, ...] = ()
    limit: tuple[NDArray[np.float64] | None, ...] = ()
    end: float = float("-inf")
    origin: int = 0

    def rebased(self, origin: int) -> FunnelCounts:
        """The same counts with times counted from ``origin``."""
        if origin == self.origin:
            return self
        shift = (self.origin - origin) / 1e9

        def move(a: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
            return None if a is None else a + shift

        return attrs.evolve(
            self,
            since=tuple(move(a) for a in self.since),
            limit=tuple(move(a) for a in self.limit),
            end=self.end + shift,
            origin=origin,
        )

    def __add__(self, other: object) -> FunnelCounts:
        if not isinstance(other, FunnelCounts):
            return NotImplemented
        if (self.labels, self.optional, self.mode, self.window) != (
            other.labels,
            other.optional,
            other.mode,
            other.window,
        ):
            msg = "cannot add funnel counts of different steps, modes or windows."
            raise ValidationError(msg)
        # an empty partition has no time base of its own
        bases = [c.origin for c in (self, other) if c.end > float("-inf")]
        origin = min(bases) if bases else self.origin
        a, b = self.rebased(origin), other.rebased(origin)

        def join(
            x: NDArray[np.float64] | None, y: NDArray[np.float64] | None
        ) -> NDArray[np.float64] | None:
            return None if x is None or y is None else np.concatenate([x, y])

        return FunnelCounts(
            since=tuple(join(x, y) for x, y in zip(a.since, b.since, strict=True)),
            limit=tuple(join(x, y) for x, y in zip(a.limit, b.limit, strict=True)),
            end=max(a.end, b.end),
            origin=origin,
            template=self.template,
            labels=self.labels,
            optional=self.optional,
            entered=self.entered + other.entered,
            reached=self.reached + other.reached,
            first=self.first + other.first,
            exits=tuple(_add_tallies(a, b) for a, b in zip(self.exits, other.exits, strict=True)),
            next_events=tuple(
                _add_tallies(a, b) for a, b in zip(self.next_events, other.next_events, strict=True)
            ),
            durations=tuple(
                np.concatenate([a, b]) for a, b in zip(self.durations, other.durations, strict=True)
            ),
            n_units=self.n_units + other.n_units,
            mode=self.mode,
            window=self.window,
            time_unit=self.time_unit or other.time_unit,
        )

    def to_funnel(self, end: float | None = None) -> Funnel:
        """The :class:`~touchpoint.funnel.Funnel` of these counts.

        ``end``: the end of the whole log (in this object's time base) when
        these are the counts of one segment.
        """
        end = self.end if end is None else end
        steps = []
        for k, step in enumerate(self.template.steps):
            d = self.durations[k]
            since = self.since[k] if k < len(self.since) else None
            km, censored = None, 0
            if since is not None:
                lim = self.limit[k] if self.window is not None else None
                km, censored = step_km(d, since, lim, end)
            q1, med, q3 = np.percentile(d, [25, 50, 75]) if len(d) else (np.nan,) * 3
            changes: dict[str, Any] = {
                "entered": int(self.entered[k]),
                "reached": int(self.reached[k]),
                _first_field(step): self.first,
                "time_median": float(med),
                "time_q1": float(q1),
                "time_q3": float(q3),
                "exits": _ranked(self.exits[k]),
                "next_events": _ranked(self.next_events[k]),
                "km": km,
                "censored": censored,
            }
            steps.append(attrs.evolve(step, **changes))
        out: Funnel = attrs.evolve(self.template, steps=tuple(steps), n_units=self.n_units)
        return out


def _first_field(step: Any) -> str:
    """Name of the field counting the units at the first step (it was renamed once)."""
    names = {f.name for f in attrs.fields(type(step))}
    return "first_reached" if "first_reached" in names else "first"


def _ranked(tally: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    from touchpoint.funnels._funnel import END

    items = [(k, v) for k, v in tally.items() if v > 0]
    items.sort(key=lambda kv: (-kv[1], kv[0] == END, kv[0]))
    return tuple(items)


def _step_names(steps: Sequence[Any] | None) -> set[str]:
    out: set[str] = set()
    for spec in steps or ():
        if isinstance(spec, str):
            out.add(spec)
        else:
            out.update(str(s) for s in spec)
    return out


def _with_known_steps(log: EventLog, steps: Sequence[Any] | None) -> EventLog:
    """The log, with a design that knows every step touchpoint (a partition may lack some)."""
    from touchpoint.core._journey import Journey, Touchpoint

    names = _step_names(steps)
    missing = sorted(n for n in names if n not in log.touchpoint_names)
    design = log.design
    stage_names = {s.name for s in design.stages} if design is not None else set()
    missing = [n for n in missing if n not in stage_names and (design is None or n not in design)]
    if not missing:
        return log
    if design is None:
        j = Journey(touchpoints=[*log.touchpoint_names, *missing])
    else:
        j = Journey(stages=design.stages, name=design.name)
        for t in design.touchpoints:
            j.add_touchpoint(t)
        for n in missing:
            j.add_touchpoint(Touchpoint(n))
    return _replace_design(log, j)


def funnel_counts(
    log: EventLog,
    *,
    steps: Sequence[Any] | None,
    window: Any = None,
    mode: MatchMode = "ordered",
    exclude: Iterable[str] = (),
    optional: Iterable[int | str] = (),
) -> FunnelCounts:
    """The mergeable funnel tallies of ``log`` (as :func:`touchpoint.funnel` counts them).

    Counts, exits and next events come from the public :func:`touchpoint.funnel`;
    the per-journey step durations (for exact merged quantiles) from the
    matching engine behind it.
    """
    import importlib

    from touchpoint.funnels._funnel import funnel

    log = _with_known_steps(log, steps)
    optional = list(optional)
    # a partition may lack an excluded touchpoint, which then excludes nobody there
    exclude = [
        e for e in ([exclude] if isinstance(exclude, str) else exclude) if e in log.touchpoint_names
    ]
    f = funnel(log, steps, window=window, mode=mode, exclude=exclude, optional=optional)
    engine: Any = importlib.import_module("touchpoint.funnels._match")
    p = engine._prepare(
        log,
        steps,
        window=window,
        mode=mode,
        exclude=exclude,
        optional=optional,
        count="journeys",
    )
    win = f.window
    time_unit = f.time_unit
    m = p.match
    durations = []
    since: list[NDArray[np.float64] | None] = []
    limit: list[NDArray[np.float64] | None] = []
    for k in range(len(f.steps)):
        j = int(m.prev[k])
        if j < 0 or p.steps.optional[k]:
            since.append(None)
            limit.append(None)
        else:
            waiting = m.reached[:, j] & ~m.reached[:, k]
            since.append(m.time[waiting, j].astype(np.float64))
            limit.append(None if win is None else m.time[waiting, 0] + win)
        if j < 0:
            durations.append(np.empty(0))
            continue
        hit = m.reached[:, k] & m.reached[:, j]
        dt = m.time[hit, k] - m.time[hit, j]
        if p.steps.optional[k]:
            dt = np.maximum(dt, 0.0)
        durations.append(dt.astype(np.float64))
    return FunnelCounts(
        template=f,
        labels=tuple(s.label for s in f.steps),
        optional=tuple(s.optional for s in f.steps),
        entered=np.array([s.entered for s in f.steps], dtype=np.int64),
        reached=np.array([s.reached for s in f.steps], dtype=np.int64),
        first=getattr(f.steps[0], _first_field(f.steps[0])) if f.steps else 0,
        exits=tuple(dict(s.exits) for s in f.steps),
        next_events=tuple(dict(s.next_events) for s in f.steps),
        durations=tuple(durations),
        n_units=f.n_units,
        mode=mode,
        window=win,
        time_unit=time_unit,
        since=tuple(since),
        limit=tuple(limit),
        end=float(p.t.max()) if len(p.t) else float("-inf"),
        origin=int(log.timestamp.view(np.int64).min()) if log.is_datetime and len(p.t) else 0,
    )


@attrs.frozen(kw_only=True, eq=False)
class SegmentedCounts:
    """Funnel tallies overall and per segment; ``a + b`` merges both levels."""

    total: FunnelCounts
    segments: Mapping[Any, FunnelCounts] = attrs.field(factory=dict)

    def __add__(self, other: object) -> SegmentedCounts:
        if not isinstance(other, SegmentedCounts):
            return NotImplemented
        segs = dict(self.segments)
        for g, c in other.segments.items():
            segs[g] = segs[g] + c if g in segs else c
        return SegmentedCounts(total=self.total + other.total, segments=segs)

    def to_funnel(self, by: str | None) -> Funnel:
        """The overall funnel, with per-segment funnels and tests when ``by`` is set."""
        total = self.total.to_funnel()
        if by is None:
            return total
        from touchpoint._lib.groups import group_key

        groups = sorted(self.segments, key=group_key)
        segs = {}
        for g in groups:
            seg = self.segments[g].rebased(self.total.origin)
            segs[g] = seg.to_funnel(end=self.total.end)
        return _with_segments(total, segs, by)


def segmented_counts(
    log: EventLog,
    *,
    by: str | None,
    steps: Sequence[Any] | None,
    window: Any = None,
    mode: MatchMode = "ordered",
    exclude: Iterable[str] = (),
    optional: Iterable[int | str] = (),
) -> SegmentedCounts:
    """Funnel tallies of ``log`` overall and, with ``by``, per segment."""
    kw: dict[str, Any] = {
        "steps": steps,
        "window": window,
        "mode": mode,
        "exclude": exclude,
        "optional": optional,
    }
    total = funnel_counts(log, **kw)
    if by is None:
        return SegmentedCounts(total=total)
    from touchpoint._lib.groups import group_codes

    # the in-memory funnel's grouping: the value at each journey's first event, one kernel
    codes, labels = group_codes(log.journey_column(by))
    return SegmentedCounts(
        total=total,
        segments={
            g: funnel_counts(log.select_journeys(codes == i), **kw) for i, g in enumerate(labels)
        },
    )
