"""Steering in the clients without a stack: what the SDK sends, which requests it counts as open and
yields, the CLI's steering commands and how they read answers, the inline prompt, and the lines
``run`` and ``logs`` print for requests, resolutions, follow-ups and interrupts."""

from __future__ import annotations

import asyncio
import io
import json
from types import SimpleNamespace
from typing import Any, AsyncIterator

import pytest

from cloutagent_client import BadRequest, Client, Conflict
from cloutagent_client.cli import steer
from cloutagent_client.cli.ask import Asker, choice, decision, describe, tool_input
from cloutagent_client.cli.main import build_parser
from cloutagent_client.cli.output import Output
from cloutagent_client.cli.render import Style, event_line, request_line, resolved_line, steering_line, waiting_line
from cloutagent_client.cli.run import RunView
from cloutagent_client.cli.status import StatusLine
from cloutagent_client.steering import OpenRequests
from cloutagent_client.subscriptions import Subscription
from tests.client.test_repository_units import InMemoryApi

PLAIN = Style(color=False)
QUESTION = {"questions": [{"question": "Which database?", "header": "Database", "multiSelect": False,
                           "options": [{"label": "Postgres", "description": "relational"},
                                       {"label": "DynamoDB", "description": "key-value"}]}]}
TWO_QUESTIONS = {"questions": [QUESTION["questions"][0],
                               {"question": "Which x=y?", "header": "Flags", "multiSelect": True,
                                "options": [{"label": "a"}, {"label": "b"}, {"label": "c"}]}]}


def permission(request_id: str, execution_id: str = "x_1", command: str = "echo hi") -> dict[str, Any]:
    return {"requestId": request_id, "executionId": execution_id, "toolName": "Bash", "kind": "permission",
            "input": {"command": command, "description": "Run a command"}, "toolUseId": "toolu_1",
            "timeoutSeconds": 300, "description": "Run a command"}


def question(request_id: str, asked: dict[str, Any] = QUESTION) -> dict[str, Any]:
    return {"requestId": request_id, "executionId": "x_1", "toolName": "AskUserQuestion", "kind": "question",
            "input": asked, "toolUseId": "toolu_2", "timeoutSeconds": 300}


def event(seq: int, name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "event": name, "projectId": "p_1", "seq": seq, "ts": "2026-11-21T07:51:34.369Z",
            "data": data}


def resolved(request_id: str, decision: str = "allow", by: str = "u_ann", **more: Any) -> dict[str, Any]:
    return {"requestId": request_id, "executionId": "x_1", "decision": decision, "scope": "once", "by": by, **more}


# -- SDK: what goes on the wire ------------------------------------------------------------------------
async def test_respond_send_and_interrupt_send_one_request_each_with_only_the_fields_given():
    api = InMemoryApi({"permission.respond": {"decision": "allow"}, "agent.send": {"executionId": "x_1"},
                       "agent.interrupt": {"executionId": "x_1"}})
    await api.respond("p_1", "pr_1", "allow")
    await api.respond("p_1", "pr_2", "allow", "run")
    await api.respond("p_1", "pr_3", "deny", message="Not in main")
    await api.respond("p_1", "pr_4", "allow", answers={"Which database?": "DynamoDB"})
    await api.send("p_1", "and add tests")
    await api.interrupt("p_1")
    base = {"projectId": "p_1", "decision": "allow", "scope": "once"}
    assert api.sent == [
        ("permission.respond", {**base, "requestId": "pr_1"}),
        ("permission.respond", {**base, "requestId": "pr_2", "scope": "run"}),
        ("permission.respond", {**base, "requestId": "pr_3", "decision": "deny", "message": "Not in main"}),
        ("permission.respond", {**base, "requestId": "pr_4", "answers": {"Which database?": "DynamoDB"}}),
        ("agent.send", {"projectId": "p_1", "text": "and add tests"}),
        ("agent.interrupt", {"projectId": "p_1"}),
    ]


