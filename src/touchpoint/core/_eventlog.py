"""The event log: one row per touchpoint event, held as numpy columns.

An :class:`EventLog` is always sorted by journey, then time (ties keep their
input order), so each journey's events are one contiguous slice
``offsets[i]:offsets[i + 1]``. Every analysis in touchpoint works on these
integer-coded columns without a Python loop per event.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck
from touchpoint._lib.choices import Backend, Duplicates, OnError, OutcomeLevel
from touchpoint._lib.frames import _unique_in_order, frame_columns
from touchpoint.core import _ingest
from touchpoint.core._paths import Paths
from touchpoint.core._spec import LogSpec
from touchpoint.core._validation import ValidationIssue, ValidationReport, _compact
from touchpoint.exceptions import UnknownTouchpointError, ValidationError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from touchpoint.core._journey import Journey
    from touchpoint.sources import Stitching

__all__ = [
    "Duplicates",  # the reading choice sets (spelt in _lib/choices), for old import paths
    "EventLog",
    "OnError",
    "OutcomeLevel",
    "Paths",
    "ValidationIssue",
    "ValidationReport",
]


class EventLog:
    """A validated, columnar log of touchpoint events.

    Build one with :meth:`from_records`, :meth:`from_frame`, :meth:`from_arrays`
    or :func:`touchpoint.read_csv`. Columns are read-only numpy arrays:

    ``journey`` (int32 codes into ``journey_ids``), ``touchpoint`` (int32 codes
    into ``touchpoint_names``), ``timestamp`` (``datetime64[ns]``: int64
    nanoseconds, UTC for time-zone aware input; or numbers: int64 kept exact,
    float64),
    ``outcome`` (float64 or None: a conversion flag or value per event, NaN for
    none) and ``extra`` (a dict of further per-event columns).

    Attributes
    ----------
    validation : ValidationReport
        Rows read, kept and dropped, by kind.
    design : Journey or None
        The designed journey the log was checked against (gives stages and channels).
    conversions : tuple of str
        Touchpoints whose occurrence counts as a conversion (besides ``outcome``).
    outcome_level : {"event", "journey"}
        How ``outcome`` was given. A journey-level value is stored once, on
        the journey's last event (the journey converts at its end).
    time_zone : str or None
        The time zone that aware input times were in (they are held in UTC),
        ``"mixed offsets"`` for ISO strings with several offsets; None for
        naive times, which are taken as they are.
    """

    __slots__ = (
        "__dict__",
        "columns",
        "conversions",
        "design",
        "extra",
        "journey",
        "journey_ids",
        "outcome",
        "outcome_level",
        "time_zone",
        "timestamp",
        "touchpoint",
        "touchpoint_names",
        "validation",
    )

    def __init__(
        self,
        *,
        journey: NDArray[np.int32],
        journey_ids: NDArray[Any],
        touchpoint: NDArray[np.int32],
        touchpoint_names: Sequence[str],
        timestamp: NDArray[Any],
        outcome: NDArray[np.float64] | None = None,
        extra: Mapping[str, NDArray[Any]] | None = None,
        validation: ValidationReport | None = None,
        design: Journey | None = None,
        conversions: Iterable[str] = (),
        columns: Mapping[str, str] | None = None,
        outcome_level: OutcomeLevel = "event",
        time_zone: str | None = None,
    ) -> None:
        """Low-level constructor for already clean, sorted columns; prefer the ``from_*`` ones."""
        self.journey = journey
        self.journey_ids = journey_ids
        self.touchpoint = touchpoint
        self.touchpoint_names = tuple(touchpoint_names)
        self.timestamp = timestamp
        self.outcome = outcome
        self.extra = dict(extra or {})
        n = len(journey)
        self.validation = validation or ValidationReport(n_input=n, n_kept=n)
        self.design = design
        self.conversions = tuple(conversions)
        self.outcome_level: OutcomeLevel = outcome_level
        self.time_zone = time_zone
        self.columns = dict(
            columns or {"journey": "journey", "touchpoint": "touchpoint", "time": "time"}
        )
        # read-only views: the caller's own arrays (kept when no row moved) stay writable
        self.journey, self.journey_ids = _frozen(journey), _frozen(journey_ids)
        self.touchpoint, self.timestamp = _frozen(touchpoint), _frozen(timestamp)
        self.outcome = None if outcome is None else _frozen(outcome)
        self.extra = {k: _frozen(v) for k, v in self.extra.items()}
        unknown_conv = [c for c in self.conversions if c not in self.touchpoint_names]
        if unknown_conv and design is not None:
            unknown_conv = [c for c in unknown_conv if c not in design]
        if unknown_conv:
            msg = f"conversion touchpoint(s) {unknown_conv} never occur in the log."
            raise UnknownTouchpointError(msg)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(
        cls,
        journey: Any,
        touchpoint: Any,
        time: Any,
        outcome: Any = None,
        extra: Mapping[str, Any] | None = None,
        *,
        design: Journey | None = None,
        conversions: Iterable[str] = (),
        on_error: OnError = "raise",
        outcome_level: OutcomeLevel = "event",
        duplicates: Duplicates = "keep",
        columns: Mapping[str, str] | None = None,
        row_label: Callable[[int], str] | None = None,
    ) -> EventLog:
        """Build a log from column arrays (numpy arrays, lists or series).

        This is the fastest constructor: integer journey ids that arrive
        grouped and time-sorted are neither factorised by sorting nor re-sorted;
        ungrouped integer ids are coded by one counting sort, and strings held
        as a few shared Python objects (``names[codes]``) by their identity.
        From a million rows on it uses a few threads (at most 4; the
        environment variable ``TOUCHPOINT_NUM_THREADS`` sets how many, ``1``
        none); the log is the same either way.

        Parameters
        ----------
        journey, touchpoint, time : array-like
            One value per event. Times are datetime64, datetimes, ISO strings
            or numbers (kept as float, e.g. seconds).
        outcome : array-like, optional
            Conversion flag or value per event (NaN or missing for none).
        extra : mapping of str to array-like, optional
            Further per-event columns to keep (segments, channels, ...).
        design : Journey, optional
            A designed journey: touchpoints it does not know are invalid
            (conversion touchpoints excepted: they are not states).
        conversions : iterable of str
            Touchpoints that count as a conversion when reached. They are the
            conversion itself, never a state, and earn no attribution credit.
        on_error : {"raise", "drop"}
            Raise :class:`~touchpoint.exceptions.ValidationError` at the first
            bad row, or drop bad rows, warn and count them in ``validation``.
        outcome_level : {"event", "journey"}
            ``"event"`` (default): the value sits on the converting event and
            the path to the conversion ends there. ``"journey"``: a flag or
            value repeated on the journey's rows (the shape of an export
            that joins a journey table onto its events); it counts once,
            and the journey converts at its end. Rows of one journey must
            then agree (missing values aside). Under ``"event"``, data that
            looks journey-level (every event of each converting journey
            carries the same positive value) warns with
            :class:`~touchpoint.exceptions.OutcomeLevelWarning`.
        duplicates : {"keep", "drop", "raise"}
            Rows with the same journey, touchpoint, time and outcome as an
            earlier row: ``"keep"`` (default) treats them as real events
            (several items of one basket, several coupons redeemed at once)
            and counts them in ``validation.n_ties``; ``"drop"`` drops them,
            warns and counts them (with their outcome value) in
            ``validation``; ``"raise"`` raises at the first one.

        Examples
        --------
        >>> import numpy as np
        >>> log = EventLog.from_arrays(np.array([7, 7, 3]), ["ad", "buy", "ad"],
        ...                            np.array([1.0, 2.0, 0.5]))
        >>> log
        EventLog(events=3, journeys=2, touchpoints=2, time=float 0.5..2)
        >>> list(log.paths())
        [('ad',), ('ad', 'buy')]
        """
        spec = LogSpec.from_roles(
            _array_roles(columns, outcome is not None),
            extra=tuple(extra or {}),
            design=design,
            conversions=conversions,
            on_error=on_error,
            outcome_level=outcome_level,
            duplicates=duplicates,
        )
        arrays = {"journey": journey, "touchpoint": touchpoint, "time": time}
        if outcome is not None:
            arrays["outcome"] = outcome
        return cls._from_spec(arrays | dict(extra or {}), spec, roles=True, row_label=row_label)

    @classmethod
    def _from_spec(
        cls,
        columns: Mapping[str, Any],
        spec: LogSpec,
        *,
        roles: bool = False,
        row_label: Callable[[int], str] | None = None,
    ) -> EventLog:
        """The log of ``columns`` read as ``spec`` says: the one way in for every reader.

        ``columns`` maps column names to arrays (or, with ``roles=True``, role
        names - journey, touchpoint, time, outcome, extras - to arrays).
        Readers of other sources (vendor exports, SQL scans) build a
        :class:`~touchpoint.core._spec.LogSpec` from their keywords and call
        this; see :mod:`touchpoint.core._ingest` for the stages.

        Examples
        --------
        >>> spec = LogSpec(journey="id", touchpoint="tp", time="t", conversions="buy")
        >>> EventLog._from_spec({"id": [1, 1], "tp": ["ad", "buy"], "t": [0.0, 1.0]}, spec)
        EventLog(events=2, journeys=1, touchpoints=2, time=float 0..1)
        """
        arrays = columns if roles else _ingest.role_arrays(columns, spec)
        return cls(**_ingest.ingest(arrays, spec, row_label=row_label))

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        journey: str,
        touchpoint: str,
        time: str,
        outcome: str | None = None,
        extra: Sequence[str] = (),
        design: Journey | None = None,
        conversions: Iterable[str] = (),
        on_error: OnError = "raise",
        outcome_level: OutcomeLevel = "event",
        duplicates: Duplicates = "keep",
    ) -> EventLog:
        """Build a log from an iterable of mappings (dicts, CSV rows, JSON lines).

        A record without one of the named keys has a missing value in that
        row; a named column that no record has is an error. The other
        parameters are those of :meth:`from_arrays`.

        Examples
        --------
        >>> log = EventLog.from_records(
        ...     [{"customer": "c1", "touchpoint": "ad", "ts": "2026-01-05T10:00"},
        ...      {"customer": "c1", "touchpoint": "checkout", "ts": "2026-01-05T10:30"}],
        ...     journey="customer", touchpoint="touchpoint", time="ts")
        >>> len(log), log.n_journeys, log.touchpoint_names
        (2, 1, ('ad', 'checkout'))
        >>> EventLog.from_records([{"customer": "c1", "tp": "ad", "ts": "yesterday"}],
        ...                       journey="customer", touchpoint="tp", time="ts")
        Traceback (most recent call last):
        ...
        touchpoint.exceptions.ValidationError: column 'ts', row 0: unparseable timestamp \
