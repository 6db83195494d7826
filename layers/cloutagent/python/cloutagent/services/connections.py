"""Connection lifecycle: record on $connect, clean up on $disconnect."""

from __future__ import annotations

import time
from typing import Any

from cloutagent.domain.identity import Identity
from cloutagent.errors import Unauthorized
from cloutagent.ids import now_iso
from cloutagent.errors import SlotsFull
from cloutagent.services.ports import RoomStore, SocketPoster


UNCAPPED = 1_000_000  # no license manager (unit tests): the item's own size bounds it
# How long a warm function keeps a tenant's connection cap once it read it: a downgrade lowers the
# cap within this time (the connections already open stay, as they would anyway).
CAP_MEMORY_SECONDS = 60.0
CAP_MEMORY_TENANTS = 1_000  # as the rate limiter's plan cache: a long-lived function's memory is bounded


class ConnectionService:
    def __init__(self, room_store: RoomStore, rooms: Any, limits: Any = None, sockets: SocketPoster | None = None,
                 api_keys: Any = None):
        self.room_store = room_store
        self.rooms = rooms  # the room service: leaving rooms announces it
        self.limits = limits
        self.sockets = sockets  # the @connections port
        self.api_keys = api_keys  # an AccessStore: a key's own item, read again once its connection is recorded
        self._caps: dict[str, tuple[float, int]] = {}  # tenant → (remembered until, its plan's cap)

    def connect(self, identity: Identity) -> None:
        if identity.invitee:
            return  # no tenant to record it in: it joins no room and is told of nothing
        if self.limits is None:
            self.room_store.put_connection(identity, identity.connection_id, tenant_cap=UNCAPPED)
            return
        tenant_id = identity.tenant_id
        self.limits.check_connect(identity, self.room_store.count_connections(tenant_id, identity.user_id))
        # Within what every plan allows no plan can refuse, so the tenant is read only once its slots
        # pass that; then this warm function remembers its cap a while (a big team's every handshake
        # would otherwise read its plan, and fail one transaction first).
        known = self._caps.get(tenant_id)
        cap = known[1] if known and known[0] > time.monotonic() else self.limits.catalog_minimum("connections_per_tenant")
        if self._try_put(identity, cap):
            return
        plan_cap = self.limits.tenant_connection_cap(tenant_id)
        self._remember_cap(tenant_id, plan_cap)
        if plan_cap > cap and self._try_put(identity, plan_cap):
            return
        if self.room_store.free_expired_slots(tenant_id) and self._try_put(identity, plan_cap):
            return
        raise self.limits.connection_cap_refusal(tenant_id)

    def _remember_cap(self, tenant_id: str, cap: int) -> None:
        if len(self._caps) >= CAP_MEMORY_TENANTS and tenant_id not in self._caps:
            self._caps.clear()  # a warm function that saw this many big tenants starts over
        self._caps[tenant_id] = (time.monotonic() + CAP_MEMORY_SECONDS, cap)

    def _try_put(self, identity: Identity, cap: int) -> bool:
        try:
            self.room_store.put_connection(identity, identity.connection_id, tenant_cap=cap)
            return True
        except SlotsFull:
            return False

    def admit(self, identity: Identity) -> None:
        """$connect: record the connection; for an API key, then read its item again.

        A handshake the authorizer passed just before a revocation could otherwise record its
        connection just after the revocation's close_all listed the key's connections, and stay
        open. Revocation writes revokedAt, then lists (strongly consistent); this writes the
        record, then reads revokedAt (strongly consistent): one of the two sees the other."""
        self.connect(identity)
        if identity.auth_type != "apikey" or self.api_keys is None:
            return
        key = self.api_keys.get_api_key(identity.tenant_id, identity.user_id.removeprefix("apikey:"))
        refused = "revoked" if key is None else key.refused_at(now_iso())
        if refused:
            self.room_store.delete_connection(identity, identity.connection_id)
            raise Unauthorized(f"API key {refused}")

    def close_all(self, tenant_id: str, user_id: str) -> int:
        """Close a principal's open connections, so a changed or revoked identity must re-authenticate."""
        closed = 0
        for connection_id in self.room_store.connection_ids(tenant_id, user_id):
            self.sockets.disconnect(connection_id)  # $disconnect then cleans up its rooms
            closed += 1
        return closed

    def disconnect(self, identity: Identity) -> None:
        if identity.invitee:
            return  # never recorded (connect)
        joined = self.room_store.delete_connection(identity, identity.connection_id)
        if joined:
            self.rooms.leave_all(identity, joined)
