"""The team in the loop, through the local stack and the real CLI: permission requests answered by
whoever is watching, questions, follow-ups, interrupts, and a kill while the agent waits."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WRITE = '[fake:bash command="echo approved > approved.txt; echo approved"]'


async def team(connect, make_user):
    """An owner, a member and a viewer of one new tenant, all watching one new project."""
    owner = make_user()
    member = make_user(tenant_id=owner["tenantId"], role="member")
    viewer = make_user(tenant_id=owner["tenantId"], role="viewer")
    clients = [await connect(user) for user in (owner, member, viewer)]
    project = (await clients[0].ok("project.create", {"name": f"steer-{uuid.uuid4().hex[:8]}",
                                                      "agent": {"approvalTimeoutSeconds": 20}}))["project"]
    for client in clients:
        await client.ok("project.join", {"projectId": project["projectId"]})
    return project["projectId"], clients


def of(client, pid: str, name: str, execution_id: str | None = None) -> list[dict[str, Any]]:
    return [e for e in client.events if e["projectId"] == pid and e["event"] == name
            and (execution_id is None or e["data"].get("executionId") == execution_id)]


async def started(client, pid: str, prompt: str, **fields: Any) -> str:
    reply = await client.ok("execute", {"projectId": pid, "prompt": prompt, **fields})
    return reply["execution"]["executionId"]


async def request_of(client, pid: str, execution_id: str) -> dict[str, Any]:
    event = await client.wait_for_event(lambda e: e["event"] == "permission.request"
                                        and e["data"]["executionId"] == execution_id, timeout=30)
    return event["data"]


async def finished(client, pid: str, execution_id: str, timeout: float = 60) -> dict[str, Any]:
    event = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                        and e["data"]["executionId"] == execution_id, timeout=timeout)
    return event["data"]


def tool_results(client, pid: str, execution_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in of(client, pid, "execution.message", execution_id) if e["data"]["kind"] == "tool_result"]


async def test_a_request_reaches_every_watcher_and_the_first_members_answer_wins(connect, make_user):
    pid, (owner, member, viewer) = await team(connect, make_user)
    execution_id = await started(owner, pid, WRITE)
    # GIVEN the agent asks to run the command: every watcher sees the request, and the project waits
    request = await request_of(owner, pid, execution_id)
    await request_of(member, pid, execution_id)
    assert request["toolName"] == "Bash" and "approved.txt" in request["input"]["command"]
    await owner.wait_for_event(lambda e: e["event"] == "project.state" and e["data"]["state"] == "waiting")
    answer = {"projectId": pid, "requestId": request["requestId"], "decision": "allow"}
    # WHEN a viewer tries to answer, then a member allows, then the owner answers too
    assert (await viewer.error("permission.respond", answer))["code"] == "FORBIDDEN"
    began = time.monotonic()
    resolved = await member.ok("permission.respond", answer)
    late = await owner.error("permission.respond", {**answer, "decision": "deny"})
    # THEN the member's answer stands, the tool runs, and everyone saw how it was resolved
    assert resolved["decision"] == "allow" and late["code"] == "CONFLICT" and late["details"]["decision"] == "allow"
    end = await finished(owner, pid, execution_id)
    assert end["status"] == "completed", end
    [result] = tool_results(owner, pid, execution_id)
    assert result["isError"] is False and "approved" in json.dumps(result["content"])
    assert time.monotonic() - began < 30
    for client in (owner, member, viewer):
        [seen] = of(client, pid, "permission.resolved", execution_id)
        assert seen["data"]["decision"] == "allow" and seen["data"]["by"] == resolved["by"]
    # and the history replays request and resolution in seq order
    page = await viewer.ok("messages.get", {"projectId": pid, "sinceSeq": 0, "limit": 500})
    names = [e["event"] for e in page["events"] if e["event"].startswith("permission.")]
    assert names == ["permission.request", "permission.resolved"]
    # and an answer that arrives after the run ended is still told which answer won, and whose
    after_end = await owner.error("permission.respond", {**answer, "decision": "deny"})
    assert after_end["code"] == "CONFLICT" and "already answered" in after_end["message"], after_end
    assert after_end["details"] == {"decision": "allow", "by": resolved["by"]}
    never_asked = await owner.error("permission.respond", {**answer, "requestId": "perm-never-asked"})
    assert never_asked["code"] == "CONFLICT" and "Nothing is running" in never_asked["message"], never_asked


async def test_a_denied_command_never_runs_and_the_agent_is_told(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    execution_id = await started(owner, pid, WRITE)
    request = await request_of(member, pid, execution_id)
    await member.ok("permission.respond", {"projectId": pid, "requestId": request["requestId"], "decision": "deny",
                                           "message": "Not in main, please"})
    end = await finished(owner, pid, execution_id)
    assert end["status"] == "completed"
    [result] = tool_results(owner, pid, execution_id)
    assert result["isError"] is True and "Not in main, please" in json.dumps(result["content"])
    # the command never ran: a later run finds no file
    check = await started(owner, pid, '[fake:bash command="ls"]')
    await finished(owner, pid, check)
    assert "approved.txt" not in json.dumps(tool_results(owner, pid, check))


async def test_an_unanswered_request_is_denied_after_the_projects_timeout(connect, make_user):
    owner = make_user()
    client = await connect(owner)
    project = (await client.ok("project.create", {"name": f"steer-{uuid.uuid4().hex[:8]}",
                                                  "agent": {"approvalTimeoutSeconds": 5}}))["project"]
    pid = project["projectId"]
    await client.ok("project.join", {"projectId": pid})
    execution_id = await started(client, pid, WRITE)
    await request_of(client, pid, execution_id)
    end = await finished(client, pid, execution_id)
    assert end["status"] == "completed"
    [resolved] = of(client, pid, "permission.resolved", execution_id)
    assert resolved["data"]["decision"] == "deny" and resolved["data"]["reason"] == "timeout"
    [result] = tool_results(client, pid, execution_id)
    assert result["isError"] is True and "Nobody answered" in json.dumps(result["content"])


async def test_a_question_answered_from_a_client_reaches_the_agent(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    question = {"questions": [{"question": "Which database?", "header": "Database", "multiSelect": False,
                               "options": [{"label": "Postgres", "description": "relational"},
                                           {"label": "DynamoDB", "description": "key-value"}]}]}
    execution_id = await started(owner, pid, f"[fake:tool name=AskUserQuestion input={json.dumps(question)}]")
    request = await request_of(member, pid, execution_id)
    assert request["kind"] == "question" and request["input"]["questions"][0]["question"] == "Which database?"
    await member.ok("permission.respond", {"projectId": pid, "requestId": request["requestId"], "decision": "allow",
                                           "answers": {"Which database?": "DynamoDB"}})
    end = await finished(owner, pid, execution_id)
    assert end["status"] == "completed", end
    texts = [e["data"]["text"] for e in of(owner, pid, "execution.message", execution_id)
             if e["data"]["kind"] == "text" and e["data"].get("role") == "assistant"]
    assert "DynamoDB" in texts[-1]


async def test_a_follow_up_sent_during_a_turn_runs_next_in_the_same_execution(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    execution_id = await started(owner, pid, "[fake:sleep seconds=3]")
    await owner.wait_for_event(lambda e: e["event"] == "execution.message" and e["data"].get("kind") == "text"
                               and "Sleeping" in e["data"].get("text", ""), timeout=30)
    sent = await member.ok("agent.send", {"projectId": pid, "text": "[fake:stream n=2]"})
    assert sent["executionId"] == execution_id
    end = await finished(owner, pid, execution_id)
    assert end["status"] == "completed", end
    texts = [e["data"].get("text", "") for e in of(owner, pid, "execution.message", execution_id)
             if e["data"]["kind"] == "text"]
    assert any("Woke up" in t for t in texts) and any("Streaming message 2 of 2" in t for t in texts)
    assert len(of(owner, pid, "execution.finished", execution_id)) == 1
    [user_input] = of(owner, pid, "execution.input", execution_id)
    assert user_input["data"]["text"] == "[fake:stream n=2]"


async def test_an_interrupt_ends_the_turn_not_the_run(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    execution_id = await started(owner, pid, "[fake:sleep seconds=30]")
    await owner.wait_for_event(lambda e: e["event"] == "execution.message" and "Sleeping" in e["data"].get("text", ""),
                               timeout=30)
    began = time.monotonic()
    await member.ok("agent.interrupt", {"projectId": pid})
    # THEN the turn ends (its result arrives) within 2 s, and with nothing queued the run completes
    await owner.wait_for_event(lambda e: e["event"] == "execution.message" and e["data"].get("kind") == "result"
                               and e["data"].get("executionId") == execution_id, timeout=10)
    assert time.monotonic() - began < 2.0
    end = await finished(owner, pid, execution_id, timeout=20)
    assert end["status"] == "completed", end


async def test_steering_an_idle_project_is_a_conflict(connect, make_user):
    pid, (owner, _, _) = await team(connect, make_user)
    assert (await owner.error("agent.send", {"projectId": pid, "text": "hi"}))["code"] == "CONFLICT"
    assert (await owner.error("agent.interrupt", {"projectId": pid}))["code"] == "CONFLICT"
    assert (await owner.error("permission.respond", {"projectId": pid, "requestId": "pr_x",
                                                     "decision": "allow"}))["code"] == "CONFLICT"


async def test_a_kill_while_the_agent_waits_cancels_the_run_and_resolves_the_request(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    execution_id = await started(owner, pid, WRITE)
    await request_of(owner, pid, execution_id)
    began = time.monotonic()
    await member.ok("agent.kill", {"projectId": pid})
    end = await finished(owner, pid, execution_id, timeout=10)
    assert end["status"] == "cancelled" and time.monotonic() - began < 5, (end.get("error"), end.get("errorCode"))
    [resolved] = of(owner, pid, "permission.resolved", execution_id)
    assert resolved["data"]["reason"] == "cancelled"


async def test_allowing_for_the_run_stops_asking_about_that_tool(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    execution_id = await started(owner, pid, '[fake:bash command="echo a > a.txt"] [fake:bash command="echo b > b.txt"]')
    request = await request_of(member, pid, execution_id)
    await member.ok("permission.respond", {"projectId": pid, "requestId": request["requestId"], "decision": "allow",
                                           "scope": "run"})
    end = await finished(owner, pid, execution_id)
    assert end["status"] == "completed", end
    assert len(of(owner, pid, "permission.request", execution_id)) == 1
    assert [r["isError"] for r in tool_results(owner, pid, execution_id)] == [False, False]


async def test_a_secret_in_a_requested_command_is_masked_for_the_room(connect, make_user):
    pid, (owner, member, _) = await team(connect, make_user)
    value = f"tok-{uuid.uuid4().hex}"
    await owner.ok("secret.set", {"projectId": pid, "name": "DEPLOY_TOKEN", "value": value})
    execution_id = await started(owner, pid, f'[fake:bash command="echo {value} > deploy.txt"]')
    request = await request_of(member, pid, execution_id)
    assert value not in json.dumps(request) and "[redacted]" in request["input"]["command"]
    await member.ok("permission.respond", {"projectId": pid, "requestId": request["requestId"], "decision": "deny"})
    await finished(owner, pid, execution_id)
