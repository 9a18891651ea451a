"""Lazy scans on a local Spark session (``make test-spark``; needs Java and the spark extra).

The same window and group-by queries as on DuckDB, compiled by ibis for Spark SQL;
results equal the in-memory analysis of the same rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import events

import touchpoint as tp
from touchpoint.exceptions import DroppedRowsWarning, ValidationError

pytestmark = [
    pytest.mark.spark,
    # py4j leaves sockets to the garbage collector: not ours to close
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

ROLES = {"journey": "journey_id", "touchpoint": "touchpoint", "time": "timestamp"}


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark")  # installed by `make test-spark`
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("touchpoint-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def con(spark):
    import ibis

    return ibis.pyspark.connect(spark)


def spark_table(spark, con, df, name):
    df = df.assign(seq=np.arange(len(df)))
    records = df.astype(object).where(df.notna(), None).to_dict("records")  # missing: null
    spark.createDataFrame(records).createOrReplaceTempView(name)
    return con.table(name)


def test_markov_and_attribution_equal(spark, con):
    df = events(n=1200, n_journeys=200, seed=71)
    scan = tp.scan_table(
        spark_table(spark, con, df, "ev1"),
        **ROLES,
        outcome="revenue",
        conversions=["buy"],
        row_order="seq",
    )
    log = tp.EventLog.from_frame(df, **ROLES, outcome="revenue", conversions=["buy"])
    for order in (1, 2):
        a, b = tp.count_transitions(scan, order=order), tp.count_transitions(log, order=order)
        assert a == b and a.alphabet == b.alphabet
    m1, m2 = tp.fit_markov(scan), tp.fit_markov(log)
    assert m1.conversion_probability() == pytest.approx(m2.conversion_probability(), abs=1e-14)
    a1, a2 = tp.attribution(scan, "markov"), tp.attribution(log, "markov")
    assert a1.table["touchpoint"].tolist() == a2.table["touchpoint"].tolist()
    np.testing.assert_allclose(a1.table["conversions"], a2.table["conversions"], rtol=1e-12)


def test_funnel_by_segment_equal(spark, con):
    df = events(n=1200, n_journeys=300, seed=73)
    scan = tp.scan_table(
        spark_table(spark, con, df, "ev2"), **ROLES, extra=["segment"], row_order="seq"
    )
    log = tp.EventLog.from_frame(df, **ROLES, extra=["segment"])
    steps = ["ad", "site", "buy"]
    a = tp.funnel(scan, steps, window=15.0, by="segment")
    b = tp.funnel(log, steps, window=15.0, by="segment")
    assert a.table.to_text() == b.table.to_text()
    assert [s.exits for s in a.steps] == [s.exits for s in b.steps]


def test_bad_rows_and_columns_on_spark(spark, con):
    df = events(n=400, n_journeys=80, seed=79, string_ids=True)
    df.loc[[3, 9], "journey_id"] = None
    table = spark_table(spark, con, df, "ev3")
    with pytest.raises(ValidationError, match="unknown column 'touchpiont'"):
        tp.scan_table(table, journey="journey_id", touchpoint="touchpiont", time="timestamp")
    scan = tp.scan_table(table, **ROLES, on_error="drop", row_order="seq")
    with pytest.warns(DroppedRowsWarning, match=r"dropped 2 of 400 rows \(missing: 2\)"):
        got = tp.count_transitions(scan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        log = tp.EventLog.from_frame(df, **ROLES, on_error="drop")
    assert got == tp.count_transitions(log)
