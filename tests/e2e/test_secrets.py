"""Per-project secrets through the real local stack: set, list, overwrite, delete; the agent sees
them as environment variables; nobody ever sees a value — not a client, not a log line."""

from __future__ import annotations

import json
import secrets as random
import uuid

import pytest

pytestmark = pytest.mark.e2e


def unique_name() -> str:
    return f"CA_{uuid.uuid4().hex[:12].upper()}"


async def new_project(client, name: str) -> str:
    # [fake:env] checks the variable with a real Bash call, which needs the agent allowed to run it.
    pid = (await client.ok("project.create", {"name": name, "path": uuid.uuid4().hex,
                                              "agent": {"permissionMode": "bypassPermissions"}}))["project"]["projectId"]
    await client.ok("project.join", {"projectId": pid})
    return pid


async def env_report(client, pid: str, name: str) -> str:
    """Run ``[fake:env name=NAME]`` and return what the agent said about NAME."""
    started = await client.ok("execute", {"projectId": pid, "prompt": f"[fake:env name={name}]"})
    execution_id = started["execution"]["executionId"]
    end = await client.wait_for_event(
        lambda e: e["event"] == "execution.finished" and e["data"]["executionId"] == execution_id, timeout=40)
    assert end["data"]["status"] == "completed", end
    await client.wait_for_event(
        lambda e: e["event"] == "project.state" and e["data"] == {"state": "idle", "executionId": execution_id})
    texts = [e["data"]["text"] for e in client.events if e["event"] == "execution.message"
             and e["data"]["executionId"] == execution_id and e["data"].get("kind") == "text"
             and name in e["data"].get("text", "")]
    assert texts, "the agent did not report on the variable"
    return texts[-1]


async def test_set_list_overwrite_delete_and_a_value_never_reaches_a_client_or_a_log(connect, stack):
    # GIVEN an owner watching a project, and a value nobody could guess
    owner = await connect()
    watcher = await connect()
    pid = await new_project(owner, "secrets lifecycle")
    await watcher.ok("project.join", {"projectId": pid})
    name, value, second = unique_name(), "v1-" + random.token_urlsafe(24), "v2-" + random.token_urlsafe(24)

    # WHEN it is set THEN the reply names it, and every watcher sees who set what (not the value)
    first = await owner.ok("secret.set", {"projectId": pid, "name": name, "value": value})
    assert first == {"projectId": pid, "secret": {"name": name, "updatedAt": first["secret"]["updatedAt"]}}
    changed = await watcher.wait_for_event(lambda e: e["event"] == "secret.changed" and e["data"]["name"] == name)
    me = (await owner.ok("whoami"))["userId"]
    assert changed["data"] == {"name": name, "action": "set", "by": me}

    listed = await owner.ok("secret.list", {"projectId": pid})
    assert listed == {"projectId": pid, "secrets": [{"name": name, "updatedAt": first["secret"]["updatedAt"]}]}

    # and the agent has it in its environment
    assert await env_report(owner, pid, name) == f"Environment variable {name} is set."

    # WHEN it is overwritten THEN still one secret, newer
    again = await owner.ok("secret.set", {"projectId": pid, "name": name, "value": second})
    assert again["secret"]["updatedAt"] >= first["secret"]["updatedAt"]
    assert [s["name"] for s in (await owner.ok("secret.list", {"projectId": pid}))["secrets"]] == [name]

    # WHEN it is deleted THEN it is gone, for the list and for the agent
    assert await owner.ok("secret.delete", {"projectId": pid, "name": name}) == {"projectId": pid, "name": name, "deleted": True}
    assert (await owner.ok("secret.list", {"projectId": pid}))["secrets"] == []
    assert (await owner.error("secret.delete", {"projectId": pid, "name": name}))["code"] == "NOT_FOUND"
    assert await env_report(owner, pid, name) == f"Environment variable {name} is not set."

    # THEN the history holds the three changes, in order
    history = await owner.ok("messages.get", {"projectId": pid, "events": ["secret.changed"]})
    assert [(e["data"]["name"], e["data"]["action"]) for e in history["events"]] == [
        (name, "set"), (name, "set"), (name, "deleted")]

    # and neither value appears in any frame any client received, nor anywhere in the stack's log
    # (the gateway, every handler, and the executor subprocesses all write there)
    frames = json.dumps([owner.frames, watcher.frames])
    log = stack.log_text()
    assert "execution finished" in log  # the executors' own log lines are in what we search
    for secret_value in (value, second):
        assert secret_value not in frames
        assert secret_value not in log


