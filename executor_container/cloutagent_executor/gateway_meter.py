"""What the model gateway learns from the calls passing through it: usage, and when to stop.

The gateway reads each call's usage from the reply as it streams (``message_start`` and
``message_delta`` events, or a whole JSON reply), so a run's spend is known without trusting
what the CLI reports, and a call that would start past the run's budget is never sent upstream.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .limits import Limits
from .usage import UsageMeter

BUDGET_STOP_MODEL = "cloutagent-budget"


class CallUsage:
    """Reads one call's usage from its reply, chunk by chunk, into the run's meter."""

    def __init__(self, meter: UsageMeter, model: str | None) -> None:
        self._meter, self._model = meter, model
        self._key = f"gateway-{uuid.uuid4().hex}"
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                self._event(line[5:])

    def whole(self, body: bytes) -> None:
        """A non-streaming reply: its usage is in the one JSON body."""
        self._event(body)

    def _event(self, raw: bytes) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        usage = event.get("usage") or (event.get("message") or {}).get("usage")
        if isinstance(usage, dict):
            self._meter.record(self._key, self._model, usage)


def budget_stop(reason: str, stream: bool) -> tuple[bytes, str]:
    """The gateway's own answer once the budget is spent: a text that ends the turn, costing nothing."""
    text = f"This run's budget is spent ({reason}); no more model calls are made."
    message = {"id": f"msg_{uuid.uuid4().hex}", "type": "message", "role": "assistant", "model": BUDGET_STOP_MODEL,
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": 0, "output_tokens": 0}}
    if not stream:
        whole = {**message, "content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}
        return json.dumps(whole).encode(), "application/json"
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 0}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    return body.encode(), "text/event-stream"

