"""The glue between scripted calls: a no-op tool call to keep the CLI asking, and a closing text."""

from __future__ import annotations

from .conversation import Conversation
from .reply import Reply, Text, ToolUse, usage


def closing_call(conversation: Conversation) -> Reply:
    """The last word after a tool call: echo what the tool returned."""
    result = conversation.last_result
    if result is None:
        return Reply([Text("Done.")], usage(4))
    verdict = "failed" if result.is_error else "returned"
    return Reply([Text(f"Done. The last tool call {verdict}:\n{_clip(result.text)}")], usage(30))


def chain_tool(conversation: Conversation) -> ToolUse:
    """A tool call with no effect, so the CLI makes the next API call.

    ``Bash true`` is a read-only command every permission mode allows; without Bash, a call to
    a tool that does not exist still comes back (as an error result) and continues the turn.
    """
    if "Bash" in conversation.tools:
        return ToolUse("Bash", {"command": "true", "description": "Continue"})
    return ToolUse("ScriptedModelContinue", {})


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
