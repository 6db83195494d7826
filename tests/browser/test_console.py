"""The web console in a real browser: sign in, create, run, watch, kill, history, reconnect."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
import uuid

import pytest

from cloutagent_client import Client

pytestmark = pytest.mark.browser

DEFAULT_REPLY_END = "Those are the files in the working directory. What should I do next?"  # the scripted model's


async def create_project(page, prefix):
    """A project with a name of its own: the dev tenant is shared by the whole test session."""
    name = f"{prefix} {uuid.uuid4().hex[:6]}"
    await page.get_by_label("New project").fill(name)
    await page.get_by_role("button", name="Create project").click()
    await page.get_by_role("heading", name=name).wait_for()
    return name


async def run_prompt(page, prompt):
    await page.get_by_label("Prompt").fill(prompt)
    await page.get_by_role("button", name="Run", exact=True).click()


async def test_create_a_project_run_a_prompt_and_see_the_output_and_final_cost(page, ready, artifacts):
    # GIVEN a signed-in console and a new project
    name = await create_project(page, "console demo")
    # WHEN a prompt runs
    await run_prompt(page, "Have a look around")
    # THEN the agent's text, tool call and tool output stream in, and the final cost shows
    output = page.get_by_role("log", name="Agent output")
    await output.get_by_text(DEFAULT_REPLY_END).wait_for()
    status = page.locator("#run-status[data-status=completed]")
    await status.wait_for()
    assert await output.locator(".tool-name").all_inner_texts() == ["Bash"]
    async with Client(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        project = await client.find_project(name)
        [execution] = (await client.list_executions(project["projectId"]))["executions"]
    assert f"${execution['costUsd']:.4f}" in await status.inner_text()
    assert "completed" in await status.inner_text()
    await page.screenshot(path=str(artifacts / "console-run.png"), full_page=True)

    # and the run is in the history, with its transcript
    await page.get_by_role("tab", name="History").click()
    await page.get_by_role("row").filter(has_text="completed").get_by_role("button", name="View").click()
    await page.get_by_role("log", name="Transcript").get_by_text(DEFAULT_REPLY_END).wait_for()


async def test_kill_stops_a_long_run(page):
    await create_project(page, "console kill")
    await run_prompt(page, "[fake:sleep seconds=30]")
    await page.get_by_role("log", name="Agent output").get_by_text("Sleeping for 30 seconds.").wait_for()
    kill = page.get_by_role("button", name="Kill", exact=True)
    await kill.click()
    await page.locator("#run-status[data-status=cancelled]").wait_for(timeout=15_000)
    assert await kill.is_disabled()


async def test_a_dropped_connection_reconnects_and_replays_every_message_once(page, ready):
    await create_project(page, "console drop")
    await run_prompt(page, "[fake:stream n=60 delay_ms=25]")
    output = page.get_by_role("log", name="Agent output")
    await output.get_by_text("Streaming message 10 of 60.").wait_for()
    # the gateway drops the browser's connection in the middle of the run
    connection_id = await page.locator("#connection").get_attribute("data-connection-id")
    request = urllib.request.Request(f"{ready['httpUrl']}/@connections/{connection_id}", method="DELETE")
    assert (await asyncio.to_thread(lambda: urllib.request.urlopen(request).status)) == 204
    await page.locator("#run-status[data-status=completed]").wait_for()
    texts = await output.locator(".msg.text").all_inner_texts()
    assert texts == [f"Streaming message {i} of 60." for i in range(1, 61)]
    await page.locator("#connection[data-state=open]").wait_for()
    assert await page.locator("#connection").get_attribute("data-connection-id") != connection_id


async def test_secrets_and_plan_pages(page, ready):
    async with Client(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        try:
            await client.request("plan.get")
            await client.request("secret.list", {"projectId": "p_probe"})
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "code", "") == "UNKNOWN_ACTION":
                pytest.skip(f"{exc.action} is not served by this stack yet")
    await create_project(page, "console secrets")
    await page.get_by_role("tab", name="Secrets").click()
    await page.get_by_label("Name").fill("DEPLOY_TOKEN")
    await page.get_by_label("Value").fill("s3cr3t")
    await page.get_by_role("button", name="Save secret").click()
    secrets = page.get_by_role("list", name="Secrets")
    await secrets.get_by_text("DEPLOY_TOKEN").wait_for()
    assert "s3cr3t" not in await page.content()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Delete secret DEPLOY_TOKEN").click()
    await secrets.get_by_text("No secrets.").wait_for()

    await page.get_by_role("button", name="Plan & usage").click()
    plan, usage = page.get_by_role("region", name="Plan"), page.get_by_role("region", name="Usage")
    await plan.get_by_text("Spend cap a month").wait_for()
    await usage.get_by_text("Spend", exact=True).wait_for()
    # in words: no raw keys, no null or false
    words = await page.locator("#plan").inner_text() + await page.locator("#usage").inner_text()
    assert not any(raw in words for raw in ("effectivePlan", "spendUsd", "null", "false", "entitlements."))


async def test_control_and_bidi_characters_show_as_escapes_and_hostile_names_are_refused(page):
    # The agent is untrusted: a right-to-left override in what it runs must not disguise it
    await create_project(page, "console bidi")
    await run_prompt(page, '[fake:bash command="echo invoice\u202efdp.exe"]')
    call = page.get_by_role("log", name="Agent output").locator(".msg.tool code").first
    await call.wait_for()
    text = await call.inner_text()
    assert "\u202e" not in text and "invoice\\u202efdp.exe" in text

    # and a name with an escape sequence is refused by the service, said in the console
    await page.get_by_label("New project").fill("demo\u202egpj.exe")
    await page.get_by_role("button", name="Create project").click()
    toast = page.locator("#toast")
    await toast.get_by_text("BAD_REQUEST").or_(toast.get_by_text("control or formatting")).first.wait_for()
    assert "\u202e" not in await toast.inner_text()


# The agent's Markdown, said by the scripted model ([fake:say], docs/model-double.md): what it may
# become, and markup an attacker could slip into it. "\n" is the directive's escape for a newline.
HOSTILE_MARKDOWN = (r"# Release notes\n\n- first item\n- invoice" "\u202e" r"fdp.exe\n- invoice&#x202e;fdp.exe\n\n"
                    r"```\nprint(1)\n```\n\n[docs](https://example.com/docs) and [bad](javascript:alert(3))\n\n"
                    r"<img src=x onerror=alert(1)>\n\n<script>alert(2)</script>\n\n![tracker](https://example.com/t.png)")


async def test_the_agents_markdown_renders_as_markup_without_scripts_images_or_hidden_characters(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), asyncio.ensure_future(dialog.dismiss())))
    # GIVEN a project whose agent answers with Markdown holding script, an event handler and an image
    await create_project(page, "console markdown")
    # WHEN it runs
    await run_prompt(page, f'[fake:say text="{HOSTILE_MARKDOWN}"]')
    output = page.get_by_role("log", name="Agent output")
    await page.locator("#run-status[data-status=completed]").wait_for()
    reply = output.locator(".msg.text").filter(has=page.get_by_role("heading", name="Release notes", level=1))
    # THEN the heading, the list, the code block and the https link are markup
    await reply.wait_for()
    assert await reply.locator("li").all_inner_texts() == ["first item", "invoice\\u202efdp.exe", "invoice\\u202efdp.exe"]
    assert (await reply.locator("pre > code").inner_text()).strip() == "print(1)"
    docs = reply.get_by_role("link", name="docs")
    assert [await docs.get_attribute(a) for a in ("href", "target", "rel")] == [
        "https://example.com/docs", "_blank", "noopener noreferrer"]
    # and no script, image, event handler or javascript: link is in the page, and nothing ran
    assert await reply.get_by_role("link").count() == 1
    assert await output.locator("script, img, [onerror], [href^='javascript']").count() == 0
    text = await reply.inner_text()
    assert "tracker" in text
    # the HTML it slipped in is there to read, as the text it is
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(2)</script>" in text
    assert dialogs == []


async def test_the_stack_serves_the_vendored_modules_and_nothing_outside_the_console(ready):
    def status(path):
        try:
            with urllib.request.urlopen(f"{ready['httpUrl']}{path}") as reply:
                return reply.status, reply.headers.get_content_type()
        except urllib.error.HTTPError as error:
            return error.code, None

    # The modules load (a module script needs a JavaScript type); other files, `..` and empty parts do not
    for served in ("/console/vendor/marked.esm.js", "/console/vendor/purify.es.js"):
        assert await asyncio.to_thread(status, served) in ((200, "text/javascript"), (200, "application/javascript"))
    for refused in ("/console/vendor/marked.LICENSE", "/console/vendor/%2e%2e/app.js", "/console/%2e%2e/__init__.py",
                    "/console/vendor//marked.esm.js"):
        assert (await asyncio.to_thread(status, refused))[0] == 404, refused


async def test_a_blank_prompt_says_why_nothing_runs_and_the_final_time_matches_the_live_timer(page):
    await create_project(page, "console timing")
    await page.get_by_label("Prompt").fill("   \n  ")
    await page.get_by_role("button", name="Run", exact=True).click()
    await page.locator("#toast").filter(has_text="The prompt is empty").wait_for()

    await run_prompt(page, "[fake:stream n=2 delay_ms=300]")
    status = page.locator("#run-status[data-status=completed]")
    await status.wait_for()
    # wall time as the live timer counted it, then the agent's own share
    text = await status.inner_text()
    wall, agent = re.search(r"completed · ([\d.]+) s \(agent ([\d.]+) s\)", text).groups()
    assert float(wall) >= float(agent) > 0, text


async def test_two_projects_with_one_name_do_not_look_identical(page, ready):
    from cloutagent_client import Client

    name = f"twin {uuid.uuid4().hex[:6]}"
    async with Client(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        first = await client.create_project(name)
        second = await client.create_project(name)
    await page.reload()
    await page.get_by_role("status").filter(has_text="Connected").wait_for()
    twins = page.locator(".project-link").filter(has_text=name)
    await twins.first.wait_for()
    texts = sorted(await twins.all_inner_texts())
    assert len(texts) == 2 and texts[0] != texts[1]
    assert any(first["path"] in t for t in texts) and any(second["path"] in t for t in texts)


async def test_a_prompt_over_the_frame_limit_is_refused_with_its_size_and_the_connection_stays(page):
    await create_project(page, "console big")
    await page.get_by_label("Prompt").fill("x" * 200_000)
    await page.get_by_role("button", name="Run", exact=True).click()
    toast = page.locator("#toast")
    await toast.filter(has_text="MESSAGE_TOO_LARGE").wait_for()
    assert "at most 128 KB" in await toast.inner_text()
    await run_prompt(page, "[fake:stream n=1]")  # the same connection still serves
    await page.locator("#run-status[data-status=completed]").wait_for()
