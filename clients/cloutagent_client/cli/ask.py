"""``cloutagent run`` on a terminal: ask the person at it about each permission request and question
of the run, inline, and send the answer (``permission.respond``). The first answer from anyone
wins: a prompt that someone else answered meanwhile is withdrawn, saying who."""

from __future__ import annotations

import asyncio
import json
import os
import termios
from typing import Any, TextIO

from cloutagent_client import Client, CloutagentError, Conflict, Forbidden, NotFound
from cloutagent_client.cli.output import Output
from cloutagent_client.cli.render import TOOL_ARGUMENT, Style, resolved_line, short, waiting_line
from cloutagent_client.cli.status import StatusLine
from cloutagent_client.steering import Decision, OpenRequests, PermissionRequest, Question, Scope, questions

DECISIONS: dict[str, tuple[Decision, Scope]] = {
    "y": ("allow", "once"), "yes": ("allow", "once"), "n": ("deny", "once"), "no": ("deny", "once"),
    "a": ("allow", "run"), "always": ("allow", "run")}
ALLOW_PROMPT = "Allow? [y]es / [n]o / [a]lways for this run: "
_INPUT_LINES = 20


def decision(text: str) -> tuple[Decision, Scope] | None:
    return DECISIONS.get(text.strip().lower())


def choice(text: str, question: Question) -> str | None:
    """A question's answer from what was typed: an option's number (with ``multiSelect`` several,
    comma-separated) gives its label (labels joined with ``", "``); anything else is free text."""
    text = text.strip()
    if not text:
        return None
    options = question.get("options") or []
    numbers = [part.strip() for part in text.split(",")] if question.get("multiSelect") else [text]
    if all(n.isdigit() and 1 <= int(n) <= len(options) for n in numbers):
        return ", ".join(str(options[int(n) - 1].get("label")) for n in numbers)
    return text


def tool_input(request: PermissionRequest) -> list[str]:
    """What the tool would do, in full: the command (path, URL, …) as it is, then its other fields."""
    given = request.get("input") or {}
    key = TOOL_ARGUMENT.get(str(request.get("toolName")))
    lines: list[str] = []
    if key and isinstance(given.get(key), str):
        lines = given[key].splitlines() or [""]
        given = {k: v for k, v in given.items() if k != key}
    if given.get("description") == request.get("description"):  # already shown above the input
        given = {k: v for k, v in given.items() if k != "description"}
    if given:
        lines += json.dumps(given, ensure_ascii=False, indent=2).splitlines()
    shown = lines[:_INPUT_LINES]
    return shown + ([f"… (+{len(lines) - _INPUT_LINES} lines)"] if len(lines) > _INPUT_LINES else [])


def describe(request: PermissionRequest, style: Style) -> list[str]:
    """The head of the prompt: what is asked, and for a permission the tool's whole input (a
    question's options come with each question, see ``Asker._choose``)."""
    if request.get("kind") == "question":
        asked = len(questions(request))
        title = f"The agent has {'a question' if asked == 1 else f'{asked} questions'}"
    else:
        title = request.get("title") or f"The agent wants to use {request.get('toolName')}"
    head = [style.yellow(f"? {title}") + style.dim(f" · {request.get('requestId')}")]
    for extra in ("description", "reason"):
        if request.get(extra):
            head.append(style.dim(f"  {short(request[extra], 200)}"))
    if request.get("kind") != "question":
        return head + [f"    {line}" for line in tool_input(request)]
    return head


