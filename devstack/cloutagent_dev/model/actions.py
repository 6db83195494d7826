"""Which directive does what (see docs/model-double.md), and the reply when there is none."""

from __future__ import annotations

from .calls import Action, Call, fixed
from .conversation import Conversation
from .error_actions import error
from .reply import Reply, Text, ToolUse, usage
from .text_actions import big, cost, fixed_usage, say, sleep, stream, tokens
from .tool_actions import bash, crash, env, tool, write

ACTIONS: dict[str, Action] = {
    "say": say, "stream": stream, "tokens": tokens, "cost": cost, "usage": fixed_usage, "big": big, "sleep": sleep,
    "env": env, "bash": bash, "write": write, "tool": tool, "crash": crash, "error": error,
}


def default_reply(conversation: Conversation) -> list[Call]:
    """No directive: a short text, one listing tool call, and a closing text after its result."""
    opening = "I'll take a look at the project first."
    if conversation.earlier_messages:
        opening = f"Resumed session with {conversation.earlier_messages} earlier transcript entries. " + opening
    listing = _listing_tool(conversation)
    if listing is None:
        closing = "I can't look at the files from here. What should I do next?"
        return [fixed(lambda: Reply([Text(f"{opening} {closing}")], usage(60, cache_write=1200, cache_read=11_000)))]
    first = Reply([Text(opening), listing], usage(85, cache_write=1200, cache_read=11_000))
    closing = "Those are the files in the working directory. What should I do next?"
    return [fixed(lambda: first),
            fixed(lambda: Reply([Text(closing)], usage(40, input_tokens=6, cache_write=240, cache_read=12_200)))]


def _listing_tool(conversation: Conversation) -> ToolUse | None:
    if "Bash" in conversation.tools:
        return ToolUse("Bash", {"command": "ls", "description": "List files"})
    if "Glob" in conversation.tools:
        return ToolUse("Glob", {"pattern": "*"})
    return None


__all__ = ["ACTIONS", "Action", "Call", "default_reply"]
