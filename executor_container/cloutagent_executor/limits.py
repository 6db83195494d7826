"""The run's own budget check on streamed usage, which sees an overrun coming mid-turn.

The CLI's ``--max-budget-usd`` only stops between API calls and knows nothing of token caps,
so the executor checks after every message too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .usage import UsageMeter


@dataclass(frozen=True)
class Limits:
    max_tokens: int | None = None
    max_cost_usd: float | None = None

    def exceeded(self, meter: UsageMeter) -> str | None:
        """Why the run is over its limits, or None while it is within them."""
        if self.max_tokens is not None and meter.tokens() > self.max_tokens:
            return f"maxTokens {self.max_tokens} exceeded ({meter.tokens()} tokens used)"
        if self.max_cost_usd is not None and meter.cost_usd() > self.max_cost_usd:
            return f"maxCostUsd {self.max_cost_usd:.2f} exceeded (about ${meter.cost_usd():.2f} spent)"
        return None
