"""A plain WebSocket client runs the whole project lifecycle through the local gateway."""

from __future__ import annotations

import asyncio
import uuid

import pytest

pytestmark = pytest.mark.e2e


async def test_a_member_creates_lists_gets_updates_joins_reads_history_and_deletes_a_project(connect):
    # GIVEN the dev owner, connected with a Cognito access token
    client = await connect()

    # WHEN they create a project with no path
    project = (await client.ok("project.create", {"name": "Lifecycle Demo", "description": "d"}))["project"]
    pid = project["projectId"]

    # THEN it gets a slug path, is idle, and its first event is stored as seq 1
    assert project["path"].startswith("lifecycle-demo")
    assert project["state"] == "idle" and project["lastSeq"] == 1
    assert pid in [p["projectId"] for p in (await client.ok("project.list"))["projects"]]
    assert (await client.ok("project.get", {"projectId": pid}))["project"]["name"] == "Lifecycle Demo"

    joined = await client.ok("project.join", {"projectId": pid})
    updated = (await client.ok("project.update", {"projectId": pid, "name": "Renamed"}))["project"]
    assert updated["name"] == "Renamed" and updated["lastSeq"] == joined["lastSeq"] + 1

    event = await client.wait_for_event(lambda e: e["event"] == "project.updated" and e["projectId"] == pid)
    assert event["seq"] == updated["lastSeq"] and event["data"]["project"]["name"] == "Renamed"

    history = await client.ok("messages.get", {"projectId": pid, "sinceSeq": 0})
    assert [e["seq"] for e in history["events"]] == list(range(1, updated["lastSeq"] + 1))
    assert [e["event"] for e in history["events"]] == ["project.created", "member.joined", "project.updated"]
    assert history["lastSeq"] == updated["lastSeq"] and history["nextCursor"] is None

    deleted = await client.ok("project.delete", {"projectId": pid})
    assert deleted == {"projectId": pid, "deleted": True}
    gone = await client.wait_for_event(lambda e: e["event"] == "project.deleted" and e["projectId"] == pid)
    assert gone["seq"] == updated["lastSeq"] + 1
    assert (await client.error("project.get", {"projectId": pid}))["code"] == "PROJECT_NOT_FOUND"


async def test_two_members_joined_to_a_project_receive_the_same_update_with_the_same_seq(connect, make_user, ready):
    # GIVEN two users of one tenant, both joined to the same project
    colleague = make_user(tenant_id=ready["tenantId"], role="member")
    alice, bob = await connect(), await connect(colleague)
    pid = (await alice.ok("project.create", {"name": "Shared room"}))["project"]["projectId"]
    await alice.ok("project.join", {"projectId": pid})
    await bob.ok("project.join", {"projectId": pid})

    # WHEN one of them updates it
    await bob.ok("project.update", {"projectId": pid, "description": "both see this"})

    # THEN both receive project.updated with one and the same seq
    is_update = lambda e: e["event"] == "project.updated" and e["projectId"] == pid  # noqa: E731
    seen_by_alice = await alice.wait_for_event(is_update)
    seen_by_bob = await bob.wait_for_event(is_update)
    assert seen_by_alice["seq"] == seen_by_bob["seq"]
    assert seen_by_alice == seen_by_bob
    # and Alice saw Bob join the room
    assert await alice.wait_for_event(lambda e: e["event"] == "member.joined" and e["data"]["userId"] == colleague["userId"])


async def test_history_pages_by_cursor_and_filters_by_event_name(connect):
    client = await connect()
    pid = (await client.ok("project.create", {"name": "Paging"}))["project"]["projectId"]
    for i in range(7):
        await client.ok("project.update", {"projectId": pid, "description": f"v{i}"})

    first = await client.ok("messages.get", {"projectId": pid, "limit": 3})
    second = await client.ok("messages.get", {"projectId": pid, "limit": 3, "cursor": first["nextCursor"]})
    third = await client.ok("messages.get", {"projectId": pid, "limit": 3, "cursor": second["nextCursor"]})
    seqs = [e["seq"] for page in (first, second, third) for e in page["events"]]
    assert seqs == list(range(1, 9))
    assert third["nextCursor"] is None

    only_updates = await client.ok("messages.get", {"projectId": pid, "events": ["project.updated"]})
    assert {e["event"] for e in only_updates["events"]} == {"project.updated"} and len(only_updates["events"]) == 7
    since = await client.ok("messages.get", {"projectId": pid, "sinceSeq": 6})
    assert [e["seq"] for e in since["events"]] == [7, 8]


