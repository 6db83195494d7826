"""Steering a run from the console, in a real browser against the local stack: a permission request
answered with Allow, a question answered by clicking an option, a follow-up and an interrupt, and
what a viewer sees."""

from __future__ import annotations

import json
import uuid

import pytest

from cloutagent_client import Client

pytestmark = pytest.mark.browser

WRITE = '[fake:bash command="echo approved > approved.txt; echo approved"]'
QUESTION = {"questions": [{"question": "Which database?", "header": "Database", "multiSelect": False,
                           "options": [{"label": "Postgres", "description": "relational"},
                                       {"label": "DynamoDB", "description": "key-value"}]}]}


async def open_project(page, ready, prefix: str, **agent) -> dict:
    """A project whose agent asks before it runs a command (no permissionMode), opened in the console."""
    async with Client(ready["wsUrl"], api_key=ready["apiKey"]) as client:
        project = await client.create_project(f"{prefix}-{uuid.uuid4().hex[:8]}",
                                              agent={"approvalTimeoutSeconds": 120, **agent})
    await page.reload()  # the console lists the projects it finds at sign-in
    await page.locator(f'[data-project-id="{project["projectId"]}"]').click()
    await page.get_by_role("heading", name=project["name"]).wait_for()
    return project


async def run_prompt(page, prompt: str) -> None:
    await page.get_by_label("Prompt").fill(prompt)
    await page.get_by_role("button", name="Run", exact=True).click()


async def test_allow_on_the_request_card_lets_the_command_run(page, ready, artifacts):
    # GIVEN a project whose agent must ask before it runs a command
    await open_project(page, ready, "console-allow")
    # WHEN a run wants to write a file
    await run_prompt(page, WRITE)
    # THEN a card shows the tool and its command, and the project is waiting, shown as such
    output = page.get_by_role("log", name="Agent output")
    card = output.locator("article.request.permission")
    await card.wait_for(timeout=30_000)
    assert await card.locator(".tool-name").inner_text() == "Bash"
    assert "echo approved > approved.txt; echo approved" in await card.locator(".request-input").inner_text()
    await page.locator("#project-state.state-waiting").get_by_text("waiting").wait_for()
    await page.locator("#run-status[data-status=waiting]").get_by_text("waiting for an answer").wait_for()
    await page.screenshot(path=str(artifacts / "console-steering-request.png"), full_page=True)
    # WHEN Allow is clicked
    await card.get_by_role("button", name="Allow", exact=True).click()
    # THEN the card says who allowed it, its buttons are gone, and the command ran
    await card.locator(".request-outcome").get_by_text("Allowed by you").wait_for()
    assert await card.get_by_role("button").count() == 0
    await page.locator("#run-status[data-status=completed]").wait_for(timeout=30_000)
    results = await output.locator("pre.msg.result").all_inner_texts()
    assert results and "approved" in results[-1]


async def test_a_question_is_answered_by_clicking_an_option(page, ready):
    await open_project(page, ready, "console-question")
    await run_prompt(page, f"[fake:tool name=AskUserQuestion input={json.dumps(QUESTION)}]")
    output = page.get_by_role("log", name="Agent output")
    card = output.locator("article.request.question")
    await card.wait_for(timeout=30_000)
    # GIVEN the question with its options as radio buttons (one choice) and a field for own words
    assert await card.get_by_role("radio").count() == 2
    assert await card.get_by_role("group", name="Database: Which database?").count() == 1
    # WHEN an option is picked and submitted
    await card.get_by_role("radio", name="DynamoDB").check()
    await card.get_by_role("button", name="Submit").click()
    # THEN the agent carries on with that answer
    await card.locator(".request-outcome").get_by_text("Answered by you").wait_for()
    await page.locator("#run-status[data-status=completed]").wait_for(timeout=30_000)
    texts = await output.locator(".msg.text").all_inner_texts()
    assert "DynamoDB" in texts[-1]


async def test_deny_with_a_message_tells_the_agent(page, ready):
    await open_project(page, ready, "console-deny")
    await run_prompt(page, WRITE)
    card = page.get_by_role("log", name="Agent output").locator("article.request.permission")
    await card.wait_for(timeout=30_000)
    await card.get_by_label("Message for the agent when denying").fill("Not in main, please")
    await card.get_by_role("button", name="Deny").click()
    await card.locator(".request-outcome").get_by_text("Denied by you: Not in main, please").wait_for()
    await page.locator("#run-status[data-status=completed]").wait_for(timeout=30_000)
    failed = page.get_by_role("log", name="Agent output").locator("pre.msg.result.failed")
    assert "Not in main, please" in await failed.inner_text()


