"""Claude Code runs (the real CLI, against the scripted model), streamed to every watcher."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
import websockets

pytestmark = pytest.mark.e2e


async def new_project(client, name="exec", **extra):
    pid = (await client.ok("project.create", {"name": name, **extra}))["project"]["projectId"]
    await client.ok("project.join", {"projectId": pid})
    return pid


def finished(execution_id):
    return lambda e: e["event"] == "execution.finished" and e["data"]["executionId"] == execution_id


def idle_after(execution_id):
    return lambda e: e["event"] == "project.state" and e["data"] == {"state": "idle", "executionId": execution_id}


async def run(client, pid, prompt, timeout=40, **options):
    started = await client.ok("execute", {"projectId": pid, "prompt": prompt, **({"options": options} if options else {})})
    execution_id = started["execution"]["executionId"]
    assert started["execution"]["status"] == "starting"
    end = await client.wait_for_event(finished(execution_id), timeout=timeout)
    await client.wait_for_event(idle_after(execution_id), timeout=10)
    return execution_id, end


async def test_two_subscribers_get_the_same_events_in_seq_order_and_history_matches(connect, make_user, ready):
    alice = await connect()
    bob = await connect(make_user(tenant_id=ready["tenantId"], role="viewer"))
    pid = await new_project(alice)
    await bob.ok("project.join", {"projectId": pid})

    execution_id, end = await run(alice, pid, "[fake:stream n=30 delay_ms=5]")
    assert end["data"]["status"] == "completed" and end["data"]["costUsd"] > 0

    def run_events(client):
        return [e for e in client.events if e["projectId"] == pid and e["seq"] >= 4]

    await bob.wait_for_event(idle_after(execution_id))
    seen_by_alice, seen_by_bob = run_events(alice), run_events(bob)
    assert seen_by_alice == seen_by_bob
    seqs = [e["seq"] for e in seen_by_alice]
    assert seqs == sorted(seqs) == list(range(seqs[0], seqs[0] + len(seqs)))
    texts = [e["data"]["text"] for e in seen_by_alice if e["event"] == "execution.message" and e["data"]["kind"] == "text"]
    assert len(texts) == 30

    history = await alice.ok("messages.get", {"projectId": pid, "sinceSeq": seqs[0] - 1, "limit": 500})
    assert history["events"] == seen_by_alice


async def test_a_viewer_may_watch_but_not_execute(connect, make_user, ready):
    owner = await connect()
    pid = await new_project(owner)
    viewer = await connect(make_user(tenant_id=ready["tenantId"], role="viewer"))
    assert (await viewer.error("execute", {"projectId": pid, "prompt": "hi"}))["code"] == "FORBIDDEN"
    assert (await viewer.error("agent.kill", {"projectId": pid}))["code"] == "FORBIDDEN"


async def test_kill_during_a_long_run_ends_it_as_cancelled_within_5_seconds(connect):
    client = await connect()
    pid = await new_project(client)
    execution_id = (await client.ok("execute", {"projectId": pid, "prompt": "[fake:sleep seconds=30]"}))["execution"]["executionId"]
    await client.wait_for_event(lambda e: e["event"] == "project.state" and e["data"]["state"] == "running")

    killed_at = time.monotonic()
    assert await client.ok("agent.kill", {"projectId": pid}) == {"executionId": execution_id, "status": "cancelling"}
    end = await client.wait_for_event(finished(execution_id), timeout=10)
    assert time.monotonic() - killed_at < 5
    assert end["data"]["status"] == "cancelled"
    await client.wait_for_event(idle_after(execution_id))
    assert (await client.error("agent.kill", {"projectId": pid}))["code"] == "CONFLICT"


async def test_of_ten_concurrent_executes_on_an_idle_project_exactly_one_starts(connect):
    client = await connect()
    pid = await new_project(client)
    replies = await asyncio.gather(*[client.request("execute", {"projectId": pid, "prompt": f"[fake:sleep seconds=3] {i}"})
                                     for i in range(10)])
    started = [r for r in replies if r["type"] == "response"]
    refused = [r for r in replies if r["type"] == "error"]
    assert len(started) == 1
    assert {r["error"]["code"] for r in refused} == {"PROJECT_BUSY"} and len(refused) == 9
    await client.ok("agent.kill", {"projectId": pid})
    await client.wait_for_event(idle_after(started[0]["data"]["execution"]["executionId"]), timeout=15)


async def test_a_crashing_cli_ends_as_failed_within_10_seconds_and_the_project_is_idle_again(connect):
    client = await connect()
    # The crash is real: the agent's own Bash call kills its CLI, which bypassPermissions allows.
    pid = await new_project(client, agent={"permissionMode": "bypassPermissions"})
    began = time.monotonic()
    execution_id, end = await run(client, pid, "[fake:crash]", timeout=10)
    assert time.monotonic() - began < 10
    assert end["data"]["status"] == "failed" and end["data"]["error"]
    project = (await client.ok("project.get", {"projectId": pid}))["project"]
    assert project["state"] == "idle" and project["executionId"] is None
    # and the project runs again
    _, again = await run(client, pid, "hello again")
    assert again["data"]["status"] == "completed"


async def test_a_cost_over_the_budget_ends_as_budget_exceeded_and_a_timeout_as_timeout(connect):
    client = await connect()
    pid = await new_project(client)
    _, over = await run(client, pid, "[fake:cost usd=5]", maxCostUsd=1)
    assert over["data"]["status"] == "budget_exceeded"
    _, slow = await run(client, pid, "[fake:sleep seconds=30]", timeoutSeconds=5, timeout=20)
    assert slow["data"]["status"] == "timeout"
    _, tokens = await run(client, pid, "[fake:tokens n=50000]", maxTokens=1000)
    assert tokens["data"]["status"] == "budget_exceeded"


async def test_a_200_kb_message_reaches_the_client_whole_and_no_frame_exceeds_32_kb(connect):
    client = await connect()
    pid = await new_project(client)
    await run(client, pid, "[fake:big bytes=200000]")
    texts = [e["data"]["text"] for e in client.events if e["event"] == "execution.message" and e["data"].get("kind") == "text"]
    assert max(len(t.encode()) for t in texts) >= 200_000
    assert max(client.raw_sizes) <= 32 * 1024
    history = await client.ok("messages.get", {"projectId": pid, "events": ["execution.message"]})
    assert max(len(e["data"].get("text", "").encode()) for e in history["events"]) >= 200_000


async def test_a_client_that_drops_for_the_middle_of_a_run_recovers_every_event_exactly_once(connect, ready):
    watcher = await connect()
    pid = await new_project(watcher)
    runner = await connect()
    execution_id = (await runner.ok("execute", {"projectId": pid, "prompt": "[fake:stream n=200 delay_ms=10]"}))["execution"]["executionId"]

    # the watcher sees the start, then drops for the middle of the run
    await watcher.wait_for_event(lambda e: e["event"] == "execution.message" and e["data"].get("kind") == "text")
    before = [e for e in watcher.events if e["projectId"] == pid]
    await watcher.close()
    await asyncio.sleep(1.0)

    # it comes back, joins, and replays from the last seq it saw
    back = await connect()
    joined = await back.ok("project.join", {"projectId": pid})
    replay, cursor = [], None
    after = before[-1]["seq"]
    while True:
        page = await back.ok("messages.get", {"projectId": pid, "sinceSeq": after, **({"cursor": cursor} if cursor else {})})
        replay += page["events"]
        cursor = page["nextCursor"]
        if not cursor:
            break
    await back.wait_for_event(finished(execution_id), timeout=30)
    live = [e for e in back.events if e["projectId"] == pid]
    merged = {e["seq"]: e for e in before + replay + live}
    seqs = sorted(merged)
    assert seqs == list(range(before[0]["seq"], seqs[-1] + 1)), "a gap in the recovered stream"
    # where history and the live stream overlap they carry the identical event, so dedupe by seq is safe
    live_by_seq = {e["seq"]: e for e in live}
    assert all(live_by_seq[e["seq"]] == e for e in replay if e["seq"] in live_by_seq)
    texts = [merged[s]["data"]["text"] for s in seqs
             if merged[s]["event"] == "execution.message" and merged[s]["data"].get("kind") == "text"]
    assert texts == [f"Streaming message {i} of 200." for i in range(1, 201)]
    assert joined["lastSeq"] >= before[-1]["seq"]


async def test_new_session_clears_the_session_and_is_refused_while_running(connect):
    client = await connect()
    pid = await new_project(client)
    execution_id, end = await run(client, pid, "hello")
    assert (await client.ok("project.get", {"projectId": pid}))["project"]["sessionId"] == end["data"]["sessionId"]
    assert (await client.ok("agent.new_session", {"projectId": pid}))["sessionId"] is None
    assert (await client.ok("project.get", {"projectId": pid}))["project"]["sessionId"] is None
    await client.ok("execute", {"projectId": pid, "prompt": "[fake:sleep seconds=20]"})
    assert (await client.error("agent.new_session", {"projectId": pid}))["code"] == "PROJECT_BUSY"
    assert (await client.error("project.delete", {"projectId": pid}))["code"] == "PROJECT_BUSY"
    await client.ok("agent.kill", {"projectId": pid})


async def test_executions_are_listed_newest_first_and_fetched_by_id_within_the_tenant(connect, make_user):
    client = await connect()
    pid = await new_project(client)
    first, _ = await run(client, pid, "one")
    second, _ = await run(client, pid, "two")
    listed = await client.ok("execution.list", {"projectId": pid, "limit": 1})
    assert [e["executionId"] for e in listed["executions"]] == [second] and listed["nextCursor"]
    rest = await client.ok("execution.list", {"projectId": pid, "cursor": listed["nextCursor"]})
    assert [e["executionId"] for e in rest["executions"]] == [first]
    got = (await client.ok("execution.get", {"projectId": pid, "executionId": first}))["execution"]
    assert got["status"] == "completed" and got["prompt"] == "one" and got["usage"]["outputTokens"] > 0
    stranger = await connect(make_user())
    assert (await stranger.error("execution.get", {"projectId": pid, "executionId": first}))["code"] == "PROJECT_NOT_FOUND"


async def test_a_second_run_resumes_the_first_runs_session_from_the_s3_session_store(connect, ready):
    import boto3

    client = await connect()
    pid = await new_project(client)
    _, first = await run(client, pid, "remember the number 7")
    _, second = await run(client, pid, "what was the number?")
    assert first["data"]["sessionId"] and second["data"]["sessionId"] == first["data"]["sessionId"]

    # the transcript lives in S3, so any new executor task (a fresh Fargate container) can resume it
    s3 = boto3.client("s3", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                      aws_access_key_id="local", aws_secret_access_key="local")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cloutagent-sessions-local",
                                                  Prefix=f"sessions/{ready['tenantId']}/").get("Contents", [])]
    assert any(first["data"]["sessionId"] in key for key in keys), keys[:5]


def executor_pids(execution_id: str) -> list[int]:
    """The local executor processes running this execution (found by their environment)."""
    marker = f"CLOUTAGENT_EXECUTION_ID={execution_id}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as environ:
                    if marker in environ.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


async def test_a_run_whose_executor_is_killed_is_billed_what_it_had_used(connect):
    # GIVEN a run that has reported some usage
    client = await connect()
    pid = await new_project(client)
    started = await client.ok("execute", {"projectId": pid, "prompt": "[fake:cost usd=0.40 messages=4 delay_ms=1500]"})
    execution_id = started["execution"]["executionId"]
    report = await client.wait_for_event(lambda e: e["event"] == "execution.usage"
                                         and e["data"]["executionId"] == execution_id
                                         and e["data"]["costUsd"] > 0, timeout=30)
    # WHEN its executor dies without a word (as an OOM-killed task would)
    for executor in executor_pids(execution_id):
        os.kill(executor, signal.SIGKILL)
    end = await client.wait_for_event(finished(execution_id), timeout=30)
    # THEN the crash detector closes it as failed, billed at least what had been reported
    assert end["data"]["status"] == "failed"
    assert report["data"]["costUsd"] <= end["data"]["costUsd"] < 0.40
