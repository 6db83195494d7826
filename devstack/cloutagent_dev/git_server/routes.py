"""The local Git server's HTTP surface, and the one place its refusals become replies.

- ``POST /local/repos``: a new repository and its token (dev-only, no authentication).
- ``/git/local/<name>.git/...``: git's smart HTTP protocol, for the repository's token.
- ``/api/v3/repos/local/<name>/pulls``: pull requests in GitHub's REST shape (GitHub Enterprise's
  base URL convention, so a GitHub adapter pointed at this host finds it).
- ``GET /local/repos/<name>/pulls``: every recorded pull request, for tests (no authentication).
- ``/api/v3/repos/local/<name>/issues/<n>/comments``: issue and pull-request comments (POST);
  ``GET /local/repos/<name>/comments``: every recorded comment, for tests (no authentication).
"""

from __future__ import annotations

import base64
import binascii
import inspect
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from cloutagent_dev.git_server import http_backend
from cloutagent_dev.git_server.errors import (GitFailed, GitServerError, InvalidRequest, RepoExists, RepoNotFound,
                                              Unauthorized, ValidationFailed)
from cloutagent_dev.git_server.comments import Comments, IssueComment, NewComment
from cloutagent_dev.git_server.pulls import NewPull, PullChanges, PullRequest, PullRequests
from cloutagent_dev.git_server.repos import OWNER, NewRepo, Repo, RepoStore

API = "/api/v3"
REALM = 'Basic realm="cloutagent-dev"'
STATUS = {InvalidRequest: 400, Unauthorized: 401, RepoNotFound: 404, RepoExists: 409, ValidationFailed: 422,
          GitFailed: 500}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Model = TypeVar("Model", bound=BaseModel)


def credentials(authorization: str) -> tuple[str, str | None]:
    """(user, token) from ``Basic`` (the password is the token), ``Bearer`` or ``token`` credentials."""
    scheme, _, value = authorization.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("bearer", "token") and value:
        return "x-access-token", value
    if scheme == "basic":
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", None
        return (user or "x-access-token", password) if sep and password else ("", None)
    return "", None


