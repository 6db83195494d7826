"""Bare repositories at ``<root>/local/<name>.git``, each with a file ``<name>.json`` beside it that
holds its token and its pull requests, so the secret never travels with a clone or a copy of the repo."""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloutagent.observability import logger
from cloutagent_dev.git_server.errors import GitFailed, InvalidRequest, RepoExists, RepoNotFound, Unauthorized
from cloutagent_dev.git_server.git import run_git

OWNER = "local"
AUTHOR = "cloutagent dev <dev@cloutagent.local>"
NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$"
NAME = re.compile(NAME_PATTERN)


def is_safe_path(path: str) -> bool:
    """A relative path inside the work tree: no empty, ``.``, ``..`` or ``.git`` part, no control character."""
    parts = path.split("/")
    return (0 < len(path) <= 4096 and all(parts) and not any(p in (".", "..") or p.lower() == ".git" for p in parts)
            and not any(ord(c) < 32 or ord(c) == 127 for c in path))


class NewRepo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(pattern=NAME_PATTERN)
    files: dict[str, str] | None = Field(default=None, max_length=10_000)
    default_branch: str = Field(default="main", alias="defaultBranch", min_length=1, max_length=200)

    @field_validator("files")
    @classmethod
    def _paths_stay_inside(cls, files: dict[str, str] | None) -> dict[str, str] | None:
        bad = [path for path in files or {} if not is_safe_path(path)]
        if bad:
            raise ValueError(f"not a relative path inside the repository: {bad[0]!r}")
        return files


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str
    path: Path  # the bare repository
    meta: Path  # its token and pull requests


class RepoStore:
    def __init__(self, root: Path):
        self.root = root  # what git http-backend gets as GIT_PROJECT_ROOT
        self._creating = asyncio.Lock()

    def _repo(self, name: str) -> Repo:
        folder = self.root / OWNER
        return Repo(OWNER, name, folder / f"{name}.git", folder / f"{name}.json")

    def find(self, owner: str, name: str) -> Repo:
        """The repository ``owner/name``, or RepoNotFound."""
        if owner == OWNER and NAME.match(name):
            repo = self._repo(name)
            if repo.path.is_dir() and repo.meta.is_file():
                return repo
        raise RepoNotFound("Not Found")

    def check_token(self, repo: Repo, presented: str | None) -> None:
        """Unauthorized unless ``presented`` is the repository's token."""
        if not presented or not hmac.compare_digest(presented.encode(), self.read(repo)["token"].encode()):
            raise Unauthorized("Bad credentials")

    async def create(self, new: NewRepo) -> tuple[Repo, str]:
        """A bare repository with one commit of ``new.files`` on ``new.default_branch``; returns it and its token."""
        files = {"README.md": f"# {new.name}\n"} if new.files is None else new.files
        if (await run_git("check-ref-format", f"refs/heads/{new.default_branch}"))[0]:
            raise InvalidRequest(f"not a valid branch name: {new.default_branch!r}")
        async with self._creating:
            repo = self._repo(new.name)
            if repo.path.exists() or repo.meta.exists():
                raise RepoExists(f"repository {new.name!r} already exists")
            repo.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = repo.path.with_name(f".new-{secrets.token_hex(8)}.git")  # names never start with "."
            try:
                await _git_or_fail("init", "--quiet", "--bare", f"--initial-branch={new.default_branch}", str(scratch))
                await _git_or_fail("fast-import", "--quiet", "--date-format=now", git_dir=scratch,
                                   stdin=initial_commit(new.default_branch, files))
                scratch.rename(repo.path)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            token = secrets.token_urlsafe(32)
            self.write(repo, {"token": token, "defaultBranch": new.default_branch, "pulls": []})
        return repo, token

    async def has_branch(self, repo: Repo, branch: str) -> bool:
        # show-ref takes the exact ref name: "main~1" or "main^{tree}" name no branch
        code, _, _ = await run_git("show-ref", "--verify", "--quiet", f"refs/heads/{branch}", git_dir=repo.path)
        return code == 0

    def read(self, repo: Repo) -> dict[str, Any]:
        return json.loads(repo.meta.read_text())

    def write(self, repo: Repo, meta: dict[str, Any]) -> None:
        tmp = repo.meta.with_name(f".{repo.meta.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the token is a secret
        with os.fdopen(fd, "w") as out:
            json.dump(meta, out, indent=2)
        tmp.replace(repo.meta)


def initial_commit(branch: str, files: dict[str, str]) -> bytes:
    """A ``git fast-import`` stream: one commit holding ``files`` (any depth of folders) on ``branch``."""
    message = b"Initial commit\n"
    stream = [f"commit refs/heads/{branch}\nauthor {AUTHOR} now\ncommitter {AUTHOR} now\n".encode(),
              b"data %d\n" % len(message), message]
    for path, text in sorted(files.items()):
        data = text.encode()
        quoted = '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
        stream += [f"M 100644 inline {quoted}\n".encode(), b"data %d\n" % len(data), data, b"\n"]
    return b"".join(stream)


async def _git_or_fail(*args: str, git_dir: Path | None = None, stdin: bytes | None = None) -> None:
    code, _, err = await run_git(*args, git_dir=git_dir, stdin=stdin)
    if code:
        logger.error("git failed", extra={"args": args[:2], "stderr": err.decode(errors="replace")[-2000:]})
        raise GitFailed(f"git {args[0]} failed")
