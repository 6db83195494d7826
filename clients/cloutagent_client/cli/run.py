"""``cloutagent run <project> "<prompt>"``: start a run and stream it as it happens, then say what it
delivered to the project's repository (``execution.git``), if it has one.

When the agent asks (a permission request or a question) and stdin is a terminal, the question is
put inline (``cli/ask.py``); otherwise it is printed on stderr and the run waits for the team.

Ctrl-C sends ``agent.kill`` and waits for the run to end (exit 1, status ``cancelled``); a second
Ctrl-C quits at once (exit 130) and leaves the kill to the service.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown
from cloutagent_client.cli.ask import Asker, TerminalLines
from cloutagent_client.cli.render import (Style, TerminalMarkdown, git_summary, message, steering_line, summary,
                                          waiting_line)
from cloutagent_client.cli.status import StatusLine
from cloutagent_client import Client, CloutagentError, Conflict, Subscription

_TICK_SECONDS = 0.1


class Interrupts:
    """SIGINT while a run streams: the first one cancels the run, the second one quits."""

    def __init__(self, on_cancel: Any):
        self.count = 0
        self.quit = asyncio.Event()
        self._on_cancel = on_cancel
        self._loop = asyncio.get_running_loop()

    def __enter__(self) -> "Interrupts":
        self._loop.add_signal_handler(signal.SIGINT, self._interrupted)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.remove_signal_handler(signal.SIGINT)

    def _interrupted(self) -> None:
        self.count += 1
        if self.count == 1:
            self._on_cancel()
        else:
            self.quit.set()


class RunView:
    def __init__(self, client: Client, project_id: str, out: Output, *, ask: bool = False):
        self.client = client
        self.project_id = project_id
        self.out = out
        self.style = Style.for_stream(out.stdout, json_mode=out.json)
        self.markdown = TerminalMarkdown.for_stream(out.stdout, json_mode=out.json)
        self.status = StatusLine(out.stderr, live=out.stderr.isatty(), style=Style.for_stream(out.stderr))
        self.execution_id: str | None = None
        self.git: dict[str, Any] | None = None  # the run's execution.git data, once it came
        self.cancel_requested = False
        self.asker = Asker(client, project_id, out, self.status, TerminalLines(sys.stdin.fileno())) if ask else None
        self.kinds: dict[str, str] = {}  # request id -> permission or question
        self._tasks: set[asyncio.Task] = set()

    def cancel(self) -> None:
        self.cancel_requested = True
        self.status.clear()
        self.out.note("cancelling the run… (Ctrl-C again to quit without waiting)")
        if self.execution_id:
            self.kill()

    def kill(self) -> None:
        self._spawn(self._kill())

    async def _kill(self) -> None:
        try:
            await self.client.kill(self.project_id)
        except Conflict:
            pass  # it finished meanwhile
        except CloutagentError as exc:
            self.out.error(exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def show(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        if event.get("event") == "project.state":
            self.status.update(state=data.get("state"))
        elif event.get("event") == "execution.usage" or (
                event.get("event") == "execution.message" and data.get("kind") == "result"):
            self.status.update(usage=data.get("usage"), cost=data.get("costUsd"))
        if self.out.json:
            self.out.item(event)
        elif event.get("event") == "execution.message":
            as_markdown = self.markdown and data.get("kind") == "text" and data.get("role") == "assistant"
            text = None if as_markdown else message(data, self.style)
            if as_markdown or text is not None:
                self.status.clear()
                if as_markdown:
                    self.markdown.render(shown(str(data.get("text", "")), lines=True))
                else:
                    self.out.line(text)
                self.status.draw()
        self.steer(event)

    def steer(self, event: dict[str, Any]) -> None:
        """Requests, their resolutions, follow-ups and interrupts: on stderr, for the people."""
        data = event.get("data") or {}
        name = event.get("event")
        style = self.status.style
        if name == "permission.request":
            self.kinds[str(data.get("requestId"))] = str(data.get("kind"))
            if self.asker is not None and self.asker.can_answer:
                self.asker.offer(data)
                return
            self._note(waiting_line(data, self.project_id, style))
            return
        if name == "permission.resolved" and self.asker is not None and self.asker.resolved(
                data, self.kinds.get(str(data.get("requestId")))):
            return  # the withdrawn prompt said who answered
        text = steering_line(event, style, self.kinds)
        if text is not None:
            self._note(text)

    def _note(self, text: str) -> None:
        self.status.clear()
        self.out.note(text)
        self.status.draw()

    async def follow(self, events: Subscription) -> dict[str, Any]:
        """Show this run's events until it finishes; the ``execution.finished`` data."""
        asking = asyncio.create_task(self.asker.run()) if self.asker is not None else None
        try:
            async for event in events:
                if (event.get("data") or {}).get("executionId") != self.execution_id:
                    continue  # someone else's activity in the room, or an earlier run
                self.show(event)
                if event.get("event") == "execution.git":
                    self.git = event.get("data") or {}
                if event.get("event") == "execution.finished":
                    return event["data"]
        finally:
            if asking is not None:
                asking.cancel()  # a prompt still open is moot now
        raise CloutagentError("The event stream ended before the run finished", code="STREAM_ENDED")

    async def tick(self) -> None:
        while True:
            self.status.draw()
            await asyncio.sleep(_TICK_SECONDS)


def _prompt(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


async def run(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    # Ask inline only with a person at the terminal, and not when the prompt itself came from stdin.
    view = RunView(client, project["projectId"], out, ask=sys.stdin.isatty() and args.prompt != "-")
    options = {"maxCostUsd": args.max_cost_usd, "maxTokens": args.max_tokens,
               "timeoutSeconds": args.timeout_seconds, "model": args.model,
               "branch": args.branch, "pull_request": args.pull_request}
    with Interrupts(view.cancel) as interrupts:
        async with await client.subscribe(project["projectId"]) as events:
            if args.new_session:
                await client.new_session(project["projectId"])
            execution = await client.execute(project["projectId"], _prompt(args.prompt), **options)
            view.execution_id = execution["executionId"]
            if view.cancel_requested:  # Ctrl-C came before the run had an id
                view.kill()
            ticker = asyncio.create_task(view.tick())
            following = asyncio.create_task(view.follow(events))
            quitting = asyncio.create_task(interrupts.quit.wait())
            try:
                await asyncio.wait({following, quitting}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (ticker, quitting):
                    task.cancel()
            if not following.done():
                following.cancel()
                view.status.finish(f"quit while the run was being cancelled ({view.execution_id})")
                return exit_codes.INTERRUPTED
            finished = following.result()
    status = str(finished.get("status"))
    style = view.status.style
    mark = style.green("■ completed") if status == "completed" else style.red(f"■ {status}")
    if view.git is not None:
        view.status.finish(git_summary(view.git, style))
    view.status.finish(f"{mark} · {summary(finished)} · {view.execution_id}")
    return exit_codes.for_run_status(status)
