"""Steering a run from scripts: ``approve``, ``deny`` and ``answer`` a permission request, ``send``
a follow-up, ``interrupt`` the turn, and list the ``pending`` requests (docs/clients.md)."""

from __future__ import annotations

import sys
from typing import Any

from cloutagent_client import BadRequest, Client, Conflict
from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output
from cloutagent_client.cli.render import TOOL_ARGUMENT, short
from cloutagent_client.steering import Decision, PermissionRequest, Question, Scope, questions

_PENDING_COLUMNS = [("REQUEST", "requestId"), ("KIND", "kind"), ("TOOL", "toolName"), ("INPUT", "summary"),
                    ("EXECUTION", "executionId")]


async def approve(client: Client, args: Any, out: Output) -> int:
    return await _respond(client, args, out, "allow", "run" if args.always else "once")


async def deny(client: Client, args: Any, out: Output) -> int:
    return await _respond(client, args, out, "deny", "once", message=args.message)


async def answer(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    asked = next((r for r in await client.open_requests(project["projectId"]) if r["requestId"] == args.request), None)
    answers = parse_answers(args.answer, questions(asked) if asked else [])
    return await _respond(client, args, out, "allow", "once", answers=answers, project=project)


async def send(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    text = sys.stdin.read() if args.text == "-" else args.text
    sent = await client.send(project["projectId"], text)
    out.result(sent, f"sent to {sent['executionId']}")
    return exit_codes.OK


async def interrupt(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    done = await client.interrupt(project["projectId"])
    out.result(done, f"interrupted the turn of {done['executionId']}")
    return exit_codes.OK


async def pending(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    requests = await client.open_requests(project["projectId"])
    if out.json:
        for request in requests:
            out.item(request)
    elif requests:
        out.table([{**r, "summary": input_summary(r)} for r in requests], _PENDING_COLUMNS)
    else:
        out.note("no open requests")
    return exit_codes.OK


def input_summary(request: PermissionRequest) -> str:
    """A request's input in a table cell: the command (path, …), or the questions."""
    if request.get("kind") == "question":
        return short(" / ".join(str(q.get("question")) for q in questions(request)), 80)
    given = request.get("input") or {}
    key = TOOL_ARGUMENT.get(str(request.get("toolName")))
    return short(given[key] if key and isinstance(given.get(key), str) else given, 80)


def parse_answers(values: list[str], asked: list[Question]) -> dict[str, str]:
    """``--answer`` values (``QUESTION=ANSWER``) as ``answers``. With the request's questions known,
    QUESTION may also be a question's header or its number, and a lone question needs no ``QUESTION=``."""
    answers: dict[str, str] = {}
    for value in values:
        question, text = _one_answer(value, asked)
        answers[question] = text
    return answers


def _one_answer(value: str, asked: list[Question]) -> tuple[str, str]:
    for number, question in enumerate(asked, 1):
        for key in (question.get("question"), question.get("header"), str(number)):
            if key and value.startswith(f"{key}="):  # whole keys first: a question may hold "="
                return str(question.get("question")), value[len(key) + 1:]
    if len(asked) == 1 and "=" not in value:
        return str(asked[0].get("question")), value
    if asked:
        listed = "; ".join(f"{n}. {q.get('question')}" for n, q in enumerate(asked, 1))
        raise BadRequest(f"--answer {value!r} names no question of this request ({listed})", {"field": "answer"})
    if "=" not in value:
        raise BadRequest(f"--answer takes QUESTION=ANSWER, not {value!r}", {"field": "answer"})
    question, text = value.split("=", 1)
    return question, text


async def _respond(client: Client, args: Any, out: Output, decision: Decision, scope: Scope, *,
                   message: str | None = None, answers: dict[str, str] | None = None,
                   project: dict[str, Any] | None = None) -> int:
    project = project or await client.find_project(args.project)
    try:
        resolved = await client.respond(project["projectId"], args.request, decision, scope, message=message,
                                        answers=answers)
    except Conflict as exc:
        if not exc.details.get("by"):
            raise
        # Say who answered first: the code and details stay, for scripts.
        raise Conflict(f"{exc.message}: {exc.details.get('decision')} by {exc.details['by']}", exc.details,
                       action=exc.action) from exc
    if answers:
        verb = "answered"
    elif decision == "deny":
        verb = "denied"
    else:
        verb = "allowed for this run" if scope == "run" else "allowed"
    out.result(resolved, f"{verb} {args.request}")
    return exit_codes.OK
