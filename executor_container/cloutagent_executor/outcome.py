"""How a run ended -> AgentOutcome. A stop the executor asked for outranks what the CLI said."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from claude_agent_sdk import ResultMessage

from .failures import describe_result
from .models import AgentOutcome
from .usage import UsageMeter, to_wire_usage

logger = logging.getLogger(__name__)

# Reported and estimated cost may differ a little (side calls the stream never shows, such
# as title generation); beyond this the price table is probably stale.
_COST_TOLERANCE_USD = 0.05
_COST_TOLERANCE_RATIO = 0.25


@dataclass
class RunState:
    """Everything learned while the run streamed."""

    meter: UsageMeter = field(default_factory=UsageMeter)
    result: ResultMessage | None = None
    session_id: str | None = None
    stop_status: str | None = None  # cancelled | timeout | budget_exceeded, set by the executor
    stop_detail: str | None = None
    failure: str | None = None
    turn_interrupted: bool = False  # the team interrupted the last turn: its end is not a failure

    def stop(self, status: str, detail: str) -> bool:
        """Record the first reason to stop; later ones lose. True if this one won."""
        if self.stop_status is not None:
            return False
        self.stop_status, self.stop_detail = status, detail
        return True


def build_outcome(state: RunState, duration_ms: int, fallback_session_id: str | None) -> AgentOutcome:
    status, error = _status(state)
    result = state.result
    return AgentOutcome(
        status=status,
        usage=to_wire_usage(result.usage) if result and result.usage else state.meter.usage(),
        cost_usd=_cost(state),
        duration_ms=duration_ms,
        num_turns=result.num_turns if result else state.meter.api_calls,
        session_id=(result.session_id if result else None) or state.session_id or fallback_session_id,
        error=error,
    )


def _status(state: RunState) -> tuple[str, str | None]:
    result = state.result
    if state.stop_status:
        return state.stop_status, state.stop_detail
    if result is not None and result.subtype == "error_max_budget_usd":
        return "budget_exceeded", "maxCostUsd reached (stopped by Claude Code)"
    if result is not None and result.is_error and not state.turn_interrupted:
        return "failed", describe_result(result)
    if result is not None:
        return "completed", None
    return "failed", state.failure or "Claude Code ended without a result"


def _cost(state: RunState) -> float:
    estimate = state.meter.cost_usd()
    reported = state.result.total_cost_usd if state.result else None
    if reported is None:
        return round(estimate, 6)
    if abs(reported - estimate) > max(_COST_TOLERANCE_USD, _COST_TOLERANCE_RATIO * reported):
        logger.warning("reported cost %.4f USD differs from the price-table estimate %.4f USD",
                       reported, estimate)
    return reported
