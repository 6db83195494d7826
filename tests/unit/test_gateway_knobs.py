"""The gateway emulator's knobs: an emulated @connections round trip (for the whole gateway or
one connection, asked for at $connect), and route selection that reads a frame's action without
a second full parse, yet routes every valid frame as a full parse would."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cloutagent import definitions
from cloutagent_dev.gateway import LocalGateway


class FakeInvoker:
    """Stands in for the Lambda functions: allows every connection, answers every route with 200."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        self.events.append((function_name, event))
        if function_name == definitions.routes()["authorizer"]:
            return {"principalId": "u", "context": {"tenantId": "t"},
                    "policyDocument": {"Statement": [{"Effect": "Allow"}]}}
        return {"statusCode": 200}


@pytest.fixture
async def gateway_client():
    clients: list[TestClient] = []

    async def start(post_delay_seconds: float = 0.0) -> tuple[LocalGateway, TestClient]:
        invoker = FakeInvoker()
        gateway = LocalGateway(invoker, post_delay_seconds=post_delay_seconds)  # type: ignore[arg-type]
        client = TestClient(TestServer(gateway.build_app()))
        await client.start_server()
        clients.append(client)
        return gateway, client

    yield start
    for client in clients:
        await client.close()


async def _open(gateway: LocalGateway, client: TestClient, query: str = "") -> tuple[Any, str]:
    before = set(gateway.connections)
    ws = await client.ws_connect(f"/{query}")
    for _ in range(100):
        if set(gateway.connections) - before:
            break
        await asyncio.sleep(0.01)
    (connection_id,) = set(gateway.connections) - before
    return ws, connection_id


async def test_every_post_takes_the_gateways_emulated_round_trip(gateway_client):
    # GIVEN a gateway emulating a 200 ms round trip for @connections posts
    gateway, client = await gateway_client(post_delay_seconds=0.2)
    ws, connection_id = await _open(gateway, client)

    # WHEN a frame is posted to a connection
    started = time.monotonic()
    reply = await client.post(f"/@connections/{connection_id}", data=b'{"n":1}')
    answered = time.monotonic() - started

    # THEN the POST is answered after the whole round trip, and the frame was delivered
    assert reply.status == 200 and answered >= 0.2
    assert json.loads((await ws.receive(timeout=5)).data) == {"n": 1}
    await ws.close()


async def test_a_connection_can_ask_for_its_own_round_trip_which_slows_only_its_posts(gateway_client):
    # GIVEN a gateway with no emulated delay, one client that asked for 1 s at $connect, one that did not
    gateway, client = await gateway_client()
    slow_ws, slow_id = await _open(gateway, client, "?devPostDelayMs=1000&apiKey=k")
    fast_ws, fast_id = await _open(gateway, client, "?apiKey=k")

    # WHEN both are posted to at once
    slow_post = asyncio.create_task(client.post(f"/@connections/{slow_id}", data=b'{"to":"slow"}'))
    await asyncio.sleep(0.05)
    fast_reply = await client.post(f"/@connections/{fast_id}", data=b'{"to":"fast"}')

    # THEN the fast one is answered while the slow one is still under way, and both are delivered
    assert fast_reply.status == 200 and not slow_post.done()
    assert (await slow_post).status == 200
    assert json.loads((await fast_ws.receive(timeout=5)).data) == {"to": "fast"}
    assert json.loads((await slow_ws.receive(timeout=5)).data) == {"to": "slow"}

    # AND the handlers never see the dev-only knob, only the query they would get in AWS
    queries = [event.get("queryStringParameters") for _, event in gateway.invoker.events if "queryStringParameters" in event]
    assert queries and all(q == {"apiKey": "k"} for q in queries)
    await slow_ws.close()
    await fast_ws.close()


async def test_a_connection_closed_during_the_round_trip_is_gone(gateway_client):
    # GIVEN a connection whose posts take 400 ms
    gateway, client = await gateway_client()
    ws, connection_id = await _open(gateway, client, "?devPostDelayMs=400")

    # WHEN it closes while a post to it is on its way
    post = asyncio.create_task(client.post(f"/@connections/{connection_id}", data=b"{}"))
    await asyncio.sleep(0.05)
    await ws.close()

    # THEN the post is answered 410, as API Gateway answers for a connection that is gone
    assert (await post).status == 410


def _full_parse_route(routes: dict[str, str], body: str) -> str:
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError, RecursionError):
        return "$default"
    return action if isinstance(action, str) and action in routes and not action.startswith("$") else "$default"


@pytest.mark.parametrize("body", [
    '{"action":"ping","requestId":"r1","data":{}}',
    '{"action": "project.get", "requestId": "r1", "data": {"projectId": "p_1"}}',
    ' \n{ "action" : "whoami" }',
    '{"action":"nope","data":{}}',
    '{"action":"$connect"}',
    '{"action":"ping","action":"project.delete"}',  # the last duplicate wins, as in a full parse
    '{"action":"ping","\\u0061ction":"project.delete"}',  # the same key spelled with an escape
    '{"action":"ping","data":{"action":"project.delete"}}',
    '{"requestId":"r1","action":"project.list"}',
    '{"action":"ping","data":{"text":"line\\nbreak \\"quoted\\""}}',
    '{"action":"pi\\u006eg"}',
    '["action","ping"]',
    '"ping"',
    "",
    "not json",
])
def test_route_selection_routes_every_valid_frame_as_a_full_parse_would(body):
    gateway = LocalGateway(FakeInvoker())  # type: ignore[arg-type]
    assert gateway._select_route(body) == _full_parse_route(gateway.routes, body)


def test_a_frame_that_opens_with_an_action_but_is_not_json_reaches_that_action_s_function():
    # Its function refuses it as BAD_REQUEST, exactly as $default's would (the same app code).
    gateway = LocalGateway(FakeInvoker())  # type: ignore[arg-type]
    assert gateway._select_route('{"action":"ping", oops') == "ping"
    assert gateway._select_route('{"oops", "action":"ping"}') == "$default"


async def test_the_gateways_round_trip_can_be_changed_while_it_runs(gateway_client):
    # GIVEN a gateway started without an emulated delay
    gateway, client = await gateway_client()
    assert await (await client.get("/local/gateway")).json() == {"postDelayMs": 0.0}

    # WHEN a bench sets 300 ms
    reply = await client.put("/local/gateway", json={"postDelayMs": 300})

    # THEN later posts take it
    assert reply.status == 200 and await reply.json() == {"postDelayMs": 300.0}
    ws, connection_id = await _open(gateway, client)
    started = time.monotonic()
    assert (await client.post(f"/@connections/{connection_id}", data=b"{}")).status == 200
    assert time.monotonic() - started >= 0.3
    await ws.close()

    # AND nonsense is refused, leaving the delay as it was
    for body in ({"postDelayMs": -1}, {"postDelayMs": "soon"}, {"delay": 5}, {"postDelayMs": 10**9}):
        assert (await client.put("/local/gateway", json=body)).status == 400
    assert await (await client.get("/local/gateway")).json() == {"postDelayMs": 300.0}
