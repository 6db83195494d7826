"""Store events with their seq, then broadcast them: the only way events enter a project."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.models import Event
from cloutagent.protocol.frames import stored_event_frame
from cloutagent.services.fanout import Fanout
from cloutagent.services.ports import EventLog


class Publisher:
    def __init__(self, log: EventLog, fanout: Fanout):
        self.log = log
        self.fanout = fanout

    def publish(self, tenant_id: str, project_id: str, events: list[tuple[str, dict[str, Any]]], **options: Any) -> list[Event]:
        """Append (options: ``last_seq``, ``change`` — see the event log), then broadcast."""
        stored = self.log.append(tenant_id, project_id, events, **options)
        self.broadcast(tenant_id, project_id, stored)
        return stored

    def broadcast(self, tenant_id: str, project_id: str, events: list[Event]) -> None:
        self.fanout.publish(tenant_id, project_id, [stored_event_frame(e) for e in events])
