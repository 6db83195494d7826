"""Usage of a run so far, added up from the assistant messages as they stream in."""

from __future__ import annotations

from typing import Any, Mapping

from claude_agent_sdk import AssistantMessage

from .pricing import cost_usd

# Anthropic API usage fields -> the names on our wire.
WIRE_USAGE_KEYS = {
    "input_tokens": "inputTokens",
    "output_tokens": "outputTokens",
    "cache_read_input_tokens": "cacheReadTokens",
    "cache_creation_input_tokens": "cacheWriteTokens",
}


def to_wire_usage(usage: Mapping[str, Any] | None) -> dict[str, int]:
    usage = usage or {}
    return {wire: int(usage.get(api) or 0) for api, wire in WIRE_USAGE_KEYS.items()}


class UsageMeter:
    """Per-API-call usage, keyed by message id.

    The CLI writes one assistant message per content block, and every block of one API call
    carries that call's usage, so counting messages would count a call several times. The
    latest usage seen for an id wins: earlier blocks may carry a partial output count.
    """

    def __init__(self) -> None:
        self._calls: dict[str, tuple[str | None, dict[str, Any]]] = {}

    def observe(self, message: object) -> None:
        if not isinstance(message, AssistantMessage) or not message.usage:
            return
        key = message.message_id or message.uuid or f"call-{len(self._calls)}"
        self._calls[key] = (message.model, dict(message.usage))

    @property
    def api_calls(self) -> int:
        return len(self._calls)

    def usage(self) -> dict[str, int]:
        totals = dict.fromkeys(WIRE_USAGE_KEYS.values(), 0)
        for _, call_usage in self._calls.values():
            for key, value in to_wire_usage(call_usage).items():
                totals[key] += value
        return totals

    def tokens(self) -> int:
        """Tokens that count against maxTokens: input, output and cache writes.

        Cache reads are left out: every turn re-reads the whole cached context, so counting
        them would make a token cap trip on conversation length rather than on work done.
        maxCostUsd still prices them.
        """
        usage = self.usage()
        return usage["inputTokens"] + usage["outputTokens"] + usage["cacheWriteTokens"]

    def cost_usd(self) -> float:
        return sum((cost_usd(model, call_usage) for model, call_usage in self._calls.values()), 0.0)
