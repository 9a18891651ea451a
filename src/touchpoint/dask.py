"""Count on a Dask DataFrame, analyse locally (install ``touchpoint-journeys[dask]``).

Every analysis in touchpoint reduces an event log to counts that add up:
transition counts, funnel step counts, answer tallies. Here each partition of
a Dask DataFrame becomes an :class:`~touchpoint.EventLog` on a worker, is
counted there, and only the small count objects travel back to be summed.
The result is *identical* to the in-memory analysis of the same rows.

A journey must not be split across partitions. By default (``shuffle="auto"``)
the frame is shuffled on the journey column unless the journey is already
its index with known divisions (``ddf.set_index(journey)``); pass
``shuffle=False`` when you know each journey lives in one partition (for
example Parquet files written per customer range).

Events of one journey with *equal* timestamps keep their row order in an
EventLog; a shuffle may not preserve row order, so for results identical to
the in-memory analysis give such events distinct times (e.g. add a sequence
number).

Examples
--------
>>> import pandas as pd, dask.dataframe as dd
>>> import touchpoint as tp
>>> from touchpoint import dask as tpd
>>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3], "tp": ["ad", "buy", "ad", "site", "ad"],
...                    "t": [0.0, 1, 0, 1, 0], "rev": [0, 9.5, 0, 0, 0]})
>>> ddf = dd.from_pandas(df, npartitions=2)
>>> counts = tpd.count_transitions(ddf, journey="id", touchpoint="tp", time="t",
...                                outcome="rev", scheduler="sync")
>>> local = tp.EventLog.from_frame(df, journey="id", touchpoint="tp", time="t", outcome="rev")
>>> counts == tp.count_transitions(local)
True
"""

from __future__ import annotations

import importlib
import operator
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck, parallel
from touchpoint._lib.choices import Duplicates, MatchMode, OnError, OutcomeLevel, StateKind
from touchpoint._lib.frames import _check_columns, frame_columns
from touchpoint.core._eventlog import EventLog
from touchpoint.core._ingest import user_stacklevel
from touchpoint.core._spec import LogSpec
from touchpoint.exceptions import DroppedRowsWarning, ValidationError

if TYPE_CHECKING:
    from touchpoint.core._journey import Journey
    from touchpoint.funnels._funnel import Funnel
    from touchpoint.markov._model import MarkovModel, TransitionCounts

__all__ = [
    "count_transitions",
    "expand",
    "fit_markov",
    "funnel",
    "map_logs",
    "score_counts",
]

T = TypeVar("T")
Shuffle = Literal["auto"] | bool


@attrs.frozen(kw_only=True)
class _Part:
    """What one partition sends back: the reduced value and its validation tally."""

    value: Any
    n_input: int
    dropped: Mapping[str, int]
    example: str = ""
    #: with ``shuffle=False``, to find a journey split across partitions: sorted int64
    #: keys of the partition's journey ids (integer ids themselves, other ids by pandas'
    #: deterministic 64-bit hash), and for hashed keys the ids in the same order
    hashes: Any = None
    ids: Any = None


def _dask() -> Any:
    """The dask module, untyped (its partial annotations do not help here)."""
    return importlib.import_module("dask")


def _merge_parts(a: _Part, b: _Part, combine: Callable[[Any, Any], Any]) -> _Part:
    dropped = dict(a.dropped)
    for k, v in b.dropped.items():
        dropped[k] = dropped.get(k, 0) + v
    hashes, ids = _merge_ids(a, b)
    if a.value is None:
        value = b.value
    elif b.value is None:
        value = a.value
    else:
        value = combine(a.value, b.value)
    return _Part(
        value=value,
        n_input=a.n_input + b.n_input,
        dropped=dropped,
        example=a.example or b.example,
        hashes=hashes,
        ids=ids,
    )


