"""Events are stored in transactions of at most 100 items, the change's records included."""

from __future__ import annotations

from cloutagent.adapters.dynamo.events import MAX_EVENTS_PER_TRANSACTION, _batches


def test_a_full_batch_leaves_room_for_the_changes_records_in_its_transaction():
    # GIVEN a relay batch of 99 events whose change carries one record (the usage so far)
    events = [("execution.message", {"text": f"line {i}"}) for i in range(99)]
    batches = list(_batches(events, reserved_first=1))
    # THEN the first transaction holds 98 events + the record + the project's counter = 100 items
    assert [len(b) for b in batches] == [98, 1]
    assert len(batches[0]) + 1 + 1 <= MAX_EVENTS_PER_TRANSACTION + 1
    assert [e for b in batches for e in b] == events


def test_without_records_a_batch_takes_99_events():
    events = [("m", {})] * 150
    assert [len(b) for b in _batches(events)] == [99, 51]
