"""Deliver frames to every subscriber of a project, in parallel, each subscriber in order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cloutagent.observability import logger
from cloutagent.protocol.chunks import encode_frame, split_frame
from cloutagent.protocol.frames import MAX_OUTBOUND_FRAME_BYTES, events_frame
from cloutagent.services.ports import RoomStore, SocketPoster


def frame_texts(project_id: str, frames: list[dict[str, Any]]) -> list[str]:
    """What one batch of stored events is on the wire, the same for every subscriber: as few
    frames as fit the outbound cap, in order (an ``event`` frame, or ``events`` frames of
    consecutive events), and an event too big for a frame of its own in chunks. Packing instead of
    chunking a big batch keeps posts few: a chunk carries its slice as an escaped string."""
    return [text for text, _ in packed_frames(project_id, frames)]


def packed_frames(project_id: str, frames: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """``frame_texts``, each with the events it carries as the text between an ``events`` frame's
    brackets (so frames queued for one subscriber can be joined into one: ``EventPacker``); None
    for a chunk."""
    texts = [encode_frame(f) for f in frames]
    packer = EventPacker(project_id)
    out: list[tuple[str, str | None]] = []
    start, size = 0, 0
    for i, text in enumerate(texts):
        n = len(text.encode("utf-8")) + 1  # and its comma
        if i > start and size + n > packer.room:
            out += _frame_group(project_id, frames[start:i], texts[start:i], packer)
            start, size = i, 0
        size += n
    if frames:
        out += _frame_group(project_id, frames[start:], texts[start:], packer)
    return out


class EventPacker:
    """Events already encoded, put into one ``events`` frame of a project."""

    def __init__(self, project_id: str):
        self.prefix = encode_frame(events_frame(project_id, []))[:-2]  # '{"type":"events",...,"events":['
        self.room = MAX_OUTBOUND_FRAME_BYTES - len(self.prefix.encode("utf-8")) - len("]}")

    def frame(self, events: list[str]) -> str:
        """The same text as encode_frame(events_frame(...)) of those events."""
        return self.prefix + ",".join(events) + "]}"


def _frame_group(project_id: str, frames: list[dict[str, Any]], texts: list[str],
                 packer: EventPacker) -> list[tuple[str, str | None]]:
    if len(frames) > 1:
        return [(packer.frame(texts), ",".join(texts))]
    if len(texts[0].encode("utf-8")) <= MAX_OUTBOUND_FRAME_BYTES:
        return [(texts[0], texts[0])]  # one event, already encoded
    return [(chunk, None) for chunk in split_frame(frames[0], f"{project_id}:{frames[0].get('seq')}")]


class Fanout:
    def __init__(self, room_store: RoomStore, sockets: SocketPoster, pool: ThreadPoolExecutor):
        self.room_store = room_store
        self.sockets = sockets
        self.pool = pool

    def publish(self, tenant_id: str, project_id: str, frames: list[dict[str, Any]]) -> int:
        """Post frames (events) to the room; returns how many subscribers got them.

        Several events stored together travel as one ``events`` frame: one POST per subscriber
        per batch instead of per event, which is what keeps a fast agent's stream live (and
        API Gateway's per-message cost down)."""
        if not frames:
            return 0
        subscribers = self.room_store.subscribers(tenant_id, project_id)
        return self.send_texts(tenant_id, project_id, subscribers, frame_texts(project_id, frames))

    def send_texts(self, tenant_id: str, project_id: str, subscribers: list[str], texts: list[str]) -> int:
        if not subscribers:
            return 0
        results = list(self.pool.map(lambda cid: self._deliver(tenant_id, project_id, cid, texts), subscribers))
        return sum(results)

    def _deliver(self, tenant_id: str, project_id: str, connection_id: str, texts: list[str]) -> bool:
        try:
            for text in texts:
                if not self.sockets.post(connection_id, text):
                    # Gone: forget this subscription only; history still has every event.
                    self.room_store.drop_subscription(tenant_id, project_id, connection_id)
                    return False
            return True
        except Exception:
            # One failing subscriber must not stop the others; the event is already stored.
            logger.exception("post to connection failed", extra={"connection_id": connection_id})
            return False
