"""Events become items (one event, or a page of messages) and items go in transactions of at most
100 writes, the change's records included."""

from __future__ import annotations

from cloutagent.adapters.dynamo.events import (
    MAX_ITEMS_PER_TRANSACTION,
    MAX_PAGE_BYTES,
    _Encoded,
    _items,
    _transactions,
)


def _encoded(events):
    return [_Encoded(name, data) for name, data in events]


def _names(items):
    return [[e.name for e in item] for item in items]


def test_consecutive_messages_share_a_page_and_every_other_event_has_its_own_item():
    events = _encoded([("execution.message", {"text": "a"}), ("execution.message", {"text": "b"}),
                       ("permission.request", {"id": "p"}), ("execution.message", {"text": "c"}),
                       ("execution.usage", {}), ("execution.finished", {})])
    items = _items(events)
    # a stream consumer's filter matches permission.request and execution.finished by the item's
    # own ``event``, so neither may hide inside a page
    assert _names(items) == [["execution.message"] * 2, ["permission.request"], ["execution.message"],
                             ["execution.usage"], ["execution.finished"]]
    assert [e for item in items for e in item] == events  # nothing reordered or dropped


def test_a_page_stops_at_its_byte_cap():
    line = "x" * 1000
    events = _encoded([("execution.message", {"text": line})] * 200)
    items = _items(events)
    assert len(items) > 1
    assert all(sum(e.size for e in item) <= MAX_PAGE_BYTES for item in items)
    assert sum(len(item) for item in items) == 200


def test_a_message_bigger_than_a_page_is_an_item_of_its_own():
    events = _encoded([("execution.message", {"text": "a"}), ("execution.message", {"text": "y" * MAX_PAGE_BYTES}),
                       ("execution.message", {"text": "b"})])
    assert [len(item) for item in _items(events)] == [1, 1, 1]


def test_a_full_transaction_leaves_room_for_the_changes_records():
    # GIVEN 99 items (events that cannot share pages) and a change carrying one record
    items = _items(_encoded([("member.joined", {"n": i}) for i in range(99)]))
    groups = list(_transactions(items, reserved_first=1))
    # THEN the first transaction holds 98 items + the record + the project's counter = 100 writes
    assert [len(g) for g in groups] == [98, 1]
    assert len(groups[0]) + 1 + 1 <= MAX_ITEMS_PER_TRANSACTION + 1


def test_a_thousand_messages_are_a_few_items_in_one_transaction():
    items = _items(_encoded([("execution.message", {"kind": "text", "text": f"line {i}"}) for i in range(1000)]))
    groups = list(_transactions(items))
    assert len(groups) == 1 and len(groups[0]) <= 2


class PagesOfOneMegabyte:
    """A table whose every Query response ends at DynamoDB's 1 MB: a few pages, none matching."""

    def __init__(self):
        self.queries = 0

    def query_page(self, pk, *, start_key=None, **kwargs):
        self.queries += 1
        last = (int(start_key["SK"]["S"]) if start_key else 0) + 16 * 200  # 16 pages of 200 messages
        return [], {"SK": {"S": str(last).zfill(12)}}


def test_a_bounded_read_of_a_log_of_pages_stops_after_its_responses_with_a_cursor():
    from cloutagent.adapters.dynamo.events import DynamoEventLog

    table = PagesOfOneMegabyte()
    log = DynamoEventLog(table, retention_days=1)
    events, resume = log.read("t_1", "p_1", after_seq=0, limit=50, names=["permission.request"], max_read=1000)
    # 1 000 items would be 63 responses of 1 MB here; the bound's 10 reads stop it at ~10 MB
    assert events == [] and table.queries == 10 and resume == 10 * 16 * 200
