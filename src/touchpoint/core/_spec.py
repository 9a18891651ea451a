"""How to read an event log: the column roles and the read policy, as one value.

Every public reader (:meth:`EventLog.from_arrays`, :meth:`~EventLog.from_frame`,
:meth:`~EventLog.from_records`, :func:`touchpoint.read_csv`,
:func:`touchpoint.read_parquet`, the readers of :mod:`touchpoint.dask` and the
command line) keeps its keywords and turns them into a :class:`LogSpec` at once,
so a bad option fails at the call with one message whichever entry point was
used. Everything after that point takes the spec: the stages of
:mod:`touchpoint.core._ingest` read ``spec.outcome_level``, never a keyword passed
down through five signatures.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from touchpoint._lib import checks as ck
from touchpoint._lib.checks import did_you_mean
from touchpoint._lib.choices import (
    DUPLICATES,
    ON_ERROR,
    OUTCOME_LEVELS,
    Duplicates,
    OnError,
    OutcomeLevel,
)
from touchpoint.exceptions import ValidationError

if TYPE_CHECKING:
    from touchpoint.core._journey import Journey

__all__ = ["ROLES", "SPEC_CHECKS", "LogSpec", "did_you_mean"]

#: The column roles besides the extras, in the order columns are reported.
ROLES = ("journey", "touchpoint", "time", "outcome")


#: The ``validate_params`` checks of the reading keywords, for every public reader's
#: decorator (the same refusals :class:`LogSpec` makes, listed for the API tests).
SPEC_CHECKS: dict[str, ck.Constraint] = {
    "journey": ck.Text(),
    "touchpoint": ck.Text(),
    "time": ck.Text(),
    "outcome": ck.Text(none=True),
    "on_error": ck.Options(*ON_ERROR),
    "outcome_level": ck.Options(*OUTCOME_LEVELS),
    "duplicates": ck.Options(*DUPLICATES),
}


def _names(value: Any) -> tuple[str, ...]:
    """One name or several as a tuple: a string is one name, never its letters."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bytes):
        return (value.decode("utf-8", "replace"),)
    return tuple(value)


def _check_text(name: str, value: Any, *, none: bool = False) -> None:
    if none and value is None:
        return
    if not isinstance(value, str) or not value:
        ck.fail(name, "a non-empty string" + (" or None" if none else ""), value)


