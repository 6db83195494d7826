"""Steering runs through the SDK and the ``cloutagent`` command, against the real local stack: requests
approved, denied and answered from another process, follow-ups, interrupts, and the inline prompt
of ``cloutagent run`` on a terminal (a pseudo-terminal here)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import re
from typing import Any

import pytest

from cloutagent_client import Client, Conflict
from tests.client.test_cli import Cli, unique

pytestmark = pytest.mark.e2e

WRITE = '[fake:bash command="echo approved > approved.txt; echo approved"]'
QUESTION = {"questions": [{"question": "Which database?", "header": "Database", "multiSelect": False,
                           "options": [{"label": "Postgres", "description": "relational"},
                                       {"label": "DynamoDB", "description": "key-value"}]}]}
ASK = f"[fake:tool name=AskUserQuestion input={json.dumps(QUESTION)}]"
REQUEST_ID = re.compile(r"pr_[A-Za-z0-9]+")
ALLOW_PROMPT = "Allow? [y]es / [n]o / [a]lways for this run: "


class SteeringCli(Cli):
    async def start_run(self, *args: str, stdin: Any = asyncio.subprocess.DEVNULL) -> asyncio.subprocess.Process:
        """``cloutagent run …`` left running; stdin is no terminal unless one is given."""
        return await asyncio.create_subprocess_exec(
            *self.argv(["run", *args]), cwd=self.home, env=self.env, stdin=stdin,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


@pytest.fixture
def cli(stack, tmp_path):
    return SteeringCli(stack, tmp_path)


async def asking_project(sdk) -> dict[str, Any]:
    """A project whose agent asks before it runs a command (no permissionMode)."""
    client = await sdk()
    return await client.create_project(unique("steer"), agent={"approvalTimeoutSeconds": 60})


async def read_until(stream: asyncio.StreamReader, text: str, timeout: float = 30) -> str:
    """What a running command printed, up to and including ``text`` (which may end without a newline)."""
    seen = b""
    async with asyncio.timeout(timeout):
        while text.encode() not in seen:
            chunk = await stream.read(4096)
            assert chunk, f"the stream ended before {text!r}:\n{seen.decode()}"
            seen += chunk
    return seen.decode()


async def finish(process: asyncio.subprocess.Process, before: str = "", timeout: float = 30) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), before + err.decode()


# -- SDK -----------------------------------------------------------------------------------------------
async def test_pending_requests_yields_a_request_opened_earlier_and_respond_answers_it(sdk):
    client = await sdk()
    project = await asking_project(sdk)
    pid = project["projectId"]
    # GIVEN a run that already waits for an answer
    async with await client.subscribe(pid) as events:
        execution = await client.execute(pid, WRITE)
        async for event in events:
            if event["event"] == "project.state" and event["data"]["state"] == "waiting":
                break
        # WHEN the requests are followed, and the first one is allowed
        async with contextlib.aclosing(client.pending_requests(pid)) as pending:
            request = await anext(pending)
        [listed] = await client.open_requests(pid)
        resolved = await client.respond(pid, request["requestId"], "allow")
        # THEN it was the run's request (read from the log), answered once: a second answer is a conflict
        assert request == listed and request["executionId"] == execution["executionId"]
        assert request["toolName"] == "Bash" and "approved.txt" in request["input"]["command"]
        assert resolved["decision"] == "allow" and resolved["requestId"] == request["requestId"]
        with pytest.raises(Conflict) as late:
            await client.respond(pid, request["requestId"], "deny", message="too late")
        assert late.value.details["decision"] == "allow" and late.value.details["by"] == resolved["by"]
        async for event in events:
            if event["event"] == "execution.finished":
                assert event["data"]["status"] == "completed"
                break
    assert await client.open_requests(pid) == []


async def test_pending_requests_yields_new_requests_as_they_come_and_the_agent_gets_the_answer(sdk):
    client = await sdk()
    pid = (await asking_project(sdk))["projectId"]
    async with await client.subscribe(pid) as events:
        async with contextlib.aclosing(client.pending_requests(pid)) as pending:
            waiting = asyncio.create_task(anext(pending))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # nothing is open yet
            await client.execute(pid, ASK)
            request = await asyncio.wait_for(waiting, 30)
        assert request["kind"] == "question" and request["input"] == QUESTION
        await client.respond(pid, request["requestId"], "allow", answers={"Which database?": "Postgres"})
        # THEN the agent's next message carries the answer
        texts = []
        async for event in events:
            if event["event"] == "execution.message" and event["data"].get("kind") == "text":
                texts.append(event["data"]["text"])
            if event["event"] == "execution.finished":
                assert event["data"]["status"] == "completed"
                break
        assert "Postgres" in texts[-1]


# -- CLI: answering from another process ---------------------------------------------------------------
async def test_without_a_terminal_run_prints_the_request_and_approve_lets_the_command_run(cli, sdk):
    name = (await asking_project(sdk))["name"]
    # GIVEN a run whose stdin is no terminal: it prints the request on stderr and waits
    process = await cli.start_run(name, WRITE)
    before = await read_until(process.stderr, "waiting for an answer")
    request_id = REQUEST_ID.search(before).group(0)
    assert f"? allow Bash(echo approved > approved.txt; echo approved)? · {request_id}" in before
    assert f"cloutagent approve|deny " in before
    # and `pending` lists it, as a table and as JSON
    code, out, err = await cli("pending", name)
    assert code == 0 and request_id in out and "Bash" in out and "echo approved > approved.txt" in out, err
    [listed] = await cli.json("pending", name)
    assert listed["requestId"] == request_id and listed["kind"] == "permission"
    # WHEN someone approves it
    code, out, err = await cli("approve", name, request_id)
    assert code == 0 and out.strip() == f"allowed {request_id}", err
    # THEN the command runs and the run says who allowed it
    code, out, err = await finish(process, before)
    assert code == 0, err
    assert "⎿ approved" in out
    assert re.search(rf"✓ {request_id} allowed by \S+", err) and "■ completed" in err
    code, out, err = await cli("pending", name)
    assert code == 0 and out == "" and "no open requests" in err
    # and the log shows the request and how it was resolved
    code, out, _ = await cli("logs", name)
    assert f"? allow Bash(echo approved > approved.txt; echo approved)? · {request_id}" in out
    assert f"✓ {request_id} allowed by " in out


async def test_of_two_answers_at_once_the_first_wins_and_the_other_is_told_which_and_whose(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process = await cli.start_run(name, WRITE)
    before = await read_until(process.stderr, "waiting for an answer")
    request_id = REQUEST_ID.search(before).group(0)
    allowing, denying = await asyncio.gather(cli("approve", name, request_id), cli("deny", name, request_id))
    # exactly one answer stands; the other exits 1 with CONFLICT, naming the decision and who made it
    [(won, decision)] = [(r, d) for r, d in ((allowing, "allow"), (denying, "deny")) if r[0] == 0]
    [lost] = [r for r in (allowing, denying) if r is not won]
    assert lost[0] == 1 and f"already answered: {decision} by " in lost[2] and "(CONFLICT)" in lost[2], lost
    code, out, err = await finish(process, before)
    assert code == 0 and re.search(rf"{request_id} {'allowed' if decision == 'allow' else 'denied'} by ", err), err


async def test_deny_with_a_message_tells_the_agent_and_the_command_never_runs(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process = await cli.start_run(name, WRITE)
    before = await read_until(process.stderr, "waiting for an answer")
    request_id = REQUEST_ID.search(before).group(0)
    code, out, err = await cli("deny", name, request_id, "--message", "Not in main, please", "--json")
    assert code == 0, err
    assert json.loads(out)["decision"] == "deny" and json.loads(out)["message"] == "Not in main, please"
    code, out, err = await finish(process, before)
    assert code == 0 and "Not in main, please" in out, err
    assert re.search(rf"✗ {request_id} denied by \S+: Not in main, please", err)


async def test_answer_picks_an_option_by_the_questions_header(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process = await cli.start_run(name, ASK)
    before = await read_until(process.stderr, "waiting for an answer")
    request_id = REQUEST_ID.search(before).group(0)
    assert "? Which database? (Postgres / DynamoDB)" in before and "cloutagent answer " in before
    code, out, err = await cli("answer", name, request_id, "--answer", "Database=DynamoDB")
    assert code == 0 and out.strip() == f"answered {request_id}", err
    code, out, err = await finish(process, before)
    assert code == 0, err
    assert "DynamoDB" in out.strip().splitlines()[-1]
    assert f"✓ {request_id} answered by " in err


async def test_send_queues_a_follow_up_in_the_same_run(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process = await cli.start_run(name, "[fake:sleep seconds=3]")
    await read_until(process.stdout, "Sleeping for 3 seconds.")
    code, out, err = await cli("send", name, "[fake:stream n=2]")
    assert code == 0 and re.fullmatch(r"sent to x_\w+", out.strip()), err
    code, out, err = await finish(process)
    assert code == 0, err
    assert "Woke up" in out and "Streaming message 2 of 2." in out
    assert "› follow-up from " in err and err.count("■ completed") == 1


async def test_interrupt_ends_the_turn_and_the_run_completes(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process = await cli.start_run(name, "[fake:sleep seconds=30]")
    await read_until(process.stdout, "Sleeping for 30 seconds.")
    code, out, err = await cli("interrupt", name)
    assert code == 0 and out.startswith("interrupted the turn of x_"), err
    code, out, err = await finish(process, timeout=10)
    assert code == 0 and "⏸ turn interrupted by " in err and "■ completed" in err, err


async def test_steering_an_idle_project_exits_1_with_conflict(cli, sdk):
    name = (await asking_project(sdk))["name"]
    results = await asyncio.gather(cli("send", name, "hi"), cli("interrupt", name), cli("approve", name, "pr_x"),
                                   cli("answer", name, "pr_x", "--answer", "oops"))
    assert [code for code, _, _ in results[:3]] == [1, 1, 1]
    assert all("(CONFLICT)" in err for _, _, err in results[:3])
    assert results[3][0] == 2 and "QUESTION=ANSWER" in results[3][2]  # nothing to match it to: a usage error


# -- CLI: the inline prompt on a terminal -------------------------------------------------------------
async def on_a_terminal(cli: SteeringCli, name: str, prompt: str) -> tuple[asyncio.subprocess.Process, int]:
    """``cloutagent run`` with a pseudo-terminal for stdin: the process and the terminal's other end."""
    leader, follower = pty.openpty()
    process = await cli.start_run(name, prompt, stdin=follower)
    os.close(follower)
    return process, leader


