"""Runs on a project's Git repository through the SDK and the ``cloutagent`` command, against the
real local stack and its Git server (``POST /local/repos``)."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import urllib.request
import uuid
from typing import Any

import pytest

from cloutagent_client import BadRequest, Client
from tests.client.test_cli import Cli, unique

pytestmark = pytest.mark.e2e

PROMPT_CHANGE = '[fake:bash command="echo change >> README.md"]'
PROMPT_NOTHING = '[fake:bash command="cat README.md"]'


def new_repo(ready: dict[str, Any]) -> dict[str, Any]:
    """A real Git repository served by the stack, holding one README."""
    name = f"repo-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"name": name, "files": {"README.md": "# demo\n"}}).encode()
    request = urllib.request.Request(f"{ready['httpUrl']}/local/repos", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return {**json.loads(reply.read()), "name": name}


def pulls(ready: dict[str, Any], repo: dict[str, Any]) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{ready['httpUrl']}/local/repos/{repo['name']}/pulls", timeout=10) as reply:
        return json.loads(reply.read())


async def repo_project(client: Client, repo: dict[str, Any], **repository: Any) -> dict[str, Any]:
    """A project on ``repo`` whose agent may write files, with the repository's token as a secret. The
    stack's server is shaped like GitHub Enterprise, whose provider a host name cannot tell."""
    repository = {"url": repo["url"], "tokenSecret": "REPO_TOKEN", "provider": repo["provider"], **repository}
    project = await client.create_project(unique("repo"), agent={"permissionMode": "bypassPermissions"},
                                          repository=repository)
    await client.set_secret(project["projectId"], "REPO_TOKEN", repo["token"])
    return project


async def run_to_the_end(client: Client, project_id: str, prompt: str, **fields: Any) -> dict[str, dict[str, Any]]:
    """Run and follow to ``execution.finished``: the run's events by name."""
    seen: dict[str, dict[str, Any]] = {}
    async with await client.subscribe(project_id) as events:
        execution = await client.execute(project_id, prompt, **fields)
        async for event in events:
            if event["data"].get("executionId") == execution["executionId"]:
                seen[event["event"]] = event["data"]
            if "execution.finished" in seen:
                return seen
    raise AssertionError("the stream ended before the run finished")


@pytest.fixture
def cli(stack, tmp_path):
    return Cli(stack, tmp_path)


