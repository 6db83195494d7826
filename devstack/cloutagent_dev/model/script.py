"""Decide a request's answer: the prompt's directives become a list of calls; progress picks one.

Nothing is remembered between requests. The prompt is re-read and the plan rebuilt each time;
how many replies the conversation already holds after the prompt says which call this is.
"""

from __future__ import annotations

from typing import Any

from .actions import ACTIONS, Call, default_reply
from .continuation import chain_tool, closing_call
from .conversation import Conversation, read_conversation
from .directives import parse_directives
from .reply import Reply, Text, ToolUse, usage

# Below this many output tokens a request is one of the CLI's own probes, not the agent loop
# (e.g. the "Hi" with max_tokens=1 it sends to check a model after set_model).
SIDE_CALL_MAX_TOKENS = 32


def answer(body: dict[str, Any]) -> Reply:
    """The reply to one Messages API request."""
    if is_side_call(body):
        # Nearly free, and never a tool call: the prompt's script is for the agent loop only.
        return Reply([Text("OK")], usage(1, input_tokens=1))
    conversation = read_conversation(body)
    plan = build_plan(conversation)
    index = conversation.calls_answered
    if index < len(plan):
        return plan[index](conversation)
    # Past the plan (the CLI asked again, e.g. after a hook): finish politely.
    return Reply([Text("Nothing more to do.")], usage(6))


def is_side_call(body: dict[str, Any]) -> bool:
    """A tiny max_tokens means the CLI is probing (a model check), not running the agent loop."""
    max_tokens = body.get("max_tokens")
    return isinstance(max_tokens, int) and max_tokens < SIDE_CALL_MAX_TOKENS


def build_plan(conversation: Conversation) -> list[Call]:
    """Every call of the current prompt, in order, chained so the CLI keeps asking until the end."""
    calls: list[Call] = []
    for directive in parse_directives(conversation.prompt):
        action = ACTIONS.get(directive.name)
        if action is not None:
            calls.extend(action(directive, conversation))
    if not calls:
        return default_reply(conversation)
    return _chained(calls)


def _chained(calls: list[Call]) -> list[Call]:
    """Make every call but the last end in a tool call, and let a trailing tool call be answered.

    The CLI only asks the model again after a tool_use, so a text-only call in the middle gets
    a harmless tool call appended; a plan ending on a tool call gets a closing text.
    """
    chained = [_with_chain_tool(call) for call in calls[:-1]] + [calls[-1]]
    chained.append(closing_call)
    return chained


def _with_chain_tool(call: Call) -> Call:
    def chained(conversation: Conversation) -> Reply:
        reply = call(conversation)
        if not reply.terminal and not any(isinstance(b, ToolUse) for b in reply.blocks):
            reply.blocks.append(chain_tool(conversation))
        return reply
    return chained


__all__ = ["answer", "build_plan", "is_side_call"]
