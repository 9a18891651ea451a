"""Journey JSON: content never taken for a path, malformed documents refused.

Cases are named by what they must do: ``error`` (a clear error naming the parameter,
column, row or value), ``drop`` (dropped and counted) or ``ok`` (a correct result,
checked independently).
"""

from __future__ import annotations

import json

import pytest

import touchpoint as tp

# ---------------------------------------------------------------------------------
# Journey JSON: content is never taken for a path; malformed documents refused
# ---------------------------------------------------------------------------------
GOOD_DOC = {
    "format": "touchpoint.journey/1",
    "stages": [{"name": "s", "order": 0}],
    "touchpoints": [{"name": "a", "stage": "s"}, {"name": "b", "stage": "s"}],
    "transitions": [{"source": "a", "target": "b", "count": 3}],
}


def _doc(**changes):
    d = json.loads(json.dumps(GOOD_DOC))
    for path, value in changes.items():
        section, _, field = path.partition("__")
        d[section][0][field] = value
    return d


def test_error_from_json_never_opens_a_path(tmp_path):
    target = tmp_path / "other.json"
    target.write_text(json.dumps(GOOD_DOC))
    with pytest.raises(tp.ValidationError, match=r"not valid JSON.*read_journey"):
        tp.Journey.from_json(str(target))


def test_error_json_document_holding_a_path(tmp_path):
    target = tmp_path / "other.json"
    target.write_text(json.dumps(GOOD_DOC))
    holder = tmp_path / "holder.json"
    holder.write_text(json.dumps(str(target)))
    with pytest.raises(tp.ValidationError, match=r"JSON object"):
        tp.read_journey(holder)


def test_ok_read_journey_and_pathlike(tmp_path):
    p = tmp_path / "j.json"
    p.write_text(json.dumps(GOOD_DOC))
    assert tp.read_journey(p).probability("a", "b") == 1.0
    assert tp.Journey.from_json(json.dumps(GOOD_DOC)).probability("a", "b") == 1.0


BAD_JSON_TEXT = {
    "deep_list": "[" * 100_000 + "]" * 100_000,
    "deep_object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "nan_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": NaN'),
    "inf_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": Infinity'),
    "huge_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": 1e400'),
    "float_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": 2.5'),
    "negative_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": -1'),
    "text_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": "3"'),
    "bool_count": json.dumps(GOOD_DOC).replace('"count": 3', '"count": true'),
    "text_stage_order": json.dumps(_doc(stages__order="first")),
    "nan_stage_order": json.dumps(GOOD_DOC).replace('"order": 0', '"order": NaN'),
    "list_top": "[1, 2]",
    "string_top": '"hello"',
    "number_top": "3",
    "null_top": "null",
    "touchpoints_not_list": json.dumps(dict(GOOD_DOC, touchpoints={"a": 1})),
    "touchpoint_not_object": json.dumps(dict(GOOD_DOC, touchpoints=["a"])),
    "touchpoint_name_number": json.dumps(dict(GOOD_DOC, touchpoints=[{"name": 5}])),
    "transition_unknown": json.dumps(
        dict(GOOD_DOC, transitions=[{"source": "a", "target": "zz", "count": 1}])
    ),
    "transition_missing_target": json.dumps(dict(GOOD_DOC, transitions=[{"source": "a"}])),
    "wrong_format": json.dumps(dict(GOOD_DOC, format="other/2")),
    "truncated": json.dumps(GOOD_DOC)[:-5],
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(BAD_JSON_TEXT))
def test_error_malformed_journey_json(case):
    with pytest.raises(tp.TouchpointError, match=r"journey|JSON"):
        tp.Journey.from_json(BAD_JSON_TEXT[case])


def test_error_read_journey_directory(tmp_path):
    with pytest.raises(tp.ValidationError, match=r"directory|not a file"):
        tp.read_journey(tmp_path)


def test_error_read_journey_missing(tmp_path):
    with pytest.raises(tp.ValidationError, match=r"no such file"):
        tp.read_journey(tmp_path / "nope.json")
