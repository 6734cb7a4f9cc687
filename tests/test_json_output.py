"""JSON output is what the standard library's json.dumps(indent=2, ensure_ascii=False) writes,
character for character: the renderer's faster indenter is checked against it."""

from __future__ import annotations

import json
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbscli.render import dumps

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # any code point: quotes, backslashes, control characters, lone surrogates, non-ASCII
)
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(documents)
def test_any_document_is_written_as_json_dumps_writes_it(document):
    assert dumps(document) == json.dumps(document, indent=2, ensure_ascii=False)


class Code(IntEnum):
    REJECTED = 1


def test_int_subclasses_and_nested_empties_and_a_report_like_document():
    document = {
        "volumes": [
            {"volume_id": "5c1a9f0e", "volume_name": 'odd "quoted" \\ name\n', "age_seconds": None, "stale": True},
            {"days": [], "by_status": {}, "code": Code.REJECTED, "size": 1.5e300, "small": -0.0},
        ],
        1: "one",
        2.5: "two and a half",
        None: "none",
        False: "false",
    }
    assert dumps(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_what_json_cannot_carry_is_refused_as_json_dumps_refuses_it():
    for bad in ({"x": object()}, {(1, 2): "tuple key"}, {"x": {1, 2}}):
        with pytest.raises(TypeError):
            json.dumps(bad, indent=2)
        with pytest.raises(TypeError):
            dumps(bad)
