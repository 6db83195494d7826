"""A pool executor's spare CLI (executor_container/cloutagent_executor/spare.py) through the local
stack: the real CLI, started and parked before any claim, serves a run that starts a session as a
CLI started for it would, and the next run resumes that session from the session store.

The agent-facing e2e suites also run against a pooled stack in ``make test``
(CLOUTAGENT_TEST_EXECUTOR_POOL), so every sandbox, secret and steering test of theirs that starts
a session goes through a spare too; this module states what is the spare's own.
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_executor_pool import client  # noqa: F401 - a connection to this module's ``pooled``
from tests.e2e.test_executor_pool import pool_executors, wait_until
from tests.e2e.test_real_agent import init_of, model_requests, run
from tests.support.stack import RunningStack
from tests.support.workspaces import snapshot_files
from tests.support.ws import WsClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pooled(tmp_path_factory) -> RunningStack:
    running = RunningStack(tmp_path_factory.mktemp("spare-stack"), extra_args=["--executor-pool", "1"])
    running.start(timeout=90)
    yield running
    running.stop()


async def new_project(client: WsClient, **agent: Any) -> tuple[str, str]:
    path = f"spare-{uuid.uuid4().hex[:8]}"
    project = (await client.ok("project.create", {"name": path, "path": path, "agent": agent}))["project"]
    await client.ok("project.join", {"projectId": project["projectId"]})
    return project["projectId"], path


def served_by_spare(stack: RunningStack, execution_id: str) -> bool:
    return any("spare CLI claimed" in line and execution_id in line for line in stack.log_text().splitlines())


def last_execution(client: WsClient, pid: str) -> str:
    return [e for e in client.events if e["projectId"] == pid and e["event"] == "execution.finished"][-1]["data"][
        "executionId"]


def tool_outputs(messages: list[dict[str, Any]]) -> list[str]:
    def text(content: Any) -> str:
        return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)

    return [text(m["content"]).strip() for m in messages if m["kind"] == "tool_result"]


async def test_a_run_that_starts_a_session_gets_the_spare_as_if_it_had_been_started_for_it(pooled, client):
    # GIVEN a project with its own prompt, a mode that lets Bash write, and a secret
    marker = f"Answer like a pirate ({uuid.uuid4().hex})."
    pid, path = await new_project(client, systemPrompt=marker, permissionMode="bypassPermissions")
    secret = f"value-{uuid.uuid4().hex}"
    await client.ok("secret.set", {"projectId": pid, "name": "DEPLOY_TOKEN", "value": secret})
    root = Path(pooled.workdir) / "workspaces"
    tenant = pooled.info["tenantId"]
    # WHEN its first run writes a file, lists the workspace root and uses the secret
    messages = await run(client, pid, f'[fake:bash command="ls -A {root}; echo ---; ls -A {root}/{tenant}"] '
                                      '[fake:bash command="echo hi > probe.txt; echo ${#DEPLOY_TOKEN}"] '
                                      '[fake:env name=DEPLOY_TOKEN]')
    execution_id = last_execution(client, pid)
    # THEN the spare served it, in the project's folder at its usual path
    assert served_by_spare(pooled, execution_id)
    init = init_of(messages)
    assert init["cwd"] == str(root / tenant / path) and init["permissionMode"] == "bypassPermissions"
    # AND the model got the project's prompt and Claude Code's context for that folder
    requests = model_requests(pooled.info, init["sessionId"])
    assert requests and all(marker in r["system"] and f"Primary working directory: {root / tenant / path}\\n"
                            in json.dumps(r["messages"]) for r in requests)
    # AND the agent saw only its own folder under the workspace root, and its secret (masked for the room)
    listing, length, _ = tool_outputs(messages)
    assert listing == f"{tenant}\n---\n{path}" and length == str(len(secret))
    said = [m["text"] for m in messages if m["kind"] == "text"]
    assert "Environment variable DEPLOY_TOKEN is set." in said
    assert secret not in json.dumps(messages) and secret not in pooled.log_text()
    # AND what it left is the project's workspace, without the file that handed it the secret
    assert snapshot_files(pooled.info, tenant, pid) == {"probe.txt": b"hi\n"}


async def test_the_next_run_resumes_the_session_the_spare_started(pooled, client):
    pid, _ = await new_project(client, permissionMode="bypassPermissions")
    first = await run(client, pid, "[fake:say text=remember-this-run]")
    assert served_by_spare(pooled, last_execution(client, pid))
    session_id = init_of(first)["sessionId"]
    # WHEN the project runs again (its session resumes: a spare cannot take that)
    second = await run(client, pid, "[fake:say text=second]")
    assert not served_by_spare(pooled, last_execution(client, pid))
    # THEN the model sees the first run's conversation: the spare's transcript reached the session store
    assert init_of(second)["sessionId"] == session_id
    [request] = model_requests(pooled.info, session_id)[-1:]
    assert "remember-this-run" in json.dumps(request["messages"])


async def test_a_spare_asks_the_team_what_the_projects_mode_leaves_open(pooled, client):
    pid, _ = await new_project(client)
    started = await client.ok("execute", {"projectId": pid, "prompt": '[fake:bash command="touch approved.txt"]'})
    execution_id = started["execution"]["executionId"]
    request = (await client.wait_for_event(lambda e: e["event"] == "permission.request"
                                           and e["data"]["executionId"] == execution_id, timeout=30))["data"]
    await client.ok("permission.respond", {"projectId": pid, "requestId": request["requestId"], "decision": "allow"})
    end = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                      and e["data"]["executionId"] == execution_id, timeout=40)
    assert end["data"]["status"] == "completed" and served_by_spare(pooled, execution_id)
    assert "approved.txt" in snapshot_files(pooled.info, pooled.info["tenantId"], pid)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def parked_executor(stack: RunningStack) -> int | None:
    """A pool executor waiting for a claim (not the last run's, on its way out) with its spare CLI."""
    log = stack.log_text()
    for pid in pool_executors(stack):
        waiting = f'"task_ref":"local:{pid}","spare_cli":true' in log
        claimed = any("pool executor claimed" in line and f"local:{pid}" in line for line in log.splitlines())
        if waiting and not claimed and children_of(pid):
            return pid
    return None


async def test_a_spare_that_dies_while_parked_is_replaced_before_a_run_needs_it(pooled, client):
    # GIVEN the waiting pool executor's spare CLI, killed (as an out-of-memory kill would)
    executor = wait_until(lambda: parked_executor(pooled), timeout=30, what="a pool executor with its spare parked")
    spare = children_of(executor)
    for pid in spare:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: "the spare CLI exited while parked" in pooled.log_text(), timeout=30, what="the executor to notice")
    # WHEN a run that starts a session comes THEN the executor's new spare serves it
    pid, _ = await new_project(client, permissionMode="bypassPermissions")
    await run(client, pid, "[fake:say text=after]")
    assert served_by_spare(pooled, last_execution(client, pid))