def _journey_keys(journey_ids: NDArray[Any]) -> tuple[NDArray[np.int64], NDArray[Any] | None]:
    """Sorted int64 keys of journey ids and (for hashed keys) the ids in key order.

    Integer ids (sorted already in a log) are their own keys: exact, nothing to
    sort or send twice. Other ids are hashed with ``pandas.util.hash_array``,
    which is the same in every process (Python's ``hash`` of a string is not).
    """
    ids = np.asarray(journey_ids)
    if ids.dtype.kind == "i" or (ids.dtype.kind == "u" and ids.dtype.itemsize < 8):
        keys = ids.astype(np.int64)
        if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):
            return keys, None
        return np.sort(keys), None
    import pandas as pd

    obj = ids.astype(object)
    keys = pd.util.hash_array(obj, categorize=False).view(np.int64)
    order = np.argsort(keys, kind="stable")
    return keys[order], obj[order]


def _as_hashed(keys: NDArray[np.int64], ids: NDArray[Any] | None) -> tuple[Any, Any]:
    """Integer keys in the hashed form (for a merge with a part of other ids)."""
    if ids is not None:
        return keys, ids
    return _journey_keys(keys.astype(object))


def _same_id(keys: NDArray[np.int64], ids: NDArray[Any], key: np.int64, jid: object) -> bool:
    """Whether ``jid`` (hashed to ``key``) is among the ``ids`` whose hash is ``key``."""
    lo, hi = np.searchsorted(keys, key, "left"), np.searchsorted(keys, key, "right")
    return any(type(v) is type(jid) and v == jid for v in ids[lo:hi].tolist())


def _merge_ids(a: _Part, b: _Part) -> tuple[Any, Any]:
    """The journey keys of both parts; a journey in both is an error (shuffle=False)."""
    if a.hashes is None or b.hashes is None:
        return (a.hashes if b.hashes is None else b.hashes), (a.ids if b.ids is None else b.ids)
    ka, ia, kb, ib = a.hashes, a.ids, b.hashes, b.ids
    if (ia is None) != (ib is None):  # integer ids in one part, other ids in the other
        (ka, ia), (kb, ib) = _as_hashed(ka, ia), _as_hashed(kb, ib)
    pos = np.minimum(np.searchsorted(ka, kb), max(len(ka) - 1, 0))
    hit = np.flatnonzero(ka[pos] == kb) if len(ka) else np.zeros(0, dtype=np.int64)
    if ia is not None and len(hit):  # equal hashes: the same journey only if the ids agree
        hit = np.array([i for i in hit.tolist() if _same_id(ka, ia, kb[i], ib[i])], dtype=np.int64)
    if len(hit):
        i = int(hit[0])
        jid = int(kb[i]) if ib is None else ib[i]
        msg = (
            f"journey {jid!r} has events in more than one partition, so it would be "
            "counted twice; keep each journey in one partition (ddf.set_index(journey) "
            "or shuffle='auto')."
        )
        raise ValidationError(msg)
    keys = np.concatenate([ka, kb])
    if ia is None:  # two sorted runs: the stable sort merges them
        return np.sort(keys, kind="stable"), None
    order = np.argsort(keys, kind="stable")
    return keys[order], np.concatenate([ia, ib])[order]


def _log_of(frame: Any, spec: LogSpec) -> EventLog:
    """The EventLog of one pandas partition (validation warnings are tallied, not raised)."""
    if spec.journey not in frame.columns and frame.index.name == spec.journey:
        frame = frame.reset_index()
    # (Dask runs partitions side by side already: no threads of our own inside one)
    with warnings.catch_warnings(), parallel.inline():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        return EventLog._from_spec(frame_columns(frame, spec), spec)


