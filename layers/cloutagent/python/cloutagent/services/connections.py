"""Connection lifecycle: record on $connect, clean up on $disconnect."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.identity import Identity


class ConnectionService:
    def __init__(self, rooms_store: Any, room_service: Any, limits: Any = None):
        self.store = rooms_store
        self.rooms = room_service
        self.limits = limits

    def connect(self, identity: Identity) -> None:
        if self.limits is not None:
            self.limits.check_connect(identity, self.store.count_connections(identity.tenant_id, identity.user_id))
        self.store.put_connection(identity, identity.connection_id)

    def disconnect(self, identity: Identity) -> None:
        joined = self.store.delete_connection(identity, identity.connection_id)
        if joined:
            self.rooms.leave_all(identity, joined)
