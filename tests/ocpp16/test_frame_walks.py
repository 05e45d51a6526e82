"""The frame checks that walk a payload in Python instead of dumping it whole (one long C call
holds the GIL, and the safety core's thread waits it out) answer what the dump answered: the
same decimals for the schemas' multipleOf, the same verdict on lone surrogates."""

from __future__ import annotations

import decimal
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.rpc.frames import _unicode, as_decimals

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=())),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(blacklist_categories=())), inner, max_size=5)
    ),
    max_leaves=40,
)


def exactly(value: Any) -> Any:
    """Comparable with the type and the digits: Decimal("1.0") is not Decimal("1.00")."""
    if isinstance(value, dict):
        return {key: exactly(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exactly(item) for item in value]
    return (type(value).__name__, str(value))


@given(json_values)
def test_the_decimals_are_those_of_the_json_text(value: Any) -> None:
    reread = json.loads(json.dumps(value), parse_float=decimal.Decimal)
    assert exactly(as_decimals(value)) == exactly(reread)


@given(json_values)
def test_the_walk_judges_text_as_the_encoder_does(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode()
        encodes = True
    except UnicodeEncodeError:
        encodes = False
    assert _unicode(value) is encodes


def test_a_lone_surrogate_anywhere_is_found() -> None:
    assert _unicode({"a": [{"b": "ok \U0001f600"}]})
    assert not _unicode({"a": [{"b": "x\ud800"}]})
    assert not _unicode({"\udfff": 1})
