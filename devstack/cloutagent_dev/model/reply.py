"""What one scripted API call answers: content blocks, usage, pauses, or an HTTP error."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

_ID_CHARS = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An id shaped like the API's (``msg_…``, ``toolu_…``); random so transcripts never collide."""
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(24))


def usage(output_tokens: int, *, input_tokens: int = 3, cache_write: int = 0,
          cache_read: int = 0) -> dict[str, Any]:
    """Usage in the Messages API's field names."""
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


@dataclass
class Text:
    """A text block; ``pause_s`` is waited before it is written, ``stamp`` appends the write time."""

    text: str
    pause_s: float = 0.0
    stamp: bool = False


@dataclass
class ToolUse:
    """A tool_use block the CLI will really execute."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("toolu_"))
    pause_s: float = 0.0


Block = Text | ToolUse


@dataclass
class HttpError:
    """An API error answer instead of a message (the CLI's handling depends on the status)."""

    status: int
    error_type: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}


@dataclass
class Reply:
    """One API call's answer. ``usage`` is the call's total, reported on the first event already."""

    blocks: list[Block] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=lambda: usage(10))
    error: HttpError | None = None
    # Overrides the stop reason the blocks imply (an empty "stop_sequence" reply fails the turn).
    forced_stop_reason: str | None = None
    # Ends the turn on purpose (error, crash): never gets a continuation tool call appended.
    terminal: bool = False
    # Output tokens reported on message_start; None reports the whole call's usage there.
    # The real API sends ~1 there and the total only on message_delta.
    start_output_tokens: int | None = None

    @property
    def stop_reason(self) -> str:
        if self.forced_stop_reason:
            return self.forced_stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.blocks) else "end_turn"
