"""The event log: one row per touchpoint event, held as numpy columns.

An :class:`EventLog` is always sorted by journey, then time (ties keep their
input order), so each journey's events are one contiguous slice
``offsets[i]:offsets[i + 1]``. Every analysis in touchpoint works on these
integer-coded columns without a Python loop per event.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from touchpoint._lib import checks as ck, parallel
from touchpoint._lib.choices import Backend
from touchpoint._lib.columns import (
    Coded,
    IdCollisionError,
    ParsedTime,
    as_array,
    as_column,
    aware_to_utc,
    factorize,
    gather,
    order_by_journey_time,
    parse_outcome,
    parse_time,
    time_key,
)
from touchpoint._lib.frames import (
    _check_columns,
    _frame_column,
    _frame_columns,
    _unique_in_order,
    column_roles,
)
from touchpoint._lib.time import required_duration
from touchpoint.core._paths import Paths
from touchpoint.core._validation import (
    DUPLICATE_RULE,
    KINDS,
    ValidationIssue,
    ValidationReport,
    _compact,
    _duplicates,
)
from touchpoint.exceptions import (
    DroppedRowsWarning,
    OutcomeLevelWarning,
    UnknownTouchpointError,
    ValidationError,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from touchpoint.core._journey import Journey

__all__ = ["EventLog", "Paths", "ValidationIssue", "ValidationReport"]

OnError = Literal["raise", "drop"]
OutcomeLevel = Literal["event", "journey"]
Duplicates = Literal["keep", "drop", "raise"]
OUTCOME_LEVELS: tuple[str, ...] = ("event", "journey")
DUPLICATES: tuple[str, ...] = ("keep", "drop", "raise")


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
        for arr in (journey, journey_ids, touchpoint, timestamp, outcome, *self.extra.values()):
            if arr is not None:
                arr.setflags(write=False)
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
        if on_error not in ("raise", "drop"):
            raise ck.error("on_error", "'raise' or 'drop'", on_error)
        if outcome_level not in OUTCOME_LEVELS:
            raise ck.error("outcome_level", "'event' or 'journey'", outcome_level)
        if duplicates not in DUPLICATES:
            raise ck.error("duplicates", "'keep', 'drop' or 'raise'", duplicates)
        conversions = (conversions,) if isinstance(conversions, str) else tuple(conversions)
        cols = dict(columns or {"journey": "journey", "touchpoint": "touchpoint", "time": "time"})
        if outcome is not None:
            cols.setdefault("outcome", "outcome")
        label = row_label or (lambda i: f"row {i}")
        arrays: dict[str, Any] = {
            "journey": as_column(journey),
            "touchpoint": as_column(touchpoint),
        }
        time, zone = aware_to_utc(time)
        arrays["time"] = as_array(time)
        if outcome is not None:
            arrays["outcome"] = as_array(outcome)
        from touchpoint._lib.frames import check_extra_names

        check_extra_names(list(extra or {}), {r: c for r, c in cols.items() if r in arrays})
        extra_arrays = {k: as_array(v) for k, v in (extra or {}).items()}
        n = len(arrays["journey"])
        for role, arr in [*arrays.items(), *extra_arrays.items()]:
            if arr.ndim != 1 or len(arr) != n:
                name = cols.get(role, role)
                msg = f"column {name!r} has {len(arr)} values but 'journey' has {n}."
                raise ValidationError(msg)

        def other_columns() -> tuple[Coded, ParsedTime, _Outcome]:
            tc = _factorize_role(arrays, "touchpoint", cols, label)
            tparsed = parse_time(arrays["time"])
            parsed: _Outcome = (None, None)
            if outcome is not None:
                parsed = parse_outcome(arrays["outcome"])
            return tc, tparsed, parsed

        # the journey ids are coded on a thread while the other columns are parsed here
        jc, (tc, tparsed, (out_vals, out_bad)) = parallel.run(
            [lambda: _factorize_role(arrays, "journey", cols, label), other_columns], n, inline=1
        )
        if tparsed.mixed_row is not None:
            row = tparsed.mixed_row
            msg = (
                f"column {cols['time']!r}, {label(row)}: {arrays['time'][row]!r} mixes "
                "time-zone aware and naive times in one column; make them all aware "
                "(they are converted to UTC) or all naive."
            )
            raise ValidationError(msg)
        zone = zone or tparsed.time_zone
        tp_names = [str(x) for x in tc.uniques.tolist()]

        # masks in checking order; a row is counted under its first failing kind
        masks: list[tuple[str, str, NDArray[np.bool_]]] = [
            ("missing", "journey", jc.missing),
            ("missing", "touchpoint", tc.missing),
            ("missing", "time", tparsed.missing),
            ("empty_string", "journey", jc.empty),
            ("empty_string", "touchpoint", tc.empty),
            ("empty_string", "time", tparsed.empty),
            ("unparseable_time", "time", tparsed.bad),
            ("out_of_range_time", "time", tparsed.out_of_range),
        ]
        if out_bad is not None:
            masks.append(("invalid_outcome", "outcome", out_bad))
        if design is not None:
            conv_names = set(conversions)
            unknown_codes = np.array(
                [t not in design and t not in conv_names for t in tp_names] + [False]
            )
            masks.append(("unknown_touchpoint", "touchpoint", unknown_codes[tc.codes]))
        bad = np.zeros(n, dtype=bool)
        counts = dict.fromkeys(KINDS, 0)
        examples: list[ValidationIssue] = []
        raw = {"outcome": arrays.get("outcome"), **arrays}
        for kind, role, mask in masks:
            if not mask.any():
                continue
            new = mask & ~bad
            k = int(new.sum())
            if k:
                counts[kind] += k
                row = int(np.argmax(new))
                col = raw[role]
                value = col[row] if col is not None else None
                examples.append(ValidationIssue(kind, cols.get(role, role), row, value))
                bad |= new

        times = tparsed.values
        tpcodes = tc.codes
        # sort by (journey, time); stable, so ties keep input order
        tkey = time_key(times)
        idx = np.flatnonzero(~bad) if bad.any() else None
        if idx is None and jc.grouping is not None:  # the journey codes came grouped
            order, jk, tk = order_by_journey_time(None, tkey, len(jc.uniques), jc.grouping)
        else:
            jk = jc.codes if idx is None else jc.codes[idx]
            tk = tkey if idx is None else tkey[idx]
            order, jk, tk = order_by_journey_time(jk, tk, len(jc.uniques))
        if order is not None:
            idx = order if idx is None else idx[order]
        # duplicates: same journey, touchpoint, time and outcome as an earlier row
        dup_rows, dup_of = _duplicates(jk, tk, tpcodes, out_vals, idx)
        n_ties = 0
        if dup_rows.size and duplicates == "keep":
            n_ties = int(dup_rows.size)
        elif dup_rows.size:
            first_dup = int(dup_rows[0])
            issue = ValidationIssue(
                "duplicate",
                cols["journey"],
                first_dup,
                arrays["journey"][first_dup],
                detail=f"{DUPLICATE_RULE} as {label(int(dup_of[0]))}",
            )
            if duplicates == "raise":
                more = f" ({dup_rows.size - 1} more)" if dup_rows.size > 1 else ""
                msg = (
                    f"{issue.message(label)}{more}. Pass duplicates='keep' to keep them as "
                    "real events or duplicates='drop' to drop and count them."
                )
                raise ValidationError(msg)
            counts["duplicate"] += int(dup_rows.size)
            examples.append(issue)
            positions = np.arange(n) if idx is None else idx
            keep = ~np.isin(positions, dup_rows)
            idx = positions[keep]
            jk, tk = jk[keep], tk[keep]
            bad[dup_rows] = True
        n_bad = int(bad.sum())
        only_dups = n_bad == int(counts["duplicate"])
        if n_bad:
            ordered = sorted(examples, key=lambda e: e.row)
            if on_error == "raise" and not only_dups:
                more = f" ({n_bad - 1} more bad rows)" if n_bad > 1 else ""
                msg = (
                    f"{ordered[0].message(label)}{more}. "
                    "Fix the data or pass on_error='drop' to drop and count bad rows."
                )
                raise ValidationError(msg)
            dropped_value = 0.0
            if out_vals is not None and out_bad is not None:
                dropped_value = float(np.nansum(np.where(bad & ~out_bad, out_vals, np.nan)))
            report = ValidationReport(
                n_input=n,
                n_kept=n - n_bad,
                counts={k: v for k, v in counts.items() if v},
                examples=tuple(ordered),
                n_ties=n_ties,
                dropped_value=dropped_value,
            )
            warnings.warn(
                f"dropped {n_bad} of {n} rows: {report}; first: {ordered[0].message(label)}. "
                "See log.validation.",
                DroppedRowsWarning,
                stacklevel=2,
            )
        else:
            report = ValidationReport(n_input=n, n_kept=n, n_ties=n_ties)

        # the per-event columns are gathered into the new order, in blocks side by side
        tpcodes = _narrow_codes(tpcodes, len(tc.uniques))
        gathered = [tpcodes, *extra_arrays.values(), *([] if out_vals is None else [out_vals])]
        taken = gathered if idx is None else gather(gathered, idx)
        jcodes, tpcodes = jk, taken[0]  # jk, tk: sorted already
        for k, role in enumerate(extra_arrays):
            cols.setdefault(role, role)
            extra_arrays[role] = taken[1 + k]
        outcome_sorted = None if out_vals is None else taken[-1]
        jids = jc.uniques
        names = tp_names
        if n_bad:  # compact code tables to what survived
            jcodes, jids = _compact(jcodes, jids)
            tpcodes, tp_arr = _compact(tpcodes, np.array(names, dtype=object))
            names = [str(x) for x in tp_arr.tolist()]
        if outcome_sorted is not None and len(jcodes):
            rows = np.arange(n) if idx is None else idx
            starts = np.flatnonzero(np.r_[True, jcodes[1:] != jcodes[:-1]])
            if outcome_level == "journey":
                outcome_sorted = _journey_level(
                    outcome_sorted,
                    starts,
                    rows=rows,
                    journey_ids=jids,
                    raw=arrays["outcome"],
                    column=cols["outcome"],
                    label=label,
                )
            else:
                _warn_if_journey_level(outcome_sorted, starts, jids, cols["outcome"])
        return cls(
            journey=jcodes.astype(np.int32, copy=False),
            journey_ids=jids,
            touchpoint=tpcodes.astype(np.int32, copy=False),
            touchpoint_names=names,
            timestamp=tk.view(times.dtype) if times.dtype.kind == "M" else tk,
            outcome=outcome_sorted,
            extra=extra_arrays,
            validation=report,
            design=design,
            conversions=conversions,
            columns=cols,
            outcome_level=outcome_level,
            time_zone=zone,
        )

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
        names = column_roles(journey, touchpoint, time, outcome, extra)
        data: dict[str, list[Any]] = {role: [] for role in names}
        seen: set[str] = set()
        items = list(names.items())
        for rec in records:
            if not isinstance(rec, Mapping):
                row = len(data["journey"])  # type: ignore[unreachable]
                msg = f"row {row}: expected a mapping, got {type(rec).__name__}."
                raise ValidationError(msg)
            for role, col in items:
                data[role].append(rec.get(col))
            seen.update(rec.keys())
        _check_columns(names, seen, bool(data["journey"]))
        return cls.from_arrays(
            data["journey"],
            data["touchpoint"],
            data["time"],
            data["outcome"] if outcome is not None else None,
            {e: data[e] for e in extra},
            design=design,
            conversions=conversions,
            on_error=on_error,
            outcome_level=outcome_level,
            duplicates=duplicates,
            columns=names,
        )

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
        names = column_roles(journey, touchpoint, time, outcome, extra)
        available = [str(c) for c in _frame_columns(frame)]
        _check_columns(names, set(available), True)
        table = hasattr(frame, "column_names")  # pyarrow
        get = {
            role: (
                # the time column as the frame holds it: its time zone is recorded
                (frame.column(col) if table else frame[col])
                if role == "time"
                else _frame_column(frame, col, encoded=role in ("journey", "touchpoint"))
            )
            for role, col in names.items()
        }
        return cls.from_arrays(
            get["journey"],
            get["touchpoint"],
            get["time"],
            get.get("outcome"),
            {e: get[e] for e in extra},
            design=design,
            conversions=conversions,
            on_error=on_error,
            outcome_level=outcome_level,
            duplicates=duplicates,
            columns=names,
        )

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
            known = ", ".join(repr(t) for t in self.touchpoint_names[:20])
            msg = f"unknown touchpoint {name!r}; the log has {known}."
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
        msg = f"unknown column {name!r}; this log has {known}."
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
        return EventLog(
            journey=jcodes.astype(np.int32),
            journey_ids=jids,
            touchpoint=self.touchpoint[events],
            touchpoint_names=self.touchpoint_names,
            timestamp=self.timestamp[events],
            outcome=None if self.outcome is None else self.outcome[events],
            extra={k: v[events] for k, v in self.extra.items()},
            validation=self.validation,
            design=self.design,
            conversions=self.conversions,
            columns=self.columns,
            outcome_level=self.outcome_level,
            time_zone=self.time_zone,
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

    def sessionize(self, gap: Any) -> EventLog:
        """Split journeys into sessions wherever two events are more than ``gap`` apart.

        The new log's journeys are sessions with ids ``"<journey>#<k>"`` (k from
        1); the original id is kept in the extra column ``"customer"`` and the
        session number in ``"session"``.

        Parameters
        ----------
        gap : timedelta, numpy.timedelta64 or float
            Largest gap inside one session; a float is in the log's time unit
            (seconds for datetime logs).

        Examples
        --------
        >>> log = EventLog.from_arrays(["c"] * 3, ["ad", "site", "ad"], [0.0, 10.0, 5000.0])
        >>> s = log.sessionize(gap=1800)
        >>> s.n_journeys, list(s.journey_ids)
        (2, ['c#1', 'c#2'])
        """
        g = required_duration(gap, "gap") * (1e9 if self.is_datetime else 1.0)  # time_key units
        tk = time_key(self.timestamp)
        new = np.ones(self.n_events, dtype=bool)
        if self.n_events:
            new[1:] = (self.journey[1:] != self.journey[:-1]) | (np.diff(tk) > g)
        session_code = np.cumsum(new) - 1
        first = np.flatnonzero(new)
        # session number within its journey
        jfirst = self.offsets[:-1][self.journey[first]]
        number = np.arange(len(first)) - np.searchsorted(first, jfirst) + 1
        ids = np.array(
            [
                f"{j}#{k}"
                for j, k in zip(
                    self.journey_ids[self.journey[first]].tolist(), number.tolist(), strict=True
                )
            ],
            dtype=object,
        )
        extra = dict(self.extra)
        extra["customer"] = self.journey_ids[self.journey]
        extra["session"] = number[session_code]
        cols = dict(self.columns)
        cols.setdefault("customer", "customer")
        cols.setdefault("session", "session")
        return EventLog(
            journey=session_code.astype(np.int32),
            journey_ids=ids,
            touchpoint=self.touchpoint,
            touchpoint_names=self.touchpoint_names,
            timestamp=self.timestamp,
            outcome=self.outcome,
            extra=extra,
            validation=self.validation,
            design=self.design,
            conversions=self.conversions,
            columns=cols,
            outcome_level=self.outcome_level,
            time_zone=self.time_zone,
        )

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


def _replace_design(log: EventLog, design: Journey | None) -> EventLog:
    """``log`` with another design (same columns, validation and conversions)."""
    return EventLog(
        journey=log.journey,
        journey_ids=log.journey_ids,
        touchpoint=log.touchpoint,
        touchpoint_names=log.touchpoint_names,
        timestamp=log.timestamp,
        outcome=log.outcome,
        extra=log.extra,
        validation=log.validation,
        design=design,
        conversions=log.conversions,
        columns=log.columns,
        outcome_level=log.outcome_level,
        time_zone=log.time_zone,
    )


def _journey_level(
    values: NDArray[np.float64],
    starts: NDArray[np.intp],
    *,
    rows: NDArray[np.int64],
    journey_ids: NDArray[Any],
    raw: NDArray[Any],
    column: str,
    label: Callable[[int], str],
) -> NDArray[np.float64]:
    """One value per journey, moved onto its last event (NaN elsewhere).

    ``values`` are sorted by journey; ``rows`` gives each value's input row.
    Rows of a journey must agree (missing values aside).
    """
    lo = np.fmin.reduceat(values, starts)
    hi = np.fmax.reduceat(values, starts)
    clash = np.flatnonzero(lo != hi)  # NaN != NaN never: fmin/fmax skip missing values
    clash = clash[~np.isnan(lo[clash])]
    if clash.size:
        k = int(clash[0])
        stop = int(starts[k + 1]) if k + 1 < len(starts) else len(values)
        seg = values[starts[k] : stop]
        r_lo = int(rows[starts[k] + int(np.flatnonzero(seg == lo[k])[0])])
        r_hi = int(rows[starts[k] + int(np.flatnonzero(seg == hi[k])[0])])
        a, b = sorted((r_lo, r_hi))
        jid = journey_ids[k]
        jid = jid.item() if isinstance(jid, np.generic) else jid
        msg = (
            f"column {column!r}: outcome_level='journey' needs one value per journey, but "
            f"journey {jid!r} has {raw[a]!r} ({label(a)}) and {raw[b]!r} "
            f"({label(b)}). Use outcome_level='event' if the values belong to events."
        )
        raise ValidationError(msg)
    out = np.full(len(values), np.nan)
    last = np.r_[starts[1:], len(values)] - 1
    out[last] = lo
    return out


def _warn_if_journey_level(
    values: NDArray[np.float64],
    starts: NDArray[np.intp],
    journey_ids: NDArray[Any],
    column: str,
) -> None:
    """Warn when every event of each converting journey carries the same positive value.

    Needs at least two converting journeys of two or more events, so an
    ordinary event-level log (one purchase among other events) never warns.
    """
    hi = np.fmax.reduceat(values, starts)
    converting = hi > 0
    if not converting.any():
        return
    lengths = np.diff(np.r_[starts, len(values)])
    multi = converting & (lengths > 1)
    for k in np.flatnonzero(multi)[:64].tolist():  # event-level logs fail here, cheaply
        if not bool(np.all(values[starts[k] : starts[k] + lengths[k]] == hi[k])):
            return
    lo = np.minimum.reduceat(values, starts)  # NaN when any event has no value
    same = lo == hi
    if int(multi.sum()) < 2 or not bool(np.all(same[converting])):
        return
    k = int(np.flatnonzero(multi)[0])
    jid = journey_ids[k]
    jid = jid.item() if isinstance(jid, np.generic) else jid
    msg = (
        f"column {column!r} looks journey-level: every event of each converting journey "
        f"carries the same positive value (journey {jid!r}: {int(lengths[k])} "
        f"events, {hi[k]:g} on each). Under outcome_level='event' each of them converts at "
        "its first event, the rest of its path is cut and the value is summed per event; "
        "pass outcome_level='journey' to count the value once and convert at the journey's end."
    )
    warnings.warn(msg, OutcomeLevelWarning, stacklevel=3)


#: Parsed outcome values and their bad-value mask (None, None: no outcome column).
_Outcome = tuple[NDArray[np.float64], NDArray[np.bool_]] | tuple[None, None]


def _narrow_codes(codes: NDArray[np.int64], k: int) -> NDArray[np.signedinteger[Any]]:
    """``codes`` (``-1`` .. ``k-1``) in the narrowest signed type: a gather of them is cheaper."""
    for typ in (np.int8, np.int16, np.int32):
        if k <= np.iinfo(typ).max:
            return codes.astype(typ)
    return codes


def _factorize_role(
    arrays: Mapping[str, Any], role: str, cols: Mapping[str, str], label: Callable[[int], str]
) -> Coded:
    """Factorize an id column; two different values that print the same are an error."""
    try:
        return factorize(arrays[role])
    except IdCollisionError as exc:
        a, b = exc.values
        ra, rb = exc.rows
        msg = (
            f"column {cols.get(role, role)!r}: {a!r} ({label(ra)}) and {b!r} ({label(rb)}) "
            f"are different values that print the same, so they would be two {role}s "
            "shown as one; give the column one type (all text or all numbers)."
        )
        raise ValidationError(msg) from None
