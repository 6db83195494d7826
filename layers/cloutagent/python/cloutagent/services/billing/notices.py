"""Tenant-level notices (``usage.threshold``, ``billing.notice``): pushed to the tenant's open
connections, not stored, so unlike project events they carry no ``projectId`` and no ``seq``."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from cloutagent.domain.identity import Role
from cloutagent.ids import now_iso
from cloutagent.observability import logger
from cloutagent.protocol.chunks import encode_frame
from cloutagent.protocol.frames import notice_frame
from cloutagent.services.ports import RoomStore, SocketPoster


class TenantNotifier:
    def __init__(self, room_store: RoomStore, sockets: SocketPoster, pool: Executor):
        self.room_store = room_store
        self.sockets = sockets
        self.pool = pool

    def notify(self, tenant_id: str, event: str, data: dict[str, Any], *, min_role: Role = Role.viewer) -> int:
        """Best effort: a notice is a nudge, and the state behind it can always be read (plan.get, usage.get)."""
        text = encode_frame(notice_frame(event, now_iso(), data))
        targets = [cid for cid, role in self.room_store.tenant_connections(tenant_id) if Role.parse(role) >= min_role]
        return sum(self.pool.map(lambda cid: self._post(cid, text), targets))

    def _post(self, connection_id: str, text: str) -> bool:
        try:
            return bool(self.sockets.post(connection_id, text))
        except Exception:
            logger.exception("notice to connection failed", extra={"connection_id": connection_id})
            return False
