"""Lazy scans: count where the data lives (install ``touchpoint-journeys[sql]``).

:func:`scan_parquet` (DuckDB) and :func:`scan_table` (any ibis back end:
DuckDB, Spark, BigQuery, Snowflake, ...) return a :class:`LogScan`; nothing is
read until an analysis runs. :func:`~touchpoint.count_transitions`,
:func:`~touchpoint.fit_markov` (and so :func:`~touchpoint.removal_effects` of its
model), :func:`~touchpoint.attribution`, :func:`~touchpoint.funnel` and
:func:`~touchpoint.detect_dropoffs` accept a scan: the engine runs the window
and group-by queries next to the data and touchpoint finishes the statistics
on the small grouped result. Results equal the in-memory analysis of
``scan.collect()``. Anything else needs ``scan.collect()`` (an
:class:`~touchpoint.EventLog`) and says so.
"""

from __future__ import annotations

from touchpoint.scan import _pushdown  # registers the analyses a scan runs in its engine
from touchpoint.scan._read import scan_parquet, scan_table
from touchpoint.scan._scan import LogScan

__all__ = ["LogScan", "scan_parquet", "scan_table"]
del _pushdown