@attrs.frozen(kw_only=True)
class LogSpec:
    """What the columns of an event log are, and how to read them.

    Built once by each public reader from its keywords and validated then, so
    a misspelt option (``outcome_level="journy"``) fails at the call with the
    same message from every entry point. Readers of other sources (vendor
    exports, SQL scans) build one and hand it, with their columns, to
    :meth:`EventLog._from_spec`.

    Parameters
    ----------
    journey, touchpoint, time : str
        Column names of the journey id, the touchpoint and the timestamp.
    outcome : str, optional
        Column with a conversion flag or value per event.
    extra : str or sequence of str
        Further columns to keep; a string is one column.
    design : Journey, optional
        The designed journey the log is checked against.
    conversions : str or sequence of str
        Touchpoints whose occurrence is a conversion; a string is one name.
    on_error : {"raise", "drop"}
        Stop at the first bad row, or drop and count bad rows.
    outcome_level : {"event", "journey"}
        Where an outcome value sits: on the converting event, or repeated on a
        journey's rows (counted once).
    duplicates : {"keep", "drop", "raise"}
        Rows equal on journey, touchpoint, time and outcome: keep, drop and count, or stop.

    See Also
    --------
    touchpoint.EventLog.from_arrays : the meaning of each field in full.

    Examples
    --------
    >>> spec = LogSpec(journey="id", touchpoint="tp", time="ts", conversions="buy")
    >>> spec.conversions, spec.roles
    (('buy',), {'journey': 'id', 'touchpoint': 'tp', 'time': 'ts'})
    >>> LogSpec(outcome_level="journy")
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `outcome_level` must be 'event' or 'journey' \
(got 'journy'; did you mean 'journey'?).
    >>> LogSpec(journey="id", touchpoint="tp", time="timestmp").check_columns(
    ...     ["id", "tp", "timestamp"])
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.ValidationError: unknown column 'timestmp'; did you mean 'timestamp'? \
The data has columns ['id', 'timestamp', 'tp'].
    """

    journey: str = "journey"
    touchpoint: str = "touchpoint"
    time: str = "time"
    outcome: str | None = None
    extra: tuple[str, ...] = attrs.field(default=(), converter=_names)
    design: Journey | None = None
    conversions: tuple[str, ...] = attrs.field(default=(), converter=_names)
    on_error: OnError = "raise"
    outcome_level: OutcomeLevel = "event"
    duplicates: Duplicates = "keep"

    def __attrs_post_init__(self) -> None:
        for role in ("journey", "touchpoint", "time"):
            _check_text(role, getattr(self, role))
        _check_text("outcome", self.outcome, none=True)
        ck.choice("on_error", self.on_error, ON_ERROR)
        ck.choice("outcome_level", self.outcome_level, OUTCOME_LEVELS)
        ck.choice("duplicates", self.duplicates, DUPLICATES)
        for c in self.conversions:
            if not isinstance(c, str) or not c:
                ck.fail("conversions", "touchpoint names (non-empty strings)", c)
        if self.design is not None:
            from touchpoint.core._journey import Journey

            if not isinstance(self.design, Journey):
                ck.fail("design", "a Journey or None", self.design)
        from touchpoint._lib.frames import check_extra_names

        check_extra_names(self.extra, self._role_columns())

    def _role_columns(self) -> dict[str, str]:
        names = {"journey": self.journey, "touchpoint": self.touchpoint, "time": self.time}
        if self.outcome is not None:
            names["outcome"] = self.outcome
        return names

    @property
    def roles(self) -> dict[str, str]:
        """Each role (journey, touchpoint, time, outcome, extras) and its column name."""
        return self._role_columns() | {e: e for e in self.extra}

    @property
    def columns(self) -> list[str]:
        """The column names to read, each once, in role order."""
        return list(dict.fromkeys(self.roles.values()))

    def check_columns(self, available: Collection[Any], where: str = "the data") -> None:
        """Refuse a named column that ``available`` lacks, suggesting the closest one."""
        have = [str(c) for c in available]
        have_set = set(have)
        missing = [c for c in self.columns if c not in have_set]
        if missing:
            more = f" (and {missing[1:]})" if len(missing) > 1 else ""
            hint = did_you_mean(missing[0], have)
            tail = f"{hint} {where[0].upper()}{where[1:]}" if hint else f"; {where}"
            msg = f"unknown column {missing[0]!r}{more}{tail} has columns {sorted(have_set)}."
            raise ValidationError(msg)

    @classmethod
    def pick(cls, values: Mapping[str, Any]) -> LogSpec:
        """A spec from the reading keywords among ``values`` (a reader's ``locals()``).

        The public readers keep their keywords for users and editors; this is
        where those keywords become a spec, in one place.

        Examples
        --------
        >>> LogSpec.pick({"journey": "id", "outcome_level": "journey", "chunksize": 5})
        LogSpec(journey='id', touchpoint='touchpoint', time='time', outcome=None, extra=(), \
design=None, conversions=(), on_error='raise', outcome_level='journey', duplicates='keep')
        """
        names = attrs.fields_dict(cls)
        return cls(**{k: v for k, v in values.items() if k in names})

    def replace(self, **changes: Any) -> LogSpec:
        """This spec with some fields changed (validated again)."""
        return attrs.evolve(self, **changes)

    @classmethod
    def from_roles(cls, roles: Mapping[str, str], **policy: Any) -> LogSpec:
        """A spec from a role -> column mapping (extras are the roles beyond the four)."""
        policy.setdefault("extra", tuple(r for r in roles if r not in ROLES))
        return cls(
            journey=roles.get("journey", "journey"),
            touchpoint=roles.get("touchpoint", "touchpoint"),
            time=roles.get("time", "time"),
            outcome=roles.get("outcome"),
            **policy,
        )
