"""Connection lifecycle: record on $connect, clean up on $disconnect."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.identity import Identity
from cloutagent.services.ports import RoomStore, SocketPoster


class ConnectionService:
    def __init__(self, room_store: RoomStore, rooms: Any, limits: Any = None, sockets: SocketPoster | None = None):
        self.room_store = room_store
        self.rooms = rooms  # the room service: leaving rooms announces it
        self.limits = limits
        self.sockets = sockets  # the @connections port

    def connect(self, identity: Identity) -> None:
        if self.limits is not None:
            self.limits.check_connect(identity, self.room_store.count_connections(identity.tenant_id, identity.user_id))
        self.room_store.put_connection(identity, identity.connection_id)

    def close_all(self, tenant_id: str, user_id: str) -> int:
        """Close a principal's open connections, so a changed or revoked identity must re-authenticate."""
        closed = 0
        for connection_id in self.room_store.connection_ids(tenant_id, user_id):
            self.sockets.disconnect(connection_id)  # $disconnect then cleans up its rooms
            closed += 1
        return closed

    def disconnect(self, identity: Identity) -> None:
        joined = self.room_store.delete_connection(identity, identity.connection_id)
        if joined:
            self.rooms.leave_all(identity, joined)
