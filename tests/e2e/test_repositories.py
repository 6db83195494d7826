"""Runs on a project's Git repository, through the local stack's real Git server and the real CLI:
cloned before the agent, delivered as a branch, a diff and a pull request after it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import get_json, post_json

pytestmark = pytest.mark.e2e

PROMPT_CHANGE = '[fake:bash command="echo change >> README.md"]'


def new_repo(ready: dict[str, Any], **files: str) -> dict[str, Any]:
    name = f"repo-{uuid.uuid4().hex[:8]}"
    repo = post_json(f"{ready['httpUrl']}/local/repos", {"name": name, "files": files or {"README.md": "# demo\n"}})
    return {**repo, "name": name}


def git(*args: str, token: str, cwd: Path | None = None) -> str:
    """Real git against the stack's server, authenticated the way the executor is."""
    header = "Authorization: Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": "1",
           "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": header,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def repo_project(client, repo: dict[str, Any], *, token: str | None = None, **repository: Any) -> str:
    project = (await client.ok("project.create", {
        "name": f"repo-{uuid.uuid4().hex[:8]}", "agent": {"permissionMode": "bypassPermissions"},
        "repository": {"url": repo["url"], "provider": repo["provider"], "tokenSecret": "REPO_TOKEN",
                       **repository}}))["project"]
    pid = project["projectId"]
    await client.ok("secret.set", {"projectId": pid, "name": "REPO_TOKEN", "value": token or repo["token"]})
    await client.ok("project.join", {"projectId": pid})
    return pid


