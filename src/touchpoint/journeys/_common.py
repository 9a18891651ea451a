"""Helpers shared by the design-less analyses: positions in journeys, groups, labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["CONVERTED", "ENDED", "LOST", "START", "journey_groups", "ranks"]

#: The step matrix's row of journeys that have ended (retentioneering's ``ENDED``).
ENDED = "ENDED"
#: The process map's start node and its two end nodes.
START = "(start)"
CONVERTED = "(converted)"
LOST = "(lost)"


def ranks(log: EventLog) -> NDArray[np.int64]:
    """Per event, its 1-based position in its journey."""
    return np.arange(log.n_events, dtype=np.int64) - log.offsets[:-1][log.journey] + 1


def journey_groups(
    log: EventLog, by: str, groups: tuple[Any, Any] | None = None
) -> tuple[NDArray[np.int64], tuple[str, str]]:
    """Per journey, group 0 or 1 (-1 for neither), and the two group names.

    ``by="converted"`` splits converters (first) from the rest; any other name is a
    per-journey column with exactly two values (sorted; missing values fall in
    neither), or ``groups=(first, second)`` names two of its values (``second``
    None: every other journey).
    """
    if by == "converted":
        if log.outcome is None and not log.conversions:
            msg = "`by='converted'` needs a log with an outcome or conversion touchpoints."
            raise ValidationError(msg)
        conv = log.converted()
        return np.where(conv, 0, 1).astype(np.int64), ("converted", "not converted")
    from touchpoint._lib.frames import MISSING, segment_values

    values = segment_values(log.journey_column(by))
    text = np.array([str(v) for v in values.tolist()], dtype=object)
    levels = sorted({str(v) for v in values.tolist() if v != MISSING})
    if groups is not None:
        first, second = (str(g) if g is not None else None for g in groups)
        for g in (first, second):
            if g is not None and g not in levels:
                msg = f"`groups` names {g!r}, which column {by!r} does not have (it has {levels[:8]})."
                raise ValidationError(msg)
        group = np.full(len(values), -1, dtype=np.int64)
        group[text == first] = 0
        group[(text == second) if second is not None else (text != first)] = 1
        return group, (str(first), second if second is not None else f"not {first}")
    if len(levels) != 2:
        shown = ", ".join(repr(v) for v in levels[:8])
        msg = (
            f"`by={by!r}` must have exactly two values to compare (column {by!r} has "
            f"{len(levels)}: {shown})."
        )
        raise ValidationError(msg)
    group = np.full(len(values), -1, dtype=np.int64)
    group[text == levels[0]] = 0
    group[text == levels[1]] = 1
    group[values == MISSING] = -1
    return group, (levels[0], levels[1])


def as_names(values: Any) -> list[str]:
    """``values`` as a list of strings (one string stays one name)."""
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values]


def check_names(name: str, value: Any) -> None:
    """A parameter naming touchpoints: None, one name, or a list of names."""
    from touchpoint._lib import checks as ck

    if value is None or (isinstance(value, str) and value):
        return
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v for v in value):
        return
    ck.fail(name, "None, a touchpoint name or a list of names", value)
