"""The protocol by which an analysis hands a lazy scan its own work (internal).

A lazy scan (:class:`touchpoint.scan.LogScan`) stands for an event log that
lives in a SQL engine. The analysis functions of the families accept one in
place of an :class:`~touchpoint.core.EventLog`: their first lines ask
:func:`is_scan` and, if so, return :func:`pushdown`, which calls the scan's
``_pushdown(name, **options)``. The families thus never import the ``scan``
subpackage (it sits above them and imports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["is_scan", "pushdown"]


def is_scan(obj: object) -> bool:
    """Whether ``obj`` is a lazy scan (it carries the scan marker)."""
    return getattr(type(obj), "_touchpoint_scan_", False) is True


def pushdown(obj: object, name: str, result: type[T], options: Mapping[str, Any]) -> T:
    """Run analysis ``name`` on the lazy scan ``obj``; the result is of type ``result``.

    ``options`` are the analysis' parameters (its ``locals()`` on entry); the
    data parameter (``log``) is left out.
    """
    kw = {k: v for k, v in options.items() if k != "log"}
    out = obj._pushdown(name, **kw)  # type: ignore[attr-defined]
    if not isinstance(out, result):  # pragma: no cover - a scan returns what it is asked
        msg = f"the scan returned {type(out).__name__} for {name}, not {result.__name__}."
        raise TypeError(msg)
    return out
