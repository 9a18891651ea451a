"""The analyses a scan runs in its engine, by name (internal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from touchpoint.scan._scan import PUSHED, LogScan

if TYPE_CHECKING:
    from touchpoint.markov._model import MarkovModel

__all__: list[str] = []


def _count_transitions(scan: LogScan, **kw: Any) -> Any:
    from touchpoint.scan._markov import count_transitions

    return count_transitions(scan, **kw)


def _fit_markov(scan: LogScan, *, smoothing: float = 0.0, **kw: Any) -> MarkovModel:
    from touchpoint.markov._model import MarkovModel
    from touchpoint.scan._markov import count_transitions

    return MarkovModel.from_counts(count_transitions(scan, **kw), smoothing=smoothing, channels={})


def _funnel(scan: LogScan, steps: Any = None, **kw: Any) -> Any:
    from touchpoint.scan._funnel import funnel

    return funnel(scan, steps, **kw)


def _detect_dropoffs(scan: LogScan, steps: Any = None, **kw: Any) -> Any:
    from touchpoint.scan._funnel import detect_dropoffs

    return detect_dropoffs(scan, steps, **kw)


def _attribution(scan: LogScan, model: str = "markov", **kw: Any) -> Any:
    from touchpoint.scan._paths import attribution

    return attribution(scan, model, **kw)


_ALL: dict[str, Callable[..., Any]] = {
    "count_transitions": _count_transitions,
    "fit_markov": _fit_markov,
    "funnel": _funnel,
    "detect_dropoffs": _detect_dropoffs,
    "attribution": _attribution,
}
PUSHED.update(_ALL)
