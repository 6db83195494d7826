"""Open or update a run's pull request (GitHub) or merge request (GitLab) through their REST APIs.

The API base comes from the repository URL: ``api.github.com`` for github.com, ``/api/v3`` on any
other GitHub host (GitHub Enterprise's convention, which the dev stack's recorded API follows),
``/api/v4`` on GitLab. A request that already exists for the branch is updated, not duplicated.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientSession, ClientTimeout

from cloutagent.domain.repositories import Repository, github_api, gitlab_project_api

from .git_client import GitFailure

TIMEOUT = ClientTimeout(total=60)


async def _body(reply: Any) -> Any:
    """The answer's JSON; its text when it is not JSON (a proxy's error page, a 404 of another API)."""
    text = await reply.text()
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:200]}


def _refused(provider: str, status: int, body: Any) -> GitFailure:
    message = body.get("message") if isinstance(body, dict) else None
    detail = f": {str(message)[:200]}" if message else ""
    return GitFailure("PULL_REQUEST_FAILED", f"{provider} refused the pull request (HTTP {status}){detail}")


async def _github(repository: Repository, token: str, *, head: str, base: str, title: str, body: str) -> str:
    api, owner, name = github_api(repository)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    pulls = f"{api}/repos/{owner}/{name}/pulls"
    async with ClientSession(timeout=TIMEOUT, headers=headers) as http:
        async with http.get(pulls, params={"head": f"{owner}:{head}", "state": "open"}) as reply:
            found = await _body(reply) if reply.status == 200 else []
        if isinstance(found, list) and found:
            async with http.patch(f"{pulls}/{found[0]['number']}", json={"title": title, "body": body}) as reply:
                data = await _body(reply)
                if reply.status != 200:
                    raise _refused("GitHub", reply.status, data)
                return data["html_url"]
        async with http.post(pulls, json={"title": title, "head": head, "base": base, "body": body}) as reply:
            data = await _body(reply)
            if reply.status != 201:
                raise _refused("GitHub", reply.status, data)
            return data["html_url"]


async def _gitlab(repository: Repository, token: str, *, head: str, base: str, title: str, body: str) -> str:
    project = gitlab_project_api(repository)  # GitLab: the whole path (groups nest)
    async with ClientSession(timeout=TIMEOUT, headers={"PRIVATE-TOKEN": token}) as http:
        async with http.get(f"{project}/merge_requests", params={"source_branch": head, "state": "opened"}) as reply:
            found = await _body(reply) if reply.status == 200 else []
        if isinstance(found, list) and found:
            async with http.put(f"{project}/merge_requests/{found[0]['iid']}",
                                json={"title": title, "description": body}) as reply:
                data = await _body(reply)
                if reply.status != 200:
                    raise _refused("GitLab", reply.status, data)
                return data["web_url"]
        async with http.post(f"{project}/merge_requests", json={"source_branch": head, "target_branch": base,
                                                                "title": title, "description": body}) as reply:
            data = await _body(reply)
            if reply.status != 201:
                raise _refused("GitLab", reply.status, data)
            return data["web_url"]


async def open_pull_request(repository: Repository, token: str, *, head: str, base: str, title: str, body: str) -> str:
    """The request's web URL; GitFailure(PULL_REQUEST_FAILED) when the host refuses."""
    provider = repository.host_provider()
    if provider == "generic":
        raise GitFailure("PULL_REQUEST_FAILED",
                         "Pull requests need a GitHub or GitLab repository: set repository.provider")
    if not token:
        raise GitFailure("PULL_REQUEST_FAILED", "Opening a pull request needs a token: set repository.tokenSecret")
    opener = _github if provider == "github" else _gitlab
    try:
        return await opener(repository, token, head=head, base=base, title=title, body=body)
    except GitFailure:
        raise
    except Exception as exc:  # the host is down, or answered something that is not its API
        raise GitFailure("PULL_REQUEST_FAILED", f"The {provider} API could not be reached ({type(exc).__name__})") from exc