async def test_the_agent_sees_its_own_projects_secret_and_not_another_tenants(connect, make_user):
    # GIVEN two tenants with a project of the same name; only A's has the secret
    name = unique_name()
    alice = await connect()
    bob = await connect(make_user())
    pid_a = await new_project(alice, "same name")
    pid_b = await new_project(bob, "same name")
    await alice.ok("secret.set", {"projectId": pid_a, "name": name, "value": random.token_urlsafe(16)})

    # WHEN each runs the agent THEN only A's agent has it
    assert await env_report(alice, pid_a, name) == f"Environment variable {name} is set."
    assert await env_report(bob, pid_b, name) == f"Environment variable {name} is not set."

    # and B cannot reach A's secrets at all: A's project does not exist for B
    for action, extra in [("secret.list", {}), ("secret.set", {"name": name, "value": "x"}), ("secret.delete", {"name": name})]:
        assert (await bob.error(action, {"projectId": pid_a, **extra}))["code"] == "PROJECT_NOT_FOUND", action
    assert [s["name"] for s in (await alice.ok("secret.list", {"projectId": pid_a}))["secrets"]] == [name]


async def test_roles_owners_and_admins_change_members_list_viewers_see_nothing(connect, make_user, ready):
    owner = await connect()
    pid = await new_project(owner, "secret roles")
    await owner.ok("secret.set", {"projectId": pid, "name": "SHARED", "value": "shared-value"})
    admin = await connect(make_user(tenant_id=ready["tenantId"], role="admin"))
    member = await connect(make_user(tenant_id=ready["tenantId"], role="member"))
    viewer = await connect(make_user(tenant_id=ready["tenantId"], role="viewer"))

    await admin.ok("secret.set", {"projectId": pid, "name": "BY_ADMIN", "value": "admin-value"})
    await admin.ok("secret.delete", {"projectId": pid, "name": "BY_ADMIN"})

    assert [s["name"] for s in (await member.ok("secret.list", {"projectId": pid}))["secrets"]] == ["SHARED"]
    for action, extra in [("secret.set", {"name": "NOPE", "value": "x"}), ("secret.delete", {"name": "SHARED"})]:
        assert (await member.error(action, {"projectId": pid, **extra}))["code"] == "FORBIDDEN", action

    for action, extra in [("secret.list", {}), ("secret.set", {"name": "NOPE", "value": "x"}),
                          ("secret.delete", {"name": "SHARED"})]:
        assert (await viewer.error(action, {"projectId": pid, **extra}))["code"] == "FORBIDDEN", action
    assert [s["name"] for s in (await owner.ok("secret.list", {"projectId": pid}))["secrets"]] == ["SHARED"]


async def test_limits_fifty_per_project_names_and_4_kb_values(connect):
    owner = await connect()
    pid = await new_project(owner, "secret limits")

    # names and sizes are BAD_REQUEST, and the error never carries the value
    for bad in [{"name": "lower", "value": "x"}, {"name": "1ST", "value": "x"}, {"name": "A" * 65, "value": "x"},
                {"name": "OK", "value": ""}, {"name": "OK", "value": "x" * 4097}, {"name": "OK", "value": "é" * 2049}]:
        error = await owner.error("secret.set", {"projectId": pid, **bad})
        assert error["code"] == "BAD_REQUEST", bad
        assert "x" * 100 not in json.dumps(error) and "é" * 100 not in json.dumps(error)
    await owner.ok("secret.set", {"projectId": pid, "name": "BIG", "value": "x" * 4096})

    # 50 secrets fit; the 51st is LIMIT_EXCEEDED; overwriting one at the limit is fine
    for i in range(49):
        await owner.ok("secret.set", {"projectId": pid, "name": f"S_{i:02d}", "value": f"value-{i}"})
    assert len((await owner.ok("secret.list", {"projectId": pid}))["secrets"]) == 50
    assert (await owner.error("secret.set", {"projectId": pid, "name": "ONE_TOO_MANY", "value": "x"}))["code"] == "LIMIT_EXCEEDED"
    await owner.ok("secret.set", {"projectId": pid, "name": "S_00", "value": "overwritten"})
    await owner.ok("secret.delete", {"projectId": pid, "name": "S_00"})
    await owner.ok("secret.set", {"projectId": pid, "name": "ONE_TOO_MANY", "value": "fits now"})


