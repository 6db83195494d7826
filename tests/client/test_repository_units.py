"""The clients' repository parts without a stack: the SDK's execute and diff paging (through an
in-memory transport), the CLI's flags, the repository it sends, and how it shows runs and diffs."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest

from cloutagent_client import BadRequest, NotFound
from cloutagent_client.api import Api
from cloutagent_client.cli import diff as diff_command
from cloutagent_client.cli.main import build_parser
from cloutagent_client.cli.output import Output
from cloutagent_client.cli.projects import _UNCHANGED, repository
from cloutagent_client.cli.render import DiffLines, Style, event_line, git_summary, summary

DIFF = (
    "diff --git a/README.md b/README.md\n"
    "index 3b18e51..a1b2c3d 100644\n"
    "--- a/README.md\n"
    "+++ b/README.md\n"
    "@@ -1 +1,2 @@\n"
    " # demo\n"
    "+change\n"
    "diff --git a/notes.txt b/notes.txt\n"
    "--- a/notes.txt\n"
    "+++ b/notes.txt\n"
    "@@ -1,3 +1,2 @@\n"
    "--- a line that starts like a header\n"
    " kept\n"
    "-gone\n"
    "\\ No newline at end of file\n"
    "+++ an added line that starts like a header\n"
)
KINDS = ["header", "header", "header", "header", "hunk", "context", "added",
         "header", "header", "header", "hunk", "removed", "context", "removed", "context", "added"]
GIT = {"executionId": "x_1", "branch": "cloutagent/x_1", "baseCommit": "a" * 40, "headCommit": "b" * 40,
       "files": 1, "insertions": 1, "deletions": 0, "pushed": True,
       "pullRequestUrl": "http://127.0.0.1:8765/local/repos/demo/pulls/1", "changedFiles": ["README.md"]}


class InMemoryApi(Api):
    """The SDK's shortcuts over a fake transport: records requests, answers from ``replies``."""

    def __init__(self, replies: dict[str, Any]):
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.replies = replies

    async def request(self, action: str, data: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict:
        self.sent.append((action, dict(data or {})))
        reply = self.replies[action]
        return reply(data) if callable(reply) else reply


def diff_pages(pages: list[str]):
    """execution.diff over ``pages``: the cursor is the next page's index, as a string."""
    def reply(data: dict[str, Any]) -> dict[str, Any]:
        at = int(data.get("cursor") or 0)
        return {"executionId": data["executionId"], "diff": pages[at],
                "nextCursor": str(at + 1) if at + 1 < len(pages) else None, "totalBytes": len("".join(pages))}
    return reply


# -- SDK -------------------------------------------------------------------------------------------
async def test_execute_sends_branch_and_pull_request_beside_the_options_only_when_given():
    api = InMemoryApi({"execute": {"execution": {"executionId": "x_1", "status": "starting"}}})
    await api.execute("p_1", "go", branch="feature/x", pull_request=False, maxCostUsd=1.0, model=None)
    await api.execute("p_1", "go")
    assert api.sent == [
        ("execute", {"projectId": "p_1", "prompt": "go", "branch": "feature/x", "pullRequest": False,
                     "options": {"maxCostUsd": 1.0}}),
        ("execute", {"projectId": "p_1", "prompt": "go"}),
    ]


async def test_execution_diff_follows_next_cursor_and_returns_the_whole_text():
    # GIVEN a diff the service sends as three pages, each of whole lines
    second, third = DIFF.index("diff --git a/notes"), DIFF.index("@@ -1,3")
    pages = [DIFF[:second], DIFF[second:third], DIFF[third:]]
    api = InMemoryApi({"execution.diff": diff_pages(pages)})
    # WHEN the whole diff and the pages are read
    whole = await api.execution_diff("p_1", "x_1")
    listed = [page async for page in api.execution_diff_pages("p_1", "x_1")]
    # THEN every page was asked for once per read, with the cursor the previous one gave
    assert whole == DIFF and listed == pages
    assert [data.get("cursor") for _, data in api.sent] == [None, "1", "2"] * 2


async def test_the_diff_of_a_run_that_changed_nothing_is_empty():
    api = InMemoryApi({"execution.diff": {"executionId": "x_1", "diff": "", "nextCursor": None, "totalBytes": 0}})
    assert await api.execution_diff("p_1", "x_1") == ""
    assert [page async for page in api.execution_diff_pages("p_1", "x_1")] == []


async def test_project_create_and_update_pass_the_repository_and_update_can_remove_it():
    api = InMemoryApi({"project.create": {"project": {}}, "project.update": {"project": {}}})
    repo = {"url": "https://github.com/acme/site.git", "tokenSecret": "GITHUB_TOKEN", "pullRequest": True}
    await api.create_project("site", repository=repo)
    await api.update_project("p_1", repository=None)
    assert api.sent == [("project.create", {"name": "site", "repository": repo}),
                        ("project.update", {"projectId": "p_1", "repository": None})]


# -- CLI flags -----------------------------------------------------------------------------------------
def test_run_takes_a_branch_and_pr_or_no_pr():
    parse = build_parser().parse_args
    assert (parse(["run", "p", "go"]).branch, parse(["run", "p", "go"]).pull_request) == (None, None)
    args = parse(["run", "p", "go", "--branch", "feature/x", "--no-pr"])
    assert (args.branch, args.pull_request) == ("feature/x", False)
    assert parse(["run", "p", "go", "--pr"]).pull_request is True


def test_diff_takes_a_project_and_optionally_an_execution():
    parse = build_parser().parse_args
    assert (parse(["diff", "demo"]).project, parse(["diff", "demo"]).execution) == ("demo", None)
    assert parse(["diff", "demo", "x_1", "--json"]).execution == "x_1"


def test_projects_create_builds_the_repository_from_its_flags():
    args = build_parser().parse_args(["projects", "create", "site", "--repo", "https://github.com/acme/site.git",
                                      "--repo-branch", "trunk", "--repo-token-secret", "GITHUB_TOKEN",
                                      "--repo-provider", "github", "--pr"])
    assert repository(args) == {"url": "https://github.com/acme/site.git", "defaultBranch": "trunk",
                                "tokenSecret": "GITHUB_TOKEN", "provider": "github", "pullRequest": True}
    assert repository(build_parser().parse_args(["projects", "create", "site"])) is _UNCHANGED


def test_projects_update_changes_only_the_given_repository_fields():
    current = {"url": "https://github.com/acme/site.git", "defaultBranch": None, "tokenSecret": "GITHUB_TOKEN",
               "provider": None, "pullRequest": True}
    parse = build_parser().parse_args
    assert repository(parse(["projects", "update", "site", "--repo-branch", "dev", "--no-pr"]), current) == \
        {**current, "defaultBranch": "dev", "pullRequest": False}
    # an empty value clears a field (a public repository needs no token)
    assert repository(parse(["projects", "update", "site", "--repo-token-secret", ""]), current) == \
        {**current, "tokenSecret": None}
    assert repository(parse(["projects", "update", "site", "--no-repo"]), current) is None
    assert repository(parse(["projects", "update", "site", "--name", "web"]), current) is _UNCHANGED


def test_repository_flags_that_cannot_make_a_repository_are_usage_errors():
    parse = build_parser().parse_args
    with pytest.raises(BadRequest, match="--repo URL"):
        repository(parse(["projects", "update", "site", "--pr"]), None)
    with pytest.raises(BadRequest, match="--no-repo"):
        repository(parse(["projects", "update", "site", "--no-repo", "--repo-branch", "dev"]), {"url": "u"})
    with pytest.raises(SystemExit):  # argparse: not a provider
        parse(["projects", "create", "site", "--repo", "u", "--repo-provider", "bitbucket"])


# -- how runs and diffs look ---------------------------------------------------------------------------
def test_the_git_summary_says_branch_files_lines_and_the_pull_request():
    plain = Style(color=False)
    assert git_summary(GIT, plain) == "⎇ cloutagent/x_1 · 1 file +1 -0 · http://127.0.0.1:8765/local/repos/demo/pulls/1"
    assert git_summary({**GIT, "files": 3, "insertions": 10, "deletions": 2, "pullRequestUrl": None}, plain) == \
        "⎇ cloutagent/x_1 · 3 files +10 -2"
    assert git_summary({**GIT, "headCommit": None, "files": 0, "pushed": False, "pullRequestUrl": None}, plain) == \
        "⎇ cloutagent/x_1 · nothing changed"
    assert "\x1b[32m+1\x1b[0m" in git_summary(GIT, Style(color=True))
    assert event_line({"seq": 9, "ts": "2026-11-21T07:51:34.369Z", "event": "execution.git", "data": GIT}, plain) == \
        f"#9 07:51:34 {git_summary(GIT, plain)}"


def test_a_failed_runs_summary_names_its_error_code():
    finished = {"status": "failed", "durationMs": 300, "costUsd": 0, "error": "No branch nope in the repository",
                "errorCode": "BRANCH_NOT_FOUND"}
    assert summary(finished).endswith(" · No branch nope in the repository (BRANCH_NOT_FOUND)")
    assert summary({**finished, "error": None}).endswith(" · BRANCH_NOT_FOUND")
    assert summary({**finished, "errorCode": None}).endswith(" · No branch nope in the repository")


def test_diff_lines_are_told_apart_by_the_hunk_counts_not_only_by_their_first_character():
    lines = DiffLines()
    assert [lines.kind(line) for line in DIFF.removesuffix("\n").split("\n")] == KINDS


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color_or_json(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Style.for_stream(Tty()).color and not Style.for_stream(io.StringIO()).color
    assert not Style.for_stream(Tty(), json_mode=True).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.for_stream(Tty()).color


class DiffClient(InMemoryApi):
    async def find_project(self, ref: str) -> dict[str, Any]:
        return {"projectId": "p_1", "name": ref}


async def test_the_diff_command_prints_the_latest_runs_diff_coloured_on_a_terminal(monkeypatch):
    # GIVEN a project whose newest run changed two files
    monkeypatch.delenv("NO_COLOR", raising=False)
    client = DiffClient({"execution.list": {"executions": [{"executionId": "x_2"}], "nextCursor": None},
                         "execution.diff": diff_pages([DIFF])})
    out = Output(False, stdout=Tty(), stderr=io.StringIO())
    # WHEN `cloutagent diff demo` runs on a terminal
    code = await diff_command.diff(client, SimpleNamespace(project="demo", execution=None), out)
    # THEN it printed that run's diff, added lines green, removed red, hunks cyan
    assert code == 0 and ("execution.diff", {"projectId": "p_1", "executionId": "x_2"}) in client.sent
    printed = out.stdout.getvalue().split("\n")
    assert printed[6] == "\x1b[32m+change\x1b[0m" and printed[11] == "\x1b[31m--- a line that starts like a header\x1b[0m"
    assert printed[4] == "\x1b[36m@@ -1 +1,2 @@\x1b[0m" and printed[5] == " # demo"


async def test_the_diff_command_without_colour_prints_the_diff_as_it_is_and_json_as_one_object():
    client = DiffClient({"execution.diff": diff_pages([DIFF[:DIFF.index("diff --git a/notes")],
                                                       DIFF[DIFF.index("diff --git a/notes"):]])})
    out = Output(False, stdout=io.StringIO(), stderr=io.StringIO())
    await diff_command.diff(client, SimpleNamespace(project="demo", execution="x_1"), out)
    assert out.stdout.getvalue() == DIFF
    out = Output(True, stdout=io.StringIO(), stderr=io.StringIO())
    await diff_command.diff(client, SimpleNamespace(project="demo", execution="x_1"), out)
    assert out.stdout.getvalue() == \
        json.dumps({"projectId": "p_1", "executionId": "x_1", "diff": DIFF}, separators=(",", ":")) + "\n"


async def test_the_diff_command_says_when_a_run_changed_nothing_and_when_there_is_no_run():
    client = DiffClient({"execution.diff": {"diff": "", "nextCursor": None},
                         "execution.list": {"executions": [], "nextCursor": None}})
    out = Output(False, stdout=io.StringIO(), stderr=io.StringIO())
    assert await diff_command.diff(client, SimpleNamespace(project="demo", execution="x_1"), out) == 0
    assert out.stdout.getvalue() == "" and out.stderr.getvalue() == "x_1 changed nothing\n"
    with pytest.raises(NotFound):
        await diff_command.diff(client, SimpleNamespace(project="demo", execution=None), out)
