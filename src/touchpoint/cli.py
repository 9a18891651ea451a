"""The ``touchpoint`` command (also ``python -m touchpoint``).

User mistakes (a missing file, a bad column, a malformed row, a bad option
value) print one line ``touchpoint: error: ...`` on stderr and exit with
status 2; no traceback, no usage text.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from touchpoint._lib.checks import choice
from touchpoint._lib.choices import DUPLICATES, ON_ERROR, OUTCOME_LEVELS
from touchpoint._version import __version__
from touchpoint.exceptions import TouchpointError, TouchpointWarning, ValidationError

if TYPE_CHECKING:
    from touchpoint.core import EventLog
    from touchpoint.core._journey import Journey
    from touchpoint.table import Table

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is the one-line ``touchpoint: error: ...``."""

    def error(self, message: str) -> NoReturn:
        _print_error(message)
        raise SystemExit(2)


def _print_error(message: str) -> None:
    one_line = " ".join(str(message).split())
    print(f"touchpoint: error: {one_line}", file=sys.stderr)


def _add_interactive_flag(parser: argparse.ArgumentParser) -> None:
    """``--interactive/--no-interactive``, shared by ``report`` and ``demo``."""
    parser.add_argument(
        "--interactive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the interactive journey Sankey to the HTML report (plotly, about 2 MB "
        "more; the page stays one offline file) [when plotly is installed]",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"must be a positive integer (got {text!r})"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 1:
        msg = f"must be a positive integer (got {value})"
        raise argparse.ArgumentTypeError(msg)
    return value


def _choice(name: str, options: Sequence[str]) -> Callable[[str], str]:
    """An argparse ``type=`` refusing a value with the library's own message.

    ``--outcome-level journy`` then says what ``read_csv(outcome_level="journy")``
    says (the options come from ``_lib/choices``, spelt once).
    """

    def parse(text: str) -> str:
        try:
            return choice(name, text, options)
        except TouchpointError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def _add_choice(
    parser: argparse.ArgumentParser, name: str, options: Sequence[str], *, default: str, help: str
) -> None:
    """``--name`` taking one of ``options`` (from ``_lib/choices``), refused in the library's words."""
    parser.add_argument(
        "--" + name.replace("_", "-"),
        type=_choice(name, options),
        metavar="{" + ",".join(options) + "}",
        default=default,
        help=help,
    )


def _conversions(values: Sequence[str]) -> list[str]:
    """``--conversions`` values: each may list names separated by commas (spaces trimmed)."""
    return [c.strip() for arg in values for c in arg.split(",") if c.strip()]


def _os_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}."
    return str(exc)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="touchpoint",
        description="Customer-journey reports from event logs and survey answers.",
    )
    p.add_argument("--version", action="version", version=f"touchpoint {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("report", help="summarise an event log (CSV) in the terminal and HTML")
    r.add_argument("events", help="CSV file of events (.csv or .csv.gz)")
    r.add_argument("--surveys", help="CSV file of survey answers (nps, csat, ces columns)")
    r.add_argument("--journey", help="journey design JSON (stages and touchpoints)")
    r.add_argument("--html", help="also write an HTML report to this path")
    r.add_argument("--journey-col", default="journey_id", help="journey id column [journey_id]")
    r.add_argument("--touchpoint-col", default="touchpoint", help="touchpoint column [touchpoint]")
    r.add_argument("--time-col", default="timestamp", help="timestamp column [timestamp]")
    r.add_argument("--outcome-col", help="conversion flag or value column")
    _add_choice(
        r,
        "outcome_level",
        OUTCOME_LEVELS,
        default="event",
        help="the outcome sits on the converting event, or is a journey flag/value "
        "repeated on each of its rows (counted once, converting at the journey's end) [event]",
    )
    r.add_argument(
        "--conversions",
        action="append",
        default=[],
        help="touchpoint whose occurrence is the conversion itself (not credited; "
        "repeatable, or comma-separated: 'order, paid' is two names, spaces around a "
        "comma ignored)",
    )
    _add_choice(
        r,
        "duplicates",
        DUPLICATES,
        default="keep",
        help="rows with the same journey, touchpoint, time and outcome as an earlier row: "
        "keep as real events, drop and count, or stop [keep]",
    )
    r.add_argument(
        "--delimiter",
        default=",",
        help="field separator of the CSV files, e.g. ';' or 'tab' [,]",
    )
    r.add_argument(
        "--time-format",
        help="strptime format of the time column, e.g. '%%m/%%d/%%Y %%H:%%M' [ISO 8601]",
    )
    r.add_argument(
        "--source",
        choices=("ga4", "segment", "snowplow", "amplitude", "mixpanel"),
        help="EVENTS is that vendor's export (file, folder or glob; channel journeys of "
        "stitched users, conversions from --conversions or the vendor's default)",
    )
    r.add_argument("--title", default="Journey report", help="report title [Journey report]")
    r.add_argument("--nps-col", default="nps", help="NPS (0-10) column of --surveys [nps]")
    r.add_argument("--csat-col", default="csat", help="CSAT (1-5) column of --surveys [csat]")
    r.add_argument("--ces-col", default="ces", help="CES (1-7) column of --surveys [ces]")
    r.add_argument(
        "--survey-touchpoint-col",
        default="touchpoint",
        help="touchpoint column of --surveys [touchpoint]",
    )
    r.add_argument(
        "--survey-journey-col",
        help="journey id column of --surveys [the --journey-col name]",
    )
    r.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars while reading and building [when stderr is a terminal]",
    )
    r.add_argument("--extra", action="append", default=[], help="extra column to keep (repeatable)")
    _add_choice(
        r,
        "on_error",
        ON_ERROR,
        default="raise",
        help="stop at the first bad row, or drop and count bad rows [raise]",
    )
    r.add_argument("--top", type=_positive_int, default=10, help="rows per table [10]")
    _add_interactive_flag(r)

    d = sub.add_parser("demo", help="run the report on the bundled sample data")
    d.add_argument("--html", default="touchpoint-report.html", help="HTML output path")
    d.add_argument("--top", type=_positive_int, default=10, help="rows per table [10]")
    _add_interactive_flag(d)
    d.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar over the report's sections [when stderr is a terminal]",
    )
    return p