def _apply(
    frame: Any, fn: Callable[[EventLog], Any], spec: LogSpec, index: int, check_ids: bool = False
) -> _Part:
    if len(frame) == 0:
        return _Part(value=None, n_input=0, dropped={})
    labels = frame.index

    def where(i: int) -> str:  # the original index label, not the row within the partition
        label = labels[i]
        label = label.item() if isinstance(label, np.generic) else label
        return f"index {label!r} (partition {index}, row {i})"

    try:
        log = _log_of(frame, spec)
    except ValidationError as exc:  # rows are numbered within the partition: name the index
        text = re.sub(r"\brow (\d+)\b", lambda m: where(int(m.group(1))), str(exc), count=1)
        raise ValidationError(text) from None
    v = log.validation
    example = v.examples[0].message(where) if v.examples else ""
    hashes = ids = None
    if check_ids:
        hashes, ids = _journey_keys(log.journey_ids)
    return _Part(
        value=fn(log),
        n_input=v.n_input,
        dropped=dict(v.counts),
        example=example,
        hashes=hashes,
        ids=ids,
    )


def _prepare_frame(ddf: Any, spec: LogSpec, shuffle: Shuffle, scheduler: str | None) -> Any:
    if shuffle not in ("auto", True, False):
        raise ck.error("shuffle", "'auto', True or False", shuffle)
    journey = spec.journey
    columns = [str(c) for c in ddf.columns]
    index_name = getattr(ddf.index, "name", None)
    if index_name == journey:
        columns.append(journey)
    spec.check_columns(columns, where="the Dask DataFrame")
    if shuffle is False:
        return ddf
    if index_name == journey and (shuffle == "auto" and ddf.known_divisions):
        return ddf  # set_index(journey): each journey in one partition already
    if index_name == journey:
        ddf = ddf.reset_index()
    # an explicit local scheduler cannot run distributed's P2P shuffle
    method = "tasks" if scheduler is not None else None
    return ddf.shuffle(on=journey, shuffle_method=method)


