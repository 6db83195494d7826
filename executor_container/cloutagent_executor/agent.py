"""The executor's agent-facing half: run one Claude Code turn and report how it went."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from dataclasses import replace

from .agent_run import AgentRun, OnMessage
from .models import AgentOutcome, AgentRequest
from .outcome import build_outcome
from .usage import UsageMeter

__all__ = ["AgentOutcome", "AgentRequest", "run_agent"]


async def run_agent(request: AgentRequest, on_message: OnMessage, cancel: asyncio.Event,
                    meter: UsageMeter | None = None, steering: Any = None, spare: Any = None,
                    gateway_meter: UsageMeter | None = None) -> AgentOutcome:
    """Run the request's prompt to an outcome; failures become a ``failed`` outcome, not exceptions.

    Every SDK message reaches ``on_message`` as normalized event data (secret values masked).
    Setting ``cancel`` interrupts the agent and yields ``cancelled`` with the cost spent so far.
    ``meter``, when given, is the one the run adds its streamed usage to (for live reports).
    ``steering``, when given, asks the team what the permission rules leave open, and feeds the
    run its follow-ups and interrupts (steering.py). ``spare``, when given, is the parked CLI
    the run claims instead of starting one (spare.py). ``gateway_meter``, the run's model gateway's
    when it has one, is held to the run's limits too (it sees output tokens as they stream), and
    a CLI the run starts then streams no partial messages.
    """
    started = time.monotonic()
    run = AgentRun(request, on_message, cancel, meter, steering, spare, gateway_meter)
    try:
        await run.execute()
    except Exception as error:  # noqa: BLE001 - a run ends in an outcome, never an exception
        run.record_failure(error)
    duration_ms = int((time.monotonic() - started) * 1000)
    outcome = build_outcome(run.state, duration_ms, request.resume_session_id)
    # An error can quote what the agent saw (a failing command's output): mask secrets there too.
    return replace(outcome, error=run.scrub(outcome.error)) if outcome.error else outcome
