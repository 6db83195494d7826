"""Git host triggers through the local stack: a signed GitHub ``issue_comment`` delivery, POSTed to
the stack's HTTP API as GitHub would, starts one run on the project's repository (the stack's Git
server), answered there with a comment; the run's end is answered again, off the table's stream.
Redeliveries, unsigned or wrongly signed deliveries and untrusted authors start nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from cloutagent_dev.events import load_event
from tests.e2e.test_repositories import git, new_repo, repo_project
from tests.support.http import get_json

pytestmark = pytest.mark.e2e

CHANGE = '[fake:bash command="echo change >> README.md"]'


def deliver(url: str, payload: dict[str, Any], *, secret: str | None, delivery: str,
            signature: str | None = None) -> tuple[int, dict[str, Any]]:
    """POST a delivery as GitHub does: the raw JSON body, its event, its id and its signature."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issue_comment",
               "X-GitHub-Delivery": delivery, "User-Agent": "GitHub-Hookshot/test"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


async def executions(client, pid: str) -> list[dict[str, Any]]:
    return (await client.ok("execution.list", {"projectId": pid}))["executions"]


async def comments(ready: dict[str, Any], repo: dict[str, Any], count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = get_json(f"{ready['httpUrl']}/local/repos/{repo['name']}/comments")
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


async def test_a_signed_mention_starts_one_run_answered_on_the_issue_and_nothing_else_starts_one(connect, ready):
    # GIVEN a project on a repository of the stack's Git server, with a GitHub trigger
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo)
    created = await client.ok("trigger.set", {"projectId": pid, "provider": "github"})
    url, secret = created["url"], created["secret"]
    assert url == f"{ready['httpUrl']}/v1/hooks/github/{ready['tenantId']}/{pid}"
    assert created["trigger"]["word"] == "@cloutagent" and created["trigger"]["trustOrgMembers"] is True
    shown = await client.ok("trigger.get", {"projectId": pid})
    assert shown["url"] == url and secret not in json.dumps(shown)
    # the project's watchers learn that a Git host may now start runs, and whom it trusts (never the secret)
    changed = await client.wait_for_event(lambda e: e["event"] == "trigger.changed" and e["projectId"] == pid)
    assert changed["data"]["action"] == "set" and changed["data"]["trustOrgMembers"] is True
    assert secret not in json.dumps(changed)
    payload = load_event("github_issue_comment", repo=f"local/{repo['name']}", login="octo", association="MEMBER")
    payload["comment"]["body"] = f"@cloutagent please {CHANGE}"

    # WHEN it is delivered unsigned, wrongly signed, or signed by someone else's secret THEN 401, nothing starts
    for refused in ({"secret": None}, {"secret": "trg_not-the-secret"}, {"secret": None, "signature": "sha256=00"}):
        status, answer = deliver(url, payload, delivery=str(uuid.uuid4()), **refused)
        assert (status, answer["error"]["code"]) == (401, "UNAUTHORIZED")
    status, _ = deliver(url.replace(pid, "p_no_such_project"), payload, secret=secret, delivery=str(uuid.uuid4()))
    assert status == 401  # the same answer: the endpoint tells nobody which projects exist
    # WHEN someone the project does not trust mentions it THEN nothing starts
    stranger = json.loads(json.dumps(payload))
    stranger["comment"]["author_association"] = "NONE"
    status, answer = deliver(url, stranger, secret=secret, delivery=str(uuid.uuid4()))
    assert (status, answer["status"]) == (200, "ignored")
    assert await executions(client, pid) == []

    # WHEN a member's mention is delivered, signed THEN one run starts, attributed to them
    delivery = str(uuid.uuid4())
    status, answer = deliver(url, payload, secret=secret, delivery=delivery)
    assert (status, answer["status"]) == (200, "started"), answer
    execution_id = answer["executionId"]
    # AND GitHub's redelivery of the same delivery starts none
    status, again = deliver(url, payload, secret=secret, delivery=delivery)
    assert (status, again) == (200, {"status": "duplicate"})
    [run] = await executions(client, pid)
    assert run["executionId"] == execution_id and run["createdBy"] == "github:octo"
    # AND the issue got the acknowledging comment, naming the run
    [ack] = await comments(ready, repo, 1)
    assert execution_id in ack["body"] and ack["issue_url"].endswith("/issues/7")

    # WHEN the run ends THEN the issue is answered again, with the pull request the run opened
    await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                and e["data"]["executionId"] == execution_id, timeout=90)
    [pull] = get_json(f"{ready['httpUrl']}/local/repos/{repo['name']}/pulls")
    found = await comments(ready, repo, 2)
    assert len(found) == 2, found
    assert pull["html_url"] in found[1]["body"] and execution_id in found[1]["body"]
    # the platform's own comments would start nothing: they never name the trigger word
    assert all("@cloutagent" not in c["body"] for c in found)

    # WHEN the trigger is deleted THEN the same delivery, even signed, is refused
    await client.ok("trigger.delete", {"projectId": pid})
    status, _ = deliver(url, payload, secret=secret, delivery=str(uuid.uuid4()))
    assert status == 401