async def test_on_a_terminal_run_asks_inline_and_y_lets_the_command_run(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process, terminal = await on_a_terminal(cli, name, WRITE)
    try:
        # GIVEN the question on the terminal: the tool, its command, and the choices
        before = await read_until(process.stderr, ALLOW_PROMPT)
        assert "? The agent wants to use Bash" in before and "    echo approved > approved.txt; echo approved" in before
        # WHEN the person types y
        os.write(terminal, b"y\n")
        code, out, err = await finish(process, before)
    finally:
        os.close(terminal)
    # THEN the answer went out and the command ran
    assert code == 0, err
    assert "⎿ approved" in out and re.search(r"✓ pr_\w+ allowed by \S+", err)


async def test_on_a_terminal_a_question_takes_an_options_number(cli, sdk):
    name = (await asking_project(sdk))["name"]
    process, terminal = await on_a_terminal(cli, name, ASK)
    try:
        before = await read_until(process.stderr, "or your own words): ")
        assert "Database: Which database?" in before and "1. Postgres — relational" in before
        assert "2. DynamoDB — key-value" in before
        os.write(terminal, b"2\n")
        code, out, err = await finish(process, before)
    finally:
        os.close(terminal)
    assert code == 0, err
    assert "DynamoDB" in out.strip().splitlines()[-1]


async def test_on_a_terminal_an_answer_from_elsewhere_withdraws_the_prompt_saying_who(cli, sdk):
    client: Client = await sdk()
    project = await asking_project(sdk)
    process, terminal = await on_a_terminal(cli, project["name"], WRITE)
    try:
        before = await read_until(process.stderr, ALLOW_PROMPT)
        request_id = REQUEST_ID.search(before).group(0)
        resolved = await client.respond(project["projectId"], request_id, "deny", message="Not now")
        code, out, err = await finish(process, before)
    finally:
        os.close(terminal)
    assert code == 0, err
    assert f"answered elsewhere first: ✗ {request_id} denied by {resolved['by']}: Not now" in err
