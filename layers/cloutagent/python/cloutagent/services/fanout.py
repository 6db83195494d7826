"""Deliver frames to every subscriber of a project, in parallel, each subscriber in order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from cloutagent.observability import logger
from cloutagent.protocol.chunks import split_frame


class ConnectionsPort(Protocol):
    def post(self, connection_id: str, text: str) -> bool: ...


class SubscriptionsPort(Protocol):
    def subscribers(self, tenant_id: str, project_id: str) -> list[str]: ...
    def drop_subscription(self, tenant_id: str, project_id: str, connection_id: str) -> None: ...


class Fanout:
    def __init__(self, rooms: SubscriptionsPort, connections: ConnectionsPort, pool: ThreadPoolExecutor):
        self.rooms = rooms
        self.connections = connections
        self.pool = pool

    def publish(self, tenant_id: str, project_id: str, frames: list[dict[str, Any]]) -> int:
        """Post frames (events) to the room; returns how many subscribers got them.

        Several events stored together travel as one ``events`` frame: one POST per subscriber
        per batch instead of per event, which is what keeps a fast agent's stream live (and
        API Gateway's per-message cost down)."""
        if not frames:
            return 0
        subscribers = self.rooms.subscribers(tenant_id, project_id)
        if len(frames) == 1:
            frame, chunk_id = frames[0], f"{project_id}:{frames[0].get('seq')}"
        else:
            frame = {"type": "events", "projectId": project_id, "events": frames}
            chunk_id = f"{project_id}:{frames[0].get('seq')}-{frames[-1].get('seq')}"
        return self.send_texts(tenant_id, project_id, subscribers, split_frame(frame, chunk_id))

    def send_texts(self, tenant_id: str, project_id: str, subscribers: list[str], texts: list[str]) -> int:
        if not subscribers:
            return 0
        results = list(self.pool.map(lambda cid: self._deliver(tenant_id, project_id, cid, texts), subscribers))
        return sum(results)

    def _deliver(self, tenant_id: str, project_id: str, connection_id: str, texts: list[str]) -> bool:
        try:
            for text in texts:
                if not self.connections.post(connection_id, text):
                    # Gone: forget this subscription only; history still has every event.
                    self.rooms.drop_subscription(tenant_id, project_id, connection_id)
                    return False
            return True
        except Exception:
            # One failing subscriber must not stop the others; the event is already stored.
            logger.exception("post to connection failed", extra={"connection_id": connection_id})
            return False
