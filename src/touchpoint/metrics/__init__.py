"""CX metrics with honest statistics: NPS, CSAT and CES, their intervals and comparisons.

Each metric returns a small frozen result carrying the score, the number of
answers ``n``, Kish's effective sample size, the parts the score is made of
and a standard error; ``.confidence_interval(confidence_level, method)``
returns a :class:`~touchpoint._stats.ConfidenceInterval`. ``compare_*``
test whether two scores differ (independent samples or the same
respondents answering twice).

Only ``scipy.special`` is used (lazily), so importing this module stays light.

References
----------
Rocks, B. (2016). Interval estimation for the "net promoter score". The
American Statistician 70(4), 365-372.

Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a
binomial proportion. Statistical Science 16(2), 101-133.

Kish, L. (1965). Survey Sampling. New York: Wiley.

Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

from touchpoint.metrics._breakdown import RESPONDENT_COLUMNS, breakdown
from touchpoint.metrics._compare import Comparison, compare_ces, compare_csat, compare_nps
from touchpoint.metrics._consistency import Consistency, consistency
from touchpoint.metrics._operational import RepeatRate, ResponseTimes, repeat_rate, response_times
from touchpoint.metrics._scores import CESResult, CSATResult, NPSResult, ces, csat, nps

__all__ = [
    "RESPONDENT_COLUMNS",
    "CESResult",
    "CSATResult",
    "Comparison",
    "Consistency",
    "NPSResult",
    "RepeatRate",
    "ResponseTimes",
    "breakdown",
    "ces",
    "compare_ces",
    "compare_csat",
    "compare_nps",
    "consistency",
    "csat",
    "nps",
    "repeat_rate",
    "response_times",
]
