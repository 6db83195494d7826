"""The real Claude Code CLI in every run: its tools really run, and the project's settings really
reach the model (the scripted model records what it was sent: GET /local/model/requests)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from claude_agent_sdk._cli_version import __cli_version__ as BUNDLED_CLI_VERSION

from tests.support.workspaces import snapshot_files

pytestmark = pytest.mark.e2e


async def new_project(client, **fields: Any) -> tuple[str, str]:
    path = f"agent-{uuid.uuid4().hex[:8]}"
    project = (await client.ok("project.create", {"name": path, "path": path, **fields}))["project"]
    await client.ok("project.join", {"projectId": project["projectId"]})
    return project["projectId"], path


async def run(client, pid: str, prompt: str) -> list[dict[str, Any]]:
    """Run a prompt to its end; the run's execution.message data, in order."""
    started = await client.ok("execute", {"projectId": pid, "prompt": prompt})
    execution_id = started["execution"]["executionId"]
    end = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                      and e["data"]["executionId"] == execution_id, timeout=40)
    await client.wait_for_event(lambda e: e["event"] == "project.state"
                                and e["data"] == {"state": "idle", "executionId": execution_id}, timeout=10)
    assert end["data"]["status"] == "completed", end["data"]
    return [e["data"] for e in client.events if e["projectId"] == pid and e["event"] == "execution.message"
            and end["seq"] > e["seq"]]


def model_requests(ready: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{ready['httpUrl']}/local/model/requests", timeout=10) as reply:
        recorded = json.loads(reply.read())
    return [r for r in recorded if r["headers"].get("x-claude-code-session-id") == session_id]


def init_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in messages if m["kind"] == "system" and m["subtype"] == "init")


async def test_every_run_is_the_bundled_claude_code(connect):
    client = await connect()
    pid, _ = await new_project(client)
    init = init_of(await run(client, pid, "hello"))
    assert init["claudeCodeVersion"] == BUNDLED_CLI_VERSION


async def test_bash_really_runs_in_the_projects_workspace_in_bypass_mode(connect, stack):
    # GIVEN a project whose agent may run anything
    client = await connect()
    pid, path = await new_project(client, agent={"permissionMode": "bypassPermissions"})
    # WHEN the model asks for a Bash call that writes a file and reads it back
    messages = await run(client, pid, '[fake:bash command="echo hi > probe.txt && cat probe.txt"]')
    # THEN the CLI ran it in the project's folder: the result says hi, the file is in the project's
    # saved workspace, and the run's folder is gone (nothing of it stays on the machine)
    [result] = [m for m in messages if m["kind"] == "tool_result"]
    assert result["isError"] is False and "hi" in json.dumps(result["content"])
    workspace = Path(stack.workdir) / "workspaces" / stack.info["tenantId"] / path
    assert init_of(messages)["cwd"] == str(workspace.resolve())
    assert snapshot_files(stack.info, stack.info["tenantId"], pid) == {"probe.txt": b"hi\n"}
    assert not workspace.exists()


async def test_the_next_run_starts_from_what_the_last_one_left(connect, stack):
    client = await connect()
    pid, _ = await new_project(client, agent={"permissionMode": "bypassPermissions"})
    await run(client, pid, '[fake:bash command="mkdir -p notes && echo one > notes/a.txt && ln -s /etc/passwd leak"]')
    messages = await run(client, pid, '[fake:bash command="cat notes/a.txt; ls -a"]')
    result = [m for m in messages if m["kind"] == "tool_result"][-1]
    listing = json.dumps(result["content"])
    # The file came back; the link to a file outside the workspace was dropped, not followed
    assert "one" in listing and "leak" not in listing


async def test_the_projects_agent_settings_reach_the_model(connect, ready):
    # GIVEN a project with its own system prompt, a tool it forbids and a tool it pre-approves
    client = await connect()
    marker = f"Always answer like a pirate ({uuid.uuid4().hex})."
    pid, path = await new_project(client, agent={"systemPrompt": marker, "disallowedTools": ["WebFetch"],
                                                 "allowedTools": ["Bash(touch:*)"]})
    # WHEN a run asks for a Bash call that writes (which the default mode would refuse)
    messages = await run(client, pid, '[fake:bash command="touch approved.txt"]')
    requests = model_requests(ready, init_of(messages)["sessionId"])
    # THEN the model got the project's prompt after Claude Code's own, was never offered WebFetch,
    # and saw the pre-approved call succeed
    assert requests and all(marker in r["system"] and len(r["system"]) > len(marker) for r in requests)
    assert all("WebFetch" not in r["tools"] and "Bash" in r["tools"] for r in requests)
    [result] = [m for m in messages if m["kind"] == "tool_result"]
    assert result["isError"] is False


async def test_without_approval_a_writing_command_is_refused_and_the_model_is_told(connect, ready):
    # Nobody answers the permission request (tests/e2e/test_steering.py answers them), so it is
    # denied when the project's approval timeout passes
    client = await connect()
    pid, path = await new_project(client, agent={"approvalTimeoutSeconds": 5})
    messages = await run(client, pid, '[fake:bash command="touch refused.txt"]')
    [result] = [m for m in messages if m["kind"] == "tool_result"]
    assert result["isError"] is True
    last = model_requests(ready, init_of(messages)["sessionId"])[-1]
    results = [block for message in last["messages"] if message["role"] == "user"
               and isinstance(message["content"], list) for block in message["content"]
               if block.get("type") == "tool_result"]
    assert results and results[-1]["is_error"] is True


HOOK_SETTINGS = ('{\\"hooks\\": {\\"PreToolUse\\": [{\\"matcher\\": \\"Bash\\", \\"hooks\\": '
                 '[{\\"type\\": \\"command\\", \\"command\\": \\"touch hook-ran.txt\\"}]}]}}')
PLANT_HOOK = f'[fake:bash command="mkdir -p .claude && echo \'{HOOK_SETTINGS}\' > .claude/settings.json"]'


@pytest.mark.parametrize("opted_in", [False, True])
async def test_a_hook_left_in_the_workspace_runs_only_where_the_project_opted_in(connect, stack, opted_in):
    # GIVEN a run that leaves a .claude/settings.json with a Bash hook in its workspace
    client = await connect()
    agent = {"permissionMode": "bypassPermissions", "projectSettings": opted_in}
    pid, path = await new_project(client, agent=agent)
    await run(client, pid, PLANT_HOOK)
    files = snapshot_files(stack.info, stack.info["tenantId"], pid)
    assert ".claude/settings.json" in files and "hook-ran.txt" not in files
    # WHEN the next run uses Bash
    await run(client, pid, '[fake:bash command="true"]')
    # THEN the hook ran only in the project that opted in to its workspace's settings
    assert ("hook-ran.txt" in snapshot_files(stack.info, stack.info["tenantId"], pid)) is opted_in
