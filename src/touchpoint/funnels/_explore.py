"""Path exploration and conformance: what customers did around a touchpoint, and
where observed journeys leave the designed one.

:func:`next_steps` and :func:`previous_steps` rank the sequences of events
that follow (precede) a touchpoint; :func:`conformance` compares every
observed transition with a designed :class:`~touchpoint.model.Journey`.
"""

from __future__ import annotations

import html
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import Occurrence
from touchpoint._lib.compat import deprecated_params, warn_deprecated
from touchpoint._lib.frames import format_path
from touchpoint.core._results import TableResult
from touchpoint.exceptions import UnknownTouchpointError
from touchpoint.table import Table

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey

__all__ = ["Conformance", "conformance", "next_steps", "previous_steps"]

END = "(end)"
START = "(start)"


def _anchor_mask(log: EventLog, spec: str | Collection[str], name: str) -> NDArray[np.bool_]:
    """Per touchpoint code: is it one of ``spec`` (a touchpoint, a stage, or a set)?"""
    mask = np.zeros(log.n_touchpoints, dtype=bool)
    names = log.touchpoint_names
    if isinstance(spec, str):
        if spec in names:
            mask[names.index(spec)] = True
            return mask
        design = log.design
        if design is not None and spec in {s.name for s in design.stages}:
            for t in design.touchpoints_in(spec):
                if t.name in names:
                    mask[names.index(t.name)] = True
            return mask
        msg = f"'{name}'={spec!r} is neither a touchpoint of the log nor a stage of its design."
        raise UnknownTouchpointError(msg)
    for s in spec:
        if s not in names:
            msg = f"'{name}' names unknown touchpoint {s!r}."
            raise UnknownTouchpointError(msg)
        mask[names.index(s)] = True
    return mask


