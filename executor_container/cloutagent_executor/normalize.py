"""SDK messages -> the JSON dicts carried as ``execution.message`` event data.

One dict per content block, so a client renders blocks as they arrive without knowing the
SDK's message classes. Shapes are documented in docs/model-double.md ("Normalized messages").
"""

from __future__ import annotations

from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    RateLimitEvent,
    ResultMessage,
    ServerToolResultBlock,
    ServerToolUseBlock,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

from .usage import to_wire_usage

# The init message carries the whole tool and command catalogue; clients need only these.
_INIT_FIELDS = {
    "session_id": "sessionId", "model": "model", "cwd": "cwd", "tools": "tools",
    "permissionMode": "permissionMode", "claude_code_version": "claudeCodeVersion",
}


def normalize(message: object) -> list[dict[str, Any]]:
    """The event data for one SDK message (empty for messages clients have no use for)."""
    if isinstance(message, AssistantMessage):
        return _assistant(message)
    if isinstance(message, UserMessage):
        return _user(message)
    if isinstance(message, SystemMessage):
        return [] if _is_request_status(message) else [_system(message)]
    if isinstance(message, ResultMessage):
        return [_result(message)]
    if isinstance(message, RateLimitEvent):
        info = message.rate_limit_info
        return [{"kind": "system", "subtype": "rate_limit", "status": info.status,
                 "resetsAt": info.resets_at, "rateLimitType": info.rate_limit_type}]
    if isinstance(message, StreamEvent):
        return []  # partial messages feed the usage meter only; whole blocks follow anyway
    return [{"kind": "system", "subtype": type(message).__name__}]


def block(content: object, role: str, parent: str | None = None) -> dict[str, Any]:
    """One content block as event data."""
    if isinstance(content, TextBlock):
        data: dict[str, Any] = {"kind": "text", "role": role, "text": content.text}
    elif isinstance(content, ThinkingBlock):
        data = {"kind": "thinking", "role": role, "thinking": content.thinking}
    elif isinstance(content, (ToolUseBlock, ServerToolUseBlock)):
        data = {"kind": "tool_use", "role": role, "toolUseId": content.id, "name": content.name,
                "input": content.input}
    elif isinstance(content, ToolResultBlock):
        data = {"kind": "tool_result", "role": role, "toolUseId": content.tool_use_id,
                "content": content.content, "isError": bool(content.is_error)}
    elif isinstance(content, ServerToolResultBlock):
        data = {"kind": "tool_result", "role": role, "toolUseId": content.tool_use_id,
                "content": content.content, "isError": False}
    else:  # a block type newer than this code: say so rather than guess its fields
        data = {"kind": "unsupported", "role": role, "type": type(content).__name__}
    if parent:
        data["parentToolUseId"] = parent  # the block belongs to a subagent's conversation
    return data


def _assistant(message: AssistantMessage) -> list[dict[str, Any]]:
    blocks = [block(content, "assistant", message.parent_tool_use_id) for content in message.content]
    if message.error:
        blocks.append({"kind": "system", "subtype": "api_error", "error": message.error})
    return blocks


def _user(message: UserMessage) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        return [{"kind": "text", "role": "user", "text": message.content}]
    return [block(content, "user", message.parent_tool_use_id) for content in message.content]


def _is_request_status(message: SystemMessage) -> bool:
    # With partial messages on (no gateway meters the run) the CLI announces every API request;
    # that is chatter, not agent output. Other statuses (compacting) still reach clients.
    return message.subtype == "status" and message.data.get("status") == "requesting"


def _system(message: SystemMessage) -> dict[str, Any]:
    if message.subtype == "init":
        picked = {wire: message.data.get(name) for name, wire in _INIT_FIELDS.items()}
        return {"kind": "system", "subtype": "init", **picked}
    data = {key: value for key, value in message.data.items() if key not in ("type", "subtype", "uuid")}
    return {"kind": "system", "subtype": message.subtype, "data": data}


def _result(message: ResultMessage) -> dict[str, Any]:
    return {
        "kind": "result", "subtype": message.subtype, "isError": message.is_error,
        "numTurns": message.num_turns, "durationMs": message.duration_ms,
        "costUsd": message.total_cost_usd, "usage": to_wire_usage(message.usage),
        "sessionId": message.session_id, "errors": list(message.errors or []),
    }
