"""moto's server, with every request applied atomically.

Real DynamoDB applies each request (a TransactWriteItems above all) atomically; moto's threaded
server does not, so two conditional transactions can both pass their conditions. Serializing
request handling restores the guarantee our state machine relies on, at no real cost: moto is
bound by the GIL anyway.

SQS requests are the exception: a pool executor's long poll waits in moto for up to its
``WaitTimeSeconds``, and under the lock it would hold up every other AWS call for as long (and
a claim could never be sent to wake it). They run beside the lock instead (``is_sqs``).
"""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any, Callable, Iterable, Iterator

from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple

from cloutagent import heap


def snapshot_items_instead_of_tables() -> None:
    """moto backs up the whole table (stream records included) once per *operation* of every
    transaction, and keeps those copies alive: time and memory grew with every write (5 GB after
    3 000 transactions). Rollback only needs the items the transaction touches, so snapshot just
    those keys and restore them on failure; requests are serialized, so nothing else interleaves."""
    import copy as real_copy

    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = dynamodb_models.DynamoDBBackend.transact_write_items

    class _TablesAreNotCopied:
        """moto's own backup becomes the live table (restoring it is then a no-op)."""

        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            return obj if isinstance(obj, Table) else real_copy.deepcopy(obj, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

    def key_of(table: Table, op: dict) -> tuple[Any, Any]:
        attrs = op.get("Key") or op.get("Item") or {}
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        return hash_key, range_key

    def snapshot(backend: Any, transact_items: list) -> list[tuple]:
        saved = []
        for entry in transact_items:
            (_, op), = entry.items()
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            try:
                hash_key, range_key = key_of(table, op)
            except KeyError:
                continue  # moto will refuse the malformed op itself
            item = table.get_item(hash_key, range_key)
            saved.append((table, hash_key, range_key, real_copy.deepcopy(item) if item else None))
        return saved

    def restore(saved: list[tuple]) -> None:
        for table, hash_key, range_key, item in reversed(saved):
            if item is None:
                table.items.get(hash_key, {}).pop(range_key, None) if range_key else table.items.pop(hash_key, None)
            elif range_key:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item

    def stream_ends(backend: Any) -> list[tuple[Any, int]]:
        return [(table.stream_shard, table.stream_shard.starting_sequence_number + len(table.stream_shard.items))
                for table in backend.tables.values() if table.stream_shard is not None]

    def drop_records_after(ends: list[tuple[Any, int]]) -> None:
        """moto applies a transaction's writes one by one, streaming each, and undoes them on
        failure but not their stream records: DynamoDB streams nothing of a failed transaction."""
        for shard, end in ends:
            shard.items = [r for r in shard.items if int(r.record["dynamodb"]["SequenceNumber"]) < end]

    def transact_write_items(self: Any, transact_items: list) -> None:
        saved, ends = snapshot(self, transact_items), stream_ends(self)
        dynamodb_models.copy = _TablesAreNotCopied()
        try:
            return original(self, transact_items)
        except Exception:
            restore(saved)
            drop_records_after(ends)
            raise
        finally:
            dynamodb_models.copy = real_copy

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def honour_client_request_tokens() -> None:
    """DynamoDB answers a TransactWriteItems retried with the same ClientRequestToken (botocore
    sets one and reuses it across its retries) with success, without applying it again, for 10
    minutes. moto ignores the token, so a retry after a timed-out success fails its conditions."""
    import hashlib
    import json
    import time

    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items
    succeeded: dict[str, tuple[float, str, Any]] = {}

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        digest = hashlib.sha256(json.dumps(self.body.get("TransactItems"), sort_keys=True).encode()).hexdigest()
        now = time.monotonic()
        for stale in [t for t, (at, _, _) in succeeded.items() if now - at > 600]:
            del succeeded[stale]
        if token and token in succeeded and succeeded[token][1] == digest:
            return succeeded[token][2]
        result = original(self)
        if token:
            succeeded[token] = (now, digest, result)
        return result

    DynamoHandler.transact_write_items = transact_write_items


def bound_stream_shards(max_records: int = 1000) -> None:
    """DynamoDB keeps stream records for 24 hours; moto keeps them forever, in memory. Locally the
    stream poller (``streams.py``) reads them within a fraction of a second of their writing, so
    keep only the newest records, with sequence numbers still increasing."""
    from moto.dynamodb.models.table import StreamShard

    original = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        original(self, old, new)
        excess = len(self.items) - max_records
        if excess > 0:
            del self.items[:excess]
            self.starting_sequence_number += excess

    StreamShard.add = add


def query_one_partition() -> None:
    """moto answers a Query by sorting every item of the table (with a Python comparison per pair)
    and then testing each one, so each query costs more as the table grows. A query on the table's
    own key is given only its partition's items, and of those only the ones its sort-key condition
    keeps: a project's partition holds its whole event log, and an executor reads its inbox (a
    narrow range of it) a few times a second. A query on an index is given only the items whose
    index key matches (the usage reporter reads the pending meters that way). moto still sorts and
    tests what it gets, so the same items come back, in the same order."""
    import inspect
    import threading

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    signature = inspect.signature(original_query)
    scope = threading.local()

    def all_items(self: Any) -> list:
        keeps = getattr(scope, "keeps", None)
        return original_all_items(self) if keeps is None else keeps(self)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        scope.keeps = _candidates(signature.bind(self, *args, **kwargs).arguments)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            scope.keeps = None

    def _candidates(asked: dict[str, Any]) -> Any:
        """table → the items moto must look at for this query, in its order; None: all of them."""
        hash_key = asked.get("hash_key")
        if asked.get("index_name"):
            return _index_candidates(asked.get("hash_key_conditions") or [])
        if not isinstance(hash_key, DynamoType):
            return None
        sort_key_test = _sort_key_test(asked.get("range_comparison"), asked.get("range_objs") or [])

        def partition_items(table: Any) -> list:
            partition = table.items.get(hash_key)  # .get: items is a defaultdict, a miss must not add
            if partition is None:
                return []
            if not table.range_key_attr:
                return [partition]
            return [item for item in partition.values() if sort_key_test(item.range_key)]

        return partition_items

    def _index_candidates(conditions: list) -> Any:
        if not conditions or any(not isinstance(value, DynamoType) or value.type != "S" for _, value in conditions):
            return None
        wanted = [(name, value.value) for name, value in conditions]

        def matching_items(table: Any) -> list:
            # In any order: moto sorts an index's items by the index key and then the table's.
            return [item for item in _every_item(table) if all(_is_string(item.attrs.get(name), value)
                                                               for name, value in wanted)]

        return matching_items

    Table.query, Table.all_items = query, all_items


def _every_item(table: Any) -> Iterator[Any]:
    for stored in table.items.values():
        if table.range_key_attr:
            yield from stored.values()
        else:
            yield stored


def _is_string(attribute: Any, value: str) -> bool:
    return attribute is not None and attribute.type == "S" and attribute.value == value


def _sort_key_test(comparison: str | None, operands: list) -> Callable[[Any], bool]:
    """What moto's own test of a sort key (DynamoType.compare) decides, cheaply, for string
    operands; any other key is kept for moto to decide."""
    from moto.dynamodb.comparisons import get_comparison_func

    func = get_comparison_func(comparison) if comparison in SORT_KEY_COMPARISONS else None
    if func is None or not operands or any(operand.type != "S" for operand in operands):
        return lambda key: True
    values = [operand.value for operand in operands]
    return lambda key: key is None or key.type != "S" or func(key.value, *values)


# The comparisons a KeyConditionExpression may put on a sort key.
SORT_KEY_COMPARISONS = frozenset({"EQ", "=", "LE", "<=", "LT", "<", "GE", ">=", "GT", ">", "BEGINS_WITH", "BETWEEN"})


def serialize_items_directly() -> None:
    """moto 5.2 writes a Query's items and a stream's records through its generic response
    serializer, which inspects every attribute of every item against the service model: ~0.5 ms
    an item, so reading a room of 100 watchers cost moto 60 ms, and the stream poller's reads of
    every stored event cost as much again. Those lists are already in the wire's JSON shape (binary
    as bytes, base64 on the wire; times as datetimes, epoch seconds on the wire), so they are
    written as JSON directly; the rest of each response still goes through moto's serializer."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    DynamoResult.execute_result = _spliced(DynamoResult.execute_result, "Items")

    class StreamRecords(ActionResult):
        execute_result = _spliced(ActionResult.execute_result, "Records")

    original_get_records = DynamoDBStreamsHandler.get_records

    def get_records(self: Any) -> Any:
        return StreamRecords(original_get_records(self).result)

    DynamoDBStreamsHandler.get_records = get_records


def _spliced(execute_result: Any, key: str) -> Any:
    """``execute_result`` with the list under ``key`` written as JSON directly."""
    import json

    def direct(self: Any, context: Any) -> Any:
        result = self._result
        listed = result.get(key) if isinstance(result, dict) else None
        if not listed:
            return execute_result(self, context)
        self._result = {**result, key: []}
        try:
            status, headers, body = execute_result(self, context)
        finally:
            self._result = result
        document = json.loads(body)
        document[key] = listed
        return status, headers, json.dumps(document, default=_wire_value)

    return direct


def _wire_value(value: Any) -> Any:
    """How moto's JSON serializer writes what json cannot: bytes as base64, times as epoch seconds."""
    import base64
    from datetime import datetime

    from moto.core.serialize import TimestampSerializer

    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return TimestampSerializer._timestamp_unixtimestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def bound_shard_iterators(max_iterators: int = 256) -> None:
    """DynamoDB's shard iterators expire after 15 minutes; moto keeps every one it hands out (one
    per get_records), which a poller asking five times a second would pile up. Keep the newest."""
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBStreamsBackend.get_records

    def get_records(self: Any, iterator_arn: str, limit: int) -> Any:
        result = original(self, iterator_arn, limit)
        excess = len(self.shard_iterators) - max_iterators
        for stale in list(self.shard_iterators)[:max(excess, 0)]:  # dicts keep insertion order
            del self.shard_iterators[stale]
        return result

    DynamoDBStreamsBackend.get_records = get_records


def is_sqs(environ: dict) -> bool:
    """An SQS request: signed for the sqs service (any protocol), or a JSON-protocol SQS target."""
    return ("/sqs/aws4_request" in environ.get("HTTP_AUTHORIZATION", "")
            or environ.get("HTTP_X_AMZ_TARGET", "").startswith("AmazonSQS."))


# moto's backends (made on a service's first request) and its tables live as long as it does: every
# so many requests, what survived is kept out of the full collections (cloutagent/heap.py), which
# otherwise walk every item ever written, 50-90 ms at a time under a busy run.
SETTLE_EVERY_REQUESTS = 1_000


class AtomicApp:
    """Every request under one lock, but SQS's.

    Safe for SQS because its backend guards each queue's messages with a condition variable of its
    own (the one a long poll waits on), and no request of ours spans SQS and another service. Two
    polls at once may both receive one message, which real SQS (at least once) may do as well: the
    claim record decides which executor runs it (cloutagent.adapters.claims).
    """

    def __init__(self, app: Any):
        from moto.core.model_instances import reset_model_data

        self.app = app
        self.lock = threading.Lock()
        self.served = 0
        # moto lists every model instance it ever made, only for its web dashboard: every item
        # written stayed referenced forever. Forgetting them after each request keeps memory flat.
        self.forget_tracked_instances = reset_model_data

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        if is_sqs(environ):
            return list(self.app(environ, start_response))  # the next locked request forgets its models
        with self.lock:
            try:
                return list(self.app(environ, start_response))
            finally:
                self.forget_tracked_instances()
                self.served += 1
                if self.served % SETTLE_EVERY_REQUESTS == 0:
                    heap.settle(collect=1)


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug logs a line per request: a fifth of moto's CPU while a run streams to a busy room.
    Errors are still logged."""

    protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    heap.hold()  # until it serves (here, not on import: tests import this module's patches)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    snapshot_items_instead_of_tables()
    honour_client_request_tokens()
    bound_stream_shards()
    bound_shard_iterators()
    query_one_partition()
    serialize_items_directly()
    app = DomainDispatcherApplication(create_backend_app)
    heap.settle(collect=2)
    run_simple(args.host, args.port, AtomicApp(app), threaded=True, request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
