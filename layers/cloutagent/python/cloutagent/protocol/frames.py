"""Frame envelopes: what a client sends, and the three kinds of frame it receives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cloutagent.domain.models import Event

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
