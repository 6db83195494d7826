"""The SDK against the real local stack: dropped connections, renewal, keep-alive, typed errors."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from cloutagent_client import Client, ProjectBusy, ProjectNotFound, Unauthorized

pytestmark = pytest.mark.e2e


def texts(events):
    return [e["data"]["text"] for e in events if e["event"] == "execution.message" and e["data"].get("kind") == "text"]


async def follow_run(events, execution_id, on_text=None):
    """Every event of the stream until the run's execution.finished."""
    seen = []
    async for event in events:
        seen.append(event)
        if on_text and event["event"] == "execution.message" and event["data"].get("kind") == "text":
            await on_text(len(texts(seen)))
        if event["event"] == "execution.finished" and event["data"]["executionId"] == execution_id:
            return seen
    raise AssertionError("the stream ended before the run finished")


async def test_a_connection_killed_mid_run_loses_and_repeats_nothing(sdk, gateway):
    # GIVEN a client following a project through a 200-message run
    client = await sdk()
    project = await client.create_project("sdk-drop")
    events = await client.subscribe(project["projectId"])
    execution = await client.execute(project["projectId"], "[fake:stream n=200 delay_ms=10]")
    first_connection = (await client.whoami())["connectionId"]

    # WHEN the gateway drops its connection after the 50th message
    async def drop_at_50(count):
        if count == 50:
            assert await gateway.drop(first_connection) == 204

    seen = await asyncio.wait_for(follow_run(events, execution["executionId"], drop_at_50), 60)

    # THEN the iterator yielded every message once, in order, with no seq missing or repeated
    assert texts(seen) == [f"Streaming message {i} of 200." for i in range(1, 201)]
    seqs = [e["seq"] for e in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert client.reconnects == 1 and (await client.whoami())["connectionId"] != first_connection
    await events.close()


async def test_the_connection_is_renewed_before_its_age_limit_without_losing_events(sdk):
    # GIVEN a client whose connections may live 0.7 seconds (API Gateway: two hours)
    client = await sdk(max_connection_age=0.7)
    project = await client.create_project("sdk-rotate")
    async with await client.subscribe(project["projectId"]) as events:
        # WHEN a run streams for longer than that
        prompt = "[fake:stream n=30 delay_ms=50] [fake:big bytes=200000]"  # the last one arrives as chunks
        execution = await client.execute(project["projectId"], prompt)
        seen = await asyncio.wait_for(follow_run(events, execution["executionId"]), 60)
    # THEN it moved to fresh connections on its own, and the stream stayed whole
    assert client.reconnects >= 2
    assert texts(seen)[:30] == [f"Streaming message {i} of 30." for i in range(1, 31)]
    assert [len(t) for t in texts(seen)[30:]] == [200_000]


async def test_keep_alive_pings_count_as_client_activity(sdk, gateway):
    # GIVEN an idle client that pings every 0.3 s (API Gateway closes after 10 idle minutes)
    client = await sdk(ping_interval=0.3)
    connection_id = (await client.whoami())["connectionId"]
    # WHEN it sends nothing else for a while
    await asyncio.sleep(1.5)
    # THEN the gateway still saw it active just now
    info = await gateway.info(connection_id)
    connected, active = (datetime.fromisoformat(info[k].replace("Z", "+00:00")) for k in ("ConnectedAt", "LastActiveAt"))
    assert (active - connected).total_seconds() >= 1.0


async def test_errors_arrive_as_one_typed_exception_per_code(sdk, ready):
    client = await sdk()
    with pytest.raises(ProjectNotFound) as missing:
        await client.get_project("p_does_not_exist")
    assert missing.value.code == "PROJECT_NOT_FOUND" and missing.value.action == "project.get"
    project = await client.create_project("sdk-errors")
    await client.execute(project["projectId"], "[fake:sleep seconds=20]")
    with pytest.raises(ProjectBusy):
        await client.delete_project(project["projectId"])
    await client.kill(project["projectId"])
    with pytest.raises(Unauthorized):
        await Client(ready["wsUrl"], api_key="cla_not-a-real-key").connect()


async def test_a_request_over_the_frame_limit_is_refused_before_sending_and_the_connection_lives_on(sdk):
    from cloutagent_client.errors import MessageTooLarge

    client = await sdk()
    project = await client.create_project("sdk-too-large")
    with pytest.raises(MessageTooLarge) as refused:
        await client.execute(project["projectId"], "x" * 200_000)
    assert refused.value.details["bytes"] > 200_000 and refused.value.details["limitBytes"] == 128 * 1024
    assert (await client.get_project(project["projectId"]))["state"] == "idle"  # the same connection still serves
