"""The ``touchpoint`` command (also ``python -m touchpoint``).

User mistakes (a missing file, a bad column, a malformed row) print one line
``touchpoint: error: ...`` and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from touchpoint._version import __version__
from touchpoint.exceptions import TouchpointError, TouchpointWarning

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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
    r.add_argument(
        "--outcome-level",
        choices=("event", "journey"),
        default="event",
        help="the outcome sits on the converting event, or is a journey flag/value "
        "repeated on each of its rows (counted once, converting at the journey's end) [event]",
    )
    r.add_argument(
        "--conversions",
        action="append",
        default=[],
        help="touchpoint whose occurrence is the conversion itself (not credited; "
        "repeatable, or comma-separated)",
    )
    r.add_argument(
        "--duplicates",
        choices=("keep", "drop", "raise"),
        default="keep",
        help="rows with the same journey, touchpoint, time and outcome as an earlier row: "
        "keep as real events, drop and count, or stop [keep]",
    )
    r.add_argument("--extra", action="append", default=[], help="extra column to keep (repeatable)")
    r.add_argument(
        "--on-error",
        choices=("raise", "drop"),
        default="raise",
        help="stop at the first bad row, or drop and count bad rows [raise]",
    )
    r.add_argument("--top", type=int, default=10, help="rows per table [10]")

    d = sub.add_parser("demo", help="run the report on the bundled sample data")
    d.add_argument("--html", default="touchpoint-report.html", help="HTML output path")
    d.add_argument("--top", type=int, default=10, help="rows per table [10]")
    return p


def _run(args: argparse.Namespace) -> int:
    from touchpoint.report import build_report

    if args.command == "demo":
        from touchpoint.datasets import load_sample

        sample = load_sample()
        rep = build_report(
            sample.events,
            responses=sample.responses,
            design=sample.design,
            title="Journey report: touchpoint sample brand",
            top=args.top,
        )
    else:
        from touchpoint.io import read_csv, read_journey
        from touchpoint.table import Table

        design = read_journey(args.journey) if args.journey else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TouchpointWarning)
            log = read_csv(
                args.events,
                journey=args.journey_col,
                touchpoint=args.touchpoint_col,
                time=args.time_col,
                outcome=args.outcome_col,
                extra=tuple(args.extra),
                design=design,
                conversions=[c for arg in args.conversions for c in arg.split(",") if c],
                on_error=args.on_error,
                outcome_level=args.outcome_level,
                duplicates=args.duplicates,
            )
        for w in caught:
            print(f"touchpoint: warning: {w.message}", file=sys.stderr)
        surveys = None
        if args.surveys:
            from touchpoint._lib.csv import read_table_columns

            header = list(read_table_columns(args.surveys))
            numeric = [c for c in ("nps", "csat", "ces") if c in header]
            surveys = Table.read_csv(args.surveys, numeric=numeric)
        rep = build_report(log, responses=surveys, design=design, top=args.top)
    print(rep.to_text())
    if args.html:
        rep.write_html(args.html)
        print(f"HTML report written to {args.html}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (TouchpointError, OSError) as exc:
        print(f"touchpoint: error: {exc}", file=sys.stderr)
        return 2
