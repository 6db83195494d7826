"""Issue and pull-request comments as GitHub keeps them, recorded in the repository's ``<name>.json``
(``comments``): what the platform's Git host triggers answer, for tests to read back."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from cloutagent_dev.git_server.repos import Repo, RepoStore


class NewComment(BaseModel):
    body: str = Field(min_length=1, max_length=65536)


@dataclass
class IssueComment:
    id: int
    issue: int  # the issue's or pull request's number: on GitHub, pull requests are issues too
    body: str
    user: str
    created_at: str


class Comments:
    def __init__(self, store: RepoStore):
        self.store = store

    def add(self, repo: Repo, issue: int, new: NewComment) -> IssueComment:
        meta = self.store.read(repo)
        recorded = meta.setdefault("comments", [])
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        comment = IssueComment(len(recorded) + 1, issue, new.body, "x-access-token", now)
        recorded.append(asdict(comment))
        self.store.write(repo, meta)
        return comment

    def list(self, repo: Repo) -> list[IssueComment]:
        return [IssueComment(**c) for c in self.store.read(repo).get("comments", [])]
