"""Another tenant's project does not exist for you; viewers cannot change anything."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import new_user

pytestmark = pytest.mark.e2e

PROJECT_ACTIONS = {
    "project.get": {},
    "project.update": {"description": "hijack"},
    "project.delete": {},
    "project.join": {},
    "project.leave": {},
    "messages.get": {},
}


async def test_every_project_action_on_another_tenants_project_is_project_not_found(connect, make_user):
    # GIVEN a project of tenant A, and a user of tenant B (owner of B, so role is not the reason)
    owner_a = await connect()
    pid = (await owner_a.ok("project.create", {"name": "Tenant A secret"}))["project"]["projectId"]
    stranger = await connect(make_user())

    # WHEN B tries every project action on it, even naming A's tenant in the body
    for action, extra in PROJECT_ACTIONS.items():
        error = await stranger.error(action, {"projectId": pid, "tenantId": "ignored", **extra})
        # THEN it simply does not exist for B (never FORBIDDEN: existence does not leak)
        assert error["code"] == "PROJECT_NOT_FOUND", (action, error)

    # and B's list never shows it, while A's project is untouched
    assert pid not in [p["projectId"] for p in (await stranger.ok("project.list"))["projects"]]
    project = (await owner_a.ok("project.get", {"projectId": pid}))["project"]
    assert project["name"] == "Tenant A secret" and project["description"] == ""


async def test_identity_fields_in_a_body_are_ignored(connect, make_user, ready):
    stranger = await connect(make_user())
    me = await stranger.ok("whoami", {"tenantId": ready["tenantId"], "role": "owner", "userId": ready["userId"]})
    assert me["tenantId"] != ready["tenantId"] and me["userId"] != ready["userId"]
    created = (await stranger.ok("project.create", {"name": "mine", "tenantId": ready["tenantId"]}))["project"]
    owner = await connect()
    assert created["projectId"] not in [p["projectId"] for p in (await owner.ok("project.list"))["projects"]]


async def test_a_viewer_can_read_but_not_create_update_or_delete(connect, make_user, ready):
    owner = await connect()
    pid = (await owner.ok("project.create", {"name": "Read only for some"}))["project"]["projectId"]
    viewer = await connect(make_user(tenant_id=ready["tenantId"], role="viewer"))

    assert (await viewer.ok("project.get", {"projectId": pid}))["project"]["projectId"] == pid
    assert (await viewer.ok("messages.get", {"projectId": pid}))["events"]
    for action, data in [("project.create", {"name": "nope"}),
                         ("project.update", {"projectId": pid, "name": "nope"}),
                         ("project.delete", {"projectId": pid}),
                         ("apikey.create", {"name": "nope"}),
                         ("member.invite", {"email": "x@example.com"})]:
        assert (await viewer.error(action, data))["code"] == "FORBIDDEN", action
    assert (await owner.ok("project.get", {"projectId": pid}))["project"]["name"] == "Read only for some"


async def test_members_are_managed_by_admins_within_their_own_rank(connect, make_user, ready):
    tenant = make_user()  # a fresh tenant whose owner we control
    owner = await connect(tenant)
    email = f"inv-{tenant['userId'][:8]}@example.com"
    offer = (await owner.ok("member.invite", {"email": email, "role": "admin"}))["invitation"]
    invitee = await connect(new_user(ready, email))  # signs up, then accepts: invitations move nobody
    invited = (await invitee.ok("invitation.accept", {"invitationId": offer["invitationId"]}))["member"]
    assert invited["role"] == "admin"
    members = {m["userId"]: m["role"] for m in (await owner.ok("member.list"))["members"]}
    assert members == {tenant["userId"]: "owner", invited["userId"]: "admin"}

    admin_user = make_user(tenant_id=tenant["tenantId"], role="admin")
    admin = await connect(admin_user)
    assert (await admin.error("member.set_role", {"userId": tenant["userId"], "role": "member"}))["code"] == "FORBIDDEN"
    assert (await admin.error("member.invite", {"email": "boss@example.com", "role": "owner"}))["code"] == "FORBIDDEN"
    assert (await admin.ok("member.set_role", {"userId": invited["userId"], "role": "viewer"}))["member"]["role"] == "viewer"
    assert (await owner.error("member.remove", {"userId": tenant["userId"]}))["code"] == "CONFLICT"  # last owner stays
    assert (await admin.ok("member.remove", {"userId": invited["userId"]})) == {"userId": invited["userId"]}


async def test_revoking_a_key_or_demoting_a_member_closes_their_open_connections(connect, make_user):
    tenant = make_user()
    owner = await connect(tenant)
    created = await owner.ok("apikey.create", {"name": "short-lived", "role": "member"})
    robot = await connect({"apiKey": created["key"]}, api_key=True)
    colleague_user = make_user(tenant_id=tenant["tenantId"], role="admin")
    colleague = await connect(colleague_user)
    assert (await robot.ok("whoami"))["role"] == "member"

    # WHEN the key is revoked and the admin demoted
    await owner.ok("apikey.revoke", {"keyId": created["apiKey"]["keyId"]})
    await owner.ok("member.set_role", {"userId": colleague_user["userId"], "role": "viewer"})

    # THEN both open connections are closed by the server: nobody keeps acting on old access
    for client in (robot, colleague):
        await asyncio.wait_for(client._reader, 10)
        assert client.ws.close_code is not None
    # and the colleague comes back with the new role
    again = await connect(colleague_user)
    assert (await again.ok("whoami"))["role"] == "viewer"
    assert (await owner.ok("ping"))["pong"] is True