def _explore(
    log: EventLog,
    spec: str | Collection[str],
    *,
    depth: int,
    occurrence: str,
    direction: int,
    name: str,
) -> Table:
    anchor = _anchor_mask(log, spec, name)[log.touchpoint]
    pos = np.flatnonzero(anchor).astype(np.int64)
    jour = log.journey[pos]
    if occurrence != "all" and len(pos):
        if occurrence == "first":
            keep = np.ones(len(pos), dtype=bool)
            keep[1:] = jour[1:] != jour[:-1]
        else:
            keep = np.ones(len(pos), dtype=bool)
            keep[:-1] = jour[1:] != jour[:-1]
        pos, jour = pos[keep], jour[keep]
    n_tp = log.n_touchpoints
    edge, pad = n_tp, n_tp + 1
    bound = log.offsets[1:][jour] if direction > 0 else log.offsets[:-1][jour]
    seq = np.full((len(pos), depth), pad, dtype=np.int64)
    alive = np.ones(len(pos), dtype=bool)
    for d in range(1, depth + 1):
        idx = pos + direction * d
        inside = idx < bound if direction > 0 else idx >= bound
        code = np.where(inside, log.touchpoint[np.clip(idx, 0, max(log.n_events - 1, 0))], edge)
        seq[alive, d - 1] = code[alive]
        alive &= inside
    base = n_tp + 2
    if len(seq) == 0:
        uniq, counts = np.zeros((0, depth), dtype=np.int64), np.zeros(0, dtype=np.int64)
    elif depth * np.log2(base) < 62:  # one int64 key per path: much faster than axis=0
        key = np.zeros(len(seq), dtype=np.int64)
        for d in range(depth):
            key = key * base + seq[:, d]
        ukey, counts = np.unique(key, return_counts=True)
        uniq = np.empty((len(ukey), depth), dtype=np.int64)
        for d in range(depth - 1, -1, -1):
            uniq[:, d] = ukey % base
            ukey = ukey // base
    else:
        uniq, counts = np.unique(seq, axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    labels = (*log.touchpoint_names, END if direction > 0 else START)
    paths: list[str] = []
    lengths: list[int] = []
    for row in uniq[order].tolist():
        steps = [labels[c] for c in row if c != pad]
        if direction < 0:
            steps = steps[::-1]
        paths.append(format_path(steps))
        lengths.append(sum(1 for c in row if c < n_tp))
    total = max(len(pos), 1)
    c = counts[order].astype(np.int64)
    col = "next" if direction > 0 else "previous"
    return Table(
        {col: paths, "events": np.array(lengths, dtype=np.int64), "count": c, "share": c / total},
        title=f"{col} steps",
    )


@deprecated_params(positional=("depth",))
@ck.validate_params({"depth": ck.Integer(1), "occurrence": ck.Options("first", "last", "all")})
def next_steps(
    log: EventLog,
    after: str | Collection[str],
    *,
    depth: int = 3,
    occurrence: Occurrence = "first",
) -> Table:
    """What journeys did after a touchpoint: the next ``depth`` events, ranked.

    Parameters
    ----------
    log : EventLog
        The events.
    after : str or collection of str
        A touchpoint, a stage of the design, or a set of touchpoints.
    depth : int
        How many following events form a path; a journey that ends earlier
        gets :data:`END` as its last element.
    occurrence : {"first", "last", "all"}
        Which occurrences of ``after`` to follow in each journey; with
        ``"first"`` or ``"last"`` shares are shares of journeys.

    Returns
    -------
    Table
        Columns ``next`` (the path, " > "-joined), ``events`` (events in it),
        ``count`` and ``share``, most frequent first.

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays([1, 1, 1, 2, 2, 3], ["ad", "site", "buy", "ad", "site", "ad"],
    ...                            [0.0, 1.0, 2.0, 0.0, 1.0, 0.0])
    >>> t = next_steps(log, after="ad", depth=2)
    >>> t.to_records()[0]
    {'next': 'site > buy', 'events': 2, 'count': 1, 'share': 0.333...}
    >>> t["next"].tolist()
    ['site > buy', 'site > (end)', '(end)']
    """
    return _explore(log, after, depth=depth, occurrence=occurrence, direction=+1, name="after")


@deprecated_params(positional=("depth",))
@ck.validate_params({"depth": ck.Integer(1), "occurrence": ck.Options("first", "last", "all")})
def previous_steps(
    log: EventLog,
    before: str | Collection[str],
    *,
    depth: int = 3,
    occurrence: Occurrence = "first",
) -> Table:
    """What journeys did before a touchpoint: the previous ``depth`` events, ranked.

    Paths read in time order and start with :data:`START` when the journey
    began less than ``depth`` events earlier. See :func:`next_steps`.

    Examples
    --------
    >>> from touchpoint import EventLog
    >>> log = EventLog.from_arrays([1, 1, 1, 2, 2], ["ad", "site", "buy", "mail", "buy"],
    ...                            [0.0, 1.0, 2.0, 0.0, 1.0])
    >>> previous_steps(log, before="buy", depth=2)["previous"].tolist()
    ['ad > site', '(start) > mail']
    """
    return _explore(log, before, depth=depth, occurrence=occurrence, direction=-1, name="before")


# ---------------------------------------------------------------------------
# conformance
# ---------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class Conformance(TableResult):
    """Where observed journeys leave a designed :class:`~touchpoint.model.Journey`.

    Attributes
    ----------
    n_transitions : int
        Observed transitions between two different touchpoints.
    n_journeys, conforming_journeys : int
        Journeys, and journeys without any deviation.
    deviations : Table
        One row per observed (from, to) pair that deviates: ``kind`` is
        ``"unknown"`` (a touchpoint the design lacks), ``"back"`` (to an earlier
        stage), ``"skip"`` (over at least one stage), ``"off_design"`` (a
        transition the design lacks, within the stage order), with ``count``
        and ``share`` of the source touchpoint's transitions.
    by_touchpoint : Table
        Per source touchpoint: transitions out and the count and share of each kind.
    table : Table
        The main table, :attr:`by_touchpoint`.
    """

    n_transitions: int
    n_journeys: int
    conforming_journeys: int
    deviations: Table
    by_touchpoint: Table

    @property
    def fitness(self) -> float:
        """Share of journeys with no deviation."""
        return self.conforming_journeys / self.n_journeys if self.n_journeys else float("nan")

    @property
    def table(self) -> Table:
        """:attr:`by_touchpoint`, the result's main table."""
        return self.by_touchpoint

    def __repr__(self) -> str:
        dev = int(self.by_touchpoint["deviating"].sum()) if len(self.by_touchpoint) else 0
        return (
            f"Conformance({self.conforming_journeys:,} of {self.n_journeys:,} journeys conform, "
            f"{dev:,} of {self.n_transitions:,} transitions deviate)"
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(repr(self))}</p>" + self.deviations.to_html(max_rows=30)


_KIND_NAMES = ("conforming", "off_design", "skip", "back", "unknown")


def _log_then_design(log: Any, design: Any) -> tuple[EventLog, Journey]:
    """``(log, design)``, accepting the 0.1 order ``(design, log)`` with a warning."""
    from touchpoint.core._eventlog import EventLog
    from touchpoint.core._journey import Journey

    if isinstance(log, Journey) and isinstance(design, EventLog):
        warn_deprecated(
            "conformance(design, log) is deprecated; the log comes first: conformance(log, design).",
            stacklevel=4,
        )
        return design, log
    if not isinstance(log, EventLog):
        msg = f"conformance() needs an EventLog first (got {type(log).__name__})."
        raise TypeError(msg)
    if not isinstance(design, Journey):
        msg = f"conformance() needs a designed Journey second (got {type(design).__name__})."
        raise TypeError(msg)
    return log, design


def conformance(log: EventLog, design: Journey) -> Conformance:
    """Compare observed journeys with a designed journey, transition by transition.

    Every pair of consecutive events of a journey is classified, first match wins:

    - ``unknown``: one of the touchpoints is not in the design;
    - ``back``: the target's stage comes before the source's stage;
    - ``skip``: the target's stage is more than one designed stage later;
    - ``off_design``: the design has no edge from source to target (checked
      only when the design has edges);
    - else conforming. Repeats of the same touchpoint are ignored.

    Parameters
    ----------
    log : EventLog
        The observed events.
    design : Journey
        The designed journey (stages, touchpoints and, optionally, transitions).
        (Before 0.2 the arguments came the other way round; that order still
        works for one release, with a DeprecationWarning.)

    Returns
    -------
    Conformance

    Examples
    --------
    >>> from touchpoint import EventLog, Journey, Touchpoint
    >>> j = Journey(stages=["awareness", "consideration", "purchase"], touchpoints=[
    ...     Touchpoint("ad", stage="awareness"), Touchpoint("site", stage="consideration"),
    ...     Touchpoint("buy", stage="purchase")])
    >>> j.add_transition("ad", "site"); j.add_transition("site", "buy")
    >>> log = EventLog.from_arrays([1, 1, 1, 2, 2, 3, 3], ["ad", "site", "buy", "ad", "buy",
    ...                            "site", "ad"], [0.0, 1, 2, 0, 1, 0, 1])
    >>> c = conformance(log, j)
    >>> c
    Conformance(1 of 3 journeys conform, 2 of 4 transitions deviate)
    >>> c.deviations.to_records()
    [{'from': 'ad', 'to': 'buy', 'kind': 'skip', 'count': 1, 'share': 0.5},
     {'from': 'site', 'to': 'ad', 'kind': 'back', 'count': 1, 'share': 0.5}]
    """
    log, design = _log_then_design(log, design)
    names = log.touchpoint_names
    k = len(names)
    stage_order = {s.name: rank for rank, s in enumerate(design.stages)}
    known = np.array([n in design for n in names], dtype=bool)
    srank = np.full(k, -1, dtype=np.int64)
    for i, n in enumerate(names):
        if known[i]:
            st = design.nodes[n].get("stage")
            if st is not None:
                srank[i] = stage_order[st]
    has_edges = design.number_of_edges() > 0
    edge = np.zeros((k, k), dtype=bool)
    if has_edges:
        for u, v in design.edges:
            if u in names and v in names:
                edge[names.index(u), names.index(v)] = True
    a, b = log.transition_pairs()
    same_journey = log.journey[1:] == log.journey[:-1]
    jour = log.journey[1:][same_journey]
    moved = a != b
    a, b, jour = a[moved], b[moved], jour[moved]
    kind = np.zeros(len(a), dtype=np.int64)
    staged = (srank[a] >= 0) & (srank[b] >= 0)
    off = ~edge[a, b] if has_edges else np.zeros(len(a), dtype=bool)
    kind[off] = 1
    kind[staged & (srank[b] > srank[a] + 1)] = 2
    kind[staged & (srank[b] < srank[a])] = 3
    kind[~known[a] | ~known[b]] = 4
    # a journey with any touchpoint the design lacks never conforms, even when it has
    # no transition to classify (one event, or only repeats of unknown touchpoints)
    unknown_event = ~known[log.touchpoint] if k else np.zeros(log.n_events, dtype=bool)
    bad_journeys = np.union1d(jour[kind > 0], log.journey[unknown_event])
    n_kinds = len(_KIND_NAMES)
    per = np.bincount(a.astype(np.int64) * n_kinds + kind, minlength=k * n_kinds).reshape(
        k, n_kinds
    )
    out_tot = per.sum(axis=1)
    rows = np.flatnonzero(out_tot)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_tp: dict[str, Any] = {
            "touchpoint": [names[i] for i in rows.tolist()],
            "transitions": out_tot[rows],
            "deviating": out_tot[rows] - per[rows, 0],
            "share": (out_tot[rows] - per[rows, 0]) / out_tot[rows],
        }
        for ki in range(1, n_kinds):
            by_tp[_KIND_NAMES[ki]] = per[rows, ki]
    by_table = Table(by_tp, title="conformance by touchpoint").sort("deviating", descending=True)
    dev = kind > 0
    pair = (a[dev].astype(np.int64) * k + b[dev]) * n_kinds + kind[dev]
    uniq, cnt = np.unique(pair, return_counts=True)
    order = np.argsort(-cnt, kind="stable")
    uniq, cnt = uniq[order], cnt[order]
    src = (uniq // n_kinds) // k
    dev_table = Table(
        {
            "from": [names[i] for i in src.tolist()],
            "to": [names[i] for i in ((uniq // n_kinds) % k).tolist()],
            "kind": [_KIND_NAMES[i] for i in (uniq % n_kinds).tolist()],
            "count": cnt.astype(np.int64),
            "share": cnt / np.maximum(out_tot[src], 1),
        },
        title="deviations",
    )
    return Conformance(
        n_transitions=len(a),
        n_journeys=log.n_journeys,
        conforming_journeys=log.n_journeys - len(bad_journeys),
        deviations=dev_table,
        by_touchpoint=by_table,
    )
