"""Tenant-level notices (``usage.threshold``, ``billing.notice``): pushed to the tenant's open
connections, not stored, so unlike project events they carry no ``projectId`` and no ``seq``."""

from __future__ import annotations

import json
from concurrent.futures import Executor
from typing import Any, Protocol

from cloutagent.domain.identity import Role
from cloutagent.ids import now_iso
from cloutagent.observability import logger


class TenantConnectionsPort(Protocol):
    def tenant_connections(self, tenant_id: str) -> list[tuple[str, str]]: ...


class TenantNotifier:
    def __init__(self, rooms: TenantConnectionsPort, connections: Any, pool: Executor):
        self.rooms = rooms
        self.connections = connections
        self.pool = pool

    def notify(self, tenant_id: str, event: str, data: dict[str, Any], *, min_role: Role = Role.viewer) -> int:
        """Best effort: a notice is a nudge, and the state behind it can always be read (plan.get, usage.get)."""
        frame = {"type": "event", "event": event, "ts": now_iso(), "data": data}
        text = json.dumps(frame, separators=(",", ":"))
        targets = [cid for cid, role in self.rooms.tenant_connections(tenant_id) if Role.parse(role) >= min_role]
        return sum(self.pool.map(lambda cid: self._post(cid, text), targets))

    def _post(self, connection_id: str, text: str) -> bool:
        try:
            return bool(self.connections.post(connection_id, text))
        except Exception:
            logger.exception("notice to connection failed", extra={"connection_id": connection_id})
            return False
