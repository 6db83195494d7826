"""Abuse within one's rights is bounded: a flood from one connection is refused with RATE_LIMITED
while other tenants are served, and a join that changes nothing stores nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.http import put_json

pytestmark = pytest.mark.e2e


@pytest.fixture
def scaled_limits(ready):
    """The free plan's 50 requests a second per connection, scaled to 5: a laptop handles a flood at
    a few dozen requests a second, where Lambda would take all 500 at once."""
    put_json(f"{ready['httpUrl']}/local/limits", {"rateLimitScale": 0.1})
    yield
    put_json(f"{ready['httpUrl']}/local/limits", {"rateLimitScale": 1})


async def test_joining_a_room_twice_stores_one_event(connect, make_user):
    client = await connect(make_user())
    pid = (await client.ok("project.create", {"name": "rejoin"}))["project"]["projectId"]
    first = await client.ok("project.join", {"projectId": pid})
    second = await client.ok("project.join", {"projectId": pid})
    assert second["lastSeq"] == first["lastSeq"]
    history = await client.ok("messages.get", {"projectId": pid, "sinceSeq": 0})
    assert [e["event"] for e in history["events"]] == ["project.created", "member.joined"]


async def test_a_flood_of_joins_from_one_connection_is_rate_limited_and_others_are_served(
        connect, make_user, scaled_limits):
    # GIVEN a free-plan tenant's connection in a room, and another tenant
    flooder, other = await connect(make_user()), await connect(make_user())
    pid = (await flooder.ok("project.create", {"name": "flooded"}))["project"]["projectId"]
    other_pid = (await other.ok("project.create", {"name": "calm"}))["project"]["projectId"]

    # WHEN it sends 500 project.join frames at once, while the other tenant keeps working
    frames = [json.dumps({"action": "project.join", "requestId": f"flood-{i}", "data": {"projectId": pid}})
              for i in range(500)]
    flood = asyncio.gather(*(flooder.ws.send(frame) for frame in frames))
    others = [await other.request("ping") for _ in range(20)]
    await flood
    replies = [await flooder.wait_for_frame(lambda f, i=i: f.get("requestId") == f"flood-{i}", timeout=60)
               for i in range(500)]

    # THEN part of the flood is refused with when to retry; the other tenant is never refused
    limited = [r["error"] for r in replies if r["type"] == "error"]
    assert limited and all(e["code"] == "RATE_LIMITED" for e in limited), limited[:3]
    assert all(0 < e["details"]["retryAfterMs"] <= 1000 for e in limited)
    assert limited[0]["details"]["limit"] == "requests_per_second_per_connection"
    assert sum(1 for r in replies if r["type"] == "response") >= 1
    assert all(r["type"] == "response" for r in others)
    assert (await other.ok("project.get", {"projectId": other_pid}))["project"]["name"] == "calm"

    # AND after the window the flooder is served again
    await asyncio.sleep(1.1)
    assert (await flooder.ok("project.get", {"projectId": pid}))["project"]["projectId"] == pid


async def test_the_tenant_connection_cap_holds_under_50_parallel_handshakes(connect, make_user, ready):
    import websockets

    # GIVEN a free-plan tenant (20 open connections) with six principals, each allowed 5 of its own
    owner = make_user()
    admin = await connect(owner)
    keys = [owner["apiKey"]] + [(await admin.ok("apikey.create", {"name": f"k{i}", "role": "viewer"}))["key"]
                                for i in range(4)]
    await admin.close()
    urls = [f"{ready['wsUrl']}/?token={owner['token']}"] + [f"{ready['wsUrl']}/?apiKey={k}" for k in keys]

    # WHEN 50 handshakes race
    async def handshake(url):
        try:
            return await websockets.connect(url)
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    tried = [urls[i % len(urls)] for i in range(50)]
    results = await asyncio.gather(*(handshake(url) for url in tried))
    opened = [r for r in results if not isinstance(r, int)]
    by_principal: dict[str, list] = {}
    for url, result in zip(tried, results):
        if not isinstance(result, int):
            by_principal.setdefault(url, []).append(result)
    # the principal with the fewest open: after closing one, its own cap (5, checked then written) has room
    quietest = min(by_principal, key=lambda url: len(by_principal[url]))
    try:
        # THEN no more than the cap are open, and the rest were told why (429, or 429 for a principal's own cap)
        assert 0 < len(opened) <= 20, len(opened)
        assert {r for r in results if isinstance(r, int)} <= {429}
        if len(opened) == 20:
            assert await handshake(urls[1]) == 429  # full
        # AND a closed connection gives its slot back (to the same principal, whose own cap also holds)
        closing = by_principal[quietest][0]
        await closing.close()
        await asyncio.sleep(0.5)
        again = await handshake(quietest)
        assert not isinstance(again, int), again
        opened[opened.index(closing)] = again
    finally:
        await asyncio.gather(*(ws.close() for ws in opened))


async def test_api_keys_are_capped_per_plan_and_a_revoked_one_frees_its_place(connect, make_user):
    admin = await connect(make_user())  # a free-plan tenant: 5 live keys, one made with the user
    existing = [k for k in (await admin.ok("apikey.list"))["apiKeys"] if not k["revokedAt"]]
    made = [(await admin.ok("apikey.create", {"name": f"ci-{i}", "role": "viewer"}))["apiKey"]
            for i in range(5 - len(existing))]
    refused = await admin.error("apikey.create", {"name": "one too many", "role": "viewer"})
    assert refused["code"] == "LIMIT_EXCEEDED" and refused["details"]["limit"] == "apiKeys"
    await admin.ok("apikey.revoke", {"keyId": made[0]["keyId"]})
    await admin.ok("apikey.create", {"name": "replacement", "role": "viewer"})


def test_over_rest_a_rate_limited_request_is_429_with_retry_after(ready, make_user, scaled_limits):
    import urllib.error
    import urllib.request

    key = make_user()["apiKey"]  # free plan, scaled: 5 requests a second per caller
    answers = []
    for _ in range(30):  # the first second alone holds more than 5
        request = urllib.request.Request(f"{ready['httpUrl']}/v1/projects", headers={"X-API-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                answers.append((reply.status, None, None))
        except urllib.error.HTTPError as refused:
            answers.append((refused.code, refused.headers.get("Retry-After"), json.loads(refused.read())["error"]))
    limited = [a for a in answers if a[0] == 429]
    assert limited, answers
    status, retry_after, error = limited[0]
    assert retry_after == "1" and error["code"] == "RATE_LIMITED" and error["details"]["retryAfterMs"] <= 1000
