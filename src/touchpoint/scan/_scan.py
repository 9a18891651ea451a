"""The lazy scan: an event log that stays in its SQL engine until it is collected.

A :class:`LogScan` holds an ibis table expression and the reading spec (which
column is which role, and the validation policies of the in-memory readers).
Nothing is read when it is made; :meth:`LogScan.collect` reads the rows into an
:class:`~touchpoint.EventLog`, and the analyses that accept a scan send their
grouped counting to the engine (see :mod:`touchpoint.scan`).
"""

from __future__ import annotations

import contextlib
import difflib
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from touchpoint.core._eventlog import EventLog
from touchpoint.core._spec import LogSpec
from touchpoint.exceptions import DroppedRowsWarning, ValidationError

__all__ = ["OUT", "RN", "TP", "J", "LogScan", "T", "engine_error", "quiet_engine"]

#: internal column names of the normalised scan (journey, touchpoint, time, outcome, row order)
J, TP, T, OUT, RN = "_tp_journey", "_tp_touchpoint", "_tp_time", "_tp_outcome", "_tp_row"
_EXTRA = "_tp_x_"

#: analysis name -> its engine version (filled by ``touchpoint.scan._pushdown``)
PUSHED: dict[str, Callable[..., Any]] = {}


class ScanError(ValidationError):
    """The engine failed (connection, query, types); the message names the engine."""


def engine_error(engine: str, exc: BaseException, what: str) -> ScanError:
    """A :class:`ScanError` naming the engine and what it was doing."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ScanError(f"{engine} failed while {what}: {type(exc).__name__}: {text}")


@contextlib.contextmanager
def quiet_engine() -> Iterator[None]:
    """Silence the deprecation notices that ibis and the engines raise among themselves
    (ibis 12 calls DuckDB 2 methods DuckDB deprecated); they are not the user's to fix."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


@attrs.frozen
class _Tally:
    """Validation of a scan: rows read, dropped by kind, the first bad row."""

    n_input: int
    counts: dict[str, int]
    example: str = ""


_KIND_WORDS = {
    "missing": "missing value",
    "empty_string": "empty value",
    "duplicate": "duplicate",
}


