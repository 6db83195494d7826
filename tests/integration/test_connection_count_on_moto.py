"""The tenant's connection cap on moto over HTTP: a counter item taken in the same transaction as
each connection's record, counted again from the records when full."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from cloutagent.adapters.dynamo import keys
from cloutagent.domain.identity import Identity, Role
from cloutagent.errors import SlotsFull


def _tenant() -> str:
    return f"t_count{uuid.uuid4().hex[:10]}"


def _identity(tenant: str, n: int) -> Identity:
    return Identity(tenant_id=tenant, user_id=f"u{n % 3}", role=Role.member, connection_id=f"c{n}")


def _count(aws, tenant: str) -> int:
    return int((aws.table.get(keys.tenant_pk(tenant), keys.CONNECTION_SLOTS_SK) or {}).get("count", 0))


def _put(aws, tenant: str, n: int, cap: int) -> bool:
    try:
        aws.room_store.put_connection(_identity(tenant, n), f"c{n}", tenant_cap=cap)
        return True
    except SlotsFull:
        return False


def test_parallel_handshakes_never_pass_the_cap_and_the_count_item_stays_small(aws):
    tenant = _tenant()
    with ThreadPoolExecutor(8) as pool:
        admitted = list(pool.map(lambda n: _put(aws, tenant, n, 10), range(16)))
    assert admitted.count(True) == 10 and _count(aws, tenant) == 10
    item = aws.table.get(keys.tenant_pk(tenant), keys.CONNECTION_SLOTS_SK)
    assert set(item) == {"PK", "SK", "count"}  # a few bytes, however many are open


def test_a_disconnect_gives_its_place_back_once(aws):
    tenant = _tenant()
    for n in range(3):
        assert _put(aws, tenant, n, 10)
    aws.room_store.delete_connection(_identity(tenant, 1), "c1")
    aws.room_store.delete_connection(_identity(tenant, 1), "c1")  # a retried $disconnect
    assert _count(aws, tenant) == 2


def test_a_full_tenant_counts_again_without_expired_connections_and_a_late_disconnect_frees_nothing(aws):
    tenant, cap = _tenant(), 5
    for n in range(cap):
        assert _put(aws, tenant, n, cap)
    for n in (0, 1):  # their $disconnect never ran, and their 2 hours are up
        identity = _identity(tenant, n)
        aws.table.update(keys.tenant_pk(tenant), keys.connection_sk(identity.user_id, f"c{n}"),
                         "SET expiresAt = :past", vals={":past": 1})
    assert not _put(aws, tenant, 9, cap)

    assert aws.room_store.free_expired_slots(tenant) == 2
    assert _count(aws, tenant) == 3
    assert aws.room_store.free_expired_slots(tenant) == 0  # nothing more to free
    aws.room_store.delete_connection(_identity(tenant, 0), "c0")  # its $disconnect, late after all
    assert _count(aws, tenant) == 3
    assert _put(aws, tenant, 9, cap) and _put(aws, tenant, 10, cap) and not _put(aws, tenant, 11, cap)


def test_a_count_changed_while_counting_again_is_left_to_the_next_try(aws, monkeypatch):
    tenant = _tenant()
    assert _put(aws, tenant, 0, 1)
    aws.table.update(keys.tenant_pk(tenant), keys.connection_sk("u0", "c0"), "SET expiresAt = :past", vals={":past": 1})
    original = aws.table.batch_delete

    def meanwhile(pairs):  # a handshake slips in between the count and its correction
        original(pairs)
        aws.table.update(keys.tenant_pk(tenant), keys.CONNECTION_SLOTS_SK, "ADD #n :one", names={"#n": "count"},
                         vals={":one": 1})

    monkeypatch.setattr(aws.table, "batch_delete", meanwhile)
    assert aws.room_store.free_expired_slots(tenant) == 0
    assert _count(aws, tenant) == 2  # not overwritten with a count that missed the newcomer
