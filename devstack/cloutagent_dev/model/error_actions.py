"""Directives that end a turn badly, through mechanisms the real CLI has (docs/model-double.md)."""

from __future__ import annotations

from typing import Any

from .calls import Call, fixed
from .continuation import chain_tool
from .conversation import Conversation
from .directives import Directive
from .pricing import output_tokens_costing
from .reply import HttpError, Reply, Text, usage

# A loop that waits for the CLI to stop it (max turns, budget) still ends here if it never does.
_LOOP_CAP = 50


def error(directive: Directive, conversation: Conversation) -> list[Call]:
    """The turn ends in an error result of ``subtype``, each by its own real mechanism."""
    subtype = directive.text("subtype", "error_during_execution")
    if subtype == "error_max_turns":
        return [_loop_call(i) for i in range(1, _LOOP_CAP + 1)]
    if subtype == "error_max_budget_usd":
        per_call = usage(output_tokens_costing(conversation.model, directive.number("usd", 1.0)))
        return [_loop_call(i, per_call) for i in range(1, _LOOP_CAP + 1)]
    if subtype == "api_error":
        status = directive.integer("status", 400)
        message = directive.text("message", "Scripted API error")
        return [lambda c: Reply(error=HttpError(status, _error_type(status), _quoting(message, c)), terminal=True)]
    # An empty reply that stopped on a stop sequence: the CLI nudges the model once, gets the
    # same again, and ends the turn with error_during_execution ("[ede_diagnostic] ...").
    return [fixed(lambda: Reply([], usage(1), forced_stop_reason="stop_sequence", terminal=True))]


def _loop_call(index: int, spent: dict[str, Any] | None = None) -> Call:
    """One more step with a no-op tool call: the turn goes on until the CLI stops it."""
    return lambda c: Reply([Text(f"Working, step {index}."), chain_tool(c)], dict(spent or usage(20)))


def _error_type(status: int) -> str:
    return {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
            404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
            529: "overloaded_error"}.get(status, "api_error")


def _quoting(message: str, conversation: Conversation) -> str:
    """``{last_result}`` in the message quotes the last tool result, as a real API error may quote
    the request it refuses (so tests can check that secrets in error messages are masked)."""
    last = conversation.last_result
    return message.replace("{last_result}", last.text.strip() if last else "")