def _delimiter(value: str) -> str:
    """``--delimiter``: one character; ``tab`` and ``\\t`` mean a tab."""
    if value in ("tab", "\\t", "\t"):
        return "\t"
    if len(value) != 1:
        msg = f"--delimiter must be one character, or 'tab' (got {value!r})."
        raise ValidationError(msg)
    return value


#: Python keyword spellings in library messages, and the flags that set them here.
_FLAG_OF = {
    "on_error='drop'": "--on-error drop",
    "on_error='raise'": "--on-error raise",
    "on_error=": "--on-error ",
    "outcome_level=": "--outcome-level ",
    "conversions=": "--conversions ",
    "duplicates=": "--duplicates ",
    "delimiter=": "--delimiter ",
    "time_format=": "--time-format ",
    "design=": "--journey ",
}


def _flags(message: str) -> str:
    """A library message in the command's terms: ``on_error='drop'`` -> ``--on-error drop``."""
    import re

    for py, flag in _FLAG_OF.items():
        if py.endswith("="):
            message = re.sub(re.escape(py) + r"'?([\w-]+)'?", flag + r"\1", message)
        elif py.startswith("on_error"):
            message = message.replace(py, flag)
    return message


def _read_surveys(args: argparse.Namespace, delimiter: str) -> Table:
    """The survey answers, their columns renamed to what the report reads."""
    from touchpoint._lib.csv import (
        FileLines,
        check_path,
        parse_numbers,
        read_table_columns,
        unique_header,
    )
    from touchpoint.table import Table

    check_path(args.surveys)
    unique_header(args.surveys, delimiter)
    columns = dict(read_table_columns(args.surveys, delimiter=delimiter))
    mapping = {
        "nps": args.nps_col,
        "csat": args.csat_col,
        "ces": args.ces_col,
        "touchpoint": args.survey_touchpoint_col,
    }
    journey = args.survey_journey_col or args.journey_col
    flag_of = {
        "nps": "--nps-col",
        "csat": "--csat-col",
        "ces": "--ces-col",
        "touchpoint": "--survey-touchpoint-col",
    }
    out: dict[str, object] = {}
    for role, name in mapping.items():
        explicit = name != role
        if name in columns:
            out[role] = columns[name]
        elif explicit:
            msg = (
                f"{flag_of[role]} {name!r}: no such column in {args.surveys!r}; "
                f"it has {list(columns)}."
            )
            raise ValidationError(msg)
    if not any(r in out for r in ("nps", "csat", "ces")):
        msg = (
            f"{args.surveys!r} has none of the survey columns nps, csat, ces; name yours "
            f"with --nps-col, --csat-col or --ces-col (the file has {list(columns)})."
        )
        raise ValidationError(msg)
    if journey in columns:
        out[args.journey_col] = columns[journey]
    for name, values in columns.items():  # segments and channels ride along
        if name not in mapping.values() and name not in out and name != journey:
            out[name] = values
    lines = FileLines(args.surveys, delimiter)
    for role in ("nps", "csat", "ces"):
        if role in out:
            where = f"{args.surveys!r}, "
            out[role] = parse_numbers(out[role], mapping[role], where=where, lines=lines)
    return Table(out, title=str(args.surveys))