# -- SDK -----------------------------------------------------------------------------------------------
async def test_a_diff_bigger_than_a_page_reads_back_whole(sdk, ready):
    # GIVEN a project on a repository, without pull requests for this run
    client = await sdk()
    repo = new_repo(ready)
    project = await repo_project(client, repo, pullRequest=True)
    # WHEN a run writes ~140 KB, more than two 64 KB pages of diff
    seen = await run_to_the_end(client, project["projectId"], '[fake:bash command="seq 1 25000 > numbers.txt"]',
                                pull_request=False)
    # THEN the run delivered a branch and no pull request
    assert seen["execution.finished"]["status"] == "completed", seen["execution.finished"]
    git = seen.get("execution.git")
    assert git is not None, "no execution.git event: the stack does not deliver runs to repositories yet"
    assert (git["files"], git["insertions"], git["pullRequestUrl"]) == (1, 25000, None)
    # and the SDK follows nextCursor to the whole diff
    execution_id = git["executionId"]
    pages = [page async for page in client.execution_diff_pages(project["projectId"], execution_id)]
    whole = await client.execution_diff(project["projectId"], execution_id)
    assert len(pages) >= 3 and "".join(pages) == whole
    added = [line[1:] for line in whole.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == [str(n) for n in range(1, 25001)]
    assert pulls(ready, repo) == []


async def test_branch_on_a_project_without_a_repository_is_refused_and_a_repository_can_be_removed(sdk, ready):
    client = await sdk()
    project = await repo_project(client, new_repo(ready))
    assert project["repository"]["tokenSecret"] == "REPO_TOKEN"
    updated = await client.update_project(project["projectId"], repository=None)
    assert updated["repository"] is None
    with pytest.raises(BadRequest):
        await client.execute(project["projectId"], "hi", branch="main")


# -- CLI -----------------------------------------------------------------------------------------------
async def test_projects_create_and_update_set_change_and_remove_the_repository(cli, ready):
    repo = new_repo(ready)
    name = unique("cli-repo")
    [created] = await cli.json("projects", "create", name, "--repo", repo["url"], "--repo-token-secret", "REPO_TOKEN",
                               "--repo-provider", "github", "--pr")
    assert created["repository"] == {"url": repo["url"], "defaultBranch": None, "tokenSecret": "REPO_TOKEN",
                                     "provider": "github", "pullRequest": True}
    # an update changes the fields it is given and keeps the others
    [updated] = await cli.json("projects", "update", name, "--repo-branch", "main", "--no-pr")
    assert updated["repository"] == {**created["repository"], "defaultBranch": "main", "pullRequest": False}
    code, out, err = await cli("projects", "update", name, "--no-repo")
    assert code == 0 and f"updated {created['projectId']} ({name})" in out, err
    [project] = [p for p in await cli.json("projects", "list") if p["name"] == name]
    assert project["repository"] is None
    # flags that make no repository are usage errors; the service refuses a URL it does not allow
    code, _, err = await cli("projects", "update", name, "--pr")
    assert code == 2 and "--repo URL" in err
    code, _, err = await cli("projects", "update", name, "--repo", "file:///etc")
    assert code == 2 and "BAD_REQUEST" in err


async def test_run_prints_what_it_delivered_and_diff_prints_it(cli, sdk, ready):
    # GIVEN a project on a repository that asks for pull requests
    client = await sdk()
    repo = new_repo(ready)
    project = await repo_project(client, repo, pullRequest=True)
    name = project["name"]
    # WHEN the CLI runs a prompt that changes the README
    code, out, err = await cli("run", name, PROMPT_CHANGE, timeout=60)
    # THEN the outcome says which branch, how much changed and where the pull request is
    assert code == 0, err
    assert "⎇ " in err, f"no execution.git summary (the stack does not deliver runs to repositories yet):\n{err}"
    [pull] = pulls(ready, repo)
    summary = re.search(r"⎇ (\S+) · 1 file \+1 -0 · (\S+)", err)
    assert summary and summary.group(2) == pull["html_url"] and summary.group(1) == pull["head"]["ref"], err
    assert "■ completed" in err
    # and `diff` prints the run's diff: plain when stdout is no terminal
    code, out, err = await cli("diff", name)
    assert code == 0, err
    assert "+change" in out.splitlines() and "\x1b[" not in out
    [as_json] = await cli.json("diff", project["projectId"], summary.group(1).split("/")[-1])
    assert as_json["diff"] == out
    # a run that changes nothing says so, and --no-pr is accepted
    code, out, err = await cli("run", name, PROMPT_NOTHING, "--no-pr", timeout=60)
    assert code == 0 and re.search(r"⎇ \S+ · nothing changed", err), err


async def test_a_run_on_a_missing_branch_fails_with_its_error_code(cli, sdk, ready):
    client = await sdk()
    project = await repo_project(client, new_repo(ready))
    code, _, err = await cli("run", project["name"], PROMPT_CHANGE, "--branch", "no-such-branch", timeout=60)
    assert code == 1 and "■ failed" in err and "(BRANCH_NOT_FOUND)" in err, err


async def test_diff_is_coloured_on_a_terminal_unless_no_color(cli, sdk, ready):
    client = await sdk()
    project = await repo_project(client, new_repo(ready))
    seen = await run_to_the_end(client, project["projectId"], PROMPT_CHANGE)
    assert "execution.git" in seen, "no execution.git event: the stack does not deliver runs to repositories yet"

    async def on_a_terminal(**env: str) -> str:
        leader, follower = pty.openpty()
        process = await asyncio.create_subprocess_exec(
            *cli.argv(["diff", project["name"]]), cwd=cli.home, stdout=follower,
            env={**{k: v for k, v in cli.env.items() if k != "NO_COLOR"}, **env},
            stderr=asyncio.subprocess.PIPE)
        os.close(follower)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        printed = b""
        while chunk := await asyncio.to_thread(_read, leader):
            printed += chunk
        os.close(leader)
        return printed.decode()

    assert "\x1b[32m+change\x1b[0m" in await on_a_terminal()
    plain = await on_a_terminal(NO_COLOR="1")
    assert "\x1b[" not in plain and "+change" in plain


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""
