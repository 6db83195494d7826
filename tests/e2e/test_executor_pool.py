"""The executor pool through the local stack: real pool processes claiming from moto's SQS over HTTP.

A stack of this module's own runs with ``--executor-pool 1`` and moto's request recorder on, so a
test can see which AWS calls were made before any claim. The session stack (pool 0) shows that
without a pool every run still gets a fresh process.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
from pathlib import Path

import boto3
import pytest

from tests.support.stack import RunningStack
from tests.support.ws import WsClient

pytestmark = pytest.mark.e2e

TENANT_VARIABLES = ("CLOUTAGENT_TENANT_ID", "CLOUTAGENT_PROJECT_ID", "CLOUTAGENT_EXECUTION_ID", "CLAUDE_CONFIG_DIR")


@pytest.fixture(scope="module")
def pooled(tmp_path_factory) -> RunningStack:
    workdir = tmp_path_factory.mktemp("pooled-stack")
    running = RunningStack(workdir, extra_args=["--executor-pool", "1"],
                           env={"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(workdir / "moto.jsonl")})
    running.start(timeout=90)
    yield running
    running.stop()


@pytest.fixture
async def client(pooled):
    opened = await WsClient.connect(f"{pooled.info['wsUrl']}/?token={pooled.info['token']}")
    yield opened
    await opened.close()


def environ_of(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as raw:
        pairs = [item.split(b"=", 1) for item in raw.read().split(b"\0") if b"=" in item]
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def executors_with(variable: str, value: str) -> dict[int, dict[str, str]]:
    """Executor processes (``python -m cloutagent_executor``) whose environment has variable=value."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if b"cloutagent_executor" not in argv[:4]:
                continue
            env = environ_of(int(entry))
        except OSError:
            continue
        if env.get(variable) == value:
            found[int(entry)] = env
    return found


def pool_executors(stack: RunningStack) -> dict[int, dict[str, str]]:
    return executors_with("CLOUTAGENT_CLAUDE_CONFIG_ROOT", str(stack.workdir / "claude-config"))


def wait_until(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def recorded_requests(stack: RunningStack) -> list[dict]:
    """What moto was asked so far (its recorder; a line cut by a concurrent write is skipped)."""
    requests = []
    for line in (stack.workdir / "moto.jsonl").read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        body = entry.get("body") or ""
        entry["text"] = base64.b64decode(body).decode(errors="replace") if entry.get("body_encoded") else body
        requests.append(entry)
    return requests


def service_of(request: dict) -> str:
    authorization = request["headers"].get("Authorization", "")
    return authorization.split("/")[3] if authorization.count("/") >= 4 else ""


def claimer_of(stack: RunningStack, project_id: str, execution_id: str) -> str | None:
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["awsEndpointUrl"], region_name=stack.info["region"],
                            aws_access_key_id="local", aws_secret_access_key="local")
    item = dynamodb.get_item(TableName=stack.info["tableName"], ConsistentRead=True, Key={
        "PK": {"S": f"T#{stack.info['tenantId']}#P#{project_id}"}, "SK": {"S": f"EXEC#{execution_id}"}})["Item"]
    return item.get("claimedBy", {}).get("S")


async def new_project(client: WsClient) -> str:
    pid = (await client.ok("project.create", {"name": "pool", "agent": {"permissionMode": "bypassPermissions"}}))[
        "project"]["projectId"]
    await client.ok("project.join", {"projectId": pid})
    return pid


async def start(client: WsClient, pid: str, prompt: str) -> str:
    return (await client.ok("execute", {"projectId": pid, "prompt": prompt}))["execution"]["executionId"]


def finished(execution_id: str):
    return lambda e: e["event"] == "execution.finished" and e["data"]["executionId"] == execution_id


def running(execution_id: str):
    return lambda e: e["event"] == "project.state" and e["data"] == {"state": "running", "executionId": execution_id}


def test_a_waiting_pool_executor_holds_nothing_of_a_tenant(pooled):
    # GIVEN the stack's one pool executor, long-polling the claim queue
    [(pid, env)] = wait_until(lambda: list(pool_executors(pooled).items()), what="a pool executor").copy()
    wait_until(lambda: any(r["headers"].get("X-Amz-Target") == "AmazonSQS.ReceiveMessage"
                           for r in recorded_requests(pooled)), what="a long poll")
    # THEN its environment names no tenant, project, execution or config directory
    assert not [name for name in TENANT_VARIABLES if name in environ_of(pid)], environ_of(pid)
    assert env["CLOUTAGENT_CLAIM_QUEUE_URL"]
    # AND no tenant session was ever made: not one STS call yet (the next test sees the first)
    assert [r["url"] for r in recorded_requests(pooled) if service_of(r) == "sts"] == []