def test_a_request_is_open_until_resolved_or_until_its_run_finishes():
    tracker = OpenRequests("x_1")
    for e in [event(1, "permission.request", permission("pr_old", "x_0")),  # another run's: not this one's
              event(2, "permission.request", permission("pr_a")), event(3, "permission.request", permission("pr_b")),
              event(4, "permission.request", permission("pr_c")), event(5, "permission.resolved", resolved("pr_b"))]:
        tracker.feed(e)
    assert [r["requestId"] for r in tracker] == ["pr_a", "pr_c"] and tracker.is_open("pr_a")
    tracker.feed(event(6, "execution.finished", {"executionId": "x_1", "status": "cancelled"}))
    assert len(tracker) == 0


async def test_ready_hands_over_what_was_delivered_without_waiting_and_leaves_the_end_for_iteration():
    async def nothing(*_: Any) -> AsyncIterator[dict[str, Any]]:
        return
        yield

    async def closed(_: Subscription) -> None:
        pass

    sub = Subscription("p_1", 0, history=nothing, on_close=closed, gap_grace=0.01)
    sub.offer(event(1, "permission.request", permission("pr_a")))
    sub.offer(event(2, "permission.resolved", resolved("pr_a")))
    sub.end()
    assert [e["seq"] for e in sub.ready()] == [1, 2] and sub.ready() == []
    with pytest.raises(StopAsyncIteration):
        await sub.__anext__()
    with pytest.raises(StopAsyncIteration):  # and stays ended
        await sub.__anext__()


