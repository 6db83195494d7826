"""Invitations from the SDK (async and sync) and the CLI, against the local stack (#20)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cloutagent_client import Client
from cloutagent_client.errors import Forbidden
from tests.client.test_cli import Cli
from tests.conftest import new_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(stack, tmp_path):
    return Cli(stack, tmp_path)


async def test_an_invitee_accepts_from_the_sdk_and_the_admin_sees_it(ready, make_user):
    # GIVEN an invitation from an owner, and the invited person signed up
    owner = make_user(prefix="inv-sdk")
    email = f"inv-sdk-{uuid.uuid4().hex[:8]}@example.com"
    async with Client(ready["wsUrl"], token=owner["token"]) as admin:
        sent = await admin.invite_member(email, "viewer")
    person = new_user(ready, email)

    # WHEN they list and accept it from the SDK
    async with Client(ready["wsUrl"], token=person["token"]) as client:
        [mine] = await client.my_invitations()
        with pytest.raises(Forbidden):
            await client.list_projects()
        member = await client.accept_invitation(mine["invitationId"])

    # THEN they are a viewer of the owner's tenant, and the sync client shows the accepted invitation
    assert mine["invitationId"] == sent["invitationId"] and member["role"] == "viewer"
    from cloutagent_client import SyncClient

    def sent_list() -> list[str]:
        with SyncClient(ready["wsUrl"], token=owner["token"]) as client:
            return [i["status"] for i in client.list_invitations()]

    assert await asyncio.to_thread(sent_list) == ["accepted"]


async def test_cloutagent_invitations_lists_accepts_and_declines(cli, ready, make_user):
    owner = make_user(prefix="inv-cli")
    cli.env.update({"CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_TOKEN": owner["token"]})
    email = f"inv-cli-{uuid.uuid4().hex[:8]}@example.com"
    [sent] = await cli.json("members", "invite", email, "--role", "member", local=False)
    assert sent["status"] == "pending"

    cli.env["CLOUTAGENT_TOKEN"] = new_user(ready, email)["token"]
    code, out, err = await cli("invitations", "list", local=False)
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split()[:3] == ["ID", "TEAM", "ROLE"] and sent["invitationId"] in row
    [declined] = await cli.json("invitations", "decline", sent["invitationId"], local=False)
    assert declined["status"] == "declined"
    code, out, err = await cli("invitations", "accept", sent["invitationId"], local=False)
    assert code != 0 and "invitation" in err.lower()

    [own] = await cli.json("invitations", "start-own", "--name", "Mine", local=False)
    assert own["role"] == "owner"

    cli.env["CLOUTAGENT_TOKEN"] = owner["token"]
    [listed] = await cli.json("invitations", "sent", local=False)
    assert listed["status"] == "declined" and listed["email"] == email