async def parse(request: web.Request, model: type[Model], refusal: type[GitServerError]) -> Model:
    """The JSON body as ``model``; ``refusal`` (InvalidRequest locally, ValidationFailed in the API) if it is not."""
    try:
        data = await request.json()
    except ValueError:
        raise refusal("Problems parsing JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = exc.errors()
        errors = [{"resource": "PullRequest", "field": ".".join(map(str, p["loc"])),
                   "code": "missing_field" if p["type"] == "missing" else "invalid"} for p in problems]
        message = "Validation Failed" if refusal is ValidationFailed else f"{errors[0]['field']}: {problems[0]['msg']}"
        raise refusal(message, errors) from None


class GitServer:
    """The local stack's stand-in for GitHub: repositories over smart HTTP and a pull-request API."""

    def __init__(self, root: Path):
        self.store = RepoStore(root)
        self.pulls = PullRequests(self.store)
        self.comments = Comments(self.store)
        self.base_url = ""  # the stack's http URL, known once it is bound

    def routes(self) -> list[tuple[str, str, Handler]]:
        pulls, number = "/repos/{owner}/{repo}/pulls", r"{number:\d+}"
        return [
            ("POST", "/local/repos", self.create_repo),
            ("GET", "/local/repos/{repo}/pulls", self.recorded_pulls),
            ("GET", f"/local/repos/{{repo}}/pulls/{number}", self.recorded_pull),
            ("GET", "/git/{owner}/{repo}.git/{rest:.*}", self.git),
            ("POST", "/git/{owner}/{repo}.git/{rest:.*}", self.git),
            ("POST", API + pulls, self.open_pull),
            ("GET", API + pulls, self.list_pulls),
            ("GET", f"{API}{pulls}/{number}", self.get_pull),
            ("PATCH", f"{API}{pulls}/{number}", self.update_pull),
            ("POST", f"{API}/repos/{{owner}}/{{repo}}/issues/{number}/comments", self.add_comment),
            ("GET", "/local/repos/{repo}/comments", self.recorded_comments),
        ]

    def _base(self, request: web.Request) -> str:
        return self.base_url or f"{request.scheme}://{request.host}"

    # -- dev-only ------------------------------------------------------------------------------
    async def create_repo(self, request: web.Request) -> web.Response:
        try:
            repo, token = await self.store.create(await parse(request, NewRepo, InvalidRequest))
        except GitServerError as exc:
            return web.json_response({"error": exc.message}, status=STATUS[type(exc)])
        base = self._base(request)
        return web.json_response({"url": f"{base}/git/{repo.owner}/{repo.name}.git", "token": token,
                                  "defaultBranch": self.store.read(repo)["defaultBranch"], "provider": "github",
                                  "apiUrl": f"{base}{API}"}, status=201)

    async def recorded_pulls(self, request: web.Request) -> web.Response:
        return await self._github(request, lambda repo: [self._pull(request, repo, p)
                                                         for p in self.pulls.list(repo, state="all")],
                                  owner=OWNER, authenticate=False)

    async def recorded_pull(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        return await self._github(request, lambda repo: self._pull(request, repo, self.pulls.get(repo, number)),
                                  owner=OWNER, authenticate=False)

    async def recorded_comments(self, request: web.Request) -> web.Response:
        return await self._github(request, lambda repo: [self._comment(request, repo, c)
                                                         for c in self.comments.list(repo)],
                                  owner=OWNER, authenticate=False)

    # -- git -----------------------------------------------------------------------------------
    async def git(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        try:
            repo = self.store.find(info["owner"], info["repo"])
            if any(part in (".", "..") for part in info["rest"].split("/")):
                raise RepoNotFound("Not Found")
            user, token = credentials(request.headers.get("Authorization", ""))
            self.store.check_token(repo, token)
        except Unauthorized:
            return web.Response(status=401, text="Authentication required\n", headers={"WWW-Authenticate": REALM})
        except GitServerError as exc:
            return web.Response(status=STATUS[type(exc)], text=f"{exc.message}\n")
        return await http_backend.serve(request, project_root=self.store.root,
                                        path_info=f"/{repo.owner}/{repo.name}.git/{info['rest']}", remote_user=user)

    # -- the pull-request API ------------------------------------------------------------------
    async def open_pull(self, request: web.Request) -> web.Response:
        async def open_(repo: Repo) -> dict[str, Any]:
            pull = await self.pulls.open(repo, await parse(request, NewPull, ValidationFailed))
            return self._pull(request, repo, pull)
        return await self._github(request, open_, status=201)

    async def list_pulls(self, request: web.Request) -> web.Response:
        query = request.query
        return await self._github(request, lambda repo: [
            self._pull(request, repo, p)
            for p in self.pulls.list(repo, head=query.get("head"), base=query.get("base"),
                                     state=query.get("state", "open"))])

    async def get_pull(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        return await self._github(request, lambda repo: self._pull(request, repo, self.pulls.get(repo, number)))

    async def update_pull(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])

        async def update(repo: Repo) -> dict[str, Any]:
            changes = await parse(request, PullChanges, ValidationFailed)
            return self._pull(request, repo, self.pulls.update(repo, number, changes))
        return await self._github(request, update)

    async def add_comment(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])

        async def add(repo: Repo) -> dict[str, Any]:
            comment = self.comments.add(repo, number, await parse(request, NewComment, ValidationFailed))
            return self._comment(request, repo, comment)
        return await self._github(request, add, status=201)

    async def _github(self, request: web.Request, answer: Callable[[Repo], Any], *, status: int = 200,
                      owner: str | None = None, authenticate: bool = True) -> web.Response:
        """Find the repository, check the token, answer; any refusal as GitHub words it."""
        try:
            repo = self.store.find(owner or request.match_info["owner"], request.match_info["repo"])
            if authenticate:
                self.store.check_token(repo, credentials(request.headers.get("Authorization", ""))[1])
            body = answer(repo)
            if inspect.isawaitable(body):
                body = await body
        except GitServerError as exc:
            return web.json_response({"message": exc.message, **({"errors": exc.errors} if exc.errors else {})},
                                     status=STATUS[type(exc)])
        return web.json_response(body, status=status)

    def _comment(self, request: web.Request, repo: Repo, comment: IssueComment) -> dict[str, Any]:
        """A comment in GitHub's REST shape (the fields a client reads)."""
        base = self._base(request)
        return {"id": comment.id, "body": comment.body, "user": {"login": comment.user, "type": "Bot"},
                "issue_url": f"{base}{API}/repos/{repo.owner}/{repo.name}/issues/{comment.issue}",
                "html_url": f"{base}/local/repos/{repo.name}/comments#{comment.id}", "created_at": comment.created_at}

    def _pull(self, request: web.Request, repo: Repo, pull: PullRequest) -> dict[str, Any]:
        """A pull request in GitHub's REST shape (the fields a client reads)."""
        base = self._base(request)
        return {
            "id": pull.number, "number": pull.number, "state": pull.state, "title": pull.title, "body": pull.body,
            "url": f"{base}{API}/repos/{repo.owner}/{repo.name}/pulls/{pull.number}",
            "html_url": f"{base}/local/repos/{repo.name}/pulls/{pull.number}",
            "head": {"ref": pull.head, "label": f"{repo.owner}:{pull.head}"},
            "base": {"ref": pull.base, "label": f"{repo.owner}:{pull.base}"},
            "created_at": pull.created_at, "updated_at": pull.updated_at,
        }