async def run(client, pid: str, prompt: str = PROMPT_CHANGE, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A run to its end: its id and its events by name (the last of each)."""
    started = await client.ok("execute", {"projectId": pid, "prompt": prompt, **fields})
    execution_id = started["execution"]["executionId"]
    await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                and e["data"]["executionId"] == execution_id, timeout=60)
    await client.wait_for_event(lambda e: e["event"] == "project.state"
                                and e["data"] == {"state": "idle", "executionId": execution_id}, timeout=10)
    events = {e["event"]: e["data"] for e in client.events
              if e["projectId"] == pid and e["data"].get("executionId") == execution_id}
    return execution_id, events


async def test_a_run_ends_as_a_branch_a_diff_and_a_pull_request(connect, ready, tmp_path):
    # GIVEN a project on a repository whose README the agent will change, asking for pull requests
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo, pullRequest=True)
    # WHEN it runs
    execution_id, events = await run(client, pid)
    # THEN the run completed and said what it delivered
    assert events["execution.finished"]["status"] == "completed", (events["execution.finished"].get("error"), events["execution.finished"].get("errorCode"))
    delivered = events["execution.git"]
    branch = f"cloutagent/{execution_id}"
    assert delivered["branch"] == branch and delivered["pushed"] is True
    assert (delivered["files"], delivered["insertions"], delivered["deletions"]) == (1, 1, 0)
    assert delivered["changedFiles"] == ["README.md"]
    # the branch is on the server, one commit on top of the base
    clone = tmp_path / "clone"
    git("clone", "--branch", branch, repo["url"], str(clone), token=repo["token"])
    assert (clone / "README.md").read_text() == "# demo\nchange\n"
    assert git("rev-parse", "HEAD", token=repo["token"], cwd=clone).strip() == delivered["headCommit"]
    assert git("rev-parse", "HEAD~1", token=repo["token"], cwd=clone).strip() == delivered["baseCommit"]
    # a pull request was opened from it, and the run links to it
    [pull] = get_json(f"{ready['httpUrl']}/local/repos/{repo['name']}/pulls")
    assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main"
    assert delivered["pullRequestUrl"] == pull["html_url"]
    # the diff is there to read, and execution.get keeps the result
    diff = await client.ok("execution.diff", {"projectId": pid, "executionId": execution_id})
    assert "+change" in diff["diff"] and diff["nextCursor"] is None
    execution = (await client.ok("execution.get", {"projectId": pid, "executionId": execution_id}))["execution"]
    assert execution["git"] == {k: v for k, v in delivered.items() if k != "executionId"}


async def test_a_run_given_a_branch_starts_from_its_head_pushes_to_it_and_updates_its_pull_request(connect, ready):
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo, pullRequest=True)
    _, first = await run(client, pid)
    branch = first["execution.git"]["branch"]
    _, second = await run(client, pid, '[fake:bash command="echo again >> README.md"]', branch=branch)
    assert second["execution.git"]["baseCommit"] == first["execution.git"]["headCommit"]
    assert second["execution.git"]["branch"] == branch and second["execution.git"]["pushed"] is True
    # the same pull request, updated rather than duplicated
    assert second["execution.git"]["pullRequestUrl"] == first["execution.git"]["pullRequestUrl"]
    assert len(get_json(f"{ready['httpUrl']}/local/repos/{repo['name']}/pulls")) == 1


async def test_a_run_that_changes_nothing_pushes_nothing(connect, ready):
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo)
    execution_id, events = await run(client, pid, "just say hello")
    assert events["execution.finished"]["status"] == "completed"
    assert events["execution.git"]["pushed"] is False and events["execution.git"]["headCommit"] is None
    diff = await client.ok("execution.diff", {"projectId": pid, "executionId": execution_id})
    assert diff["diff"] == ""


def model_request_count(ready: dict[str, Any]) -> int:
    return len(get_json(f"{ready['httpUrl']}/local/model/requests"))


@pytest.mark.parametrize("case, code", [
    ("wrong token", "REPOSITORY_AUTH_FAILED"),
    ("unknown host", "REPOSITORY_UNREACHABLE"),
    ("unknown branch", "BRANCH_NOT_FOUND"),
])
async def test_a_repository_that_cannot_be_cloned_fails_the_run_before_any_model_call(connect, ready, case, code):
    client = await connect()
    repo = new_repo(ready)
    if case == "unknown host":
        repo["url"] = "http://127.0.0.1:9/git/local/nowhere.git"  # the discard port: nothing listens
    pid = await repo_project(client, repo, token="wrong-token" if case == "wrong token" else None,
                             **({"defaultBranch": "no-such-branch"} if case == "unknown branch" else {}))
    calls_before = model_request_count(ready)
    _, events = await run(client, pid)
    finished = events["execution.finished"]
    assert finished["status"] == "failed" and finished["errorCode"] == code, finished
    assert "execution.git" not in events
    assert model_request_count(ready) == calls_before


async def test_a_push_to_a_branch_that_moved_meanwhile_is_rejected(connect, ready, tmp_path):
    # GIVEN a run on an existing branch that takes a few seconds
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo)
    clone = tmp_path / "c"
    git("clone", repo["url"], str(clone), token=repo["token"])
    git("push", "origin", "HEAD:refs/heads/shared", token=repo["token"], cwd=clone)
    started = await client.ok("execute", {"projectId": pid, "branch": "shared",
                                           "prompt": '[fake:bash command="sleep 4 && echo mine >> README.md"]'})
    execution_id = started["execution"]["executionId"]
    await client.wait_for_event(lambda e: e["event"] == "execution.message"
                                and e["data"].get("executionId") == execution_id
                                and e["data"].get("kind") == "tool_use", timeout=30)
    # WHEN a teammate pushes to that branch meanwhile
    (clone / "other.txt").write_text("theirs\n")
    git("add", "other.txt", token=repo["token"], cwd=clone)
    git("commit", "-m", "theirs", token=repo["token"], cwd=clone)
    git("push", "origin", "HEAD:refs/heads/shared", token=repo["token"], cwd=clone)
    # THEN the run does not overwrite it: it fails with PUSH_REJECTED
    end = await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                      and e["data"]["executionId"] == execution_id, timeout=60)
    assert end["data"]["status"] == "failed" and end["data"]["errorCode"] == "PUSH_REJECTED", end["data"]


async def test_the_token_is_nowhere_the_agent_or_a_watcher_can_see(connect, ready, stack):
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo)
    # The agent looks everywhere it can: its environment, the clone's config and every file of the
    # workspace (searched for the token's first half, so the prompt itself does not hold the token)
    half = repo["token"][: len(repo["token"]) // 2]
    looks = f"env; cat .git/config; git config --list --show-origin; grep -rsl {half} . /proc/self/environ || echo none-found"
    execution_id, events = await run(client, pid, f'[fake:bash command="{looks}"]')
    assert events["execution.finished"]["status"] == "completed"
    [result] = [e["data"] for e in client.events if e["projectId"] == pid and e["event"] == "execution.message"
                and e["data"].get("executionId") == execution_id and e["data"]["kind"] == "tool_result"]
    assert "none-found" in json.dumps(result) and "remote.origin.url" in json.dumps(result)
    seen = json.dumps([e for e in client.events if e["projectId"] == pid])
    execution = await client.ok("execution.get", {"projectId": pid, "executionId": execution_id})
    assert repo["token"] not in seen and repo["token"] not in json.dumps(execution)
    assert repo["token"] not in stack.log_text()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ext::sh -c id", "ssh://git@github.com/a/b.git",
                                 "git@github.com:a/b.git", "https://user:pw@github.com/a/b.git"])
async def test_urls_that_are_not_plain_https_are_refused(connect, url):
    client = await connect()
    error = await client.error("project.create", {"name": "bad-repo", "repository": {"url": url}})
    assert error["code"] == "BAD_REQUEST"


async def test_a_refused_pull_request_fails_the_run_and_still_reports_the_pushed_branch(connect, ready):
    # GIVEN a project that says its host is GitLab, where the host speaks only GitHub's API
    client = await connect()
    repo = {**new_repo(ready), "provider": "gitlab"}
    pid = await repo_project(client, repo, pullRequest=True)
    _, events = await run(client, pid)
    finished = events["execution.finished"]
    assert finished["status"] == "failed" and finished["errorCode"] == "PULL_REQUEST_FAILED", finished
    assert "HTTP 404" in finished["error"]
    assert events["execution.git"]["pushed"] is True and events["execution.git"]["pullRequestUrl"] is None


async def test_what_the_agent_plants_in_its_git_never_runs_as_the_executor(connect, ready):
    # GIVEN an agent that plants a hook, an fsmonitor command and a clean filter in its clone, each
    # of which would leave a mark on the executor's machine if the executor's git ran it
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo)
    mark = Path(f"/tmp/cloutagent-planted-{uuid.uuid4().hex}")
    plant = (f"printf '#!/bin/sh\\\\ntouch {mark}-hook\\\\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit"
             f" && git config core.fsmonitor 'touch {mark}-fsmonitor'"
             f" && git config filter.evil.clean 'touch {mark}-filter; cat'"
             f" && echo '* filter=evil' > .gitattributes && echo change >> README.md")
    _, events = await run(client, pid, f'[fake:bash command="{plant}"]')
    # WHEN the executor commits and pushes what the agent left
    assert events["execution.finished"]["status"] == "completed", events["execution.finished"]
    assert events["execution.git"]["pushed"] is True
    # THEN none of it ran outside the sandbox
    assert not list(mark.parent.glob(mark.name + "*"))
