"""The console on a project with a Git repository: what a run delivered (branch, files, lines, the
pull request) and its diff, in a real browser against the local stack and its Git server."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cloutagent_client import Client

from tests.support.http import get_json, post_json

pytestmark = pytest.mark.browser


async def test_a_run_shows_its_branch_changes_pull_request_and_diff(page, ready, artifacts):
    # GIVEN a repository on the stack's Git server, and a project on it (made by the dev owner) that
    # opens pull requests, whose agent may write files, with the repository's token as a secret
    name = f"console-repo-{uuid.uuid4().hex[:8]}"
    repo = await asyncio.to_thread(post_json, f"{ready['httpUrl']}/local/repos",
                                   {"name": name, "files": {"README.md": "# demo\n"}})
    async with Client(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        # provider: the stack's server is shaped like GitHub Enterprise, which a host name cannot tell
        project = await client.create_project(name, agent={"permissionMode": "bypassPermissions"}, repository={
            "url": repo["url"], "tokenSecret": "REPO_TOKEN", "provider": repo["provider"], "pullRequest": True})
        await client.set_secret(project["projectId"], "REPO_TOKEN", repo["token"])
    await page.reload()  # the console lists the projects it finds at sign-in
    await page.locator(f'[data-project-id="{project["projectId"]}"]').click()
    await page.get_by_role("heading", name=name).wait_for()

    # WHEN a prompt that appends to the README runs in the console
    await page.get_by_label("Prompt").fill('[fake:bash command="echo change >> README.md"]')
    await page.get_by_role("button", name="Run", exact=True).click()

    # THEN the run view says what the run delivered: its branch, 1 file, +1 −0, and the pull request
    output = page.get_by_role("log", name="Agent output")
    delivered = output.locator(".msg.git")
    await delivered.wait_for(timeout=60_000)
    await page.locator("#run-status[data-status=completed]").wait_for()
    [pull] = await asyncio.to_thread(get_json, f"{ready['httpUrl']}/local/repos/{name}/pulls")
    assert await delivered.locator(".git-branch code").inner_text() == pull["head"]["ref"]
    assert await delivered.locator(".git-files").inner_text() == "1 file changed"
    assert await delivered.locator(".git-insertions").inner_text() == "+1"
    assert await delivered.locator(".git-deletions").inner_text() == "−0"
    link = delivered.get_by_role("link", name="Pull request")
    assert await link.get_attribute("href") == pull["html_url"]
    assert await link.get_attribute("target") == "_blank"
    assert await link.get_attribute("rel") == "noopener noreferrer"

    # and "View diff" shows the diff, the added line styled as added
    await delivered.get_by_role("button", name="View diff").click()
    diff = delivered.get_by_role("region", name=f"Diff of {pull['head']['ref'].split('/')[-1]}")
    added = diff.locator(".diff-line.added")
    await added.first.wait_for()
    assert await added.all_inner_texts() == ["+change"]
    assert await diff.locator(".diff-line.removed").count() == 0
    assert await diff.locator(".diff-line.hunk").count() == 1
    assert await added.evaluate("line => getComputedStyle(line).color") != \
        await diff.locator(".diff-line.context").first.evaluate("line => getComputedStyle(line).color")
    assert await delivered.get_by_role("button", name="Hide diff").get_attribute("aria-expanded") == "true"
    await page.screenshot(path=str(artifacts / "console-repository.png"), full_page=True)

    # and the run's transcript in the history shows the same
    await page.get_by_role("tab", name="History").click()
    await page.get_by_role("row").filter(has_text="completed").get_by_role("button", name="View").click()
    transcript = page.get_by_role("log", name="Transcript")
    await transcript.locator(".msg.git .git-files").get_by_text("1 file changed").wait_for()


async def test_a_failed_run_shows_its_error_code(page, ready):
    repo = await asyncio.to_thread(post_json, f"{ready['httpUrl']}/local/repos", {"name": f"gone-{uuid.uuid4().hex[:8]}"})
    async with Client(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        project = await client.create_project(f"console-repo-fail-{uuid.uuid4().hex[:6]}",
                                              repository={"url": repo["url"], "tokenSecret": "REPO_TOKEN"})
        await client.set_secret(project["projectId"], "REPO_TOKEN", "not-the-token")
    await page.reload()
    await page.locator(f'[data-project-id="{project["projectId"]}"]').click()
    await page.get_by_label("Prompt").fill("hi")
    await page.get_by_role("button", name="Run", exact=True).click()
    status = page.locator("#run-status[data-status=failed]")
    await status.wait_for(timeout=60_000)
    assert "(REPOSITORY_AUTH_FAILED)" in await status.inner_text()
    await page.get_by_role("tab", name="History").click()
    await page.get_by_role("row").filter(has_text="failed").locator(".error-code").get_by_text(
        "REPOSITORY_AUTH_FAILED").wait_for()


async def test_wire_text_never_becomes_markup_or_a_script_link(page):
    # GIVEN an execution.git whose pull request URL is a javascript: URL, and a diff holding markup,
    # rendered by the console's own module
    rendered = await page.evaluate("""async () => {
      const { DiffLines, diffLines, gitSummary } = await import("/console/render.js");
      const box = gitSummary({ executionId: "x_1", branch: "<b>b</b>", headCommit: "h", files: 1, insertions: 1,
        deletions: 0, pushed: true, pullRequestUrl: "javascript:alert(1)" }, () => {});
      const lines = diffLines('@@ -0,0 +1 @@\\n+<img src=x onerror="window.pwned=1">\\n', new DiffLines());
      document.body.append(box, ...lines);
      return { links: box.querySelectorAll("a").length, images: document.querySelectorAll("img").length,
               pr: box.querySelector(".git-pr").textContent, branch: box.querySelector(".git-branch code").textContent,
               added: lines[1].className, text: lines[1].textContent, pwned: window.pwned === 1 };
    }""")
    # THEN nothing of it is a link, an element or a script: only text
    assert rendered == {"links": 0, "images": 0, "pr": "Pull request: javascript:alert(1)", "branch": "<b>b</b>",
                        "added": "diff-line added", "text": '+<img src=x onerror="window.pwned=1">', "pwned": False}