async def test_paths_are_validated_and_never_nested(connect):
    client = await connect()
    await client.ok("project.create", {"name": "Outer", "path": "clients/acme"})
    for bad in ["../etc", "/abs/path", "C:/windows", "a/../../b", "clients", "clients/acme/site", "ok\x07bell", "back\\slash"]:
        error = await client.error("project.create", {"name": "Bad", "path": bad})
        assert error["code"] == "INVALID_PATH", (bad, error)
    ok = (await client.ok("project.create", {"name": "Sibling", "path": "./clients//acme-two/"}))["project"]
    assert ok["path"] == "clients/acme-two"


async def test_api_keys_are_shown_once_work_at_the_handshake_and_stop_working_when_revoked(connect, ready):
    owner = await connect()
    created = await owner.ok("apikey.create", {"name": "robot", "role": "viewer"})
    assert created["key"].startswith("cla_") and len(created["key"]) >= 4 + 43
    listed = (await owner.ok("apikey.list"))["apiKeys"]
    assert created["apiKey"]["keyId"] in [k["keyId"] for k in listed]
    assert all("key" not in k and "keyHash" not in k for k in listed)

    robot = await connect({"apiKey": created["key"]}, api_key=True)
    me = await robot.ok("whoami")
    assert me["tenantId"] == ready["tenantId"] and me["role"] == "viewer" and me["authType"] == "apikey"

    await owner.ok("apikey.revoke", {"keyId": created["apiKey"]["keyId"]})
    import websockets

    with pytest.raises(websockets.InvalidStatus) as refused:
        await connect({"apiKey": created["key"]}, api_key=True)
    assert refused.value.response.status_code == 401


async def test_leaving_then_disconnecting_announces_member_left_once(connect, make_user, ready):
    watcher = await connect()
    pid = (await watcher.ok("project.create", {"name": "leave once"}))["project"]["projectId"]
    await watcher.ok("project.join", {"projectId": pid})
    visitor = await connect(make_user(tenant_id=ready["tenantId"], role="viewer"))
    await visitor.ok("project.join", {"projectId": pid})
    connection_id = (await visitor.ok("whoami"))["connectionId"]
    await visitor.ok("project.leave", {"projectId": pid})
    await visitor.close()
    await asyncio.sleep(1.0)  # let $disconnect run: it must not announce the left room again
    history = await watcher.ok("messages.get", {"projectId": pid})
    left = [e for e in history["events"] if e["event"] == "member.left" and e["data"]["connectionId"] == connection_id]
    assert len(left) == 1


async def test_forty_connections_joining_one_room_at_once_all_succeed_and_the_log_has_no_gap(connect):
    owner = await connect()
    pid = (await owner.ok("project.create", {"name": "crowded room"}))["project"]["projectId"]
    crowd = await asyncio.gather(*[connect() for _ in range(40)])
    replies = await asyncio.gather(*[c.request("project.join", {"projectId": pid}, timeout=60) for c in crowd])
    assert [r["type"] for r in replies] == ["response"] * 40, [r.get("error") for r in replies if r["type"] == "error"][:3]
    history = await owner.ok("messages.get", {"projectId": pid, "limit": 500})
    seqs = [e["seq"] for e in history["events"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(1 for e in history["events"] if e["event"] == "member.joined") == 40


async def test_only_admins_decide_what_the_agent_may_do(connect, make_user, ready):
    # GIVEN a member and an admin of the same tenant
    member = await connect(make_user(tenant_id=ready["tenantId"], role="member"))
    admin = await connect(make_user(tenant_id=ready["tenantId"], role="admin"))
    # WHEN the member asks for an agent that may do anything THEN it is forbidden
    refused = await member.error("project.create", {"name": "wide open", "agent": {"permissionMode": "bypassPermissions"}})
    assert refused["code"] == "FORBIDDEN"
    # the admin may; the member may then rename it or pick a model, but not widen its tools
    project = (await admin.ok("project.create", {"name": f"admin-{uuid.uuid4().hex[:6]}",
                                                 "agent": {"permissionMode": "acceptEdits"}}))["project"]
    pid = project["projectId"]
    await member.ok("project.update", {"projectId": pid, "agent": {**project["agent"], "model": "claude-sonnet-5"}})
    widened = await member.error("project.update", {"projectId": pid, "agent": {**project["agent"], "allowedTools": ["Bash"]}})
    assert widened["code"] == "FORBIDDEN"
    assert (await admin.ok("project.get", {"projectId": pid}))["project"]["agent"]["allowedTools"] == []