async def test_an_idle_pool_executor_claims_the_run_which_completes_and_a_new_one_takes_its_place(pooled, client):
    [idle] = wait_until(lambda: list(pool_executors(pooled)), what="a pool executor")
    pid = await new_project(client)
    # WHEN a run is executed
    execution_id = await start(client, pid, "hello from the pool")
    end = await client.wait_for_event(finished(execution_id), timeout=40)
    # THEN it completes, run by the executor that was waiting
    assert end["data"]["status"] == "completed"
    assert claimer_of(pooled, pid, execution_id) == f"local:{idle}"
    # AND that executor's tenant session came only with the claim, named for its execution
    sessions = [r["text"] for r in recorded_requests(pooled) if service_of(r) == "sts"]
    assert sessions and all(f"RoleSessionName=run-{execution_id}" in text for text in sessions)
    # AND it exits (single use), while another pool executor is waiting in its place
    wait_until(lambda: not os.path.exists(f"/proc/{idle}"), what="the claimer to exit")
    replacement = wait_until(lambda: [p for p in pool_executors(pooled) if p != idle], what="a replacement")
    assert len(replacement) == 1


async def test_a_kill_reaches_the_pool_executor_that_claimed_the_run(pooled, client):
    pid = await new_project(client)
    wait_until(lambda: pool_executors(pooled), what="a pool executor")
    execution_id = await start(client, pid, "[fake:sleep seconds=30]")
    await client.wait_for_event(running(execution_id), timeout=20)
    claimer = int(claimer_of(pooled, pid, execution_id).removeprefix("local:"))
    # the claim made its own CLI config directory, as the launcher makes a launched run's
    config_dir = pooled.workdir / "claude-config" / execution_id
    assert config_dir.is_dir()

    killed_at = time.monotonic()
    await client.ok("agent.kill", {"projectId": pid})
    end = await client.wait_for_event(finished(execution_id), timeout=10)
    assert end["data"]["status"] == "cancelled" and time.monotonic() - killed_at < 5
    wait_until(lambda: not os.path.exists(f"/proc/{claimer}"), timeout=10, what="the claimer to exit")
    assert not config_dir.exists()


async def test_a_pool_executor_that_dies_mid_run_leaves_its_run_failed_not_stuck(pooled, client):
    pid = await new_project(client)
    wait_until(lambda: pool_executors(pooled), what="a pool executor")
    execution_id = await start(client, pid, "[fake:sleep seconds=30]")
    await client.wait_for_event(running(execution_id), timeout=20)
    # WHEN the claimer dies without a word (as an OOM-killed task would)
    os.kill(int(claimer_of(pooled, pid, execution_id).removeprefix("local:")), signal.SIGKILL)
    # THEN the launcher finishes its run as failed, and the project is free again
    end = await client.wait_for_event(finished(execution_id), timeout=30)
    assert end["data"]["status"] == "failed" and "exited" in end["data"]["error"]
    project = (await client.ok("project.get", {"projectId": pid}))["project"]
    assert project["state"] == "idle"


async def test_without_a_pool_every_run_still_gets_a_fresh_executor(connect, ready, stack):
    # GIVEN the session stack, started without --executor-pool
    assert ready["executorPool"] == 0 and pool_executors(stack) == {}
    client = await connect()
    pid = await new_project(client)
    execution_id = await start(client, pid, "[fake:sleep seconds=30]")
    await client.wait_for_event(running(execution_id), timeout=30)
    # THEN its executor was started for it, with its ids, and no claim was made
    assert executors_with("CLOUTAGENT_EXECUTION_ID", execution_id)
    assert claimer_of(stack, pid, execution_id) is None
    await client.ok("agent.kill", {"projectId": pid})
    await client.wait_for_event(finished(execution_id), timeout=10)


def test_stopping_the_stack_stops_every_pool_executor(pooled):
    waiting = wait_until(lambda: list(pool_executors(pooled)), what="a pool executor")
    pooled.stop()
    wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in waiting), timeout=10,
               what="pool executors to exit")
    assert pool_executors(pooled) == {}
