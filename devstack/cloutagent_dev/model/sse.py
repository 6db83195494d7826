"""Encode a scripted reply as the Messages API does: server-sent events, or one JSON message."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable

from .reply import Reply, Text, ToolUse, new_id

# Real responses arrive in many small deltas; big texts are cut so no single event is huge.
TEXT_DELTA_CHARS = 4096
# During a pause a ping goes out this often, as the API keeps idle streams alive; a write to a
# client that went away fails, which ends the pause early.
PING_INTERVAL_S = 1.0

Write = Callable[[bytes], Awaitable[None]]


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def stamped(block: Text) -> str:
    # The time is taken as the block is written, so relay latency can be measured from it.
    return f"{block.text} written_at={time.time():.6f}" if block.stamp else block.text


def message_json(reply: Reply, model: str, message_id: str | None = None) -> dict[str, Any]:
    """The non-streaming response body (pauses still happen, before it is sent)."""
    return {
        "id": message_id or new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [_block_json(block) for block in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": dict(reply.usage),
    }


def _block_json(block: Text | ToolUse) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": stamped(block)}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


async def stream_reply(reply: Reply, model: str, write: Write) -> None:
    """Write the reply as SSE, pausing where the script says; a closed client raises out of write."""
    start = message_json(reply, model)
    start["content"], start["stop_reason"] = [], None
    # The CLI copies message_start's usage onto every assistant message it emits per block (and
    # never updates it), so by default the whole call's usage goes here, where the real API
    # sends the input counts and ~1 output token; message_delta carries the total either way.
    if reply.start_output_tokens is not None:
        start["usage"]["output_tokens"] = reply.start_output_tokens
    await write(event("message_start", {"type": "message_start", "message": start}))
    await write(event("ping", {"type": "ping"}))
    # A fixed schedule: each block is due its pause after the previous one was due, however long
    # the writes took, so `delay_ms` offers a fixed rate instead of drifting slower under load.
    due = time.monotonic()
    for index, block in enumerate(reply.blocks):
        due += block.pause_s
        await pause_until(due, write)
        await _write_block(index, block, write)
    await write(_message_delta(reply.usage, reply.stop_reason))
    await write(event("message_stop", {"type": "message_stop"}))


async def pause(seconds: float, write: Write) -> None:
    """Wait without blocking the loop, pinging the client so a dropped connection shows."""
    await pause_until(time.monotonic() + seconds, write)


async def pause_until(deadline: float, write: Write) -> None:
    """`pause` until a ``time.monotonic()`` deadline (at once when it has passed)."""
    while (remaining := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(remaining, PING_INTERVAL_S))
        if deadline - time.monotonic() > 0:
            await write(event("ping", {"type": "ping"}))


async def _write_block(index: int, block: Text | ToolUse, write: Write) -> None:
    if isinstance(block, Text):
        await write(event("content_block_start", {
            "type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
        text = stamped(block)
        for offset in range(0, max(len(text), 1), TEXT_DELTA_CHARS):
            delta = {"type": "text_delta", "text": text[offset:offset + TEXT_DELTA_CHARS]}
            await write(event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
    else:
        await write(event("content_block_start", {
            "type": "content_block_start", "index": index,
            "content_block": {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}}))
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block.input)}
        await write(event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
    await write(event("content_block_stop", {"type": "content_block_stop", "index": index}))


def _message_delta(usage: dict[str, Any], stop_reason: str | None) -> bytes:
    return event("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {key: value for key, value in usage.items() if key != "service_tier"},
    })
