"""Frame envelopes: what a client sends, and the three kinds of frame it receives."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cloutagent.domain.models import Event
from cloutagent.errors import BadRequest

PROTOCOL_VERSION = 1
MAX_INBOUND_FRAME_BYTES = 128 * 1024  # API Gateway's WebSocket frame cap
MAX_OUTBOUND_FRAME_BYTES = 32 * 1024  # our own cap: bigger frames are chunked
MAX_ACTION_CHARS = 64
MAX_REQUEST_ID_CHARS = 64


class ClientFrame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str = Field(min_length=1, max_length=MAX_ACTION_CHARS)
    requestId: str | None = Field(default=None, max_length=MAX_REQUEST_ID_CHARS)
    data: dict[str, Any] = Field(default_factory=dict)


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """``text`` as a JSON object, or BadRequest naming ``what`` it is (a frame, a REST body)."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"{what} must be valid JSON") from exc
    if not isinstance(raw, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return raw


def response_frame(action: str, request_id: str | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response", "requestId": request_id, "action": action, "data": data}


def error_frame(
    action: str | None, request_id: str | None, code: str, message: str, details: dict | None = None
) -> dict[str, Any]:
    return {
        "type": "error",
        "requestId": request_id,
        "action": action,
        "error": {"code": code, "message": message, "details": details or {}},
    }


def event_frame(event: str, project_id: str, seq: int, ts: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "event": event, "projectId": project_id, "seq": seq, "ts": ts, "data": data}


def stored_event_frame(event: Event) -> dict[str, Any]:
    """A project event as clients receive it, live or replayed."""
    return event_frame(event.event, event.project_id, event.seq, event.ts, event.data)


def events_frame(project_id: str, frames: list[dict[str, Any]]) -> dict[str, Any]:
    """Several events stored together, delivered as one frame (one POST per subscriber)."""
    return {"type": "events", "projectId": project_id, "events": frames}


def notice_frame(event: str, ts: str, data: dict[str, Any]) -> dict[str, Any]:
    """A tenant-level notice: not stored, so no ``projectId`` and no ``seq``."""
    return {"type": "event", "event": event, "ts": ts, "data": data}
