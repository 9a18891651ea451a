"""Top path prefixes: journeys cut at ``k`` steps or at their first conversion, grouped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from touchpoint._lib import checks as ck
from touchpoint._lib.frames import format_path
from touchpoint.table import Table

if TYPE_CHECKING:
    from touchpoint.core._eventlog import EventLog

__all__ = ["path_prefixes"]

#: Appended to a prefix whose journey went on after the cut.
MORE = "..."


@ck.validate_params({"max_steps": ck.Integer(1, 1000), "collapse_repeats": ck.Boolean()})
def path_prefixes(log: EventLog, max_steps: int = 5, *, collapse_repeats: bool = True) -> Table:
    """The most frequent path beginnings, with how many journeys and how many converted.

    Each journey is cut after ``max_steps`` steps or at its first conversion event
    (a conversion touchpoint or a positive ``outcome``), whichever comes first, so
    long journeys that begin alike group together instead of each being unique.

    Parameters
    ----------
    log : EventLog
        The events.
    max_steps : int
        Steps kept per journey.
    collapse_repeats : bool
        Merge consecutive repeats of one touchpoint into one step first.

    Returns
    -------
    Table
        ``path`` (" > "-joined; ``...`` when the journey went on), ``steps``,
        ``journeys``, ``share``, ``converted`` (journeys that converted, within the
        prefix or later), ``conversion`` and its Wilson
        ``ci_low`` / ``ci_high`` (NaN without conversions), most frequent first.

    Examples
    --------
    >>> import touchpoint as tp
    >>> log = tp.EventLog.from_arrays([1, 1, 1, 2, 2, 2, 2], ["ad", "site", "buy", "ad", "site",
    ...     "site", "faq"], [0.0, 1, 2, 0, 1, 2, 3], conversions=["buy"])
    >>> tp.path_prefixes(log, 2)["path"].tolist()
    ['ad > site ...']
    >>> tp.path_prefixes(log, 3)["path"].tolist()
    ['ad > site > buy', 'ad > site > faq']
    """
    from touchpoint._lib.stats import proportion_ci

    has_conv = log.outcome is not None or bool(log.conversions)
    hit = np.zeros(log.n_events, dtype=bool)
    if log.outcome is not None:
        hit |= np.nan_to_num(log.outcome) > 0
    for c in log.conversions:
        if c in log.touchpoint_names:
            hit |= log.touchpoint == log.touchpoint_code(c)
    names = log.touchpoint_names
    journey_conv = log.converted().tolist() if has_conv else [False] * log.n_journeys
    codes = log.touchpoint.tolist()
    hits = hit.tolist()
    groups: dict[tuple[tuple[str, ...], bool], list[int]] = {}
    for j, (a, b) in enumerate(
        zip(log.offsets[:-1].tolist(), log.offsets[1:].tolist(), strict=True)
    ):
        steps: list[int] = []
        converted = False
        cut = False
        for i in range(a, b):
            if collapse_repeats and steps and codes[i] == steps[-1]:
                converted = converted or hits[i]
                if converted:
                    break
                continue
            if len(steps) == max_steps:
                cut = True
                break
            steps.append(codes[i])
            if hits[i]:
                converted = True
                break
        key = (tuple(names[c] for c in steps), cut)
        entry = groups.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += int(journey_conv[j])
    items = sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))
    n = np.array([v[0] for _, v in items], dtype=np.int64)
    won = np.array([v[1] for _, v in items], dtype=np.int64)
    lo, hi = proportion_ci(won, n)
    nan = np.full(len(items), np.nan)
    return Table(
        {
            "path": [format_path(p) + (f" {MORE}" if cut else "") for (p, cut), _ in items],
            "steps": np.array([len(p) for (p, _), _ in items], dtype=np.int64),
            "journeys": n,
            "share": n / max(log.n_journeys, 1),
            "converted": won,
            "conversion": won / np.maximum(n, 1) if has_conv else nan,
            "ci_low": lo if has_conv else nan,
            "ci_high": hi if has_conv else nan,
        },
        title=f"path prefixes (first {max_steps} steps or up to the conversion)",
    )
