"""The table's stream, locally: what a DynamoDB event source mapping does in AWS.

moto keeps the table's stream (DynamoDB Streams' describe_stream, get_shard_iterator and
get_records; ``moto_serve`` drops the records of transactions that failed, as DynamoDB never
emits them). This poller reads it from LATEST when the stack starts, every 0.2 s, and hands each
stream consumer of routes.json (a ``dynamodb-stream`` function with a ``streamFilter``) the records
its filter lets through, as Lambda's ``{"Records": [...]}`` event, through the same invoker as every
other handler. Each consumer gets its batches one at a time, in stream order, as from one shard;
reading goes on meanwhile, so a slow receiver delays only its own consumer.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Any, Mapping

from cloutagent import definitions
from cloutagent.observability import logger
from cloutagent_dev.lambdas import Invoker

POLL_SECONDS = 0.2
BATCH_SIZE = 10  # as the notifier's mapping in infra/constructs/notifications.py


def stream_consumers() -> dict[str, dict[str, Any]]:
    """Function name -> filter pattern, for the stream consumers routes.json declares with a filter."""
    return {name: spec["streamFilter"] for name, spec in definitions.routes()["functions"].items()
            if spec["trigger"] == "dynamodb-stream" and spec.get("streamFilter")}


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Lambda's filter rules, the subset routes.json uses: nested keys, a list of values (any may
    match), ``{"prefix": ...}``. Anything else is refused rather than silently never matching."""
    for key, rule in pattern.items():
        if key not in record:
            return False
        value = record[key]
        if isinstance(rule, Mapping):
            if not isinstance(value, Mapping) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not any(_matches_one(option, value) for option in rule):
                return False
        else:
            raise ValueError(f"unsupported filter rule for {key!r}: {rule!r} (values go in a list)")
    return True


def _matches_one(option: Any, value: Any) -> bool:
    if isinstance(option, Mapping):
        if set(option) == {"prefix"}:
            return isinstance(value, str) and value.startswith(option["prefix"])
        raise ValueError(f"unsupported filter operator: {option!r}")
    return option == value


def as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record from get_records as Lambda delivers it: epoch-seconds times, base64 binaries, and its ARN."""
    return {**_plain(record), "eventSourceARN": stream_arn}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


class StreamPoller:
    def __init__(self, invoker: Invoker, client: Any, table_name: str,
                 consumers: Mapping[str, Mapping[str, Any]] | None = None):
        self.invoker = invoker
        self.client = client  # a dynamodbstreams client
        self.table_name = table_name
        self.consumers = dict(stream_consumers() if consumers is None else consumers)
        self.queues: dict[str, asyncio.Queue] = {name: asyncio.Queue() for name in self.consumers}
        self.tasks: list[asyncio.Task] = []
        self.stream_arn = ""
        self.shard_id = ""
        self.last_sequence: int | None = None

    async def start(self, dynamodb: Any) -> None:
        """Find the stream and take its LATEST position before returning: what is written after is seen."""
        if not self.consumers:
            return
        table = await asyncio.to_thread(dynamodb.describe_table, TableName=self.table_name)
        self.stream_arn = table["Table"]["LatestStreamArn"]
        stream = await asyncio.to_thread(self.client.describe_stream, StreamArn=self.stream_arn)
        self.shard_id = stream["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = await self._iterator("LATEST")
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._read_forever(iterator))]
        self.tasks += [loop.create_task(self._invoke_forever(name)) for name in self.consumers]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _iterator(self, kind: str) -> str:
        out = await asyncio.to_thread(self.client.get_shard_iterator, StreamArn=self.stream_arn,
                                      ShardId=self.shard_id, ShardIteratorType=kind)
        return out["ShardIterator"]

    async def _read_forever(self, iterator: str) -> None:
        while True:
            try:
                out = await asyncio.to_thread(self.client.get_records, ShardIterator=iterator, Limit=1000)
                iterator = out["NextShardIterator"]
                self._route(out["Records"])
            except asyncio.CancelledError:
                raise
            except Exception:
                # e.g. the poller fell behind moto's bounded shard: start again from what is kept,
                # skipping what was already read.
                logger.exception("local stream poller: reading the stream failed; starting over")
                await asyncio.sleep(1)
                try:
                    iterator = await self._iterator("LATEST" if self.last_sequence is None else "TRIM_HORIZON")
                except Exception:
                    logger.exception("local stream poller: no shard iterator")
                continue
            await asyncio.sleep(POLL_SECONDS)

    def _route(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            sequence = int(record["dynamodb"]["SequenceNumber"])
            if self.last_sequence is not None and sequence <= self.last_sequence:
                continue
            self.last_sequence = sequence
            shaped = None
            for name, pattern in self.consumers.items():
                if matches(pattern, record):
                    shaped = shaped or as_lambda_record(record, self.stream_arn)
                    self.queues[name].put_nowait(shaped)

    async def _invoke_forever(self, name: str) -> None:
        queue = self.queues[name]
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH_SIZE and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self.invoker.invoke(name, {"Records": batch})
            except Exception:  # Lambda would retry the batch; the notifier itself never raises
                logger.exception("local stream consumer failed", extra={"function": name, "records": len(batch)})