def open_pull(ready: dict[str, Any], repo: dict[str, Any], branch: str, tmp_path) -> dict[str, Any]:
    """A branch with a commit of its own, and a pull request from it, on the stack's Git server."""
    clone = tmp_path / "clone"
    git("clone", repo["url"], str(clone), token=repo["token"])
    git("checkout", "-b", branch, token=repo["token"], cwd=clone)
    (clone / "feature.txt").write_text("work in progress\n")
    git("add", "feature.txt", token=repo["token"], cwd=clone)
    git("commit", "-m", "start the feature", token=repo["token"], cwd=clone)
    git("push", "origin", branch, token=repo["token"], cwd=clone)
    request = urllib.request.Request(f"{repo['apiUrl']}/repos/local/{repo['name']}/pulls", method="POST",
                                     data=json.dumps({"title": "A feature", "head": branch, "base": "main"}).encode(),
                                     headers={"Authorization": f"Bearer {repo['token']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


async def test_a_mention_on_a_pull_request_runs_on_its_branch_and_pushes_there(connect, ready, tmp_path):
    # GIVEN a pull request from a branch of the project's repository, and a trigger trusting one login
    client = await connect()
    repo = new_repo(ready)
    pid = await repo_project(client, repo)
    pull = open_pull(ready, repo, "feature/x", tmp_path)
    created = await client.ok("trigger.set", {"projectId": pid, "provider": "github", "trustOrgMembers": False,
                                               "trustedLogins": ["Reviewer"]})
    payload = load_event("github_issue_comment", repo=f"local/{repo['name']}", login="reviewer", association="NONE")
    payload["issue"].update({"number": pull["number"], "pull_request": {"url": pull["url"]}})
    payload["comment"]["body"] = f"@CloutAgent, could you {CHANGE}"
    # WHEN the listed login (in another case) mentions the word on it
    status, answer = deliver(created["url"], payload, secret=created["secret"], delivery=str(uuid.uuid4()))
    assert (status, answer["status"]) == (200, "started"), answer
    execution_id = answer["executionId"]
    # THEN the run starts from the pull request's branch and opens no other pull request
    execution = (await client.ok("execution.get", {"projectId": pid, "executionId": execution_id}))["execution"]
    assert (execution["branch"], execution["pullRequest"]) == ("feature/x", False)
    await client.wait_for_event(lambda e: e["event"] == "execution.finished"
                                and e["data"]["executionId"] == execution_id, timeout=90)
    assert len(get_json(f"{ready['httpUrl']}/local/repos/{repo['name']}/pulls")) == 1
    # AND the pull request is answered twice: started, then pushed to its branch
    found = await comments(ready, repo, 2)
    assert [c["issue_url"].rsplit("/", 1)[1] for c in found] == [str(pull["number"])] * 2
    assert "pushed its commit to `feature/x`" in found[1]["body"], found[1]["body"]
