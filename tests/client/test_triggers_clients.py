"""Git host triggers from the SDK (async and sync twins) and the ``cloutagent trigger`` commands."""

from __future__ import annotations

import pytest

from cloutagent_client.errors import CloutagentError
from tests.client.test_cli import cli, unique  # noqa: F401 (the fixture)
from tests.e2e.test_repositories import new_repo

pytestmark = pytest.mark.e2e


def repository(repo: dict) -> dict:
    return {"url": repo["url"], "provider": "github", "tokenSecret": "REPO_TOKEN"}


async def test_the_sdk_sets_shows_and_deletes_a_trigger(sdk, ready):
    client = await sdk()
    project = await client.create_project(unique("sdk-trigger"), repository=repository(new_repo(ready)))
    pid = project["projectId"]
    created = await client.set_trigger(pid, "github", word="@helper", trusted_logins=["octo"])
    assert created["url"].endswith(f"/v1/hooks/github/{ready['tenantId']}/{pid}")
    assert created["secret"].startswith("trg_") and created["trigger"]["trustedLogins"] == ["octo"]
    trigger, url = await client.get_trigger(pid)
    assert url == created["url"] and trigger == created["trigger"] and trigger["word"] == "@helper"
    with pytest.raises(CloutagentError) as refused:
        await client.set_trigger(pid, "gitlab")  # the repository is on GitHub
    assert refused.value.code == "BAD_REQUEST"
    await client.delete_trigger(pid)
    assert await client.get_trigger(pid) == (None, None)


async def test_the_cli_prints_the_secret_once_and_never_again(cli, ready):  # noqa: F811
    name = unique("cli-trigger")
    repo = new_repo(ready)
    await cli.json("projects", "create", name, "--repo", repo["url"], "--repo-provider", "github",
                   "--repo-token-secret", "REPO_TOKEN")
    code, out, err = await cli("trigger", "set", name, "--provider", "github", "--no-org-members", "--trust", "octo")
    assert code == 0, err
    secret = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("secret"))
    assert secret.startswith("trg_") and "/v1/hooks/github/" in out
    code, out, err = await cli("trigger", "get", name)
    assert code == 0 and "octo" in out and "org members" not in out and "/v1/hooks/github/" in out, err
    assert secret not in out
    code, out, err = await cli("trigger", "delete", name)
    assert code == 0, err
    [shown] = await cli.json("trigger", "get", name)
    assert shown["trigger"] is None
