"""The local stack serves real Git repositories: real `git` clones, fetches and pushes over HTTP with
the repository's token in an `http.extraHeader` (as the executor does), and pull requests are
recorded through a GitHub-shaped API."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def _request(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def create_repo(ready: dict[str, Any], **body: Any) -> tuple[int, dict[str, Any]]:
    return _request(f"{ready['httpUrl']}/local/repos", "POST", {"name": f"repo-{uuid.uuid4().hex[:8]}", **body})


def api(repo: dict[str, Any], method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    owner_and_name = repo["url"].split("/git/", 1)[1].removesuffix(".git")
    return _request(f"{repo['apiUrl']}/repos/{owner_and_name}{path}", method, body, token or repo["token"])


def git(*args: str, token: str | None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Real git, never prompting, with the token sent as the executor sends it."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}
    if token is not None:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                    "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}"})
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def clone(repo: dict[str, Any], into: Path, token: str | None = None) -> Path:
    result = git("clone", repo["url"], str(into), token=token or repo["token"])
    assert result.returncode == 0, result.stderr
    return into


def commit(work: Path, path: str, text: str, token: str) -> None:
    (work / path).write_text(text)
    assert git("add", path, token=token, cwd=work).returncode == 0
    assert git("commit", "-q", "-m", f"write {path}", token=token, cwd=work).returncode == 0


def test_a_new_repository_clones_with_its_files_on_its_default_branch(ready, tmp_path):
    status, repo = create_repo(ready, files={"README.md": "# hello\n", "src/app/main.py": "print('hi')\n"},
                               defaultBranch="trunk")
    assert status == 201
    assert repo["url"].startswith(f"{ready['httpUrl']}/git/local/") and repo["url"].endswith(".git")
    assert (repo["defaultBranch"], repo["provider"], repo["apiUrl"]) == ("trunk", "github", f"{ready['httpUrl']}/api/v3")

    work = clone(repo, tmp_path / "work")

    assert (work / "README.md").read_text() == "# hello\n"
    assert (work / "src/app/main.py").read_text() == "print('hi')\n"
    assert git("branch", "--show-current", token=None, cwd=work).stdout.strip() == "trunk"
    author = git("log", "-1", "--format=%an <%ae>", token=None, cwd=work).stdout.strip()
    assert author == "cloutagent dev <dev@cloutagent.local>"


def test_without_files_the_repository_holds_a_readme(ready, tmp_path):
    status, repo = create_repo(ready)
    assert status == 201 and repo["defaultBranch"] == "main"
    name = repo["url"].rsplit("/", 1)[1].removesuffix(".git")
    assert (clone(repo, tmp_path / "work") / "README.md").read_text() == f"# {name}\n"


def test_a_pushed_branch_is_in_a_fresh_clone(ready, tmp_path):
    _, repo = create_repo(ready)
    work = clone(repo, tmp_path / "work")
    assert git("checkout", "-q", "-b", "agent/change", token=None, cwd=work).returncode == 0
    commit(work, "CHANGE.md", "changed\n", repo["token"])

    pushed = git("push", "-u", "origin", "agent/change", token=repo["token"], cwd=work)

    assert pushed.returncode == 0, pushed.stderr
    fresh = git("clone", "-q", "--branch", "agent/change", repo["url"], str(tmp_path / "fresh"), token=repo["token"])
    assert fresh.returncode == 0, fresh.stderr
    assert (tmp_path / "fresh" / "CHANGE.md").read_text() == "changed\n"


def test_a_wrong_or_missing_token_cannot_clone_or_push(ready, tmp_path):
    _, repo = create_repo(ready)
    _, other = create_repo(ready)
    work = clone(repo, tmp_path / "work")

    for n, token in enumerate(["not-the-token", other["token"]]):
        assert git("clone", repo["url"], str(tmp_path / f"clone-{n}"), token=token).returncode != 0, n
    assert git("clone", repo["url"], str(tmp_path / "anonymous"), token=None).returncode != 0
    commit(work, "x.txt", "x\n", repo["token"])
    assert git("push", "origin", "HEAD:refs/heads/sneaky", token="not-the-token", cwd=work).returncode != 0

    request = urllib.request.Request(f"{repo['url']}/info/refs?service=git-upload-pack")
    with pytest.raises(urllib.error.HTTPError) as unauthorized:
        urllib.request.urlopen(request, timeout=10)
    assert unauthorized.value.code == 401
    assert unauthorized.value.headers["WWW-Authenticate"] == 'Basic realm="cloutagent-dev"'


def test_the_token_also_works_as_a_bearer_header(ready, tmp_path):
    _, repo = create_repo(ready)

    cloned = git("-c", f"http.extraHeader=Authorization: Bearer {repo['token']}", "clone", repo["url"],
                 str(tmp_path / "work"), token=None)

    assert cloned.returncode == 0, cloned.stderr


def test_an_unknown_repository_is_404(ready):
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{ready['httpUrl']}/git/local/no-such-repo.git/info/refs?service=git-upload-pack",
                               timeout=10)
    assert missing.value.code == 404


def test_a_stale_push_is_rejected_and_the_newer_commit_stays(ready, tmp_path):
    _, repo = create_repo(ready)
    first, second = clone(repo, tmp_path / "first"), clone(repo, tmp_path / "second")
    commit(first, "a.txt", "first\n", repo["token"])
    assert git("push", "-q", "origin", "main", token=repo["token"], cwd=first).returncode == 0
    commit(second, "b.txt", "second\n", repo["token"])
    assert git("fetch", "-q", "origin", token=repo["token"], cwd=second).returncode == 0

    stale = git("push", "origin", "main", token=repo["token"], cwd=second)

    assert stale.returncode != 0 and "non-fast-forward" in stale.stderr, stale.stderr
    remote = git("ls-remote", repo["url"], "refs/heads/main", token=repo["token"]).stdout.split()[0]
    assert remote == git("rev-parse", "HEAD", token=None, cwd=first).stdout.strip()


def test_a_clone_of_many_branches_sends_a_gzipped_request_and_still_works(ready, tmp_path):
    _, repo = create_repo(ready)
    work = clone(repo, tmp_path / "work")
    for n in range(40):  # 40 distinct wants: git gzips any fetch request over 1 KB
        assert git("commit", "-q", "--allow-empty", "-m", f"c{n}", token=None, cwd=work).returncode == 0
        assert git("branch", f"b{n}", token=None, cwd=work).returncode == 0
    assert git("push", "-q", "origin", "refs/heads/b*:refs/heads/b*", token=repo["token"], cwd=work).returncode == 0

    fresh = clone(repo, tmp_path / "fresh")

    branches = git("branch", "-r", token=None, cwd=fresh).stdout
    assert all(f"origin/b{n}\n" in branches for n in range(40))


def test_pull_requests_are_recorded_in_githubs_shape(ready, tmp_path):
    _, repo = create_repo(ready)
    work = clone(repo, tmp_path / "work")
    assert git("checkout", "-q", "-b", "feature", token=None, cwd=work).returncode == 0
    commit(work, "f.txt", "f\n", repo["token"])
    assert git("push", "-q", "origin", "feature", token=repo["token"], cwd=work).returncode == 0

    status, pull = api(repo, "POST", "/pulls", {"title": "Add f", "head": "feature", "base": "main", "body": "why"})

    assert status == 201
    assert (pull["number"], pull["state"], pull["title"], pull["body"]) == (1, "open", "Add f", "why")
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("feature", "main")
    name = repo["url"].rsplit("/", 1)[1].removesuffix(".git")
    assert pull["html_url"] == f"{ready['httpUrl']}/local/repos/{name}/pulls/1"
    assert _request(f"{ready['httpUrl']}/local/repos/{name}/pulls") == (200, [pull])

    status, duplicate = api(repo, "POST", "/pulls", {"title": "Again", "head": "local:feature", "base": "main"})
    assert status == 422 and duplicate["message"] == "Validation Failed"
    assert duplicate["errors"][0]["message"] == "A pull request already exists for local:feature."

    assert api(repo, "GET", "/pulls?head=local:feature&state=open") == (200, [pull])
    assert api(repo, "GET", "/pulls?head=local:other&state=open") == (200, [])

    status, edited = api(repo, "PATCH", "/pulls/1", {"title": "Add f, better", "body": "because"})
    assert status == 200 and (edited["title"], edited["body"], edited["number"]) == ("Add f, better", "because", 1)
    assert _request(f"{ready['httpUrl']}/local/repos/{name}/pulls")[1][0]["title"] == "Add f, better"


def test_pull_requests_need_existing_branches_and_the_repositorys_token(ready):
    _, repo = create_repo(ready)

    status, missing = api(repo, "POST", "/pulls", {"title": "t", "head": "no-such-branch", "base": "main"})
    assert status == 422 and missing["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
    assert api(repo, "POST", "/pulls", {"title": "t", "head": "main", "base": "main"}, token="wrong") == \
        (401, {"message": "Bad credentials"})
    assert api(repo, "GET", "/pulls", token="wrong")[0] == 401
    assert api(repo, "PATCH", "/pulls/99", {"title": "x"})[0] == 404


def test_bad_names_are_refused_and_a_taken_name_is_a_conflict(ready):
    for name in (".hidden", "a/b", "", "x" * 65, "sp ace", 42):
        assert _request(f"{ready['httpUrl']}/local/repos", "POST", {"name": name})[0] == 400, name
    assert create_repo(ready, files={"../escape.txt": "x"})[0] == 400

    status, repo = create_repo(ready)
    assert status == 201
    name = repo["url"].rsplit("/", 1)[1].removesuffix(".git")
    assert _request(f"{ready['httpUrl']}/local/repos", "POST", {"name": name})[0] == 409
