"""The fake ``claude``'s side of the SDK control protocol, and how a turn learns it must stop."""

from __future__ import annotations

import threading
from typing import Callable

from .frames import DEFAULT_MODEL, SLASH_COMMANDS, control_error, control_success
from .session import FakeSession


class TurnControl:
    """Tells the running turn about interrupts, from the stdin reader thread.

    An interrupt applies to the turn that is running or, if none is, to the next one already
    received: the SDK may send ``interrupt`` right behind the prompt, before the turn starts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._received = 0
        self._finished = 0
        self._interrupted = False

    def user_message_arrived(self) -> None:
        with self._lock:
            self._received += 1

    def interrupt(self) -> None:
        with self._lock:
            if self._received > self._finished:
                self._interrupted = True
                self._wake.set()

    def finish_turn(self) -> None:
        with self._lock:
            self._finished += 1
            self._interrupted = False
            self._wake.clear()

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def pause(self, seconds: float) -> None:
        """Wait, cut short by an interrupt (not by end of input: queued turns still finish)."""
        if seconds > 0:
            self._wake.wait(seconds)


def answer(frame: dict, session: FakeSession, control: TurnControl) -> dict:
    """The control_response for one control_request the SDK sent."""
    request_id, request = frame.get("request_id", ""), frame.get("request") or {}
    handler = _HANDLERS.get(request.get("subtype"))
    if handler is None:
        return control_error(request_id, f"Unsupported control request subtype: {request.get('subtype')}")
    try:
        return control_success(request_id, handler(request, session, control))
    except LookupError as missing:
        return control_error(request_id, str(missing.args[0]))


def _initialize(request: dict, session: FakeSession, control: TurnControl) -> dict:
    # Hooks, agents and skills sent here are accepted but never called back.
    return {
        "commands": [{"name": name, "description": "", "argumentHint": ""} for name in SLASH_COMMANDS],
        "output_style": "default", "available_output_styles": ["default", "Explanatory", "Learning"],
        "models": [{"value": "default", "displayName": "Default", "description": DEFAULT_MODEL}],
        "account": {"apiKeySource": session.api_key_source}, "hook_on_failure_supported": True,
    }


def _interrupt(request: dict, session: FakeSession, control: TurnControl) -> dict:
    control.interrupt()
    return {"still_queued": []}


def _set_permission_mode(request: dict, session: FakeSession, control: TurnControl) -> dict:
    session.permission_mode = request.get("mode") or "default"
    return {}


def _set_model(request: dict, session: FakeSession, control: TurnControl) -> dict:
    session.model = request.get("model") or DEFAULT_MODEL
    return {}


def _mcp_status(request: dict, session: FakeSession, control: TurnControl) -> dict:
    return {"mcpServers": []}


def _context_usage(request: dict, session: FakeSession, control: TurnControl) -> dict:
    return {"categories": [], "totalTokens": 0, "maxTokens": 200_000, "percentage": 0,
            "model": session.model, "mcpTools": [], "memoryFiles": [], "agents": []}


def _no_mcp_server(request: dict, session: FakeSession, control: TurnControl) -> dict:
    raise LookupError(f"MCP server not found: {request.get('serverName')}")


def _no_task(request: dict, session: FakeSession, control: TurnControl) -> dict:
    raise LookupError(f"No task found with ID: {request.get('task_id')}")


def _no_checkpoints(request: dict, session: FakeSession, control: TurnControl) -> dict:
    raise LookupError("File checkpointing is not enabled for this session")


_HANDLERS: dict[str, Callable[[dict, FakeSession, TurnControl], dict]] = {
    "initialize": _initialize, "interrupt": _interrupt,
    "set_permission_mode": _set_permission_mode, "set_model": _set_model,
    "mcp_status": _mcp_status, "get_context_usage": _context_usage,
    "mcp_reconnect": _no_mcp_server, "mcp_toggle": _no_mcp_server,
    "stop_task": _no_task, "rewind_files": _no_checkpoints,
}