class TerminalLines:
    """Lines typed at the terminal, read without blocking the event loop, and only while a prompt
    waits: what was typed before the question is thrown away, it was not an answer to it."""

    def __init__(self, fd: int):
        self.fd = fd

    def discard_typed_ahead(self) -> None:
        """Before a prompt is shown: keys typed earlier were not an answer to it. (After it is
        shown would race a fast answer: the reply could be thrown away and the prompt hang.)"""
        try:
            termios.tcflush(self.fd, termios.TCIFLUSH)
        except termios.error:
            pass

    async def readline(self) -> str | None:
        """The next line, or None at the end of input (Ctrl-D)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str | None] = loop.create_future()
        typed = bytearray()

        def readable() -> None:
            chunk = os.read(self.fd, 4096)
            typed.extend(chunk)
            if not done.done() and (not chunk or b"\n" in typed):
                done.set_result(typed.split(b"\n")[0].decode(errors="replace") if b"\n" in typed else None)

        loop.add_reader(self.fd, readable)
        try:
            return await done
        finally:
            loop.remove_reader(self.fd)


class Asker:
    """Asks about the run's requests one at a time, oldest first, skipping those answered meanwhile."""

    def __init__(self, client: Client, project_id: str, out: Output, status: StatusLine, lines: TerminalLines):
        self.client = client
        self.project_id = project_id
        self.out = out
        self.status = status
        self.style: Style = status.style
        self.lines = lines
        self.can_answer = True  # False after the end of input, or when the role may not answer
        self._queue: asyncio.Queue[PermissionRequest] = asyncio.Queue()
        self._open = OpenRequests()
        self._sent: set[str] = set()  # answered from here: their resolution is no news
        self._asking: str | None = None
        self._prompt: asyncio.Task | None = None

    @property
    def stream(self) -> TextIO:
        return self.out.stderr

    def offer(self, request: PermissionRequest) -> None:
        self._open.feed({"event": "permission.request", "data": request})
        self._queue.put_nowait(request)

    def resolved(self, data: dict[str, Any], kind: str | None = None) -> bool:
        """Note a resolution; True when it withdrew the open prompt (and said who answered)."""
        self._open.feed({"event": "permission.resolved", "data": data})
        request_id = data.get("requestId")
        if request_id != self._asking or request_id in self._sent or self._prompt is None:
            return False
        self._prompt.cancel()
        self.stream.write("\n")
        self._say(f"answered elsewhere first: {resolved_line(data, self.style, kind)}")
        return True

    async def run(self) -> None:
        while True:
            request = await self._queue.get()
            if not self._open.is_open(str(request.get("requestId"))):
                continue  # answered before its turn
            if not self.can_answer:
                self._say(waiting_line(request, self.project_id, self.style))
                continue
            self._asking = str(request.get("requestId"))
            self._prompt = asyncio.create_task(self._ask(request))
            try:
                await asyncio.wait({self._prompt})
                if not self._prompt.cancelled() and self._prompt.exception() is not None:
                    self._say(f"cloutagent: could not ask about {self._asking}: {self._prompt.exception()!r}")
            finally:
                self._prompt.cancel()
                self._asking, self._prompt = None, None
                self.status.held = False

    async def _ask(self, request: PermissionRequest) -> None:
        self.status.clear()
        self.status.held = True
        for line in describe(request, self.style):
            self._say(line)
        if request.get("kind") == "question":
            answers = {}
            for question in questions(request):
                answer = await self._choose(question)
                if answer is None:
                    return
                answers[str(question.get("question"))] = answer
            await self._respond(request, "allow", "once", answers=answers)
            return
        while True:
            typed = await self._read(ALLOW_PROMPT)
            if typed is None:
                return
            chosen = decision(typed)
            if chosen is not None:
                break
            self._say(self.style.dim("  y, n or a"))
        message = None
        if chosen[0] == "deny":
            message = (await self._read("Tell the agent why (optional): ") or "").strip() or None
        await self._respond(request, *chosen, message=message)

    async def _choose(self, question: Question) -> str | None:
        self._say(self.style.bold(f"  {question.get('header') or 'Question'}: {question.get('question')}"))
        for number, option in enumerate(question.get("options") or [], 1):
            about = f" — {option['description']}" if option.get("description") else ""
            self._say(f"    {number}. {option.get('label')}{self.style.dim(about)}")
        hint = "numbers, comma-separated" if question.get("multiSelect") else "a number"
        while True:
            typed = await self._read(f"Answer ({hint}, or your own words): ")
            if typed is None:
                return None
            answer = choice(typed, question)
            if answer is not None:
                return answer

    async def _read(self, prompt: str) -> str | None:
        self.lines.discard_typed_ahead()
        self.stream.write(self.style.bold(prompt))
        self.stream.flush()
        typed = await self.lines.readline()
        if typed is None:
            self.stream.write("\n")
            self._say(self.style.dim("no more input: the team can still answer (cloutagent approve|deny|answer)"))
            self.can_answer = False
        return typed

    async def _respond(self, request: PermissionRequest, decision: Decision, scope: Scope, *,
                       message: str | None = None, answers: dict[str, str] | None = None) -> None:
        request_id = str(request.get("requestId"))
        self._sent.add(request_id)
        try:
            await self.client.respond(self.project_id, request_id, decision, scope, message=message, answers=answers)
        except Conflict as exc:
            by, how = exc.details.get("by"), exc.details.get("decision")
            self._say(self.style.dim(f"already answered: {how} by {by}" if by else f"not sent: {exc.message}"))
        except NotFound:
            self._say(self.style.dim(f"{request_id} is no longer open"))
        except Forbidden as exc:
            self.out.error(exc)
            self.can_answer = False
        except CloutagentError as exc:
            self.out.error(exc)

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

