"""Every run in a sandbox: another tenant's files, the platform's credentials and the stack's
services are out of the agent's reach. Each test makes the real agent (bypassPermissions, real
Bash) try. Locally they need bubblewrap; in CI they must run (CI installs it), never skip."""

from __future__ import annotations

import json
import os
import re
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from cloutagent_executor.sandbox import AGENT_NICENESS, AUTOGROUP

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def sandboxed(ready):
    if ready.get("isolation") != "bubblewrap":
        if os.environ.get("CI"):
            pytest.fail(f"CI must isolate runs, but the stack reports isolation={ready.get('isolation')!r}")
        pytest.skip("this machine cannot sandbox runs (install bubblewrap and socat)")


async def new_project(client) -> tuple[str, str]:
    path = f"sbx-{uuid.uuid4().hex[:8]}"
    project = (await client.ok("project.create", {"name": path, "path": path,
                                                  "agent": {"permissionMode": "bypassPermissions"}}))["project"]
    await client.ok("project.join", {"projectId": project["projectId"]})
    return project["projectId"], path


async def run_to_end(client, pid: str, prompt: str, **options: Any) -> tuple[str, dict[str, Any]]:
    """Run a prompt until the project is idle again; the execution id and its execution.finished."""
    started = await client.ok("execute", {"projectId": pid, "prompt": prompt, **({"options": options} if options else {})})
    execution_id = started["execution"]["executionId"]
    end = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                      and e["data"]["executionId"] == execution_id, timeout=60)
    await client.wait_for_event(lambda e: e["event"] == "project.state"
                                and e["data"] == {"state": "idle", "executionId": execution_id}, timeout=10)
    return execution_id, end


async def bash(client, pid: str, command: str) -> str:
    """Run one real Bash command as the project's agent; what it printed."""
    quoted = command.replace("\\", "\\\\").replace('"', '\\"')
    execution_id, end = await run_to_end(client, pid, f'[fake:bash command="{quoted}"]')
    assert end["data"]["status"] == "completed", end["data"]
    [result] = [e["data"] for e in client.events if e["event"] == "execution.message"
                and e["data"].get("executionId") == execution_id and e["data"]["kind"] == "tool_result"]
    content = result["content"]
    return content if isinstance(content, str) else json.dumps(content)


async def test_another_tenants_files_are_nowhere_to_be_found(connect, make_user):
    # GIVEN tenant A's agent wrote a file with a random name and content in its workspace
    alice, bob = await connect(make_user()), await connect(make_user())
    a_pid, _ = await new_project(alice)
    b_pid, _ = await new_project(bob)
    name, token = f"secret-{uuid.uuid4().hex}.txt", secrets.token_hex(16)
    await bash(alice, a_pid, f"echo {token} > {name} && ls {name}")
    # WHEN tenant B's agent searches the whole file system for the name, and for the content
    # everywhere but the read-only OS files and the kernel's views
    found = await bash(bob, b_pid, f"find / -name {name} 2>/dev/null; "
                                   f"grep -rsl {token} / --exclude-dir=usr --exclude-dir=proc --exclude-dir=sys "
                                   f"--exclude-dir=dev 2>/dev/null; echo searched")
    # THEN it finds neither
    assert "searched" in found and name not in found and token not in found


async def test_what_one_run_leaves_outside_its_workspace_is_gone_for_the_next(connect, make_user):
    alice, bob = await connect(make_user()), await connect(make_user())
    a_pid, _ = await new_project(alice)
    b_pid, _ = await new_project(bob)
    mark = uuid.uuid4().hex
    planted = await bash(bob, b_pid, f"for d in /tmp /run /var/tmp /; do touch $d/planted-{mark} 2>/dev/null "
                                     f"&& echo wrote $d; done; echo done")
    assert "done" in planted
    seen = await bash(alice, a_pid, f"find / -name 'planted-{mark}' 2>/dev/null; echo searched")
    assert "searched" in seen and mark not in seen


async def test_the_agent_holds_no_platform_credential_and_cannot_read_the_executors(connect, make_user):
    client = await connect(make_user())
    pid, _ = await new_project(client)
    env = await bash(client, pid, "env; echo ===; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; "
                                  "cat /etc/shadow 2>/dev/null; ls /etc; echo end")
    for forbidden in ("AWS_", "CLOUTAGENT_", "STRIPE", "ECS_CONTAINER", "sk-ant-api03-scripted-model-dummy-key"):
        assert forbidden not in env, forbidden
    # the host's password hashes are not even there (only what programs need of /etc is)
    assert "root:" not in env.split("===", 1)[1].replace("root:x:", "") and "shadow" not in env
    # the CLI's key is this run's gateway token, not the platform's
    assert "sk-ant-api03-run-" in env and "end" in env


