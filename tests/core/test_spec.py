"""The reading spec: one LogSpec, validated once, behind every entry point."""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
import pytest

import touchpoint as tp
from touchpoint._lib.choices import DUPLICATES, ON_ERROR, OUTCOME_LEVELS
from touchpoint.core import _ingest
from touchpoint.exceptions import InvalidParameterError

pd = pytest.importorskip("pandas")

JOURNY = "`outcome_level` must be 'event' or 'journey' (got 'journy'; did you mean 'journey'?)."
ROWS = {"journey_id": [1, 1, 2], "touchpoint": ["ad", "buy", "ad"], "timestamp": [0.0, 1.0, 0.5]}
KW = {"journey": "journey_id", "touchpoint": "touchpoint", "time": "timestamp"}


def _csv(tmp_path: Path) -> Path:
    p = tmp_path / "e.csv"
    p.write_text("journey_id,touchpoint,timestamp\n1,ad,0\n1,buy,1\n2,ad,0.5\n")
    return p


def _message(call) -> str:
    with pytest.raises(InvalidParameterError) as info:
        call()
    return str(info.value)


def test_spec_validates_once_when_built() -> None:
    spec = tp.LogSpec(journey="id", touchpoint="tp", time="t", conversions="buy", extra="seg")
    assert spec.conversions == ("buy",)  # a string is one name, never its letters
    assert spec.extra == ("seg",)
    assert spec.roles == {"journey": "id", "touchpoint": "tp", "time": "t", "seg": "seg"}
    assert _message(lambda: tp.LogSpec(outcome_level="journy")) == JOURNY
    with pytest.raises(InvalidParameterError, match=r"`on_error` must be 'raise' or 'drop'"):
        tp.LogSpec(on_error="skip")
    with pytest.raises(InvalidParameterError, match=r"`journey` must be a non-empty string"):
        tp.LogSpec(journey="")
    with pytest.raises(InvalidParameterError, match=r"`extra`.*'journey' is the journey column"):
        tp.LogSpec(extra=["journey"])
    with pytest.raises(InvalidParameterError, match=r"`conversions` must be touchpoint names"):
        tp.LogSpec(conversions=["buy", 3])
    with pytest.raises(AttributeError):
        spec.journey = "x"  # type: ignore[misc]  # frozen


def test_choice_sets_are_the_literal_aliases() -> None:
    """Each set is spelt once: the tuples come from the Literal aliases."""
    from typing import get_args

    from touchpoint._lib import choices

    assert get_args(choices.OutcomeLevel) == OUTCOME_LEVELS == ("event", "journey")
    assert get_args(choices.OnError) == ON_ERROR
    assert get_args(choices.Duplicates) == DUPLICATES


def test_bad_reading_option_fails_at_the_call_with_one_message(tmp_path, monkeypatch, capsys):
    """``outcome_level="journy"`` from every entry point: the same words, before any work."""
    csv = _csv(tmp_path)
    df = pd.DataFrame(ROWS)
    pq = tmp_path / "e.parquet"
    df.to_parquet(pq)
    bad = {"outcome_level": "journy"}
    calls = {
        "from_arrays": lambda: tp.EventLog.from_arrays([1], ["a"], [0.0], **bad),
        "from_frame": lambda: tp.EventLog.from_frame(df, **KW, **bad),
        "from_records": lambda: tp.EventLog.from_records([], **KW, **bad),
        "read_csv": lambda: tp.read_csv(csv, **bad),
        "read_csv chunks": lambda: tp.read_csv(csv, chunksize=2, **bad),
        "read_parquet": lambda: tp.read_parquet(pq, **bad),
    }
    for name, call in calls.items():
        assert _message(call) == JOURNY, name

    dd = pytest.importorskip("dask.dataframe")
    from touchpoint import dask as tpd

    def no_shuffle(*args, **kwargs):
        raise AssertionError("the option must be checked before the frame is touched")

    monkeypatch.setattr(tpd, "_prepare_frame", no_shuffle)
    ddf = dd.from_pandas(df, npartitions=2)
    for fn in (tpd.count_transitions, tpd.fit_markov, tpd.funnel):
        assert _message(lambda fn=fn: fn(ddf, **KW, **bad)) == JOURNY, fn.__name__

    from touchpoint.cli import main

    assert main(["report", str(csv), "--outcome-level", "journy"]) == 2
    assert JOURNY in capsys.readouterr().err


def test_parameter_errors_are_raised_from_the_public_frame(tmp_path) -> None:
    """No check frames (validate_params, Constraint.__call__, fail) above the message."""
    log = tp.EventLog.from_arrays([1, 1], ["a", "b"], [0.0, 1.0])
    calls = [
        lambda: tp.read_csv(_csv(tmp_path), engine="pyarow"),
        lambda: tp.next_steps(log, "a", occurrence="frist"),  # deprecated_params outside
        lambda: tp.funnel(log, ["a", "b"], mode="strikt"),
    ]
    for call in calls:
        with pytest.raises(InvalidParameterError) as info:
            call()
        ours = [
            f
            for f in traceback.extract_tb(info.value.__traceback__)
            if "/src/touchpoint/" in f.filename.replace("\\", "/")
        ]
        assert len(ours) <= 1, [f.name for f in ours]
        assert "did you mean" in str(info.value)


