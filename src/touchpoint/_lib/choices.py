"""One ``Literal`` alias per choice set shared by several public signatures.

A parameter that takes one of a fixed set of strings is annotated with the
alias named here, so the set is spelt once and an editor offers the same
completions everywhere. Sets used by a single function stay next to it.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "Alternative",
    "Backend",
    "CESVersion",
    "CalendarPeriod",
    "CreditUnit",
    "MatchMode",
    "Occurrence",
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
