"""A run's life with the project's repository: clone before the agent, deliver after it.

``clone`` fills the run's folder from the base branch (or the branch the run was given), shallow,
before any model call, so a wrong token or an unknown branch costs nothing. ``deliver`` commits
what the work tree holds now, pushes it to ``cloutagent/<execution>`` (or the given branch), writes
the run's diff under the tenant's prefix, and opens or updates a pull request when asked.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloutagent.adapters.s3_diffs import diff_key
from cloutagent.domain.repositories import Repository, run_branch

from .git_client import CLONE_TIMEOUT_SECONDS, PUSH_TIMEOUT_SECONDS, Git, GitAccess, GitFailure
from .pull_requests import open_pull_request

@dataclass
class RunPlan:
    """What this run does with the repository, decided from the project and the execute request."""

    repository: Repository
    token: str
    execution_id: str
    given_branch: str | None = None
    pull_request: bool = False
    author_name: str = "cloutagent"
    author_email: str = "agent@cloutagent.invalid"

    @property
    def push_branch(self) -> str:
        return self.given_branch or run_branch(self.execution_id)


@dataclass
class GitResult:
    branch: str
    base_commit: str
    head_commit: str | None = None
    files: int = 0
    insertions: int = 0
    deletions: int = 0
    pushed: bool = False
    pull_request_url: str | None = None
    changed_files: list[str] = field(default_factory=list)
    pull_request_failure: GitFailure | None = None

    def event(self) -> dict[str, Any]:
        return {"branch": self.branch, "baseCommit": self.base_commit, "headCommit": self.head_commit,
                "files": self.files, "insertions": self.insertions, "deletions": self.deletions,
                "pushed": self.pushed, "pullRequestUrl": self.pull_request_url,
                "changedFiles": self.changed_files[:100]}


def commit_message(final_text: str | None, execution_id: str) -> str:
    text = (final_text or "").strip()
    if not text:
        return f"cloutagent run {execution_id}"
    subject = text.splitlines()[0][:72]
    return f"{subject}\n\n{text[:4000]}\n\nRun: {execution_id}" if text != subject else f"{subject}\n\nRun: {execution_id}"


class RepositoryRun:
    def __init__(self, plan: RunPlan, allow_http: bool = False):
        self.plan, self.allow_http = plan, allow_http
        self._private = Path(tempfile.mkdtemp(prefix="cloutagent-git-"))  # root's, mode 700
        self.git: Git | None = None
        self.base_commit = ""
        self.base_branch = ""

    async def clone(self, folder: Path) -> None:
        plan = self.plan
        access = GitAccess(plan.token, self.allow_http)
        git_dir = self._private / "git"
        branch = plan.given_branch or plan.repository.default_branch
        args = ["clone", "--depth", "1", "--single-branch", "--no-tags", f"--separate-git-dir={git_dir}",
                *(["--branch", branch] if branch else []), "--", plan.repository.url, str(folder)]
        self.git = Git(git_dir, folder, access)
        await self.git.run(*args, step="clone the repository", timeout=CLONE_TIMEOUT_SECONDS, with_dirs=False)
        self.base_commit = (await self.git.run("rev-parse", "HEAD", step="read the base commit")).strip()
        self.base_branch = (await self.git.run("symbolic-ref", "--short", "HEAD", step="read the branch")).strip()
        # The agent works with a copy of the history; the executor keeps the original to itself.
        (folder / ".git").unlink()
        shutil.copytree(git_dir, folder / ".git", symlinks=True)

    async def deliver(self, final_text: str | None, s3: Any, bucket: str, tenant_id: str) -> GitResult:
        git, plan = self.git, self.plan
        assert git is not None, "clone first"
        result = GitResult(branch=plan.push_branch, base_commit=self.base_commit)
        await git.run("add", "--all", "--", ".", step="stage the changes")
        status = await git.run("status", "--porcelain", "--untracked-files=no", step="read the changes")
        if not status.strip():
            return result
        await git.run("-c", f"user.name={plan.author_name}", "-c", f"user.email={plan.author_email}",
                      "commit", "--no-verify", "--quiet", "-m", commit_message(final_text, plan.execution_id),
                      step="commit the changes")
        result.head_commit = (await git.run("rev-parse", "HEAD", step="read the new commit")).strip()
        self._count(result, await git.run("diff", "--numstat", self.base_commit, "HEAD", step="count the changes"))
        diff = await git.run("diff", "--no-color", "--no-ext-diff", self.base_commit, "HEAD", step="write the diff")
        if bucket:
            s3.put_object(Bucket=bucket, Key=diff_key(tenant_id, plan.execution_id), Body=diff.encode(),
                          ContentType="text/x-diff; charset=utf-8")
        await git.run("push", "--porcelain", "origin", f"HEAD:refs/heads/{plan.push_branch}",
                      step="push the branch", timeout=PUSH_TIMEOUT_SECONDS)
        result.pushed = True
        if plan.pull_request:
            try:
                await self._open_pull_request(result, final_text)
            except GitFailure as failure:  # the branch is pushed all the same: say so, then fail
                result.pull_request_failure = failure
        return result

    async def _open_pull_request(self, result: GitResult, final_text: str | None) -> None:
        plan = self.plan
        target = await self._pull_request_base()
        if plan.push_branch != target:
            result.pull_request_url = await open_pull_request(
                plan.repository, plan.token, head=plan.push_branch, base=target,
                title=commit_message(final_text, plan.execution_id).splitlines()[0],
                body=f"{(final_text or '').strip()[:60_000]}\n\nOpened by cloutagent run `{plan.execution_id}`.")

    async def _pull_request_base(self) -> str:
        """Where a pull request goes: the base branch, even when the run worked on a branch of its own."""
        if self.plan.repository.default_branch:
            return self.plan.repository.default_branch
        if not self.plan.given_branch:
            return self.base_branch
        assert self.git is not None
        heads = await self.git.run("ls-remote", "--symref", "origin", "HEAD", step="read the default branch",
                                   timeout=CLONE_TIMEOUT_SECONDS)
        for line in heads.splitlines():
            if line.startswith("ref: refs/heads/"):
                return line.split("\t", 1)[0].removeprefix("ref: refs/heads/")
        return self.base_branch

    @staticmethod
    def _count(result: GitResult, numstat: str) -> None:
        for line in numstat.splitlines():
            added, removed, name = (line.split("\t", 2) + ["", ""])[:3]
            result.files += 1
            result.insertions += int(added) if added.isdigit() else 0
            result.deletions += int(removed) if removed.isdigit() else 0
            result.changed_files.append(name)

    def close(self) -> None:
        shutil.rmtree(self._private, ignore_errors=True)


