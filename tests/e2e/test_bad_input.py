"""Hostile or broken frames get a typed error (or a 1009 close) and everyone else is unaffected."""

from __future__ import annotations

import json

import pytest
import websockets

pytestmark = pytest.mark.e2e


async def test_malformed_frames_get_typed_errors_and_the_connection_stays_usable(connect):
    client = await connect()
    cases = {
        "not json": "this is not json",
        "json but not an object": "[1, 2, 3]",
        "no action": json.dumps({"requestId": "x", "data": {}}),
        "data not an object": json.dumps({"action": "project.get", "requestId": "x", "data": [1]}),
        "requestId too long": json.dumps({"action": "ping", "requestId": "r" * 65}),
        "deep nesting": '{"action": "ping", "data": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}",
    }
    for name, raw in cases.items():
        await client.send_raw(raw)
        frame = await client.next_frame()
        assert frame["type"] == "error" and frame["error"]["code"] == "BAD_REQUEST", (name, frame)
    # A refused frame whose requestId can be read gets it back, so the sender stops waiting at once
    for raw in ({"action": "project.get", "requestId": "r-data", "data": [1]},
                {"action": 7, "requestId": "r-action", "data": {}}):
        await client.send_raw(json.dumps(raw))
        frame = await client.next_frame()
        assert frame["error"]["code"] == "BAD_REQUEST" and frame["requestId"] == raw["requestId"], frame
    assert (await client.error("project.explode"))["code"] == "UNKNOWN_ACTION"
    assert (await client.ok("ping"))["pong"] is True


async def test_wrong_types_and_over_long_fields_are_bad_request_with_field_details(connect):
    client = await connect()
    error = await client.error("project.create", {"name": 42, "limits": {"maxCostUsd": "lots"}})
    assert error["code"] == "BAD_REQUEST"
    fields = {e["field"] for e in error["details"]["errors"]}
    assert {"name", "limits.maxCostUsd"} <= fields
    assert (await client.error("project.create", {"name": "n" * 101}))["code"] == "BAD_REQUEST"
    assert (await client.error("project.get", {"projectId": "../../etc"}))["code"] == "BAD_REQUEST"
    assert (await client.error("messages.get", {"projectId": "p", "limit": 501}))["code"] == "BAD_REQUEST"
    assert (await client.error("messages.get", {"projectId": "p", "cursor": "@@@"}))["code"] in ("BAD_REQUEST", "PROJECT_NOT_FOUND")


async def test_a_frame_over_128_kb_closes_that_connection_with_1009_and_others_carry_on(connect):
    bystander = await connect()
    offender = await connect()
    await offender.send_raw(json.dumps({"action": "ping", "data": {"pad": "x" * (129 * 1024)}}))
    await offender._reader  # the server closes the connection
    assert offender.ws.close_code == 1009
    assert (await bystander.ok("ping"))["pong"] is True


async def test_errors_never_carry_stack_traces(connect):
    client = await connect()
    error = await client.error("project.create", {"name": "x", "agent": {"maxTurns": "many"}})
    text = json.dumps(error)
    assert "Traceback" not in text and "File \"" not in text
