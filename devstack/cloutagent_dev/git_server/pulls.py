"""Pull requests as GitHub keeps them, recorded in the repository's ``<name>.json``: opened,
listed and edited through the API, never merged."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from cloutagent_dev.git_server.errors import RepoNotFound, ValidationFailed
from cloutagent_dev.git_server.repos import Repo, RepoStore


class NewPull(BaseModel):
    title: str = Field(min_length=1, max_length=256)
    head: str = Field(min_length=1, max_length=255)
    base: str = Field(min_length=1, max_length=255)
    body: str | None = Field(default=None, max_length=65536)


class PullChanges(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=256)
    body: str | None = Field(default=None, max_length=65536)
    state: Literal["open", "closed"] | None = None


@dataclass
class PullRequest:
    number: int
    title: str
    body: str | None
    head: str  # branch names, without the "owner:" prefix
    base: str
    state: str
    created_at: str
    updated_at: str


def branch_name(repo: Repo, ref: str) -> str:
    """GitHub takes ``head`` as ``branch`` or ``owner:branch``."""
    owner, sep, branch = ref.partition(":")
    return branch if sep and owner == repo.owner else ref


class PullRequests:
    def __init__(self, store: RepoStore):
        self.store = store

    async def open(self, repo: Repo, new: NewPull) -> PullRequest:
        """Record a pull request from ``head`` into ``base``, as GitHub would accept it."""
        head, base = branch_name(repo, new.head), branch_name(repo, new.base)
        missing = [field for field, branch in (("head", head), ("base", base))
                   if not await self.store.has_branch(repo, branch)]
        if missing:
            raise ValidationFailed("Validation Failed",
                                   [{"resource": "PullRequest", "field": field, "code": "invalid"} for field in missing])
        # No await from here on: the read, the check and the write happen as one step of the event loop.
        meta = self.store.read(repo)
        if any(p["head"] == head and p["state"] == "open" for p in meta["pulls"]):
            raise ValidationFailed("Validation Failed", [{
                "resource": "PullRequest", "code": "custom",
                "message": f"A pull request already exists for {repo.owner}:{head}."}])
        now = _now()
        pull = PullRequest(len(meta["pulls"]) + 1, new.title, new.body, head, base, "open", now, now)
        meta["pulls"].append(asdict(pull))
        self.store.write(repo, meta)
        return pull

    def list(self, repo: Repo, *, head: str | None = None, base: str | None = None,
             state: str = "open") -> list[PullRequest]:
        """Like GitHub's list: ``state`` is open, closed or all; ``head`` is ``owner:branch``."""
        pulls = [PullRequest(**p) for p in self.store.read(repo)["pulls"]]
        return [p for p in pulls
                if (state == "all" or p.state == state)
                and (head is None or branch_name(repo, head) == p.head)
                and (base is None or branch_name(repo, base) == p.base)]

    def get(self, repo: Repo, number: int) -> PullRequest:
        pulls = self.store.read(repo)["pulls"]
        if not 1 <= number <= len(pulls):
            raise RepoNotFound("Not Found")
        return PullRequest(**pulls[number - 1])

    def update(self, repo: Repo, number: int, changes: PullChanges) -> PullRequest:
        """Change the title, body or state of pull request ``number``."""
        pull = self.get(repo, number)
        for name, value in changes.model_dump(exclude_unset=True).items():
            if value is not None or name == "body":  # a null body clears it, as on GitHub
                setattr(pull, name, value)
        pull.updated_at = _now()
        meta = self.store.read(repo)
        meta["pulls"][number - 1] = asdict(pull)
        self.store.write(repo, meta)
        return pull


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
