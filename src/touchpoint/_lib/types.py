"""Type aliases of the public signatures (what a user's editor shows for a parameter).

``DurationLike``: a window, gap or half-life: a :class:`datetime.timedelta`, a
:class:`numpy.timedelta64`, a number of seconds (or of the log's own time units),
or a string such as ``"7D"``, ``"7 days"``, ``"30min"`` (parsed by
:func:`touchpoint._lib.time.parse_duration`).

``ArrayLike``: answers, weights or cluster ids: a list, a numpy array, a pandas
or polars Series, or anything numpy turns into a 1-d array
(:data:`numpy.typing.ArrayLike`).
"""

from __future__ import annotations

import datetime as _dt
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ArrayLike", "DurationLike"]

DurationLike: TypeAlias = "_dt.timedelta | np.timedelta64 | float | int | str"
ArrayLike: TypeAlias = npt.ArrayLike
