"""One ``Literal`` alias per choice set shared by several public signatures.

A parameter that takes one of a fixed set of strings is annotated with the
alias named here, so the set is spelt once and an editor offers the same
completions everywhere. Where the values are also needed at run time (a
parameter check, the CLI's ``choices=``) the tuple beside the alias is derived
from it with :func:`typing.get_args`, so nothing is written twice. Sets used by a
single function stay next to it.

Examples
--------
>>> OUTCOME_LEVELS
('event', 'journey')
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CSV_ENGINES",
    "DUPLICATES",
    "ON_ERROR",
    "OUTCOME_LEVELS",
    "Alternative",
    "Backend",
    "CESVersion",
    "CalendarPeriod",
    "CreditUnit",
    "CsvEngine",
    "Duplicates",
    "MatchMode",
    "Occurrence",
    "OnError",
    "OutcomeLevel",
    "Period",
    "ProportionMethod",
    "StateKind",
]

#: What a Markov state is: a touchpoint, its stage or its channel.
StateKind = Literal["touchpoint", "stage", "channel"]
#: What heuristic attribution credits: touchpoints, channels or the model's states.
CreditUnit = Literal["touchpoint", "channel", "state"]
#: Interval methods for a binomial proportion.
ProportionMethod = Literal["wilson", "jeffreys", "agresti_coull", "exact", "modified_wilson"]
#: How funnel steps must follow each other.
MatchMode = Literal["strict", "ordered", "any"]
#: Time buckets of a trend.
Period = Literal["week", "month"]
#: Calendar periods of drop-off detection and time bucketing.
CalendarPeriod = Literal["day", "week", "month"]
#: Which occurrence of a touchpoint in a journey counts.
Occurrence = Literal["first", "last", "all"]
#: The direction of a test's alternative hypothesis.
Alternative = Literal["two-sided", "less", "greater"]
#: Dataframe libraries a result converts to.
Backend = Literal["pandas", "polars", "pyarrow"]
#: CES questionnaire version (1: 1-5 effort, 2: 1-7 agreement).
CESVersion = Literal[1, 2]

# ------------------------------------------------------------------ reading a log
#: What a reader does with a bad row: stop at the first one, or drop and count them.
OnError = Literal["raise", "drop"]
ON_ERROR: tuple[OnError, ...] = get_args(OnError)
#: Where an outcome value sits: on the converting event, or repeated on a journey's rows.
OutcomeLevel = Literal["event", "journey"]
OUTCOME_LEVELS: tuple[OutcomeLevel, ...] = get_args(OutcomeLevel)
#: Rows equal on journey, touchpoint, time and outcome: keep, drop and count, or stop.
Duplicates = Literal["keep", "drop", "raise"]
DUPLICATES: tuple[Duplicates, ...] = get_args(Duplicates)
#: The CSV parser behind ``read_csv``.
CsvEngine = Literal["auto", "python", "pyarrow", "polars"]
CSV_ENGINES: tuple[CsvEngine, ...] = get_args(CsvEngine)
