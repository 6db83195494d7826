"""The executor's half of steering: it asks the room, reads the run's inbox, and feeds the agent.

- ``can_use_tool`` (the SDK's permission callback) stores a ``permission.request`` with its pending
  record and sets the project ``waiting``, then waits for the first answer, the project's
  ``approvalTimeoutSeconds`` (then it denies, as ``timeout``) or a kill (``cancelled``). A
  question (``AskUserQuestion``) is the same request, answered with ``answers``.
- The inbox is polled with strongly consistent reads: every ``FAST_POLL_SECONDS`` while a
  request waits (the answer reaches the tool within that), every ``SLOW_POLL_SECONDS`` otherwise
  (follow-ups and interrupts). Polling a key the run owns needs no inbound path to a Fargate task
  in a private subnet, survives a lost connection, and costs half a read unit per poll.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any, Callable

from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny, ToolPermissionContext

from cloutagent.domain.changes import ProjectChange
from cloutagent.domain.steering import QUESTION_TOOL, PermissionAnswered, PermissionOpened
from cloutagent.errors import ExpectationFailed
from cloutagent.ids import epoch_seconds, new_id
from cloutagent.observability import logger

# A request's tool input as the room sees it; a Write of a large file is shown as a preview (an
# event is one DynamoDB item, and people decide on the start of it anyway).
MAX_INPUT_CHARS = 50_000
FAST_POLL_SECONDS = 0.2
SLOW_POLL_SECONDS = 1.0
LATE_ANSWER_SECONDS = 5.0  # an answer that beat our own timeout by a hair is read back this long
EXECUTOR = "cloutagent"  # the "by" of a resolution the executor made itself


def shown_input(tool_input: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(tool_input, ensure_ascii=False)
    if len(text) <= MAX_INPUT_CHARS:
        return tool_input
    return {"preview": text[:MAX_INPUT_CHARS], "truncated": True, "chars": len(text)}


class Steering:
    def __init__(self, store: Any, relay: Any, ids: tuple[str, str, str], approval_timeout_seconds: float,
                 cancel: asyncio.Event, scrub: Callable[[Any], Any] = lambda value: value):
        self.store, self.relay = store, relay
        self.scrub = scrub  # the run's secret values masked, as in every other event of the run
        self.tenant_id, self.project_id, self.execution_id = ids
        self.timeout = approval_timeout_seconds
        self.cancel = cancel
        self.waiters: dict[str, asyncio.Future] = {}
        self.inputs: deque[str] = deque()
        self.interrupt = asyncio.Event()
        self.allowed_for_run: set[str] = set()
        self.reads = 0
        self._after: str | None = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()  # a request opened: poll fast from now on, not after a slow sleep

    # -- the inbox ----------------------------------------------------------------------------
    def start(self) -> "Steering":
        self._task = asyncio.create_task(self._poll())
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll(self) -> None:
        while True:
            await self.read_inbox()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), FAST_POLL_SECONDS if self.waiters else SLOW_POLL_SECONDS)
            except asyncio.TimeoutError:
                pass

    async def read_inbox(self) -> None:
        """Take what arrived since the last read (also called before deciding a run is over)."""
        try:
            items = await asyncio.to_thread(self.store.inbox_after, self.tenant_id, self.project_id,
                                            self.execution_id, self._after)
            self.reads += 1
        except Exception as exc:  # noqa: BLE001 - a blip: the next read gets the same messages
            logger.warning("reading the run's inbox failed", extra={"error": type(exc).__name__})
            return
        for item in items:
            self._after = item["SK"]
            self._take(item)

    def _take(self, item: dict[str, Any]) -> None:
        data = item.get("data") or {}
        if item["kind"] == "answer":
            waiter = self.waiters.get(data.get("requestId", ""))
            if waiter is not None and not waiter.done():
                waiter.set_result({**data, "by": item.get("by")})
        elif item["kind"] == "input":
            self.inputs.append(data["text"])
        elif item["kind"] == "interrupt":
            self.interrupt.set()

    def next_input(self) -> str | None:
        return self.inputs.popleft() if self.inputs else None

    async def last_call(self) -> str | None:
        """The run's last turn ended: a follow-up to run next, or None with the project "finishing".

        Moving to "finishing" is conditional, and agent.send requires the state it read, so a
        follow-up is either in the inbox before the move (and is read right after it) or refused:
        none is accepted and then never run.
        """
        await self.read_inbox()
        if self.inputs:
            return self.next_input()
        if not await self._move("running", "finishing"):
            return None  # being cancelled: no more turns
        await self.read_inbox()
        if not self.inputs:
            return None
        await self._move("finishing", "running")
        return self.next_input()

    async def _move(self, before: str, after: str) -> bool:
        try:
            await self.relay.publish_now(
                [("project.state", {"state": after, "executionId": self.execution_id})],
                ProjectChange(set_fields={"state": after}, expect={"execution_id": self.execution_id, "state": before}))
        except ExpectationFailed:
            return False
        return True

    # -- permission requests and questions ------------------------------------------------------
    async def can_use_tool(self, tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext):
        if tool_name in self.allowed_for_run:
            return PermissionResultAllow()
        if self.cancel.is_set():
            return PermissionResultDeny(message="The run is being stopped", interrupt=True)
        request_id = new_id("pr_")
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[request_id] = waiter
        try:
            try:
                await self._ask(request_id, tool_name, tool_input, context)
            except ExpectationFailed:  # the run is ending (finished, or killed meanwhile)
                return PermissionResultDeny(message="The run is ending", interrupt=True)
            self._wake.set()
            answer = await self._answer(request_id, waiter)
        finally:
            self.waiters.pop(request_id, None)
        await self._resume_running()
        return self._result(tool_name, tool_input, answer)

    async def _ask(self, request_id: str, tool_name: str, tool_input: dict[str, Any],
                   context: ToolPermissionContext) -> None:
        data = {"requestId": request_id, "executionId": self.execution_id, "toolName": tool_name,
                "kind": "question" if tool_name == QUESTION_TOOL else "permission", "input": shown_input(tool_input),
                "toolUseId": context.tool_use_id, "timeoutSeconds": self.timeout,
                **{k: v for k, v in (("title", context.title), ("description", context.description),
                                      ("reason", context.decision_reason)) if v}}
        opened = PermissionOpened(self.tenant_id, self.project_id, self.execution_id, request_id, tool_name,
                                  epoch_seconds() + int(self.timeout) + 3600)
        events = [("permission.request", self.scrub(data)),
                  ("project.state", {"state": "waiting", "executionId": self.execution_id})]
        # Only from running (or waiting, for a second request at once): never over cancelling or
        # finishing. ExpectationFailed from both: the run is ending.
        for before in ("running", "waiting"):
            change = ProjectChange(set_fields={"state": "waiting"},
                                   expect={"execution_id": self.execution_id, "state": before}, records=(opened,))
            try:
                await self.relay.publish_now(events, change)
                return
            except ExpectationFailed:
                if before == "waiting":
                    raise

    async def _answer(self, request_id: str, waiter: asyncio.Future) -> dict[str, Any]:
        stopped = asyncio.create_task(self.cancel.wait())
        try:
            await asyncio.wait({waiter, stopped}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if waiter.done():
            return waiter.result()
        resolution = "cancelled" if self.cancel.is_set() else "timeout"
        try:
            await self.relay.publish_now(
                [("permission.resolved", {"requestId": request_id, "executionId": self.execution_id,
                                          "decision": "deny", "reason": resolution, "by": EXECUTOR})],
                ProjectChange(records=(PermissionAnswered(self.tenant_id, self.project_id, request_id, resolution,
                                                          EXECUTOR, self.execution_id),)))
        except ExpectationFailed:  # a person answered in the same instant: theirs stands
            return await asyncio.wait_for(waiter, LATE_ANSWER_SECONDS)
        return {"decision": "deny", "reason": resolution}

    async def _resume_running(self) -> None:
        if not self.waiters:  # else another request still waits
            await self._move("waiting", "running")  # False: being cancelled, nothing to announce

    def _result(self, tool_name: str, tool_input: dict[str, Any], answer: dict[str, Any]):
        if answer.get("decision") == "allow":
            if answer.get("scope") == "run":
                self.allowed_for_run.add(tool_name)
            if tool_name == QUESTION_TOOL:
                return PermissionResultAllow(updated_input={**tool_input, "answers": answer.get("answers") or {}})
            return PermissionResultAllow()
        reason = answer.get("reason")
        if reason == "cancelled":
            return PermissionResultDeny(message="The run was stopped", interrupt=True)
        if reason == "timeout":
            return PermissionResultDeny(message=f"Nobody answered within {int(self.timeout)} s, so this was denied")
        by = answer.get("by") or "a teammate"
        return PermissionResultDeny(message=answer.get("message") or f"Denied by {by}")
