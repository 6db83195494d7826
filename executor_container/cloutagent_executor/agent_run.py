"""Supervising one Claude Code conversation: stream it out, and stop it when told to.

Three things can stop a run early: ``cancel`` (the executor got SIGTERM), the deadline, and
the budget check on streamed usage. Each interrupts the CLI through the SDK's control
protocol, so the turn ends the way Claude Code ends it (with a result carrying the usage so
far) and the session stays resumable. A CLI that ignores the interrupt is closed after a grace
period.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from typing import Any, Awaitable, Callable

from claude_agent_sdk import ClaudeSDKClient, ResultMessage, SystemMessage

from . import timeline
from .failures import describe_error
from .limits import Limits
from .models import AgentRequest
from .normalize import normalize
from .options import build_options, stderr_logger
from .outcome import RunState
from .redact import Redactor
from .usage import UsageMeter

logger = logging.getLogger(__name__)

OnMessage = Callable[[dict], Awaitable[None]]

INTERRUPT_TIMEOUT_S = 5.0
# After an interrupt the CLI normally answers with a result at once; past this it is closed.
RESULT_GRACE_S = 10.0


class AgentRun:
    def __init__(self, request: AgentRequest, on_message: OnMessage, cancel: asyncio.Event,
                 meter: UsageMeter | None = None, steering: Any = None, spare: Any = None,
                 gateway_meter: UsageMeter | None = None) -> None:
        self.request = request
        self.steering = steering  # permission requests, follow-ups, interrupts (steering.py)
        self.spare = spare  # a parked CLI to claim instead of starting one (spare.py)
        self.state = RunState(meter=meter or UsageMeter())
        self._gateway_meter = gateway_meter
        self._on_message = on_message
        self._cancel = cancel
        self._limits = Limits(request.max_tokens, request.max_cost_usd)
        self._redactor = Redactor(request.env.values())
        self._limit_hit = asyncio.Event()
        self._prompt_sent = False
        self._deadline = time.monotonic() + request.timeout_seconds

    async def execute(self) -> None:
        """Converse until the result, or until told to stop; re-raises a failed conversation."""
        can_use_tool = self.steering.can_use_tool if self.steering else None
        stderr = stderr_logger(logger, self._redactor.scrub)
        if self.spare is not None:
            client = await self.spare.claim(self.request, can_use_tool, stderr)
        else:
            client = ClaudeSDKClient(build_options(self.request, stderr, can_use_tool,
                                                   gateway_metered=self._gateway_meter is not None))
        conversation = asyncio.create_task(self._converse(client))
        watcher = asyncio.create_task(self._watch())
        interrupter = asyncio.create_task(self._interrupt_turns(client)) if self.steering else None
        try:
            await asyncio.wait({conversation, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not conversation.done():
                await self._stop(client, conversation)
            if not conversation.cancelled():
                conversation.result()
        finally:
            watcher.cancel()
            if interrupter is not None:
                interrupter.cancel()
            conversation.cancel()
            await self._disconnect(client)

    def scrub(self, text: str) -> str:
        """``text`` with the run's secret values masked."""
        return self._redactor.scrub(text)

    def record_failure(self, error: Exception) -> None:
        self.state.failure = describe_error(error)
        logger.warning("agent run failed: %s: %s", type(error).__name__, self._redactor.scrub(str(error)))
        logger.debug("%s", self._redactor.scrub("".join(traceback.format_exception(error))))

    async def _converse(self, client: ClaudeSDKClient) -> None:
        """The prompt's turn, then one turn per follow-up the team sent, until none is queued."""
        if self.spare is None:
            await client.connect()
        timeline.mark("CLI started")
        prompt: str | None = self.request.prompt
        while prompt is not None:
            self.state.turn_interrupted = False
            await client.query(prompt)
            # Only now can an interrupt land: before the prompt there is no turn to stop.
            self._prompt_sent = True
            async for message in client.receive_response():
                await self._take(message)
            prompt = await self._next_input()

    async def _next_input(self) -> str | None:
        """A follow-up queued during the turn, or None: the run is over (steering.last_call)."""
        if self.steering is None or self._cancel.is_set():
            return None
        return await self.steering.last_call()

    async def _interrupt_turns(self, client: ClaudeSDKClient) -> None:
        """The team's interrupts: end the current turn (not the run); queued input runs next."""
        while True:
            await self.steering.interrupt.wait()
            self.steering.interrupt.clear()
            if self._prompt_sent:
                self.state.turn_interrupted = True
                await self._interrupt(client)

    async def _take(self, message: object) -> None:
        timeline.mark("CLI's first message")
        if not isinstance(message, SystemMessage):
            timeline.report_once("model's first output")
        self.state.meter.observe(message)
        if isinstance(message, ResultMessage):
            self.state.result = message
        elif isinstance(message, SystemMessage) and message.subtype == "init":
            self.state.session_id = message.data.get("session_id") or self.state.session_id
        for data in normalize(message):
            await self._on_message(self._redactor.scrub(data))
        reason = self._over_budget()
        if reason and self.state.stop("budget_exceeded", reason):
            self._limit_hit.set()

    def _over_budget(self) -> str | None:
        # Behind a gateway the CLI streams no partial messages: its own messages show a call's
        # output tokens only at the turn's end, the gateway's meter as they are written.
        reason = self._limits.exceeded(self.state.meter)
        if reason is None and self._gateway_meter is not None:
            reason = self._limits.exceeded(self._gateway_meter)
        return reason

    async def _watch(self) -> None:
        """Return when the run must stop early, having recorded why."""
        waiters = {asyncio.create_task(self._cancel.wait()), asyncio.create_task(self._limit_hit.wait())}
        timeout = max(0.0, self._deadline - time.monotonic())
        try:
            done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._cancel.is_set():
            self.state.stop("cancelled", "cancelled before the agent finished")
        elif not done:
            self.state.stop("timeout", f"timed out after {self.request.timeout_seconds} s")

    async def _stop(self, client: ClaudeSDKClient, conversation: asyncio.Task) -> None:
        if self._prompt_sent:
            await self._interrupt(client)
            done, _ = await asyncio.wait({conversation}, timeout=RESULT_GRACE_S)
            if done:
                return
            logger.warning("Claude Code did not end the turn %.0f s after an interrupt", RESULT_GRACE_S)
        conversation.cancel()
        await asyncio.wait({conversation})

    async def _interrupt(self, client: ClaudeSDKClient) -> None:
        try:
            await asyncio.wait_for(client.interrupt(), INTERRUPT_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - the grace period and close still follow
            logger.warning("interrupt failed: %s", describe_error(error))

    async def _disconnect(self, client: ClaudeSDKClient) -> None:
        # Not wrapped in a timeout: the SDK bounds its own close (stdin EOF, then SIGTERM,
        # then SIGKILL), and cancelling it midway could orphan the CLI process.
        try:
            await client.disconnect()
        except Exception as error:  # noqa: BLE001 - the outcome is already decided
            logger.warning("closing Claude Code failed: %s", describe_error(error))