async def test_the_stacks_own_services_do_not_answer_the_agent(connect, make_user, ready):
    client = await connect(make_user())
    pid, _ = await new_project(client)
    targets = {"moto": urlsplit(ready["awsEndpointUrl"]), "gateway": urlsplit(ready["httpUrl"]),
               "model": urlsplit(ready["modelUrl"])}
    probes = "; ".join(f"(echo > /dev/tcp/{u.hostname}/{u.port}) 2>/dev/null && echo {name}=open || echo {name}=closed"
                       for name, u in targets.items())
    out = await bash(client, pid, probes)
    assert all(f"{name}=closed" in out for name in targets), out


async def test_a_runs_model_token_is_dead_once_the_run_ends(connect, make_user, stack):
    # GIVEN the token a finished run's CLI held
    client = await connect(make_user())
    pid, _ = await new_project(client)
    token = (await bash(client, pid, "echo $ANTHROPIC_API_KEY")).strip()
    assert token.startswith("sk-ant-api03-run-")
    # WHEN the next run's agent sends it to its own gateway (plain HTTP over bash's /dev/tcp)
    request = (f"POST /v1/messages HTTP/1.0\\r\\nx-api-key: {token}\\r\\ncontent-type: application/json\\r\\n"
               "content-length: 2\\r\\n\\r\\n{}")
    out = await bash(client, pid, f"exec 3<>/dev/tcp/127.0.0.1/8080; printf '{request}' >&3; head -1 <&3")
    # THEN the gateway refuses it: a token is good for its own run only
    assert " 401 " in out, out


async def test_a_run_whose_cli_dies_is_billed_what_its_calls_used(connect, make_user):
    # GIVEN a run that spends $0.50 in one model call, then its agent kills its own CLI
    client = await connect(make_user())
    pid, _ = await new_project(client)
    _, end = await run_to_end(client, pid, "[fake:cost usd=0.50 cli_budget=off] [fake:crash]")
    # THEN it failed, and costs what the gateway metered, though Claude Code never reported a cost
    assert end["data"]["status"] == "failed"
    assert end["data"]["costUsd"] == pytest.approx(0.50, rel=0.02)


async def test_a_run_over_its_budget_costs_at_most_one_call_more(connect, make_user):
    # (That the gateway alone stops a CLI with no budget of its own: tests/executor/test_sandbox_units.py)
    client = await connect(make_user())
    pid, _ = await new_project(client)
    _, end = await run_to_end(client, pid, "[fake:cost usd=5 messages=5]", maxCostUsd=1)
    # one $1 call may finish past the budget, but no further call costs anything
    assert end["data"]["status"] == "budget_exceeded" and end["data"]["costUsd"] < 2.5


async def test_usage_arrives_while_a_multi_call_run_goes_on_and_ends_at_the_final_cost(connect, make_user):
    client = await connect(make_user())
    pid, _ = await new_project(client)
    execution_id, end = await run_to_end(client, pid, "[fake:cost usd=0.40 messages=4 delay_ms=700]")
    reports = [e for e in client.events if e["event"] == "execution.usage" and e["data"]["executionId"] == execution_id]
    # THEN several reports came before the end, growing, the last at the run's cost
    before_end = [r for r in reports if r["seq"] < end["seq"]]
    assert len(before_end) >= 2 and before_end == reports
    costs = [r["data"]["costUsd"] for r in reports]
    assert costs == sorted(costs) and costs[-1] == pytest.approx(end["data"]["costUsd"], rel=0.01)
    assert end["data"]["costUsd"] == pytest.approx(0.40, rel=0.02)


async def test_the_agent_runs_below_the_relays_priority_and_cannot_raise_it(connect, make_user):
    # GIVEN a project's agent (its tools are its children)
    alice = await connect(make_user())
    pid, _ = await new_project(alice)
    # WHEN it asks its niceness and its CPU group, then tries to take back the share the relay has over it
    said = await bash(alice, pid, "nice; renice -n 0 -p $$ >/dev/null 2>&1 && echo raised || echo refused; "
                                  "cat /proc/$PPID/autogroup 2>/dev/null || echo no-autogroup")
    # THEN it runs at the agent's niceness, and the kernel refuses it more
    niceness, raised, group = said.splitlines()
    assert [niceness, raised] == [str(AGENT_NICENESS), "refused"]
    # AND where the kernel shares the CPU between sessions, the CLI's session (the command's parent's)
    # is a group of its own at that niceness too: else the niceness would not count against the relay
    if AUTOGROUP.exists():
        assert re.fullmatch(rf"/autogroup-\d+ nice {AGENT_NICENESS}", group)
        # ours reads empty in the root group (a process that never left init's session, as in CI's container)
        assert group.split()[:1] != AUTOGROUP.read_text().split()[:1]