class LogScan:
    """An event log in a SQL engine, read lazily (see :func:`touchpoint.scan_parquet`).

    Made by :func:`~touchpoint.scan_parquet` or :func:`~touchpoint.scan_table`.
    Pass it to :func:`~touchpoint.count_transitions`, :func:`~touchpoint.fit_markov`,
    :func:`~touchpoint.attribution`, :func:`~touchpoint.funnel` or
    :func:`~touchpoint.detect_dropoffs` to count in the engine, or call
    :meth:`collect` for an in-memory :class:`~touchpoint.EventLog`.

    Attributes
    ----------
    engine : str
        The ibis back end that runs the queries (``"duckdb"``, ``"pyspark"``, ...).
    columns : tuple of str
        The columns of the scanned table.
    """

    _touchpoint_scan_ = True

    def __init__(
        self, table: Any, spec: LogSpec, *, row_order: str | None, engine: str, source: str
    ) -> None:
        self._table = table
        self._spec = spec
        self._row_order = row_order
        self.engine = engine
        self._source = source
        self._cache: dict[str, Any] = {}
        try:
            with quiet_engine():
                schema = table.schema()
        except Exception as exc:  # the engine could not even describe the table
            raise engine_error(engine, exc, f"reading the schema of {source}") from exc
        self._schema = schema
        self.columns: tuple[str, ...] = tuple(str(c) for c in schema.names)
        self._check_columns()

    # ------------------------------------------------------------- structure
    def __getattr__(self, name: str) -> Any:
        # an analysis that reads the log's columns itself was handed a scan
        if not name.startswith("__") and hasattr(EventLog, name):
            raise cannot_push(f"this analysis (it reads log.{name})")
        raise AttributeError(name)

    @property
    def spec(self) -> LogSpec:
        """The reading spec (column roles and validation policies)."""
        return self._spec

    def __repr__(self) -> str:
        s = self._spec
        return (
            f"LogScan(engine={self.engine!r}, source={self._source}, journey={s.journey!r}, "
            f"touchpoint={s.touchpoint!r}, time={s.time!r})"
        )

    def _check_columns(self) -> None:
        available = [c for c in self.columns if c != RN]
        for role, col in self._spec.roles.items():
            if col not in available:
                close = difflib.get_close_matches(col, available, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                msg = (
                    f"unknown column {col!r} (the {role} column){hint} {self._source} has "
                    f"columns {sorted(available)}."
                )
                raise ValidationError(msg)
        types = {role: self._schema[col] for role, col in self._spec.roles.items()}
        for role in ("journey", "touchpoint"):
            dt = types[role]
            if not (dt.is_string() or dt.is_integer()):
                msg = (
                    f"column {self._spec.roles[role]!r} ({role}) has type {dt}, which "
                    f"{self.engine} cannot use as an id here; give it text or integers."
                )
                raise ValidationError(msg)
        dt = types["time"]
        if not (dt.is_timestamp() or dt.is_date() or dt.is_integer() or dt.is_floating()):
            msg = (
                f"column {self._spec.time!r} (time) has type {dt}, which {self.engine} cannot "
                "order as time; cast it to a timestamp or a number in the table."
            )
            raise ValidationError(msg)
        if "outcome" in types:
            dt = types["outcome"]
            if not (dt.is_numeric() or dt.is_boolean()):
                msg = (
                    f"column {self._spec.outcome!r} (outcome) has type {dt}; the engine needs "
                    "numbers (a flag or a value per event)."
                )
                raise ValidationError(msg)

    # ------------------------------------------------------------ the tables
    def _base(self) -> Any:
        """The table with the roles under internal names (outcome: float, NaN as null)."""
        import ibis

        s, t = self._spec, self._table
        cols: dict[str, Any] = {J: t[s.journey], TP: t[s.touchpoint], T: t[s.time]}
        if s.outcome is not None:
            o = t[s.outcome].cast("float64")
            cols[OUT] = ibis.ifelse(o.isnan(), ibis.null("float64"), o)
        for e in s.extra:
            cols[_EXTRA + e] = t[e]
        if self._row_order is not None:
            cols[RN] = t[self._row_order]
        return t.select(**cols)

    def _order_keys(self, table: Any) -> list[Any]:
        """Time, then input order (or, without one, touchpoint: a deterministic tie rule)."""
        keys = [table[T]]
        keys.append(table[RN] if self._row_order is not None else table[TP])
        return keys

    def _masks(self, base: Any) -> list[tuple[str, str, Any]]:
        """(kind, column, mask) in the in-memory reader's checking order."""
        s = self._spec
        out: list[tuple[str, str, Any]] = [
            ("missing", s.journey, base[J].isnull()),
            ("missing", s.touchpoint, base[TP].isnull()),
        ]
        tdt = self._schema[s.time]
        tmiss = base[T].isnull()
        if tdt.is_floating():
            tmiss = tmiss | base[T].isnan()
        out.append(("missing", s.time, tmiss))
        for role, col, name in (("journey", J, s.journey), ("touchpoint", TP, s.touchpoint)):
            if self._schema[name].is_string():
                out.append(("empty_string", name, base[col].strip() == ""))
            del role
        return out

    def _query(self, fn: Callable[[], Any], what: str) -> Any:
        try:
            with quiet_engine():
                return fn()
        except ValidationError:
            raise
        except Exception as exc:
            raise engine_error(self.engine, exc, what) from exc

    def _validate(self) -> _Tally:
        """Count the bad rows by kind (first failing kind wins); raise per ``on_error``."""
        if "tally" in self._cache:
            return self._cache["tally"]  # type: ignore[no-any-return]
        import ibis

        base = self._base()
        masks = self._masks(base)
        bad_before: Any = ibis.literal(False)
        metrics: dict[str, Any] = {"n": base.count()}
        for i, (_, _, mask) in enumerate(masks):
            m = mask.fill_null(False)
            metrics[f"k{i}"] = (m & ~bad_before).cast("int64").sum()
            bad_before = bad_before | m
        row = self._query(lambda: base.aggregate(**metrics).to_pyarrow().to_pylist()[0], "counting")
        n_input = int(row["n"])
        counts: dict[str, int] = {}
        example = ""
        for i, (kind, col, m) in enumerate(masks):
            k = int(row[f"k{i}"] or 0)
            if k:
                counts[kind] = counts.get(kind, 0) + k
                if not example:
                    example = self._example(base, m, f"column {col!r}: {_KIND_WORDS[kind]}")
        n_bad = sum(counts.values())
        if n_bad and self._spec.on_error == "raise":
            more = f" ({n_bad - 1} more bad rows)" if n_bad > 1 else ""
            msg = (
                f"{example}{more}. Fix the data or pass on_error='drop' to drop and count bad rows."
            )
            raise ValidationError(msg)
        clean = base.filter(~bad_before)
        if self._spec.outcome is not None and self._spec.outcome_level == "journey":
            self._check_journey_level(clean)
        if self._spec.duplicates != "keep":
            k, ex = self._duplicates(clean)
            if k and self._spec.duplicates == "raise":
                more = f" ({k - 1} more)" if k > 1 else ""
                msg = (
                    f"{ex}{more}. Pass duplicates='keep' to keep them as real events or "
                    "duplicates='drop' to drop and count them."
                )
                raise ValidationError(msg)
            if k:
                counts["duplicate"] = k
                example = example or ex
        tally = _Tally(n_input=n_input, counts=counts, example=example)
        self._cache["tally"] = tally
        self._cache["clean_mask"] = bad_before
        return tally

    def _example(self, base: Any, mask: Any, what: str) -> str:
        """``what`` for the first row (in input order) where ``mask`` holds."""
        q = base.filter(mask.fill_null(False))
        if self._row_order is not None:
            q = q.order_by(base[RN])
        rows = self._query(lambda: q.limit(1).to_pyarrow().to_pylist(), "finding a bad row")
        if not rows:
            return what
        r = rows[0]
        where = f"row {r[RN]!r}" if self._row_order is not None else "a row"
        return f"{what} at {where} (journey {r[J]!r}, touchpoint {r[TP]!r}, time {r[T]!r})"

    def _check_journey_level(self, clean: Any) -> None:
        """outcome_level='journey': the rows of one journey must agree (missing aside)."""
        g = clean.group_by(clean[J]).aggregate(lo=clean[OUT].min(), hi=clean[OUT].max())
        q = g.filter(g.lo != g.hi).limit(1)
        rows = self._query(lambda: q.to_pyarrow().to_pylist(), "checking journey-level outcomes")
        if rows:
            r = rows[0]
            msg = (
                f"column {self._spec.outcome!r}: outcome_level='journey' needs one value per "
                f"journey, but journey {r[J]!r} has {r['lo']!r} and {r['hi']!r}. Use "
                "outcome_level='event' if the values belong to events."
            )
            raise ValidationError(msg)

    def _dup_mask(self, clean: Any) -> Any:
        import ibis

        keys = [clean[J], clean[TP], clean[T]] + ([clean[OUT]] if OUT in clean.columns else [])
        order = [clean[RN]] if self._row_order is not None else []
        w = ibis.window(group_by=keys, order_by=order)
        return ibis.row_number().over(w) > 0

    def _duplicates(self, clean: Any) -> tuple[int, str]:
        q = clean.mutate(_tp_dup=self._dup_mask(clean))
        n = self._query(
            lambda: int(q.filter(q._tp_dup).count().to_pyarrow().as_py()), "finding duplicates"
        )
        if not n:
            return 0, ""
        ex = self._example(q, q._tp_dup, f"column {self._spec.journey!r}: duplicate event")
        return n, ex

    def _clean(self) -> Any:
        """The valid rows (bad rows dropped per ``on_error``), duplicates per policy."""
        tally = self._validate()
        base = self._base()
        clean = base.filter(~self._cache["clean_mask"]) if tally.counts else base
        if self._spec.duplicates == "drop" and tally.counts.get("duplicate"):
            clean = clean.mutate(_tp_dup=self._dup_mask(clean))
            clean = clean.filter(~clean._tp_dup).drop("_tp_dup")
        return clean

    def _warn_dropped(self) -> None:
        """Warn :class:`~touchpoint.exceptions.DroppedRowsWarning` when rows are dropped,
        as the in-memory readers do (raises first under ``on_error="raise"``)."""
        tally = self._validate()
        n_bad = sum(tally.counts.values())
        if n_bad:
            kinds = ", ".join(f"{k}: {v}" for k, v in tally.counts.items())
            warnings.warn(
                f"dropped {n_bad} of {tally.n_input} rows ({kinds}); first: {tally.example}.",
                DroppedRowsWarning,
                stacklevel=5,
            )

    # --------------------------------------------------------------- collect
    def collect(self) -> EventLog:
        """Read the rows into an in-memory :class:`~touchpoint.EventLog`.

        The log is the one :meth:`EventLog.from_frame` gives for the same rows
        in input order (validation, duplicates and outcome level included).

        Returns
        -------
        EventLog
        """
        s = self._spec
        cols = list(dict.fromkeys(s.roles.values()))
        t = self._table
        q = t.select(*cols, *([RN] if self._row_order is not None else []))
        if self._row_order is not None:
            q = q.order_by(q[RN]).drop(RN)
        frame = self._query(q.to_pyarrow, "reading the rows")
        return EventLog.from_frame(
            frame,
            journey=s.journey,
            touchpoint=s.touchpoint,
            time=s.time,
            outcome=s.outcome,
            extra=s.extra,
            conversions=s.conversions,
            on_error=s.on_error,
            outcome_level=s.outcome_level,
            duplicates=s.duplicates,
        )

    # -------------------------------------------------------------- push-down
    def _pushdown(self, name: str, **options: Any) -> Any:
        fn = PUSHED.get(name)
        if fn is None:
            raise cannot_push(name)
        self._warn_dropped()
        return fn(self, **options)


def cannot_push(name: str, why: str = "") -> ValidationError:
    """The error of an analysis (or option) that cannot run in the engine."""
    reason = f" ({why})" if why else ""
    msg = (
        f"{name} cannot be computed in the engine{reason}; read the rows into memory "
        f"with scan.collect() and pass the EventLog instead."
    )
    return ValidationError(msg)


def extra_name(column: str) -> str:
    """The internal name of an extra column."""
    return _EXTRA + column


def unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def as_names(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