def _read_design(path: str) -> Journey:
    """``--journey``: a design file; a column name given by mistake gets a hint."""
    import os

    from touchpoint.io import read_journey

    if not os.path.exists(path) and not os.path.splitext(path)[1]:
        msg = (
            f"--journey {path!r}: no such file. --journey takes a journey design file "
            f"(JSON or GraphML); to name the journey id column use --journey-col {path}."
        )
        raise ValidationError(msg)
    return read_journey(path)


def _interactive(args: argparse.Namespace) -> bool | None:
    """``--interactive``: asked for without plotly is an error, not a silent omission."""
    if args.interactive and importlib.util.find_spec("plotly") is None:
        msg = (
            "--interactive needs plotly: pip install 'touchpoint-journeys[interactive]' "
            "(or leave out --interactive for the static figures only)."
        )
        raise ValidationError(msg)
    if not args.html:
        return False  # no page to put it on: skip the work
    return bool(args.interactive) if args.interactive is not None else None


def _read_source(args: argparse.Namespace) -> EventLog:
    """``--source``: read EVENTS with that vendor's export reader."""
    from touchpoint import sources

    read = getattr(sources, f"read_{args.source}")
    conversions = _conversions(args.conversions)
    options = {"conversions": conversions} if conversions else {}
    log: EventLog = read(args.events, on_error=args.on_error, **options)
    return log


def _run(args: argparse.Namespace) -> int:
    from touchpoint.report import build_report

    if args.command == "demo":
        from touchpoint.datasets import load_sample

        sample = load_sample()
        rep = build_report(
            sample.events,
            responses=sample.responses,
            design=sample.design,
            title="Journey report: Lumen Home (touchpoint sample brand)",
            top=args.top,
            interactive=_interactive(args),
            progress=args.progress,
        )
    else:
        from touchpoint.io import read_csv

        design = _read_design(args.journey) if args.journey else None
        delimiter = _delimiter(args.delimiter)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TouchpointWarning)
            log = (
                _read_source(args)
                if args.source
                else read_csv(
                    args.events,
                    journey=args.journey_col,
                    touchpoint=args.touchpoint_col,
                    time=args.time_col,
                    outcome=args.outcome_col,
                    extra=tuple(args.extra),
                    design=design,
                    conversions=_conversions(args.conversions),
                    on_error=args.on_error,
                    outcome_level=args.outcome_level,
                    duplicates=args.duplicates,
                    delimiter=delimiter,
                    time_format=args.time_format,
                    progress=args.progress,
                )
            )
        for w in caught:
            print(f"touchpoint: warning: {_flags(str(w.message))}", file=sys.stderr)
        if log.n_events == 0:
            kept = f" ({log.validation})" if log.validation is not None else ""
            msg = f"no usable rows remain in {args.events!r}{kept}; nothing to report."
            raise ValidationError(msg)
        surveys = _read_surveys(args, delimiter) if args.surveys else None
        _warn_report_inputs(log, args.extra)
        rep = build_report(
            log,
            responses=surveys,
            design=design,
            top=args.top,
            title=args.title,
            interactive=_interactive(args),
            progress=args.progress,
        )
    print(rep.to_text())
    if args.html:
        rep.write_html(args.html)
        print(f"HTML report written to {args.html}")
    return 0


def _warn_report_inputs(log: EventLog, extra: Sequence[str]) -> None:
    """Say on stderr what the report will not use: a conversion rate of 0% or 100%
    (no attribution), ``--extra`` columns that cannot segment journeys."""
    import numpy as np

    from touchpoint.report import segment_columns

    if log.outcome is not None or log.conversions:
        rate = float(np.mean(log.converted())) if log.n_journeys else 0.5
        if rate in (0.0, 1.0):
            print(
                f"touchpoint: warning: every journey {'converted' if rate else 'did not convert'}"
                f" (conversion rate {rate:.0%}); attribution and removal effects are left out "
                f"of the report. Check the conversion rule: {log.conversion_rule}.",
                file=sys.stderr,
            )
    used = set(segment_columns(log))
    for name in extra:
        if name not in used:
            print(
                f"touchpoint: warning: --extra {name}: not used as a segment (it needs 2 to 12 "
                "distinct values, one per journey); kept in the data only.",
                file=sys.stderr,
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a user error, one line on stderr)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2, printed)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    try:
        return _run(args)
    except TouchpointError as exc:
        _print_error(_flags(str(exc)))
        return 2
    except OSError as exc:
        _print_error(_os_message(exc))
        return 2
    except KeyboardInterrupt:
        _print_error("interrupted.")
        return 130
