"""Comments on a GitHub issue or pull request, or a GitLab issue or merge request, through their REST APIs.

The API's address comes from the project's repository URL (checked when it was set), and every
request goes to an address checked when it is made, pinned for the connection (the webhook
notifier's way, ``webhook_http.exchange``): a repository host that resolves inside the network
gets nothing. Failures are logged and answered as None/False: a comment never fails a run.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

from cloutagent.adapters.webhook_http import exchange
from cloutagent.domain.notifications import address_allowed
from cloutagent.domain.repositories import Repository, github_api, gitlab_project_api
from cloutagent.domain.triggers import CommentTarget
from cloutagent.observability import logger

MAX_ANSWER_BYTES = 256 * 1024


class HttpGitHost:
    # Git hosts give a delivery 10 s: a pull request's branch and the acknowledging comment fit in it.
    def __init__(self, *, allow_loopback: bool = False, timeout: float = 3.5, user_agent: str = "cloutagent-triggers/1"):
        self.allow_loopback = allow_loopback  # the dev stack's Git server only
        self.timeout = timeout
        self.user_agent = user_agent

    def comment(self, repository: Repository, target: CommentTarget, token: str, body: str) -> bool:
        """Post ``body`` as a comment on the target; whether the host took it."""
        if target.provider == "github":
            api, owner, name = github_api(repository)
            url = f"{api}/repos/{owner}/{name}/issues/{target.number}/comments"  # pull requests are issues here
            payload = {"body": body}
        else:
            kind = "merge_requests" if target.kind == "merge_request" else "issues"
            url = f"{gitlab_project_api(repository)}/{kind}/{target.number}/notes"
            payload = {"body": body}
        status, _ = self._call("POST", url, target.provider, token, payload)
        if status != 201:
            logger.warning("git host comment not posted", extra={"provider": target.provider, "status": status})
        return status == 201

    def pull_request_branch(self, repository: Repository, target: CommentTarget, token: str) -> str | None:
        """A GitHub pull request's head branch, if it is in the repository itself (not a fork's)."""
        if target.provider != "github" or target.kind != "pull_request":
            return None
        api, owner, name = github_api(repository)
        status, data = self._call("GET", f"{api}/repos/{owner}/{name}/pulls/{target.number}", "github", token)
        head = data.get("head") if status == 200 and isinstance(data, dict) else None
        if not isinstance(head, dict) or not isinstance(head.get("ref"), str):
            return None
        head_repo = head.get("repo")
        if isinstance(head_repo, dict) and str(head_repo.get("full_name", "")).lower() != f"{owner}/{name}".lower():
            return None  # a fork's branch: the run cannot push there
        return head["ref"]

    def _call(self, method: str, url: str, provider: str, token: str,
              payload: dict[str, Any] | None = None) -> tuple[int | None, Any]:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if provider == "github":
            headers.update({"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                            "X-GitHub-Api-Version": "2022-11-28"})
        else:
            headers["PRIVATE-TOKEN"] = token
        body = json.dumps(payload).encode() if payload is not None else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        address = self._address(url)
        if address is None:
            return None, None
        status, raw = exchange(method, url, address, body, headers, self.timeout, max_bytes=MAX_ANSWER_BYTES)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def _address(self, url: str) -> str | None:
        parts = urlsplit(url)
        try:
            infos = socket.getaddrinfo(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except OSError as exc:
            logger.warning("git host not resolved", extra={"error_type": type(exc).__name__})
            return None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses or not all(address_allowed(a.split("%")[0], allow_loopback=self.allow_loopback)
                                    for a in addresses):
            logger.warning("git host refused: it resolves to a private, loopback or reserved address")
            return None
        return addresses[0]
