"""The per-project event log: gap-free ``seq`` numbers, written together with the project's
``lastSeq`` in one transaction, so an event is either stored with its number or not at all.

An item holds one event, or a page of consecutive ``execution.message`` events (the chatty kind,
which no stream consumer waits for) stored by the same append. A page's sort key is its *last*
seq, so a Query from any seq finds the page holding it first. Paging is what lets a project store
a 1 000-message burst in a few items: DynamoDB charges write units per item and KB, and a
project's log is one partition (docs/data-model.md, "Event-rate ceiling")."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from typing import Any, Iterator

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.changes import project_attributes, record_ops, set_attributes
from cloutagent.adapters.dynamo.codec import from_item, to_attr, to_item
from cloutagent.adapters.dynamo.table import Table, cancellation_codes, cancelled_item, error_code
from cloutagent.domain.changes import ProjectChange
from cloutagent.domain.models import Event
from cloutagent.errors import Conflict, ExpectationFailed, ProjectNotFound
from cloutagent.ids import epoch_seconds, now_iso
from cloutagent.retry import Backoff, RetriesExhausted, retry

MAX_ITEMS_PER_TRANSACTION = 99  # DynamoDB allows 100 items; one is the project counter
MAX_TRANSACTION_BYTES = 3_500_000  # under the 4 MB request cap
# Events that may share an item. Every other event keeps an item of its own, with its name in
# ``event``, which the stream consumers' filters (routes.json ``streamFilter``) match.
PAGED_EVENTS = frozenset({"execution.message"})
# A page stops growing here (an item may hold 400 KB): replay from a page's middle reads it whole.
MAX_PAGE_BYTES = 64 * 1024
ITEM_OVERHEAD_BYTES = 200  # keys, ts, expiry: what an item costs beyond its events' data
# A bounded read (``max_read`` items) asks DynamoDB for at most 100 items at a time. A response also
# ends at 1 MB, which pages reach in ~16 items: the read stops after as many responses as its
# bound would take with small items, so it evaluates at most max_read / 100 MB, not 64 KB × max_read.
READ_ITEMS_PER_RESPONSE = 100
# Many writers on one project (a room full of joins) collide on lastSeq: back off with jitter so
# they stop colliding in lockstep. A loser learns the winner's lastSeq from its own cancelled
# write, so a retry is one call, not a read and a write. Bounded in time (the log's
# ``contention_seconds``), not in tries: a caller that cannot get a number in time gets CONFLICT.
SEQ_CONTENTION = Backoff(attempts=100_000, base_seconds=0.005, cap_seconds=0.2)


class SeqConflict(Exception):
    """Someone else appended first; try again from ``last_seq`` (None: read it again)."""

    def __init__(self, last_seq: int | None = None):
        super().__init__(last_seq)
        self.last_seq = last_seq


class ProjectWriters:
    """One writer at a time per project within this process, in the order they came; other
    processes still race.

    A Lambda environment serves one request at a time, so in AWS this never waits. Where many
    requests share a process (the local stack runs every handler on its invocation threads; an
    executor's relay and its steering), writers that would only lose the race to each other queue
    here instead of spending DynamoDB calls on lost transactions. The turn passes first come, first
    served, so a writer waits for those ahead of it and no longer: a plain lock lets one that just
    arrived take the turn before one that has waited (with 30 writers each holding it 2 ms, the
    longest wait was twice as long as here).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._queues: dict[tuple[str, str], deque] = {}  # key -> the writers waiting behind the one writing

    @contextlib.contextmanager
    def turn(self, tenant_id: str, project_id: str) -> Iterator[None]:
        key = (tenant_id, project_id)
        with self._guard:
            waiting = self._queues.get(key)
            if waiting is None:
                self._queues[key] = deque()  # this writer writes; nobody waits yet
                handed = None
            else:
                handed = threading.Lock()
                handed.acquire()
                waiting.append(handed)
        if handed is not None:
            handed.acquire()  # released by the writer before this one, as it hands the turn over
        try:
            yield
        finally:
            with self._guard:
                waiting = self._queues[key]
                if waiting:
                    waiting.popleft().release()
                else:
                    del self._queues[key]  # nothing is kept for a project nobody is writing to


class DynamoEventLog:
    def __init__(self, table: Table, retention_days: int, contention_seconds: float = 20.0):
        self.table = table
        self.retention_seconds = retention_days * 86400
        self.contention_seconds = contention_seconds
        self._writers = ProjectWriters()

    def append(
        self,
        tenant_id: str,
        project_id: str,
        events: list[tuple[str, dict[str, Any]]],
        *,
        last_seq: int | None = None,
        change: ProjectChange | None = None,
    ) -> list[Event]:
        """Store events with the next seq numbers, all or nothing per transaction.

        ``change`` commits with the first batch: project fields to set, fields that must hold
        (else ExpectationFailed), and records to write (e.g. the execution) — so a state change
        and the events announcing it cannot diverge.
        """
        stored: list[Event] = []
        items = _items([_Encoded(name, data) for name, data in events])
        for batch in _transactions(items, len(change.records) if change else 0):
            stored += self._append_batch(tenant_id, project_id, batch, last_seq, change or ProjectChange())
            last_seq, change = stored[-1].seq, None
        return stored

    def _append_batch(self, tenant_id, project_id, batch, last_seq, change: ProjectChange) -> list[Event]:
        known = [last_seq]  # the caller's lastSeq, then the one the last lost race reported
        expect = project_attributes(change.expect)
        deadline = time.monotonic() + self.contention_seconds

        def attempt() -> list[Event]:
            seq, known[0] = known[0], None
            if seq is None:
                seq = self._read_checked(tenant_id, project_id, expect)
            try:
                return self._try_append(tenant_id, project_id, batch, seq, change, expect)
            except SeqConflict as conflict:
                known[0] = conflict.last_seq
                raise

        def worth_another_try(exc: Exception) -> bool:
            return isinstance(exc, SeqConflict) and time.monotonic() < deadline

        try:
            with self._writers.turn(tenant_id, project_id):
                return retry(attempt, SEQ_CONTENTION, retry_on=worth_another_try)
        except (RetriesExhausted, SeqConflict) as exc:
            raise Conflict("The project is busy with other changes; try again") from exc

    def _read_checked(self, tenant_id: str, project_id: str, expect: dict[str, Any] | None) -> int:
        item = self.table.get(keys.tenant_pk(tenant_id), keys.project_sk(project_id))
        if item is None:
            raise ProjectNotFound()
        if expect and any(item.get(k) != v for k, v in expect.items()):
            raise ExpectationFailed(item)
        return int(item.get("lastSeq", 0))

    def _try_append(self, tenant_id, project_id, batch: list[list[_Encoded]], last_seq, change: ProjectChange,
                    expect) -> list[Event]:
        ts, expires = now_iso(), epoch_seconds() + self.retention_seconds
        pk, ops, first = keys.events_pk(tenant_id, project_id), [], last_seq + 1
        for item in batch:
            ops.append({"Put": {"Item": _item(pk, first, item, ts, expires)}})
            first += len(item)
        events = [
            Event(project_id=project_id, seq=last_seq + i + 1, event=e.name, ts=ts, data=e.data)
            for i, e in enumerate(e for item in batch for e in item)
        ]
        counter = self._counter_update(tenant_id, project_id, last_seq, events[-1].seq, ts, set_attributes(change),
                                       expect)
        ops = [counter, *ops, *record_ops(change)]
        try:
            self.table.transact(ops)
        except Exception as exc:  # botocore ClientError, without importing botocore eagerly
            codes = cancellation_codes(exc) if error_code(exc) == "TransactionCanceledException" else []
            if codes and codes[0] == "ConditionalCheckFailed":
                raise self._lost_race(cancelled_item(exc, 0), expect) from exc
            if codes and codes[0] == "TransactionConflict":
                raise SeqConflict() from exc
            if "ConditionalCheckFailed" in codes[1:]:  # a record's own condition (e.g. answered already)
                raise ExpectationFailed(None) from exc
            if error_code(exc) == "TransactionConflictException":
                raise SeqConflict() from exc
            raise
        return events

    @staticmethod
    def _lost_race(project: dict[str, Any] | None, expect: dict[str, Any] | None) -> Exception:
        """Why the counter's condition failed, from the project item the write found."""
        if project is None:
            return ProjectNotFound()
        if expect and any(project.get(k) != v for k, v in expect.items()):
            return ExpectationFailed(project)
        return SeqConflict(int(project.get("lastSeq", 0)))

    def _counter_update(self, tenant_id, project_id, old, new, ts, set_fields, expect=None) -> dict[str, Any]:
        names = {"#ls": "lastSeq", "#ua": "updatedAt"}
        values = {":old": to_attr(old), ":new": to_attr(new), ":ts": to_attr(ts)}
        sets = ["#ls = :new", "#ua = :ts"]
        for i, (field, value) in enumerate((set_fields or {}).items()):
            names[f"#f{i}"] = field
            values[f":v{i}"] = to_attr(value)
            sets.append(f"#f{i} = :v{i}")
        conditions = ["#ls = :old"]
        for i, (field, value) in enumerate((expect or {}).items()):
            names[f"#e{i}"] = field
            values[f":x{i}"] = to_attr(value)
            conditions.append(f"#e{i} = :x{i}")
        return {
            "Update": {
                "Key": {"PK": {"S": keys.tenant_pk(tenant_id)}, "SK": {"S": keys.project_sk(project_id)}},
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # a loser learns the winner's lastSeq
            }
        }

    def event_item(self, tenant_id: str, event: Event) -> dict[str, Any]:
        """The item of one event already numbered, for a writer that moves ``lastSeq`` itself
        (``project.create`` and ``project.delete``, adapters/dynamo/projects.py)."""
        pk, expires = keys.events_pk(tenant_id, event.project_id), epoch_seconds() + self.retention_seconds
        return _item(pk, event.seq, [_Encoded(event.event, event.data)], event.ts, expires)

    def last_seq(self, tenant_id: str, project_id: str) -> int:
        return self._read_checked(tenant_id, project_id, None)

    @staticmethod
    def from_stream_image(image: dict[str, Any]) -> tuple[str, Event] | None:
        """The tenant and the event of an event item as the table's stream carries it (attribute
        values, e.g. ``{"S": ...}``); None for any other item."""
        item = from_item(image)
        ids = keys.parse_events_pk(str(item.get("PK", "")))
        if ids is None or not {"seq", "event", "ts", "data"} <= item.keys():
            return None
        return ids[0], _event_from_item(ids[1], item)

    def read(
        self,
        tenant_id: str,
        project_id: str,
        *,
        after_seq: int,
        limit: int,
        since_ts: str | None = None,
        names: list[str] | None = None,
        max_read: int | None = None,
    ) -> tuple[list[Event], int | None]:
        """Events with seq > after_seq in order, and the seq to resume after (None: the log ends here).

        A filter (``since_ts``, ``names``) may match little of a long log: ``max_read`` bounds the
        stored items evaluated per call, and the page then ends early with where it stopped. The
        first item read may be a page that begins at or before ``after_seq``: its earlier events
        are skipped."""
        filters, fnames, fvals = [], {}, {}
        if since_ts:
            filters.append("#ts >= :since")  # a page's events share its ts
            fnames["#ts"], fvals[":since"] = "ts", since_ts
        if names:
            placeholders = [f":e{i}" for i in range(len(names))]
            wanted = f"#ev IN ({', '.join(placeholders)})"
            if PAGED_EVENTS & set(names):  # pages have no ``event``: keep them, pick their events below
                wanted, fnames["#pg"] = f"({wanted} OR attribute_exists(#pg))", "page"
            filters.append(wanted)
            fnames["#ev"] = "event"
            fvals.update(dict(zip(placeholders, names)))
        keep = (lambda e: e.seq > after_seq and e.event in names) if names else (lambda e: e.seq > after_seq)
        out: list[Event] = []
        start = None
        budget = max_read if max_read is not None else float("inf")
        lower = keys.seq_sk(after_seq + 1)
        upper = "9" * keys.SEQ_WIDTH
        responses = -(-max_read // READ_ITEMS_PER_RESPONSE) if max_read is not None else float("inf")
        while len(out) < limit and budget > 0 and responses > 0:
            page_limit = limit - len(out) if not filters else max(limit, READ_ITEMS_PER_RESPONSE)
            page_limit = int(min(page_limit, budget))
            items, start = self.table.query_page(
                keys.events_pk(tenant_id, project_id),
                sk_between=(lower, upper),
                limit=page_limit,
                start_key=start,
                filter_expr=" AND ".join(filters) or None,
                names=fnames or None,
                vals=fvals or None,
                consistent=True,  # join-then-read must see every event stored before the join
            )
            budget, responses = budget - page_limit, responses - 1
            out += [e for i in items for e in _events_from_item(project_id, i) if keep(e)]
            if not start:
                break
        if len(out) > limit or (len(out) == limit and start):
            return out[:limit], out[limit - 1].seq
        if start:  # the read bound ended the page: resume after the last event evaluated
            return out, int(start["SK"]["S"])
        return out, None


class _Encoded:
    """An event to store, its data encoded once (for the item and for its size)."""

    __slots__ = ("name", "data", "text")

    def __init__(self, name: str, data: dict[str, Any]):
        self.name, self.data = name, data
        self.text = json.dumps(data, separators=(",", ":"))

    @property
    def size(self) -> int:
        return len(self.text) + len(self.name)


def _item(pk: str, first_seq: int, events: list[_Encoded], ts: str, expires: int) -> dict[str, Any]:
    """One event as an item of its own, or several as a page keyed by its last seq."""
    last_seq = first_seq + len(events) - 1
    fields: dict[str, Any] = {"PK": pk, "SK": keys.seq_sk(last_seq), "ts": ts, "expiresAt": expires}
    if len(events) == 1:
        fields.update(seq=first_seq, event=events[0].name, data=events[0].text)
    else:
        fields.update(firstSeq=first_seq, page="[" + ",".join(f"[{json.dumps(e.name)},{e.text}]" for e in events) + "]")
    return to_item(fields)


def _events_from_item(project_id: str, item: dict[str, Any]) -> list[Event]:
    if "page" not in item:
        return [_event_from_item(project_id, item)]
    first = int(item["firstSeq"])
    return [
        Event(project_id=project_id, seq=first + i, event=name, ts=item["ts"], data=data)
        for i, (name, data) in enumerate(json.loads(item["page"]))
    ]


def _event_from_item(project_id: str, item: dict[str, Any]) -> Event:
    return Event(
        project_id=project_id, seq=item["seq"], event=item["event"], ts=item["ts"], data=json.loads(item["data"])
    )


def _items(events: list[_Encoded]) -> list[list[_Encoded]]:
    """The events as items, in order: runs of paged events share pages of at most MAX_PAGE_BYTES."""
    items: list[list[_Encoded]] = []
    size = 0
    for event in events:
        paged = event.name in PAGED_EVENTS
        page = items[-1] if items and paged and items[-1][0].name in PAGED_EVENTS else None
        if page is not None and size + event.size <= MAX_PAGE_BYTES:
            page.append(event)
            size += event.size
        else:
            items.append([event])
            size = event.size
    return items


def _transactions(items: list[list[_Encoded]], reserved_first: int = 0):
    """Items in transaction-sized groups; the first leaves room for ``reserved_first`` more writes
    (the change's records), since a transaction holds at most 100 items in all."""
    group: list[list[_Encoded]] = []
    size, room = 0, MAX_ITEMS_PER_TRANSACTION - reserved_first
    for item in items:
        item_size = sum(e.size for e in item) + ITEM_OVERHEAD_BYTES
        if group and (len(group) >= room or size + item_size > MAX_TRANSACTION_BYTES):
            yield group
            group, size, room = [], 0, MAX_ITEMS_PER_TRANSACTION
        group.append(item)
        size += item_size
    if group:
        yield group
