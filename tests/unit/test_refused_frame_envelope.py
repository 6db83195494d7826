"""An error reply echoes the requestId (and action) whenever the frame was read far enough."""

from __future__ import annotations

import json

import pytest

from cloutagent.gateway.app import WebSocketApp


def _reply(body: str) -> dict:
    event = {"body": body, "requestContext": {"connectionId": "c1", "authorizer": {
        "tenantId": "t_1", "userId": "u_1", "role": "owner"}}}
    return json.loads(WebSocketApp().handler(event)["body"])


@pytest.mark.parametrize("frame, action, request_id", [
    ({"action": "project.get", "requestId": "r1", "data": [1]}, "project.get", "r1"),  # data not an object
    ({"action": 7, "requestId": "r2"}, None, "r2"),  # action not a string
    ({"action": "a" * 65, "requestId": "r3"}, None, "r3"),  # action too long
    ({"requestId": "r4", "data": {}}, None, "r4"),  # no action
    ({"action": "ping", "requestId": "r" * 65}, "ping", None),  # requestId too long: not echoed
    ({"action": "ping", "requestId": 5}, "ping", None),  # requestId not a string
])
def test_a_refused_frame_is_answered_with_what_could_be_read_of_its_envelope(frame, action, request_id):
    reply = _reply(json.dumps(frame))
    assert reply["type"] == "error" and reply["error"]["code"] == "BAD_REQUEST"
    assert (reply["action"], reply["requestId"]) == (action, request_id)


def test_a_body_that_is_not_an_object_has_nothing_to_echo():
    reply = _reply("[1]")
    assert reply["error"]["code"] == "BAD_REQUEST" and reply["requestId"] is None and reply["action"] is None
