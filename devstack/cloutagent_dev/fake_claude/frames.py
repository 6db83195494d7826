"""The stream-json frames the fake ``claude`` writes, shaped like the real CLI's."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

CLAUDE_CODE_VERSION = "2.1.329"  # the CLI bundled with claude-agent-sdk 0.2.186
DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
DEFAULT_TOOLS = [
    "Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "NotebookEdit", "WebFetch",
    "TodoWrite", "WebSearch", "BashOutput", "KillShell", "Skill", "SlashCommand",
]
SLASH_COMMANDS = ["compact", "context", "cost", "init", "review", "security-review"]
USAGE_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")


def new_uuid() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def init_frame(session: Any) -> dict:
    return {
        "type": "system", "subtype": "init", "cwd": session.cwd, "session_id": session.session_id,
        "tools": session.tools, "mcp_servers": [], "model": session.model,
        "permissionMode": session.permission_mode, "slash_commands": SLASH_COMMANDS,
        "apiKeySource": session.api_key_source, "claude_code_version": CLAUDE_CODE_VERSION,
        "output_style": "default", "agents": ["general-purpose"], "skills": [], "plugins": [],
        "capabilities": ["interrupt_receipt_v1"], "uuid": new_uuid(),
    }


def assistant_frame(session: Any, message_id: str, block: dict, usage: dict) -> dict:
    # The CLI writes one frame per content block; blocks of one API call share id and usage.
    message = {
        "model": session.model, "id": message_id, "type": "message", "role": "assistant",
        "content": [block], "stop_reason": None, "stop_sequence": None, "usage": usage,
    }
    return {"type": "assistant", "message": message, "parent_tool_use_id": None,
            "session_id": session.session_id, "uuid": new_uuid()}


def user_frame(session: Any, content: Any, tool_use_result: Any = None) -> dict:
    frame = {"type": "user", "message": {"role": "user", "content": content},
             "parent_tool_use_id": None, "session_id": session.session_id, "uuid": new_uuid()}
    if tool_use_result is not None:
        frame["tool_use_result"] = tool_use_result
    return frame


def tool_result_block(tool_use_id: str, output: str, is_error: bool) -> dict:
    return {"tool_use_id": tool_use_id, "type": "tool_result", "content": output, "is_error": is_error}


def result_frame(session: Any, ending: Any, tally: Any, duration_ms: int) -> dict:
    frame = {
        "type": "result", "subtype": ending.subtype, "is_error": ending.is_error,
        "duration_ms": duration_ms, "duration_api_ms": max(0, duration_ms - 5),
        "num_turns": tally.api_calls, "result": tally.last_text if not ending.is_error else "",
        "stop_reason": "end_turn" if not ending.is_error else None,
        "session_id": session.session_id, "total_cost_usd": tally.cost_usd,
        "usage": {**tally.usage, "server_tool_use": {"web_search_requests": 0},
                  "service_tier": "standard"},
        "modelUsage": {session.model: _model_usage(tally)}, "permission_denials": [],
        "terminal_reason": ending.terminal_reason, "uuid": new_uuid(),
    }
    if ending.is_error:
        frame["errors"] = ending.errors
    return frame


def _model_usage(tally: Any) -> dict:
    return {
        "inputTokens": tally.usage["input_tokens"], "outputTokens": tally.usage["output_tokens"],
        "cacheReadInputTokens": tally.usage["cache_read_input_tokens"],
        "cacheCreationInputTokens": tally.usage["cache_creation_input_tokens"],
        "webSearchRequests": 0, "costUSD": tally.cost_usd, "contextWindow": 200_000,
        "maxOutputTokens": 32_000,
    }


def session_state_frame(session: Any, state: str) -> dict:
    # Only sent because the SDK set CLAUDE_CODE_SDK_READS_SESSION_STATE; the SDK drops it.
    return {"type": "system", "subtype": "session_state_changed", "state": state,
            "sdk_host_only": True, "session_id": session.session_id, "uuid": new_uuid()}


def control_success(request_id: str, response: dict) -> dict:
    return {"type": "control_response",
            "response": {"subtype": "success", "request_id": request_id, "response": response}}


def control_error(request_id: str, error: str) -> dict:
    return {"type": "control_response",
            "response": {"subtype": "error", "request_id": request_id, "error": error}}


def transcript_entry(session: Any, frame: dict, parent_uuid: str | None) -> dict:
    """One line of the session's JSONL transcript, as mirrored with --session-mirror."""
    return {
        "parentUuid": parent_uuid, "isSidechain": False, "userType": "external",
        "cwd": session.cwd, "sessionId": session.session_id, "version": CLAUDE_CODE_VERSION,
        "gitBranch": "", "type": frame["type"], "message": frame["message"],
        "uuid": frame["uuid"], "timestamp": now_iso(),
    }
