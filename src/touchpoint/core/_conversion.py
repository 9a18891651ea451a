"""Where each journey converts, and the touchpoints only seen at or after that moment.

A touchpoint whose every event is a conversion event ("the conversion") or comes
after its journey's first conversion ("after conversion") cannot drive conversion:
"conversion with it" is 100% by construction (an onboarding e-mail, support after
a purchase). The report marks these and leaves them out of conversion impact and
driver rankings; :func:`touchpoint.drivers.key_touchpoints` shows the same mark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["AFTER", "AT", "conversion_events", "conversion_phase", "first_conversion"]

AT: Literal["conversion"] = "conversion"
AFTER: Literal["after conversion"] = "after conversion"


def conversion_events(log: EventLog) -> NDArray[np.bool_]:
    """Per event: is it a conversion (positive outcome, or a conversion touchpoint)?

    The same rule as :meth:`EventLog.converted`, event by event. With
    ``outcome_level="journey"`` no single event converts: all False.
    """
    hit = np.zeros(log.n_events, dtype=bool)
    if log.outcome is not None and log.outcome_level != "journey":
        hit |= np.nan_to_num(log.outcome) > 0
    for c in log.conversions:
        if c in log.touchpoint_names:
            hit |= log.touchpoint == log.touchpoint_code(c)
    return hit


def first_conversion(log: EventLog) -> NDArray[np.int64]:
    """Per journey: the index of its first conversion event, or -1.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 1, 2], ["ad", "buy", "mail", "ad"],
    ...                               [0.0, 1.0, 2.0, 0.0], outcome=[0, 5, 0, 0])
    >>> first_conversion(log).tolist()
    [1, -1]
    """
    hit = conversion_events(log)
    idx = np.flatnonzero(hit)
    out = np.full(log.n_journeys, -1, dtype=np.int64)
    # events are sorted by journey: the first hit of each journey wins
    j = log.journey[idx]
    first = np.r_[True, j[1:] != j[:-1]] if len(j) else np.zeros(0, dtype=bool)
    out[j[first]] = idx[first]
    return out


def conversion_phase(log: EventLog) -> dict[str, str]:
    """Touchpoints seen only at or after conversion: name -> ``"conversion"`` or
    ``"after conversion"``.

    ``"conversion"``: every event of the touchpoint is a conversion event (the
    purchase itself). ``"after conversion"``: every event comes at or after its
    journey's first conversion, and not all are conversions (an onboarding e-mail).
    Touchpoints with any event before a conversion, or in a journey that never
    converts, are not listed.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 1, 2], ["ad", "buy", "mail", "ad"],
    ...                               [0.0, 1.0, 2.0, 0.0], outcome=[0, 5, 0, 0])
    >>> conversion_phase(log)
    {'buy': 'conversion', 'mail': 'after conversion'}
    """
    if log.n_events == 0:
        return {}
    hit = conversion_events(log)
    first = first_conversion(log)[log.journey]
    pos = np.arange(log.n_events)
    after = (first >= 0) & (pos >= first)
    k = log.n_touchpoints
    total = np.bincount(log.touchpoint, minlength=k)
    n_after = np.bincount(log.touchpoint, weights=after, minlength=k)
    n_hit = np.bincount(log.touchpoint, weights=hit, minlength=k)
    out: dict[str, str] = {}
    for code, name in enumerate(log.touchpoint_names):
        if total[code] == 0 or n_after[code] < total[code]:
            continue
        out[name] = AT if n_hit[code] == total[code] else AFTER
    return out