async def test_a_secret_that_cannot_be_decrypted_fails_the_run_before_the_agent_starts(connect, ready):
    import boto3

    # GIVEN a project whose sealed secret was copied in from another project (wrong KMS context)
    owner = await connect()
    source, target = await new_project(owner, "source"), await new_project(owner, "target")
    await owner.ok("secret.set", {"projectId": source, "name": "COPIED", "value": random.token_urlsafe(16)})
    dynamodb = boto3.client("dynamodb", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                            aws_access_key_id="local", aws_secret_access_key="local")
    item = dynamodb.get_item(TableName=ready["tableName"], ConsistentRead=True, Key={
        "PK": {"S": f"T#{ready['tenantId']}#P#{source}"}, "SK": {"S": "SECRET#COPIED"}})["Item"]
    dynamodb.put_item(TableName=ready["tableName"], Item={**item, "PK": {"S": f"T#{ready['tenantId']}#P#{target}"}})

    # WHEN it runs THEN the run fails and the agent never said a word
    started = await owner.ok("execute", {"projectId": target, "prompt": "[fake:env name=COPIED]"})
    execution_id = started["execution"]["executionId"]
    end = await owner.wait_for_event(
        lambda e: e["event"] == "execution.finished" and e["data"]["executionId"] == execution_id, timeout=40)
    assert end["data"]["status"] == "failed"
    assert not [e for e in owner.events if e["event"] == "execution.message" and e["data"]["executionId"] == execution_id]


@pytest.mark.parametrize("name", ["ANTHROPIC_BASE_URL", "LD_PRELOAD", "AWS_ACCESS_KEY_ID"])
async def test_a_secret_that_would_reconfigure_the_runtime_is_refused(connect, name):
    owner = await connect()
    pid = await new_project(owner, "reserved names")
    refused = await owner.error("secret.set", {"projectId": pid, "name": name, "value": "http://attacker.example"})
    assert refused["code"] == "BAD_REQUEST" and refused["details"]["errors"][0]["field"] == "name"
    assert "attacker" not in json.dumps(refused)
    assert (await owner.ok("secret.list", {"projectId": pid}))["secrets"] == []


async def test_a_secret_quoted_in_an_error_is_masked_in_the_finished_event_and_the_execution(connect):
    # GIVEN a project secret, and a run whose model error quotes the agent's output of it
    owner = await connect()
    pid = await new_project(owner, "leaky error")
    name, value = unique_name(), "leak-" + random.token_urlsafe(24)
    await owner.ok("secret.set", {"projectId": pid, "name": name, "value": value})
    prompt = f'[fake:bash command="echo ${name}"] [fake:error subtype=api_error message="refused: {{last_result}}"]'
    started = await owner.ok("execute", {"projectId": pid, "prompt": prompt})
    execution_id = started["execution"]["executionId"]
    # WHEN it fails
    end = await owner.wait_for_event(
        lambda e: e["event"] == "execution.finished" and e["data"]["executionId"] == execution_id, timeout=40)
    stored = (await owner.ok("execution.get", {"projectId": pid, "executionId": execution_id}))["execution"]
    # THEN the error says why, with the value masked, in the event and in the stored execution
    for error in (end["data"]["error"], stored["error"]):
        assert "refused:" in error and "[redacted]" in error and value not in error
    assert value not in json.dumps(owner.frames)
