"""The tenant connection cap on $connect: what each handshake reads and writes once a tenant has more
connections open than the lowest plan allows (a big team watching its runs)."""

from __future__ import annotations

import pytest

from cloutagent.domain.identity import Identity
from cloutagent.errors import LimitExceeded, SlotsFull
from cloutagent.services.connections import CAP_MEMORY_SECONDS, ConnectionService

FLOOR, TEAM_CAP = 20, 100


class Slots:
    """The tenant's slot map, as the transaction's condition sees it; every call recorded."""

    def __init__(self, taken: int, expired: int = 0):
        self.taken, self.expired = taken, expired
        self.calls: list[str] = []

    def count_connections(self, tenant_id, user_id):
        self.calls.append("count")
        return 1

    def put_connection(self, identity, connection_id, *, tenant_cap):
        self.calls.append(f"put<{tenant_cap}")
        if self.taken >= tenant_cap:
            raise SlotsFull()
        self.taken += 1

    def free_expired_slots(self, tenant_id):
        self.calls.append("free")
        freed, self.expired = self.expired, 0
        self.taken -= freed
        return freed


class Limits:
    def __init__(self, cap: int):
        self.cap = cap

    def check_connect(self, identity, count):
        pass

    def catalog_minimum(self, limit):
        return FLOOR

    def tenant_connection_cap(self, tenant_id):
        return self.cap

    def connection_cap_refusal(self, tenant_id):
        return LimitExceeded(f"The plan allows {self.cap} connections", {"allowed": self.cap})


def handshake(service: ConnectionService, n: int) -> None:
    service.connect(Identity(tenant_id="t_1", user_id=f"u_{n}", role="member", connection_id=f"c_{n}"))


def test_below_the_floor_a_handshake_is_one_count_and_one_transaction():
    slots = Slots(taken=5)
    handshake(ConnectionService(slots, rooms=None, limits=Limits(TEAM_CAP)), 1)
    assert slots.calls == ["count", f"put<{FLOOR}"]


def test_a_big_team_pays_for_its_plan_once_then_handshakes_cost_what_a_small_one_does():
    slots = Slots(taken=30)
    service = ConnectionService(slots, rooms=None, limits=Limits(TEAM_CAP))
    handshake(service, 1)
    assert slots.calls == ["count", f"put<{FLOOR}", f"put<{TEAM_CAP}"]
    slots.calls.clear()
    for n in range(2, 12):
        handshake(service, n)
    assert slots.calls == ["count", f"put<{TEAM_CAP}"] * 10 and slots.taken == 41


def test_the_remembered_cap_is_read_again_after_a_while(monkeypatch):
    slots = Slots(taken=30)
    service = ConnectionService(slots, rooms=None, limits=Limits(TEAM_CAP))
    clock = {"now": 1000.0}
    monkeypatch.setattr("cloutagent.services.connections.time.monotonic", lambda: clock["now"])
    handshake(service, 1)
    clock["now"] += CAP_MEMORY_SECONDS + 1
    slots.calls.clear()
    handshake(service, 2)
    assert slots.calls == ["count", f"put<{FLOOR}", f"put<{TEAM_CAP}"]


def test_a_full_tenant_frees_expired_slots_before_refusing():
    slots = Slots(taken=TEAM_CAP, expired=3)
    service = ConnectionService(slots, rooms=None, limits=Limits(TEAM_CAP))
    handshake(service, 1)
    assert slots.calls[-2:] == ["free", f"put<{TEAM_CAP}"] and slots.taken == TEAM_CAP - 3 + 1


def test_a_full_tenant_with_nothing_expired_is_refused_with_its_plans_cap():
    slots = Slots(taken=FLOOR)
    service = ConnectionService(slots, rooms=None, limits=Limits(FLOOR))
    with pytest.raises(LimitExceeded) as refused:
        handshake(service, 1)
    assert refused.value.details["allowed"] == FLOOR
    # the floor is the plan's cap: one transaction, no second try at the same cap
    assert slots.calls == ["count", f"put<{FLOOR}", "free"]


def test_a_warm_function_remembers_at_most_a_bounded_number_of_tenants(monkeypatch):
    monkeypatch.setattr("cloutagent.services.connections.CAP_MEMORY_TENANTS", 3)
    slots = Slots(taken=30)
    service = ConnectionService(slots, rooms=None, limits=Limits(TEAM_CAP))
    for n in range(10):
        service.connect(Identity(tenant_id=f"t_{n}", user_id="u_1", role="member", connection_id=f"c_{n}"))
        assert len(service._caps) <= 3
    slots.calls.clear()
    handshake_of_latest = Identity(tenant_id="t_9", user_id="u_2", role="member", connection_id="c_x")
    service.connect(handshake_of_latest)  # still remembered: no plan read, no failed transaction
    assert slots.calls == ["count", f"put<{TEAM_CAP}"]