def test_from_spec_is_the_way_in_for_other_readers() -> None:
    spec = tp.LogSpec(journey="id", touchpoint="tp", time="t", outcome="rev", conversions="buy")
    cols = {"id": ["x", "x", "y"], "tp": ["ad", "buy", "ad"], "t": [0.0, 1, 0], "rev": [0, 5, 0]}
    log = tp.EventLog._from_spec(cols, spec)
    ref = tp.EventLog.from_arrays(
        cols["id"], cols["tp"], cols["t"], cols["rev"], conversions=["buy"]
    )
    assert log.to_dict()["tp"].tolist() == ref.to_dict()["touchpoint"].tolist()
    assert log.conversions == ("buy",) and log.columns["outcome"] == "rev"
    assert log.converted().tolist() == [True, False]
    with pytest.raises(tp.ValidationError, match=r"unknown column 'rev'; did you mean 'revenue'"):
        tp.EventLog._from_spec(
            {**{k: cols[k] for k in ("id", "tp", "t")}, "revenue": [1] * 3}, spec
        )


def test_the_stages_run_in_order_and_name_their_work() -> None:
    spec = tp.LogSpec(on_error="drop", duplicates="drop")
    arrays = {
        "journey": [2, 1, 1, 1, 2],
        "touchpoint": ["ad", "ad", "", "site", "ad"],
        "time": [5.0, 1.0, 2.0, 0.0, 5.0],
    }
    raw = _ingest.take_columns(arrays, spec)
    coded = _ingest.code_columns(raw, spec, str)
    rows = _ingest.check_rows(raw, coded, spec)
    assert rows.bad.tolist() == [False, False, True, False, False]  # the empty touchpoint
    _ingest.order_rows(rows, coded)
    assert rows.idx.tolist() == [3, 1, 0, 4]  # integer ids are coded in order: 1, then 2
    _ingest.drop_duplicates(rows, raw, coded, spec, str)
    assert rows.counts["duplicate"] == 1 and rows.idx.tolist() == [3, 1, 0]


def test_derived_logs_keep_every_field() -> None:
    log = tp.EventLog.from_arrays(
        ["a", "a", "b"],
        ["ad", "buy", "ad"],
        [0.0, 1.0, 0.0],
        outcome=[0, 1, 0],
        extra={"seg": ["x", "x", "y"]},
        conversions="buy",
    )
    sub = log.select(np.array([True, True, False]))
    assert sub.conversions == ("buy",) and sub.columns == log.columns
    assert sub.extra["seg"].tolist() == ["x", "x"] and sub.outcome.tolist() == [0, 1]
    with pytest.raises(TypeError, match="unknown EventLog fields"):
        log._derive(colour="red")


def test_string_conversions_are_one_name_everywhere(tmp_path) -> None:
    """``read_parquet(conversions="buy")`` split the string into letters."""
    df = pd.DataFrame(ROWS)
    p = tmp_path / "e.parquet"
    df.to_parquet(p)
    for log in (
        tp.read_parquet(p, conversions="buy"),
        tp.read_csv(_csv(tmp_path), conversions="buy"),
        tp.EventLog.from_frame(df, **KW, conversions="buy"),
    ):
        assert log.conversions == ("buy",)
        assert log.converted().tolist() == [True, False]


def test_misspelt_names_get_a_suggestion_and_a_sorted_list() -> None:
    """21-11: no "did you mean" for a misspelt column, touchpoint or funnel step."""
    names = [f"page_{c}" for c in "zyxwvutsrqponmlkjihgfedcba"] + ["checkout"]
    log = tp.EventLog.from_arrays(list(range(len(names))), names, [0.0] * len(names))
    with pytest.raises(tp.UnknownTouchpointError) as info:
        log.touchpoint_code("chekout")
    text = str(info.value)
    assert "did you mean 'checkout'?" in text
    assert "'checkout', 'page_a', 'page_b'" in text and "and 7 more" in text  # sorted, cut
    with pytest.raises(tp.UnknownTouchpointError, match="did you mean 'checkout'"):
        tp.funnel(log, ["page_a", "chekout"])
    f = tp.funnel(log, ["page_a", "checkout"])
    with pytest.raises(tp.UnknownTouchpointError, match="did you mean 'checkout'"):
        f["checkuot"]
    with pytest.raises(tp.UnknownTouchpointError, match="did you mean 'checkout'"):
        tp.response_times(log, request="page_a", response="chekout")