def _tree_reduce(parts: list[Any], combine: Callable[[Any, Any], Any]) -> Any:
    dask = _dask()
    merge = dask.delayed(_merge_parts, pure=True)
    while len(parts) > 1:
        nxt = [
            merge(parts[i], parts[i + 1], combine) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
        parts = nxt
    return parts[0]


def map_logs(
    ddf: Any,
    fn: Callable[[EventLog], T],
    *,
    journey: str,
    touchpoint: str,
    time: str,
    outcome: str | None = None,
    extra: Sequence[str] = (),
    design: Journey | None = None,
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    combine: Callable[[T, T], T] = operator.add,
    shuffle: Shuffle = "auto",
    scheduler: str | None = None,
    progress: bool | None = None,
) -> T:
    """Apply ``fn`` to the event log of every partition and combine the results.

    The building block of this module: ``fn`` turns an :class:`EventLog` into
    something mergeable (a count object, a ``collections.Counter``, a number)
    and ``combine`` (default ``+``) merges two of them, in a tree on the cluster.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The events, one row per event.
    fn : callable
        ``EventLog -> T``; runs on the workers (must be picklable for a
        distributed cluster: a module-level function or ``functools.partial``).
    journey, touchpoint, time, outcome, extra, design, conversions, on_error, outcome_level, duplicates
        As in :meth:`EventLog.from_frame`. With ``on_error="drop"`` the rows
        dropped in all partitions are counted and reported in one
        :class:`~touchpoint.exceptions.DroppedRowsWarning`.
    combine : callable
        Merges two results; must be associative.
    shuffle : {"auto", True, False}
        Whether to shuffle rows so that each journey lives in one partition
        (see the module docstring).
    scheduler : str, optional
        Dask scheduler (``"sync"``, ``"threads"``, ``"processes"``); default:
        the active distributed client, else Dask's default.
    progress : bool, optional
        Show Dask's progress bar on stderr (default: when attached to a
        terminal; never with a distributed client, which has its dashboard).

    Returns
    -------
    T
        The combined result.
    """
    spec = LogSpec.pick(locals())  # checked here, at the call: before any shuffle or compute
    return _map_spec(ddf, fn, spec, _Run(shuffle, scheduler, progress), combine)


@attrs.frozen
class _Run:
    """How to run on the cluster: the shuffle, the scheduler, the progress bar."""

    shuffle: Shuffle = "auto"
    scheduler: str | None = None
    progress: bool | None = None


def _map_spec(
    ddf: Any,
    fn: Callable[[EventLog], T],
    spec: LogSpec,
    run: _Run,
    combine: Callable[[T, T], T] = operator.add,
) -> T:
    """:func:`map_logs` once the reading keywords are a spec."""
    shuffle, scheduler, progress = run.shuffle, run.scheduler, run.progress
    dask = _dask()
    frame = _prepare_frame(ddf, spec, shuffle, scheduler)
    apply = dask.delayed(_apply, pure=True)
    check_ids = shuffle is False  # the caller vouches for it: check, it is cheap to count
    parts = [apply(p, fn, spec, i, check_ids) for i, p in enumerate(frame.to_delayed())]
    if not parts:
        msg = "the Dask DataFrame has no partitions."
        raise ValidationError(msg)
    total = _tree_reduce(parts, combine)
    result: _Part = _compute(total, scheduler=scheduler, progress=progress)
    n_dropped = sum(result.dropped.values())
    if n_dropped:
        kinds = ", ".join(f"{k}: {v}" for k, v in result.dropped.items() if v)
        warnings.warn(
            f"dropped {n_dropped} of {result.n_input} rows ({kinds}); first: {result.example}.",
            DroppedRowsWarning,
            stacklevel=user_stacklevel(),
        )
    if result.value is None:
        msg = "the Dask DataFrame has no rows."
        raise ValidationError(msg)
    return result.value  # type: ignore[no-any-return]


def _compute(obj: Any, *, scheduler: str | None, progress: bool | None) -> Any:
    from touchpoint._lib.progress import progress_enabled

    dask = _dask()
    kwargs: dict[str, Any] = {}
    if scheduler is not None:
        kwargs["scheduler"] = scheduler
    client = None
    if scheduler is None:
        try:
            from distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
    if client is None and progress_enabled(progress):
        import sys

        diagnostics: Any = importlib.import_module("dask.diagnostics")
        with diagnostics.ProgressBar(out=sys.stderr):
            return dask.compute(obj, **kwargs)[0]
    return dask.compute(obj, **kwargs)[0]


# ----------------------------------------------------------------- markov
def _count_fn(log: EventLog, **kw: Any) -> TransitionCounts:
    from touchpoint.markov._model import count_transitions as _count

    return _count(log, **kw)


def count_transitions(
    ddf: Any,
    *,
    journey: str,
    touchpoint: str,
    time: str,
    outcome: str | None = None,
    order: int = 1,
    states: StateKind = "touchpoint",
    extra: Sequence[str] = (),
    design: Journey | None = None,
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
    shuffle: Shuffle = "auto",
    scheduler: str | None = None,
    progress: bool | None = None,
) -> TransitionCounts:
    """:func:`touchpoint.count_transitions` of a Dask DataFrame (merged from its partitions).

    Parameters are those of :func:`map_logs` and :func:`touchpoint.count_transitions`.

    Returns
    -------
    TransitionCounts
        Equal to ``tp.count_transitions`` of the same rows in one EventLog.
    """

    from touchpoint.markov._encoding import check_order

    check_order(order)
    spec = LogSpec.pick(locals())
    return _count_spec(
        ddf,
        spec,
        _Run(shuffle, scheduler, progress),
        order=order,
        states=states,
        collapse_repeats=collapse_repeats,
        until_conversion=until_conversion,
    )


def _count_spec(ddf: Any, spec: LogSpec, run: _Run, **counting: Any) -> TransitionCounts:
    """:func:`count_transitions` once the reading keywords are a spec."""
    import functools

    fn = functools.partial(_count_fn, **counting)
    counts: TransitionCounts = _map_spec(ddf, fn, spec, run)
    return _canonical(counts, spec.design)


def _canonical(counts: TransitionCounts, design: Journey | None) -> TransitionCounts:
    """Counts over a deterministic alphabet: design order, then by name.

    Partitions meet symbols in no particular order; sorting them makes the
    result independent of partitioning and scheduling.
    """
    from touchpoint.markov._model import TransitionCounts

    rank: dict[str, int] = {}
    if design is not None and counts.states == "touchpoint":
        rank = {t.name: i for i, t in enumerate(design.touchpoints)}
    elif design is not None and counts.states == "stage":
        rank = {st.name: i for i, st in enumerate(design.stages)}
    alphabet = tuple(sorted(counts.alphabet, key=lambda s: (rank.get(s, len(rank)), s)))
    if alphabet == counts.alphabet:
        return counts
    empty = np.empty(0, dtype=np.int64)
    base = TransitionCounts(
        alphabet=alphabet,
        order=counts.order,
        src=empty,
        outcome=empty,
        count=np.empty(0, dtype=np.float64),
        n_journeys=0,
        n_conversions=0,
        value=0.0,
        states=counts.states,
    )
    return base + counts


def fit_markov(
    ddf: Any,
    *,
    journey: str,
    touchpoint: str,
    time: str,
    outcome: str | None = None,
    order: int = 1,
    smoothing: float = 0.0,
    states: StateKind = "touchpoint",
    extra: Sequence[str] = (),
    design: Journey | None = None,
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    collapse_repeats: bool = False,
    until_conversion: bool = True,
    shuffle: Shuffle = "auto",
    scheduler: str | None = None,
    progress: bool | None = None,
) -> MarkovModel:
    """Fit a Markov journey model to a Dask DataFrame: count on the cluster, solve locally.

    Returns
    -------
    MarkovModel
        Equal to ``tp.fit_markov`` on the same rows in memory (same states,
        counts, transition matrix and therefore every derived quantity).

    See Also
    --------
    touchpoint.fit_markov, touchpoint.MarkovModel.from_counts
    """
    from touchpoint.markov._encoding import check_order
    from touchpoint.markov._model import MarkovModel

    check_order(order)
    spec = LogSpec.pick(locals())
    counts = _count_spec(
        ddf,
        spec,
        _Run(shuffle, scheduler, progress),
        order=order,
        states=states,
        collapse_repeats=collapse_repeats,
        until_conversion=until_conversion,
    )
    channels: dict[str, str] = {}
    if design is not None:
        for t in design.touchpoints:
            if t.channel is not None:
                channels[t.name] = t.channel
    return MarkovModel.from_counts(counts, smoothing=smoothing, channels=channels)


# ------------------------------------------------------------------ funnel
def funnel(
    ddf: Any,
    steps: Sequence[Any] | None = None,
    *,
    journey: str,
    touchpoint: str,
    time: str,
    outcome: str | None = None,
    extra: Sequence[str] = (),
    design: Journey | None = None,
    conversions: Iterable[str] = (),
    on_error: OnError = "raise",
    outcome_level: OutcomeLevel = "event",
    duplicates: Duplicates = "keep",
    window: Any = None,
    mode: MatchMode = "ordered",
    by: str | None = None,
    exclude: Iterable[str] = (),
    optional: Iterable[int | str] = (),
    shuffle: Shuffle = "auto",
    scheduler: str | None = None,
    progress: bool | None = None,
) -> Funnel:
    """:func:`touchpoint.funnel` of a Dask DataFrame, merged from per-partition counts.

    Step counts (entered, reached), exits and next events are summed;
    time-to-convert quantiles are exact (the per-journey durations of each
    step are gathered, one number per converting journey and step). With
    ``by`` (a column, value at each journey's first event; list it in
    ``extra`` unless it is ``"stage"``/``"channel"``) the per-segment funnels are
    merged too and each step's conversion is tested across segments, as in
    :func:`touchpoint.funnel`.

    Returns
    -------
    Funnel
        Equal to ``tp.funnel`` on the same rows in memory (exits and next
        events with equal counts are listed by name).

    Notes
    -----
    Counts journeys (``count="journeys"``); the customer and session units of
    :func:`touchpoint.funnel` need all of a customer's sessions in one place.
    """
    import functools

    from touchpoint.funnels import _merge as fm

    extra = tuple(extra)
    if by is not None and by not in extra and by not in ("stage", "channel"):
        extra = (*extra, by)
    fn = functools.partial(
        fm.segmented_counts,
        by=by,
        steps=None if steps is None else list(steps),
        window=window,
        mode=mode,
        exclude=tuple(exclude),
        optional=tuple(optional),
    )
    spec = LogSpec.pick(locals())
    run = _Run(shuffle, scheduler, progress)
    counts: fm.SegmentedCounts = _map_spec(ddf, fn, spec, run)
    return counts.to_funnel(by)


# ----------------------------------------------------------------- metrics
def score_counts(
    ddf: Any,
    column: str,
    *,
    by: str | None = None,
    scheduler: str | None = None,
) -> dict[Any, dict[float, int]]:
    """Tally the answers of a score column (NPS, CSAT, CES) on the cluster.

    The tally is exact and tiny (one count per distinct answer and group);
    expand it locally to compute any metric with its interval, e.g.
    ``tp.nps(expand(tally))``. Missing answers are counted under NaN, answers
    whose ``by`` value is missing under the ``"(missing)"`` group; booleans and
    text that is not a number are refused, naming the column and the value.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Survey answers, one row per answer.
    column : str
        The score column.
    by : str, optional
        Group column; without it the single group is ``None``.
    scheduler : str, optional
        As in :func:`map_logs`.

    Returns
    -------
    dict
        ``{group: {answer: count}}``.
    """
    dask = _dask()
    names = {"column": column} if by is None else {"column": column, "by": by}
    _check_columns(names, set(map(str, ddf.columns)), True, "the Dask DataFrame")
    kwargs: dict[str, Any] = {} if scheduler is None else {"scheduler": scheduler}
    if by is None:
        vc = ddf[column].value_counts(dropna=False)
        series = dask.compute(vc, **kwargs)[0]
        tally: dict[float, int] = {}
        for k, v in series.items():
            a = _answer(k, column)
            tally[a] = tally.get(a, 0) + int(v)
        return {None: tally}
    from touchpoint._lib.frames import MISSING, _is_missing

    vc = ddf.groupby([by, column], dropna=False).size()
    series = dask.compute(vc, **kwargs)[0]
    out: dict[Any, dict[float, int]] = {}
    for (g, k), v in series.items():
        group = MISSING if _is_missing(g) else g  # counted, as in tp.breakdown
        counts = out.setdefault(group, {})
        a = _answer(k, column)
        counts[a] = counts.get(a, 0) + int(v)
    return out


_NAN = float("nan")


def _answer(value: Any, column: str) -> float:
    """A tallied answer as a float (NaN for missing); booleans and text are refused."""
    from touchpoint._lib.frames import _is_missing

    if _is_missing(value):
        return _NAN  # one NaN object, so all missing answers share one key
    if isinstance(value, bool | np.bool_):
        msg = f"column {column!r}: a boolean {value!r} is not a survey answer."
        raise ValidationError(msg)
    try:
        return float(value)
    except (TypeError, ValueError):
        msg = f"column {column!r}: not a number {value!r}."
        raise ValidationError(msg) from None


def expand(tally: Mapping[float, int]) -> Any:
    """The answers of a tally as a float array (sorted), for the metric functions."""
    import numpy as np

    items = sorted(tally.items(), key=lambda kv: (bool(np.isnan(kv[0])), kv[0]))
    keys = np.array([k for k, _ in items], dtype=np.float64)
    reps = np.array([v for _, v in items], dtype=np.int64)
    return np.repeat(keys, reps)