class LogClient(Client):
    """A Client whose project, execution and log are in memory, and whose live stream the test feeds."""

    def __init__(self, log: list[dict[str, Any]], last_seq: int):
        super().__init__("ws://unused", api_key="cla_unused")
        self.log = log
        self.last_seq = last_seq
        self.live: Subscription | None = None
        self.history_filters: list[dict[str, Any]] = []

    async def request(self, action: str, data: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict:
        if action == "project.get":
            return {"project": {"projectId": "p_1", "state": "waiting", "executionId": "x_1", "lastSeq": self.last_seq}}
        assert action == "execution.get"
        return {"execution": {"executionId": "x_1", "createdAt": "2026-11-21T07:50:00.000Z"}}

    async def history(self, project_id: str, since_seq: int = 0, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        self.history_filters.append(filters)
        for e in self.log:
            if e["seq"] > since_seq:
                yield e

    async def subscribe(self, project_id: str, since_seq: int | None = None, *, timeout: float | None = None):
        async def nothing(*_: Any) -> AsyncIterator[dict[str, Any]]:
            return
            yield

        async def closed(_: Subscription) -> None:
            pass

        self.live = Subscription(project_id, since_seq, history=nothing, on_close=closed, gap_grace=0.01)
        return self.live


async def test_pending_requests_yields_open_ones_from_the_log_then_live_ones_skipping_those_answered_meanwhile():
    # GIVEN a run with one request still open in the log (another resolved, one of an earlier run)
    client = LogClient([event(2, "permission.request", permission("pr_old", "x_0")),
                        event(4, "permission.request", permission("pr_a")),
                        event(5, "permission.request", permission("pr_b")),
                        event(6, "permission.resolved", resolved("pr_b"))], last_seq=6)
    pending = client.pending_requests("p_1")
    # WHEN the caller takes the first request, and two more come while it is busy with it, the first
    # of which someone else answers before the caller asks for the next
    first = await anext(pending)
    client.live.offer(event(7, "permission.request", permission("pr_c")))
    client.live.offer(event(8, "permission.request", permission("pr_d")))
    client.live.offer(event(9, "permission.resolved", resolved("pr_c")))
    second = await anext(pending)
    # THEN it got the open one from the log, then skipped the one answered meanwhile
    assert (first["requestId"], second["requestId"]) == ("pr_a", "pr_d")
    assert client.history_filters == [{"events": ["permission.request", "permission.resolved", "execution.finished"],
                                       "since": "2026-11-21T07:50:00.000Z"}]
    # and a request of the next run comes too; the iteration ends with the stream
    client.live.offer(event(10, "permission.request", permission("pr_e", "x_2")))
    assert (await anext(pending))["requestId"] == "pr_e"
    client.live.end()
    with pytest.raises(StopAsyncIteration):
        await anext(pending)


# -- CLI: commands and arguments -----------------------------------------------------------------------
def test_the_steering_commands_and_their_arguments():
    parse = build_parser().parse_args
    assert (parse(["approve", "demo", "pr_1"]).always, parse(["approve", "demo", "pr_1", "--always"]).always) == \
        (False, True)
    assert parse(["deny", "demo", "pr_1", "-m", "not now"]).message == "not now"
    assert parse(["answer", "demo", "pr_1", "--answer", "A=1", "-a", "B=2"]).answer == ["A=1", "B=2"]
    assert parse(["send", "demo", "and tests"]).text == "and tests"
    assert parse(["interrupt", "demo"]).project == parse(["pending", "demo"]).project == "demo"
    with pytest.raises(SystemExit):
        parse(["answer", "demo", "pr_1"])  # --answer is required


def test_answers_name_a_question_by_its_text_header_or_number():
    asked = TWO_QUESTIONS["questions"]
    assert steer.parse_answers(["Which database?=DynamoDB", "Which x=y?=a, c"], asked) == \
        {"Which database?": "DynamoDB", "Which x=y?": "a, c"}  # a question may hold "=", an answer too
    assert steer.parse_answers(["Database=Postgres", "2=b"], asked) == {"Which database?": "Postgres", "Which x=y?": "b"}
    assert steer.parse_answers(["DynamoDB"], asked[:1]) == {"Which database?": "DynamoDB"}  # a lone question
    assert steer.parse_answers(["Anything=goes=here"], []) == {"Anything": "goes=here"}  # request unknown: as given
    with pytest.raises(BadRequest, match="names no question"):
        steer.parse_answers(["Colour=red"], asked)
    with pytest.raises(BadRequest, match="QUESTION=ANSWER"):
        steer.parse_answers(["red"], [])


class SteerClient(InMemoryApi):
    def __init__(self, replies: dict[str, Any], open_requests: list[dict[str, Any]] | None = None):
        super().__init__(replies)
        self._open = open_requests or []

    async def find_project(self, ref: str) -> dict[str, Any]:
        return {"projectId": "p_1", "name": ref}

    async def open_requests(self, project_id: str) -> list[dict[str, Any]]:
        return self._open


def args(**given: Any) -> SimpleNamespace:
    return SimpleNamespace(**{"project": "demo", "request": "pr_1", "always": False, "message": None, **given})


def output() -> Output:
    return Output(False, stdout=io.StringIO(), stderr=io.StringIO())


async def test_approve_deny_and_answer_send_what_they_say_and_print_the_outcome():
    client = SteerClient({"permission.respond": lambda data: {**data, "by": "u_me"}}, [question("pr_q")])
    out = output()
    assert await steer.approve(client, args(always=True), out) == 0
    assert await steer.deny(client, args(message="Not in main"), out) == 0
    assert await steer.answer(client, args(request="pr_q", answer=["Database=DynamoDB"]), out) == 0
    sent = [data for _, data in client.sent]
    assert [(d["decision"], d["scope"], d.get("message"), d.get("answers")) for d in sent] == [
        ("allow", "run", None, None), ("deny", "once", "Not in main", None),
        ("allow", "once", None, {"Which database?": "DynamoDB"})]
    assert out.stdout.getvalue().splitlines() == ["allowed for this run pr_1", "denied pr_1", "answered pr_q"]


async def test_a_late_answer_says_which_answer_stood_and_whose():
    class Refusing(SteerClient):
        async def request(self, action: str, data: dict[str, Any] | None = None, *, timeout: float | None = None):
            raise Conflict("This request was already answered", {"decision": "deny", "by": "u_bob"})

    with pytest.raises(Conflict) as refused:
        await steer.approve(Refusing({}), args(), output())
    assert refused.value.message == "This request was already answered: deny by u_bob"
    assert refused.value.details == {"decision": "deny", "by": "u_bob"}


async def test_pending_lists_the_open_requests_as_a_table_or_json_lines():
    client = SteerClient({}, [permission("pr_1", command="rm -rf build"), question("pr_2")])
    out = output()
    assert await steer.pending(client, args(), out) == 0
    lines = out.stdout.getvalue().splitlines()
    assert lines[0].split() == ["REQUEST", "KIND", "TOOL", "INPUT", "EXECUTION"]
    assert lines[1].split()[:5] == ["pr_1", "permission", "Bash", "rm", "-rf"] and "Which database?" in lines[2]
    as_json = Output(True, stdout=io.StringIO(), stderr=io.StringIO())
    await steer.pending(client, args(), as_json)
    assert [json.loads(line)["requestId"] for line in as_json.stdout.getvalue().splitlines()] == \
        ["pr_1", "pr_2"]
    empty = output()
    await steer.pending(SteerClient({}), args(), empty)
    assert empty.stdout.getvalue() == "" and "no open requests" in empty.stderr.getvalue()


# -- how requests look ---------------------------------------------------------------------------------
def test_request_resolution_follow_up_and_interrupt_lines():
    assert request_line(permission("pr_1"), PLAIN) == "? allow Bash(echo hi)? · pr_1"
    assert request_line(question("pr_2"), PLAIN) == "? Which database? (Postgres / DynamoDB) · pr_2"
    assert resolved_line(resolved("pr_1"), PLAIN) == "✓ pr_1 allowed by u_ann"
    assert resolved_line({**resolved("pr_1"), "scope": "run"}, PLAIN) == "✓ pr_1 allowed for this run by u_ann"
    assert resolved_line(resolved("pr_2"), PLAIN, "question") == "✓ pr_2 answered by u_ann"
    assert resolved_line(resolved("pr_1", "deny", message="Not in main"), PLAIN) == "✗ pr_1 denied by u_ann: Not in main"
    assert resolved_line(resolved("pr_1", "deny", by="cloutagent", reason="timeout"), PLAIN) == \
        "✗ pr_1 denied: timeout (nobody answered)"
    assert resolved_line(resolved("pr_1", "deny", by="cloutagent", reason="cancelled"), PLAIN) == \
        "✗ pr_1 cancelled with the run"
    assert steering_line(event(3, "execution.input", {"executionId": "x_1", "text": "and tests", "by": "u_ann"}),
                         PLAIN) == "› follow-up from u_ann: and tests"
    assert steering_line(event(4, "execution.interrupt", {"executionId": "x_1", "by": "u_ann"}), PLAIN) == \
        "⏸ turn interrupted by u_ann"
    assert event_line(event(5, "permission.resolved", resolved("pr_2")), PLAIN, {"pr_2": "question"}) == \
        "#5 07:51:34 ✓ pr_2 answered by u_ann"
    assert waiting_line(permission("pr_1"), "p_1", PLAIN).endswith("— waiting for an answer: cloutagent approve|deny p_1 pr_1")
    assert "cloutagent answer p_1 pr_2 --answer" in waiting_line(question("pr_2"), "p_1", PLAIN)


def test_the_prompt_shows_the_whole_command_and_reads_answers():
    long = permission("pr_1", command="set -e\nmake build\nmake deploy")
    assert tool_input(long) == ["set -e", "make build", "make deploy"]  # the description is shown above it
    assert describe(long, PLAIN) == ["? The agent wants to use Bash · pr_1", "  Run a command",
                                     "    set -e", "    make build", "    make deploy"]
    assert describe(question("pr_2"), PLAIN) == ["? The agent has a question · pr_2"]
    assert [decision(t) for t in ("y", "Yes", "n", "a", "always", "maybe")] == [
        ("allow", "once"), ("allow", "once"), ("deny", "once"), ("allow", "run"), ("allow", "run"), None]
    single, several = TWO_QUESTIONS["questions"]
    assert [choice(t, single) for t in ("2", " 1 ", "MySQL", "3", "")] == ["DynamoDB", "Postgres", "MySQL", "3", None]
    assert choice("1, 3", several) == "a, c" and choice("1,9", several) == "1,9"


class Lines:
    """A terminal that types the given lines, then waits forever."""

    def __init__(self, *typed: str):
        self.typed = list(typed)

    def discard_typed_ahead(self) -> None:
        pass  # what this terminal types comes after each prompt

    async def readline(self) -> str | None:
        if self.typed:
            return self.typed.pop(0)
        await asyncio.Event().wait()
        return None


def asker(client: Any, *typed: str) -> tuple[Asker, Output]:
    out = output()
    status = StatusLine(out.stderr, live=False, style=PLAIN)
    return Asker(client, "p_1", out, status, Lines(*typed)), out


async def test_the_prompt_asks_again_until_it_understands_and_sends_the_answer():
    client = SteerClient({"permission.respond": {"decision": "allow"}})
    ask, out = asker(client, "maybe", "a", "n", "Not in main", "2", "1,2")
    running = asyncio.create_task(ask.run())
    ask.offer(permission("pr_1"))
    ask.offer(permission("pr_2"))
    ask.offer(question("pr_3", TWO_QUESTIONS))
    async with asyncio.timeout(5):
        while len(client.sent) < 3:
            await asyncio.sleep(0.01)
    running.cancel()
    assert [(d["requestId"], d["decision"], d["scope"], d.get("message"), d.get("answers")) for _, d in client.sent] == [
        ("pr_1", "allow", "run", None, None), ("pr_2", "deny", "once", "Not in main", None),
        ("pr_3", "allow", "once", None, {"Which database?": "DynamoDB", "Which x=y?": "a, b"})]
    shown = out.stderr.getvalue()
    assert shown.count("Allow? [y]es / [n]o / [a]lways for this run: ") == 3 and "  y, n or a" in shown
    assert "    2. DynamoDB — key-value" in shown and "Answer (numbers, comma-separated, or your own words): " in shown


async def test_an_answer_from_elsewhere_withdraws_the_prompt_and_a_request_answered_before_its_turn_is_skipped():
    client = SteerClient({"permission.respond": {"decision": "allow"}})
    ask, out = asker(client)
    running = asyncio.create_task(ask.run())
    ask.offer(permission("pr_1"))
    ask.offer(permission("pr_2"))
    await asyncio.sleep(0.01)
    assert ask.resolved(resolved("pr_2", by="u_bob")) is False  # not asked yet: it is just skipped
    assert ask.resolved(resolved("pr_1", "deny", by="u_bob", message="no")) is True
    await asyncio.sleep(0.01)
    running.cancel()
    assert client.sent == [] and "answered elsewhere first: ✗ pr_1 denied by u_bob: no" in out.stderr.getvalue()
    assert "pr_2" not in out.stderr.getvalue() and out.stderr.getvalue().count("Allow?") == 1


def test_without_a_terminal_run_prints_requests_and_resolutions_on_stderr():
    out = output()
    view = RunView(SteerClient({}), "p_1", out)
    view.execution_id = "x_1"
    view.show(event(7, "permission.request", question("pr_2")))
    view.show(event(8, "permission.resolved", resolved("pr_2")))
    view.show(event(9, "execution.interrupt", {"executionId": "x_1", "by": "u_ann"}))
    err = out.stderr.getvalue().splitlines()
    assert err == [waiting_line(question("pr_2"), "p_1", PLAIN), "✓ pr_2 answered by u_ann",
                   "⏸ turn interrupted by u_ann"]
    assert out.stdout.getvalue() == ""