'yesterday'. Fix the data or pass on_error='drop' to drop and count bad rows.
        """
        spec = LogSpec.pick(locals())
        return cls._from_spec(_record_columns(records, spec), spec)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        journey: str,
        touchpoint: str,
        time: str,
        outcome: str | None = None,
        extra: Sequence[str] = (),
        design: Journey | None = None,
        conversions: Iterable[str] = (),
        on_error: OnError = "raise",
        outcome_level: OutcomeLevel = "event",
        duplicates: Duplicates = "keep",
    ) -> EventLog:
        """Build a log from a pandas or polars DataFrame or a pyarrow Table.

        None of these libraries is required; the frame is read column by
        column through ``to_numpy``. Time-zone aware columns are converted to
        UTC (period bucketing takes ``tz=`` to count in local calendar days).
        The other parameters are those of :meth:`from_arrays`.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"id": [1, 1, 2], "tp": ["ad", "buy", "ad"],
        ...                    "t": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-01"])})
        >>> EventLog.from_frame(df, journey="id", touchpoint="tp", time="t").n_journeys
        2
        """
        spec = LogSpec.pick(locals())
        return cls._from_spec(frame_columns(frame, spec), spec)

    _FIELDS = (
        "journey",
        "journey_ids",
        "touchpoint",
        "touchpoint_names",
        "timestamp",
        "outcome",
        "extra",
        "validation",
        "design",
        "conversions",
        "columns",
        "outcome_level",
        "time_zone",
    )

    def _derive(self, **changes: Any) -> EventLog:
        """A new log with some fields changed and the rest shared (the one way to derive one).

        ``select``, ``sessionize``, ``_replace_design`` and the readers' helpers
        build their logs here, so a new field is added in one place.
        """
        unknown = set(changes) - set(self._FIELDS)
        if unknown:
            msg = f"unknown EventLog fields {sorted(unknown)}"
            raise TypeError(msg)
        fields = {f: getattr(self, f) for f in self._FIELDS} | changes
        return type(self)(**fields)

    @classmethod
    def from_paths(
        cls,
        table: Any,
        *,
        path: str = "path",
        conversions: str | None = "total_conversions",
        nulls: str | None = "total_null",
        value: str | None = None,
        sep: str = ">",
    ) -> EventLog:
        """Build a log from grouped paths, the input of ChannelAttribution and DP6.

        One row per distinct path (``"email > search > display"``) with its
        number of converting and non-converting journeys; each row is expanded
        into that many journeys (memory grows with the total count of
        journeys, about 30 bytes per event). See
        :func:`touchpoint.core._grouped.from_paths`.

        Examples
        --------
        >>> log = EventLog.from_paths({"path": ["a > b", "b"], "total_conversions": [2, 0],
        ...                            "total_null": [1, 3]})
        >>> log.n_journeys, int(log.converted().sum())
        (6, 2)
        """
        from touchpoint.core._grouped import from_paths

        return from_paths(
            cls, table, path=path, conversions=conversions, nulls=nulls, value=value, sep=sep
        )

    @property
    def identity(self) -> Stitching | None:
        """Identity-stitching diagnostics of the export reader that built the log (else None)."""
        stitching: Stitching | None = self.__dict__.get("_identity")
        return stitching

    # -------------------------------------------------------------- structure
    def __len__(self) -> int:
        return len(self.journey)

    @property
    def n_events(self) -> int:
        """Number of events."""
        return len(self.journey)

    @property
    def n_journeys(self) -> int:
        """Number of journeys."""
        return len(self.journey_ids)

    @property
    def n_touchpoints(self) -> int:
        """Number of distinct touchpoints."""
        return len(self.touchpoint_names)

    @property
    def is_datetime(self) -> bool:
        """Whether timestamps are datetime64 (else float)."""
        return self.timestamp.dtype.kind == "M"

    @property
    def offsets(self) -> NDArray[np.int64]:
        """Start of each journey's slice, plus the total (length ``n_journeys + 1``)."""
        cached: NDArray[np.int64] | None = self.__dict__.get("_offsets")
        if cached is None:
            counts = np.bincount(self.journey, minlength=self.n_journeys)
            cached = np.zeros(self.n_journeys + 1, dtype=np.int64)
            np.cumsum(counts, out=cached[1:])
            cached.setflags(write=False)
            self.__dict__["_offsets"] = cached
        return cached

    def touchpoint_code(self, name: str) -> int:
        """The integer code of touchpoint ``name``."""
        try:
            return self.touchpoint_names.index(name)
        except ValueError:
            hint = ck.did_you_mean(name, self.touchpoint_names)
            known = ck.name_list(self.touchpoint_names)
            msg = f"unknown touchpoint {name!r}{hint}; the log has {known}."
            raise UnknownTouchpointError(msg) from None

    def transition_pairs(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """Codes ``(a, b)`` of every pair of consecutive events within a journey."""
        same = self.journey[1:] == self.journey[:-1]
        return self.touchpoint[:-1][same], self.touchpoint[1:][same]

    def paths(self) -> Paths:
        """The time-ordered touchpoint sequence of every journey."""
        return Paths(self.touchpoint, self.offsets, self.touchpoint_names, self.journey_ids)

    def converted(self) -> NDArray[np.bool_]:
        """Per journey: did it convert (positive ``outcome`` or a conversion touchpoint)?"""
        hit = np.zeros(self.n_events, dtype=bool)
        if self.outcome is not None:
            hit |= np.nan_to_num(self.outcome) > 0
        for c in self.conversions:
            if c in self.touchpoint_names:
                hit |= self.touchpoint == self.touchpoint_code(c)
        return np.bincount(self.journey[hit], minlength=self.n_journeys) > 0

    @property
    def conversion_rule(self) -> str:
        """Which events define a conversion, in words (shown by reports and attribution).

        Examples
        --------
        >>> log = EventLog.from_arrays([1, 1], ["ad", "order"], [0.0, 1.0], outcome=[0, 30],
        ...                            conversions=["order"])
        >>> log.conversion_rule
        "reaching 'order' (the conversion itself, never credited) or a positive 'outcome' on an event"
        """
        parts = []
        if self.conversions:
            names = ", ".join(repr(c) for c in self.conversions)
            parts.append(f"reaching {names} (the conversion itself, never credited)")
        if self.outcome is not None:
            col = self.columns.get("outcome", "outcome")
            if self.outcome_level == "journey":
                parts.append(f"a positive {col!r} on the journey (outcome_level='journey')")
            else:
                parts.append(f"a positive {col!r} on an event")
        return " or ".join(parts) if parts else "none (no outcome or conversions)"

    def value(self) -> NDArray[np.float64]:
        """Per journey: the sum of ``outcome`` (0 when the log has no outcome)."""
        if self.outcome is None:
            return np.zeros(self.n_journeys)
        return np.bincount(
            self.journey, weights=np.nan_to_num(self.outcome), minlength=self.n_journeys
        ).astype(np.float64)

    def journey_column(self, name: str) -> NDArray[Any]:
        """An extra column's value at each journey's first event."""
        return self.column(name)[self.offsets[:-1]]

    def column(self, name: str) -> NDArray[Any]:
        """A per-event column by name: an extra column, or ``"stage"``/``"channel"``
        looked up in the design."""
        if name in self.extra:
            return self.extra[name]
        if name in ("stage", "channel", "kind") and self.design is not None:
            table = self.touchpoint_attribute(name)
            return table[self.touchpoint]
        if name in ("journey", "touchpoint"):
            table = (
                self.journey_ids
                if name == "journey"
                else np.array(self.touchpoint_names, dtype=object)
            )
            codes = self.journey if name == "journey" else self.touchpoint
            return table[codes]
        known = sorted(self.extra) + (["stage", "channel"] if self.design is not None else [])
        msg = f"unknown column {name!r}{ck.did_you_mean(name, known)}; this log has {known}."
        raise ValidationError(msg)

    def touchpoint_attribute(self, name: str) -> NDArray[Any]:
        """Per touchpoint code, an attribute from the design (None where unknown)."""
        out = np.empty(self.n_touchpoints, dtype=object)
        for i, t in enumerate(self.touchpoint_names):
            if self.design is not None and t in self.design:
                out[i] = self.design.nodes[t].get(name)
        return out

    # ------------------------------------------------------------- subsetting
    def select(self, events: NDArray[np.bool_]) -> EventLog:
        """A new log with only the events where ``events`` is True.

        Touchpoint codes are kept (so models from subsets stay comparable);
        journey codes are renumbered.
        """
        events = np.asarray(events, dtype=bool)
        if events.shape != (self.n_events,):
            msg = f"'events' mask must have shape ({self.n_events},) (got {events.shape})."
            raise ValidationError(msg)
        jcodes, jids = _compact(self.journey[events].astype(np.int64), self.journey_ids)
        return self._derive(
            journey=jcodes.astype(np.int32),
            journey_ids=jids,
            touchpoint=self.touchpoint[events],
            timestamp=self.timestamp[events],
            outcome=None if self.outcome is None else self.outcome[events],
            extra={k: v[events] for k, v in self.extra.items()},
        )

    def select_journeys(self, journeys: NDArray[np.bool_]) -> EventLog:
        """A new log with only the journeys where ``journeys`` (per journey) is True."""
        journeys = np.asarray(journeys, dtype=bool)
        if journeys.shape != (self.n_journeys,):
            msg = f"'journeys' mask must have shape ({self.n_journeys},) (got {journeys.shape})."
            raise ValidationError(msg)
        return self.select(journeys[self.journey])

    def split(self, by: str) -> dict[Any, EventLog]:
        """One log per value of a per-journey column (the value at the first event).

        Journeys whose value is missing (None, NaN) form the ``"(missing)"`` group,
        so the parts always add up to the whole log.
        """
        from touchpoint._lib.frames import segment_values

        values = segment_values(self.journey_column(by))
        return {v: self.select_journeys(values == v) for v in _unique_in_order(values)}

    def sessionize(
        self,
        gap: Any = None,
        *,
        start: str | Iterable[str] | None = None,
        end: str | Iterable[str] | None = None,
        calendar: str | None = None,
        column: str | None = None,
    ) -> EventLog:
        """Split journeys into sessions: by time gap, start/end events, calendar day or an id column.

        The new log's journeys are sessions with ids ``"<journey>#<k>"`` (k from
        1, in time order); the original id is kept in the extra column
        ``"customer"`` and the session number in ``"session"``.

        Parameters
        ----------
        gap : timedelta, numpy.timedelta64 or float, optional
            A new session where two events are more than ``gap`` apart; a float
            is in the log's time unit (seconds for datetime logs).
        start, end : str or list of str, optional
            Touchpoints that open a session (a new one begins at them) or close
            one (a new one begins after them), as retentioneering's
            ``split_sessions``. Combine with ``gap`` and ``calendar``.
        calendar : str, optional
            A time-zone name (``"UTC"``, ``"Europe/Berlin"``): a new session at
            each local midnight in that zone (datetime logs).
        column : str, optional
            A per-event session id column (GA4 ``ga_session_id``, Snowplow
            ``domain_sessionid``): one session per journey and id value, the
            events of a session need not be contiguous in time. Alone only.

        Examples
        --------
        >>> log = EventLog.from_arrays(["c"] * 3, ["ad", "site", "ad"], [0.0, 10.0, 5000.0])
        >>> s = log.sessionize(gap=1800)
        >>> s.n_journeys, list(s.journey_ids)
        (2, ['c#1', 'c#2'])
        >>> list(log.sessionize(start="ad").paths())
        [('ad', 'site'), ('ad',)]
        """
        from touchpoint.core._sessions import sessionize

        return sessionize(self, gap=gap, start=start, end=end, calendar=calendar, column=column)

    def iter_chunks(self, journeys: int) -> Iterator[EventLog]:
        """Yield logs of at most ``journeys`` whole journeys each."""
        if journeys < 1:
            raise ck.error("journeys", "a positive integer", journeys)
        for start in range(0, self.n_journeys, journeys):
            stop = min(start + journeys, self.n_journeys)
            mask = np.zeros(self.n_journeys, dtype=bool)
            mask[start:stop] = True
            yield self.select_journeys(mask)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, NDArray[Any]]:
        """Columns as a dict of numpy arrays, under their original names."""
        cols = self.columns
        out: dict[str, NDArray[Any]] = {
            cols["journey"]: self.journey_ids[self.journey],
            cols["touchpoint"]: np.array(self.touchpoint_names, dtype=object)[self.touchpoint],
            cols["time"]: self.timestamp,
        }
        if self.outcome is not None:
            out[cols.get("outcome", "outcome")] = self.outcome
        for k, v in self.extra.items():
            out[cols.get(k, k)] = v
        return out

    @overload
    def to_frame(self, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["polars"]) -> pl.DataFrame: ...
    @overload
    def to_frame(self, backend: Literal["pyarrow"]) -> pa.Table: ...
    def to_frame(self, backend: Backend = "pandas") -> pd.DataFrame | pl.DataFrame | pa.Table:
        """The log as a pandas or polars DataFrame, or a pyarrow Table (that library must be installed)."""
        from touchpoint.table import Table

        return Table(self.to_dict()).to_frame(backend)

    def nbytes(self) -> int:
        """Bytes held by the per-event columns and code tables."""
        arrays = [self.journey, self.touchpoint, self.timestamp, self.journey_ids]
        if self.outcome is not None:
            arrays.append(self.outcome)
        arrays.extend(self.extra.values())
        return int(sum(a.nbytes for a in arrays))

    def _time_range(self) -> str:
        if not self.n_events:
            return "empty"
        lo, hi = self.timestamp.min(), self.timestamp.max()
        if self.is_datetime:
            span = f"{np.datetime_as_string(lo, unit='D')}..{np.datetime_as_string(hi, unit='D')}"
            return f"{span} UTC (from {self.time_zone})" if self.time_zone else span
        if self.timestamp.dtype.kind in "iu":
            return f"int {int(lo)}..{int(hi)}"
        return f"float {lo:g}..{hi:g}"

    def __repr__(self) -> str:
        parts = [
            f"events={self.n_events:,}",
            f"journeys={self.n_journeys:,}",
            f"touchpoints={self.n_touchpoints:,}",
            f"time={self._time_range()}",
        ]
        if self.outcome is not None:  # which column, and per event or per journey
            col = self.columns.get("outcome", "outcome")
            parts.append(f"outcome={col!r} per {self.outcome_level}")
        if self.extra:
            parts.append(f"extra={list(self.extra)}")
        if self.validation.n_dropped:
            parts.append(f"dropped={self.validation.n_dropped:,}")
        return f"EventLog({', '.join(parts)})"

    def _repr_html_(self) -> str:
        counts = np.bincount(self.touchpoint, minlength=self.n_touchpoints)
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{c}</td></tr>"
            for n, c in sorted(
                zip(self.touchpoint_names, counts.tolist(), strict=True), key=lambda x: -x[1]
            )
        )
        return (
            f"<div><strong>{html.escape(repr(self))}</strong>"
            f"<p>validation: {html.escape(str(self.validation))}</p>"
            f"<table><thead><tr><th>touchpoint</th><th>events</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )


def _frozen(arr: NDArray[Any]) -> NDArray[Any]:
    """A read-only view of ``arr`` (``arr`` itself stays as writable as it was)."""
    view = arr.view()
    view.setflags(write=False)
    return view


def _replace_design(log: EventLog, design: Journey | None) -> EventLog:
    """``log`` with another design (same columns, validation and conversions)."""
    return log._derive(design=design)


def _record_columns(records: Iterable[Mapping[str, Any]], spec: LogSpec) -> dict[str, list[Any]]:
    """The spec's columns of ``records`` (a missing key is a missing value)."""
    names = spec.columns
    data: dict[str, list[Any]] = {c: [] for c in names}
    seen: set[str] = set()
    lists = [(c, data[c]) for c in names]
    n = 0
    for rec in records:
        if not isinstance(rec, Mapping):
            msg = f"row {n}: expected a mapping, got {type(rec).__name__}."  # type: ignore[unreachable]
            raise ValidationError(msg)
        for col, values in lists:
            values.append(rec.get(col))
        seen.update(rec.keys())
        n += 1
    if n:
        spec.check_columns(seen)
    return data


def _array_roles(columns: Mapping[str, str] | None, has_outcome: bool) -> dict[str, str]:
    """Role -> column name for :meth:`EventLog.from_arrays` (the roles' own names by default)."""
    roles = dict(columns or {"journey": "journey", "touchpoint": "touchpoint", "time": "time"})
    if has_outcome:
        roles.setdefault("outcome", "outcome")
    else:
        roles.pop("outcome", None)
    return {r: c for r, c in roles.items() if r in ("journey", "touchpoint", "time", "outcome")}
