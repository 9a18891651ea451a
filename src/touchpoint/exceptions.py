"""Exceptions and warnings raised by touchpoint.

Every error subclasses :class:`TouchpointError` and also the matching built-in
(``ValueError`` or ``KeyError``), so callers can catch either.
"""

from __future__ import annotations

__all__ = [
    "DroppedRowsWarning",
    "InvalidParameterError",
    "MissingFileError",
    "OutcomeLevelWarning",
    "ScaleWarning",
    "StatisticalWarning",
    "TouchpointError",
    "TouchpointWarning",
    "UnknownStageError",
    "UnknownTouchpointError",
    "ValidationError",
]


class TouchpointError(Exception):
    """Base class of every error raised by touchpoint."""


class ValidationError(TouchpointError, ValueError):
    """Input data is malformed: the message names the column, row and value."""


class InvalidParameterError(ValidationError, TypeError):
    """A parameter has a wrong value or type: "`alpha` must be a number in (0, 1) (got 5)."

    Both a ``ValueError`` and a ``TypeError`` (as scikit-learn's
    ``InvalidParameterError``), so callers may catch either.
    """


class MissingFileError(ValidationError, FileNotFoundError):
    """A file to read does not exist.

    A ``FileNotFoundError`` (so ``except FileNotFoundError`` and ``except OSError``
    catch it) and a :class:`ValidationError`, as before.
    """

    def __str__(self) -> str:  # OSError would print "[Errno None] None: ..."
        return str(self.args[0]) if self.args else ""


class UnknownTouchpointError(TouchpointError, KeyError):
    """A touchpoint name that the journey or event log does not know."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class UnknownStageError(TouchpointError, KeyError):
    """A stage name that the journey does not know."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TouchpointWarning(UserWarning):
    """Base class of touchpoint's warnings."""


class DroppedRowsWarning(TouchpointWarning):
    """Rows were dropped during validation (``on_error="drop"``); see ``log.validation``."""


class OutcomeLevelWarning(TouchpointWarning):
    """An ``outcome`` column looks journey-level under ``outcome_level="event"``.

    Every event of each converting journey carries the same positive value,
    the shape of a journey flag copied onto each row. Pass
    ``outcome_level="journey"`` to count it once per journey.
    """


class StatisticalWarning(TouchpointWarning, RuntimeWarning):
    """A statistic may be unreliable (tiny samples, sparse cells, non-convergence)."""


class ScaleWarning(StatisticalWarning):
    """The answers do not look like the scale the metric was asked on.

    For example NPS of answers that all lie within 0-5 (a 1-5 satisfaction
    question given to :func:`~touchpoint.nps`: every answer is a detractor),
    or CES on a 0-10 scale (a likelihood question, not an effort one). The
    message names the likely mistake and the keyword that fixes it.
    """
