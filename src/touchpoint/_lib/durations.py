"""Durations written as text: ``"7D"``, ``"7 days"``, ``"30min"`` (internal).

Kept apart from :mod:`touchpoint._lib.time` (which re-exports it) so the
parameter checks can use it without an import cycle.
"""

from __future__ import annotations

__all__ = ["parse_duration"]

_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0, "t": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "w": 604800.0, "wk": 604800.0, "week": 604800.0, "weeks": 604800.0,
}  # fmt: skip


def parse_duration(text: str) -> float | None:
    """Seconds in ``"7D"``, ``"7 days"``, ``"30min"``, ``"1.5h"``, ``"2 weeks"`` (None: not a duration).

    One number and one unit (pandas offset aliases ``D``, ``H``, ``T``/``min``,
    ``S``, ``W`` and their English words), case-insensitive.

    Examples
    --------
    >>> parse_duration("7D"), parse_duration("7 days"), parse_duration("30min")
    (604800.0, 604800.0, 1800.0)
    >>> parse_duration("soon") is None
    True
    """
    import re

    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]+)\s*", text)
    if m is None:
        return None
    unit = _UNITS.get(m.group(2).lower())
    return None if unit is None else float(m.group(1)) * unit
