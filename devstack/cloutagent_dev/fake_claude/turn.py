"""One turn of the fake ``claude``: replay a plan, honour interrupts and limits, end with a result."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from .control import TurnControl
from .frames import USAGE_KEYS, assistant_frame, init_frame, result_frame, tool_result_block, user_frame
from .plan import Plan, Step, ToolRun, build_plan, new_id
from .session import FakeSession
from cloutagent_executor.pricing import cost_usd


@dataclass
class Tally:
    api_calls: int = 0
    cost_usd: float = 0.0
    last_text: str = ""
    usage: dict = field(default_factory=lambda: {key: 0 for key in USAGE_KEYS})

    def add(self, model: str, step: Step) -> None:
        self.api_calls += 1
        self.cost_usd += cost_usd(model, step.usage)
        for key in USAGE_KEYS:
            self.usage[key] += int(step.usage.get(key, 0))
        texts = [block["text"] for block in step.blocks if block["type"] == "text"]
        self.last_text = texts[-1] if texts else self.last_text


@dataclass(frozen=True)
class Ending:
    subtype: str = "success"
    is_error: bool = False
    terminal_reason: str = "completed"
    errors: list[str] = field(default_factory=list)


def run_turn(session: FakeSession, control: TurnControl, user: dict) -> bool:
    """Play one user message to its result; True when the result is an error."""
    started = time.monotonic()
    session.state("running")
    session.send(init_frame(session))
    prompt = prompt_text(user)
    _take_prompt(session, user_frame(session, prompt))
    plan = build_plan(prompt, session.plan_context())
    tally = Tally()
    ending = _play(plan, session, control, tally)
    if ending.subtype == "success" and plan.final_cost_usd is not None:
        tally.cost_usd = plan.final_cost_usd
    session.output.send(result_frame(session, ending, tally, int((time.monotonic() - started) * 1000)))
    session.state("idle")
    return ending.is_error


def _take_prompt(session: FakeSession, frame: dict) -> None:
    # The prompt goes into the transcript; the SDK sees it again only if it asked for replays.
    if session.replay_user_messages:
        session.send(frame)
    else:
        session.record(frame)


def prompt_text(user: dict) -> str:
    content = (user.get("message") or {}).get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content if isinstance(block, dict))


def _play(plan: Plan, session: FakeSession, control: TurnControl, tally: Tally) -> Ending:
    for step in plan.steps:
        if session.max_turns and tally.api_calls >= session.max_turns:
            return _error("error_max_turns", "max_turns", f"Reached maximum number of turns ({session.max_turns})")
        control.pause(step.delay_s)
        if stopped := _stopped(session, control, "aborted_streaming"):
            return stopped
        _emit_call(session, step, tally)
        if plan.crash_code is not None:
            _crash(plan.crash_code)
        if step.tool is not None and (stopped := _run_tool(session, control, step.tool)):
            return stopped
        if plan.enforce_cli_budget and _over_budget(session, tally):
            return _error("error_max_budget_usd", "max_budget", f"Reached maximum budget (${session.max_budget_usd})")
    if plan.error_subtype:
        return _error(plan.error_subtype, "error", "Simulated error requested by [fake:error]")
    return Ending()


def _emit_call(session: FakeSession, step: Step, tally: Tally) -> None:
    message_id = new_id("msg_")
    for block in step.blocks:
        if step.stamp and block["type"] == "text":
            # Taken as late as possible: the benchmark measures from here to the subscribers.
            block = {**block, "text": f"{block['text']} written_at={time.time():.6f}"}
        session.send(assistant_frame(session, message_id, block, step.usage))
    tally.add(session.model, step)


def _run_tool(session: FakeSession, control: TurnControl, tool: ToolRun) -> Ending | None:
    control.pause(tool.busy_seconds)
    if control.interrupted:
        block = tool_result_block(tool.tool_use_id, "Interrupted by user", True)
        session.send(user_frame(session, [block], "Error: Interrupted by user"))
        return _interrupted(session, "[Request interrupted by user for tool use]", "aborted_tools")
    block = tool_result_block(tool.tool_use_id, tool.output, False)
    session.send(user_frame(session, [block], {"stdout": tool.output, "stderr": "", "interrupted": False}))
    return None


def _stopped(session: FakeSession, control: TurnControl, reason: str) -> Ending | None:
    if control.interrupted:
        return _interrupted(session, "[Request interrupted by user]", reason)
    return None


def _interrupted(session: FakeSession, marker: str, reason: str) -> Ending:
    # Like the CLI: a user-role marker in the transcript, then an error_during_execution result.
    session.send(user_frame(session, [{"type": "text", "text": marker}]))
    return Ending("error_during_execution", True, reason, [])


def _over_budget(session: FakeSession, tally: Tally) -> bool:
    return session.max_budget_usd is not None and tally.cost_usd >= session.max_budget_usd


def _error(subtype: str, reason: str, message: str) -> Ending:
    return Ending(subtype, True, reason, [message])


def _crash(code: int) -> None:
    print("fake-claude: simulated crash requested by [fake:crash]", file=sys.stderr, flush=True)
    os._exit(code)  # no cleanup, no result: what a killed or crashing CLI looks like
