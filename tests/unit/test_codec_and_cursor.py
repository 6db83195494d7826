"""Item encoding and history cursors."""

import pytest

from cloutagent.adapters.dynamo.codec import from_item, to_item
from cloutagent.errors import BadRequest
from cloutagent.services.rooms import decode_cursor, encode_cursor


def test_items_round_trip_without_decimals():
    values = {"s": "x", "i": 3, "f": 0.125, "b": True, "m": {"l": [1, "a", {"n": None}]}, "ss": {"a", "b"}}
    back = from_item(to_item(values))
    assert back == values and isinstance(back["i"], int) and isinstance(back["f"], float)


def test_cursors_round_trip_and_garbage_is_bad_request():
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in ["@@@", "djE6eA", "", "dj"]:
        with pytest.raises(BadRequest):
            decode_cursor(bad)
