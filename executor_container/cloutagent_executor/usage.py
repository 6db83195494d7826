"""Usage of a run so far, added up from the assistant messages as they stream in."""

from __future__ import annotations

from typing import Any, Mapping

from claude_agent_sdk import AssistantMessage, StreamEvent

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
    """Per-API-call usage, keyed by message id, as the calls stream.

    The CLI writes one assistant message per content block, each carrying the usage the API
    reported when the call *started* (``message_start``: the real API counts about one output
    token there). The call's output tokens arrive with its ``message_delta`` stream event, so
    the meter reads the partial-message stream too and keeps, per call, the largest count of
    each kind it has seen: a budget check sees output while it is being written.
    """

    def __init__(self) -> None:
        self._calls: dict[str, tuple[str | None, dict[str, Any]]] = {}
        self._streaming: dict[str | None, str] = {}  # the call each (sub)agent is streaming now

    def observe(self, message: object) -> None:
        if isinstance(message, StreamEvent):
            self._observe_stream(message)
        elif isinstance(message, AssistantMessage) and message.usage:
            key = message.message_id or message.uuid or f"call-{len(self._calls)}"
            self.record(key, message.model, message.usage)

    def _observe_stream(self, message: StreamEvent) -> None:
        event = message.event
        if event.get("type") == "message_start":
            started = event.get("message") or {}
            key = started.get("id") or message.uuid
            self._streaming[message.parent_tool_use_id] = key
            self.record(key, started.get("model"), started.get("usage") or {})
        elif event.get("type") == "message_delta" and message.parent_tool_use_id in self._streaming:
            key = self._streaming[message.parent_tool_use_id]
            self.record(key, None, event.get("usage") or {})

    def record(self, key: str, model: str | None, usage: Mapping[str, Any]) -> None:
        """What one API call (``key``) has used so far; counts only ever grow."""
        known_model, known = self._calls.get(key, (None, {}))
        merged = dict(known)
        for name, value in usage.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[name] = max(value, known.get(name, 0) if isinstance(known.get(name), (int, float)) else 0)
            elif name not in merged:
                merged[name] = value
        self._calls[key] = (model or known_model, merged)

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
