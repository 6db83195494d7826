"""The per-project event log: gap-free ``seq`` numbers, written together with the project's
``lastSeq`` in one transaction, so an event is either stored with its number or not at all."""

from __future__ import annotations

import contextlib
import json
import threading
import time
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

MAX_EVENTS_PER_TRANSACTION = 99  # DynamoDB allows 100 items; one is the project counter
MAX_TRANSACTION_BYTES = 3_500_000  # under the 4 MB request cap
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
    """One writer at a time per project within this process; other processes still race.

    A Lambda environment serves one request at a time, so in AWS this never waits. Where many
    requests share a process (the local stack runs every handler on one thread pool; an executor's
    relay and its steering), writers that would only lose the race to each other queue here
    instead of spending DynamoDB calls on lost transactions.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], list] = {}  # key -> [lock, writers holding or waiting]

    @contextlib.contextmanager
    def turn(self, tenant_id: str, project_id: str) -> Iterator[None]:
        key = (tenant_id, project_id)
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    del self._locks[key]  # no lock is kept for a project nobody is writing to


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
        for batch in _batches(events, len(change.records) if change else 0):
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

    def _try_append(self, tenant_id, project_id, batch, last_seq, change: ProjectChange, expect) -> list[Event]:
        ts = now_iso()
        events = [
            Event(project_id=project_id, seq=last_seq + i + 1, event=name, ts=ts, data=data)
            for i, (name, data) in enumerate(batch)
        ]
        ops = [self._counter_update(tenant_id, project_id, last_seq, events[-1].seq, ts, set_attributes(change), expect)]
        ops += [{"Put": {"Item": self._event_item(tenant_id, e)}} for e in events]
        ops += record_ops(change)
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

    def _event_item(self, tenant_id: str, event: Event) -> dict[str, Any]:
        return to_item(
            {
                "PK": keys.events_pk(tenant_id, event.project_id),
                "SK": keys.seq_sk(event.seq),
                "seq": event.seq,
                "event": event.event,
                "ts": event.ts,
                "data": json.dumps(event.data, separators=(",", ":")),
                "expiresAt": epoch_seconds() + self.retention_seconds,
            }
        )

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
        stored events evaluated per call, and the page then ends early with where it stopped."""
        filters, fnames, fvals = [], {}, {}
        if since_ts:
            filters.append("#ts >= :since")
            fnames["#ts"], fvals[":since"] = "ts", since_ts
        if names:
            placeholders = [f":e{i}" for i in range(len(names))]
            filters.append(f"#ev IN ({', '.join(placeholders)})")
            fnames["#ev"] = "event"
            fvals.update(dict(zip(placeholders, names)))
        out: list[Event] = []
        start = None
        budget = max_read if max_read is not None else float("inf")
        lower = keys.seq_sk(after_seq + 1)
        upper = "9" * keys.SEQ_WIDTH
        while len(out) < limit and budget > 0:
            page_limit = limit - len(out) if not filters else max(limit, 100)
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
            budget -= page_limit
            out += [_event_from_item(project_id, i) for i in items]
            if not start:
                break
        if len(out) > limit or (len(out) == limit and start):
            return out[:limit], out[limit - 1].seq
        if start:  # the read bound ended the page: resume after the last event evaluated
            return out, int(start["SK"]["S"])
        return out, None


def _event_from_item(project_id: str, item: dict[str, Any]) -> Event:
    return Event(
        project_id=project_id, seq=item["seq"], event=item["event"], ts=item["ts"], data=json.loads(item["data"])
    )


def _batches(events: list[tuple[str, dict[str, Any]]], reserved_first: int = 0):
    """Events in transaction-sized batches; the first leaves room for ``reserved_first`` more writes
    (the change's records), since a transaction holds at most 100 items in all."""
    batch: list[tuple[str, dict[str, Any]]] = []
    size, room = 0, MAX_EVENTS_PER_TRANSACTION - reserved_first
    for name, data in events:
        item_size = len(json.dumps(data)) + 200
        if batch and (len(batch) >= room or size + item_size > MAX_TRANSACTION_BYTES):
            yield batch
            batch, size, room = [], 0, MAX_EVENTS_PER_TRANSACTION
        batch.append((name, data))
        size += item_size
    if batch:
        yield batch
