"""The audit log and key expiry from the SDK (async and sync) and the CLI, against the local stack (#20)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cloutagent_client import Client
from cloutagent_client.errors import Forbidden
from tests.client.test_cli import Cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(stack, tmp_path):
    return Cli(stack, tmp_path)


async def test_an_admin_reads_the_audit_log_page_by_page_from_the_sdk(ready, make_user):
    owner = make_user(prefix="audit-sdk")
    async with Client(ready["wsUrl"], token=owner["token"]) as client:
        created = await client.create_api_key("expiring", "viewer", expires_in_days=30)
        assert created["apiKey"]["expiresAt"] and created["apiKey"]["lastUsedAt"] is None
        await client.revoke_api_key(created["apiKey"]["keyId"])
        first = await client.list_audit(limit=1)
        second = await client.list_audit(limit=1, cursor=first["nextCursor"])
    assert [e["action"] for e in first["entries"] + second["entries"]] == ["apikey.revoke", "apikey.create"]
    assert second["entries"][0]["details"]["expiresAt"] == created["apiKey"]["expiresAt"]

    viewer = make_user(tenant_id=owner["tenantId"], role="viewer", prefix="audit-viewer")
    async with Client(ready["wsUrl"], token=viewer["token"]) as client:
        with pytest.raises(Forbidden):
            await client.list_audit()


async def test_the_sync_client_lists_the_audit_log_too(ready, make_user):
    from cloutagent_client import SyncClient

    owner = make_user(prefix="audit-sync")

    def use() -> list[str]:
        with SyncClient(ready["wsUrl"], token=owner["token"]) as client:
            client.create_api_key("sync", "viewer")
            return [e["action"] for e in client.list_audit(limit=5)["entries"]]

    assert (await asyncio.to_thread(use))[0] == "apikey.create"


async def test_cloutagent_audit_prints_a_table_and_keys_show_expiry_and_last_use(cli, ready, make_user):
    owner = make_user(prefix="audit-cli")
    cli.env.update({"CLOUTAGENT_URL": ready["wsUrl"], "CLOUTAGENT_TOKEN": owner["token"]})
    email = f"audited-{uuid.uuid4().hex[:8]}@example.com"
    await cli.json("members", "invite", email, "--role", "viewer", local=False)
    code, key, err = await cli("keys", "create", "ci", "--expires-in-days", "7", local=False)
    assert code == 0, err

    code, out, err = await cli("audit", "--limit", "2", local=False)
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split()[:4] == ["AT", "ACTION", "BY", "TARGET"]
    assert [row.split()[1] for row in rows] == ["apikey.create", "member.invite"]
    assert owner["email"] in rows[1] and email in rows[1] and "more: cloutagent audit --cursor" in err
    [entry, _] = await cli.json("audit", "--limit", "2", local=False)
    assert entry["actor"]["userId"] == owner["userId"] and key.strip() not in out

    [listed] = [k for k in await cli.json("keys", "list", local=False) if k["name"] == "ci"]
    assert listed["expiresAt"] is not None
    code, out, _ = await cli("keys", "list", local=False)
    assert "EXPIRES" in out.splitlines()[0] and "LAST USED" in out.splitlines()[0]