async def test_a_follow_up_waits_for_the_turn_and_interrupt_ends_the_turn(page, ready):
    # GIVEN a long turn
    await open_project(page, ready, "console-turns")
    await run_prompt(page, "[fake:sleep seconds=30]")
    output = page.get_by_role("log", name="Agent output")
    await output.get_by_text("Sleeping for 30 seconds.").wait_for(timeout=30_000)
    # WHEN a follow-up is sent, then the turn is interrupted
    await page.get_by_label("Follow-up", exact=True).fill("[fake:stream n=2]")
    await page.get_by_role("button", name="Send", exact=True).click()
    await output.locator(".follow-up").get_by_text("[fake:stream n=2]").wait_for()
    await page.get_by_role("button", name="Interrupt", exact=True).click()
    # THEN the turn ends at once, the follow-up runs next in the same run, and then the run is done
    await output.get_by_text("Turn interrupted by you").wait_for(timeout=10_000)
    await output.get_by_text("Streaming message 2 of 2.").wait_for(timeout=15_000)
    await page.locator("#run-status[data-status=completed]").wait_for(timeout=15_000)
    assert await page.get_by_role("button", name="Interrupt", exact=True).is_disabled()
    assert await page.locator("#steer-form").is_hidden()


async def test_a_viewer_sees_the_request_but_cannot_answer_and_sees_who_did(browser, page, ready, make_user):
    # GIVEN a viewer of the dev tenant, signed in to a console of their own, watching a project that waits
    project = await open_project(page, ready, "console-viewer")
    viewer = make_user(tenant_id=ready["tenantId"], role="viewer")
    context = await browser.new_context()
    watcher = await context.new_page()
    try:
        await watcher.goto(f"{ready['httpUrl']}/")
        await watcher.get_by_label("WebSocket URL").fill(ready["wsUrl"])
        await watcher.get_by_label("Key or token").fill(viewer["apiKey"])
        await watcher.get_by_role("button", name="Connect").click()
        await watcher.locator(f'[data-project-id="{project["projectId"]}"]').click()
        await run_prompt(page, WRITE)
        card = watcher.get_by_role("log", name="Agent output").locator("article.request")
        await card.wait_for(timeout=30_000)
        # THEN the card has no buttons, says why, and the viewer can neither interrupt nor send
        assert await card.get_by_role("button").count() == 0
        await card.get_by_text("viewers watch").wait_for()
        # (a viewer is not even shown the controls: whoami's allowedActions leave out agent.*)
        assert not await watcher.get_by_role("button", name="Interrupt", exact=True).is_visible()
        assert not await watcher.get_by_label("Follow-up", exact=True).is_visible()
        # WHEN the owner allows from the other console, the viewer's card says who did
        await page.get_by_role("log", name="Agent output").locator("article.request").get_by_role(
            "button", name="Allow", exact=True).click()
        owner = await page.locator("#identity").get_attribute("title")  # the user id; the header shows the name
        await card.locator(".request-outcome").get_by_text(f"Allowed by {owner}").wait_for()
    finally:
        await context.close()


async def test_wire_text_in_a_request_never_becomes_markup(page):
    rendered = await page.evaluate("""async () => {
      const { requestCard, resolveCard } = await import("/console/render.js");
      const card = requestCard({ requestId: "pr_1", kind: "permission", toolName: "<b>Bash</b>",
        input: { command: '<img src=x onerror="window.pwned=1">' }, description: "<i>d</i>" }, { onAnswer: () => {} });
      const question = requestCard({ requestId: "pr_2", kind: "question", toolName: "AskUserQuestion",
        input: { questions: [{ question: "<script>q</script>", header: "<u>h</u>", multiSelect: true,
          options: [{ label: "<img src=y onerror=\\"window.pwned=1\\">", description: "<b>x</b>" }] }] } },
        { onAnswer: () => {} });
      document.body.append(card, question);
      resolveCard(card, { requestId: "pr_1", decision: "deny", by: "<b>u</b>", message: "<img src=z>" }, "me");
      return { elements: card.querySelectorAll("img, b, i, u, script").length
                 + question.querySelectorAll("img, b, i, u, script").length,
               checkboxes: question.querySelectorAll("input[type=checkbox]").length,
               outcome: card.querySelector(".request-outcome").textContent, pwned: window.pwned === 1 };
    }""")
    assert rendered == {"elements": 0, "checkboxes": 1, "outcome": "Denied by <b>u</b>: <img src=z>", "pwned": False}
