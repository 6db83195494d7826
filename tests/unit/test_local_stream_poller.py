"""The dev stack's stream poller against a scripted DynamoDB Streams client: from LATEST, only what
the filter lets through, as Lambda's records, in batches, in order, and nothing twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from cloutagent_dev.streams import StreamPoller

PATTERN = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"event": {"S": ["permission.request"]}}}}
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"


def record(seq: int, event: str, name: str = "INSERT") -> dict[str, Any]:
    return {"eventID": f"id{seq}", "eventName": name, "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=timezone.utc),
                         "SequenceNumber": str(1000 + seq), "Keys": {},
                         "NewImage": {"event": {"S": event}, "blob": {"B": b"\x00\x01"}}}}


class Streams:
    """get_records answers with the scripted pages, then nothing; the second page fails once.
    TRIM_HORIZON starts from page 0 again: records the poller has seen come back."""

    def __init__(self, pages: list[list[dict[str, Any]]]):
        self.pages = pages
        self.iterator_kinds: list[str] = []
        self.failed = False

    def describe_table(self, TableName: str) -> dict:
        return {"Table": {"LatestStreamArn": ARN}}

    def describe_stream(self, StreamArn: str) -> dict:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> dict:
        self.iterator_kinds.append(ShardIteratorType)
        return {"ShardIterator": f"{ShardIteratorType}:0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        kind, page = ShardIterator.split(":")
        page = int(page)
        if page == 1 and not self.failed:
            self.failed = True
            raise RuntimeError("trimmed")
        records = self.pages[page] if page < len(self.pages) else []
        return {"Records": records, "NextShardIterator": f"{kind}:{min(page + 1, len(self.pages))}"}


class Invoker:
    def __init__(self):
        self.events: list[dict[str, Any]] = []

    async def invoke(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append({"function": name, **event})


async def test_the_poller_invokes_the_consumer_with_filtered_lambda_records_once_each():
    pages = [[record(1, "permission.request"), record(2, "execution.message"), record(3, "permission.request", "MODIFY")],
             [record(4, "permission.request")]]
    streams, invoker = Streams(pages), Invoker()
    poller = StreamPoller(invoker, streams, "t", consumers={"notifier": PATTERN})
    await poller.start(streams)
    try:
        for _ in range(100):
            if sum(len(e["Records"]) for e in invoker.events) >= 2 and streams.failed:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # anything more (a replay of page 0 after the failure) would arrive by now
    finally:
        await poller.stop()
    # GIVEN it started at LATEST, and started over from what is kept after a failed read
    assert streams.iterator_kinds == ["LATEST", "TRIM_HORIZON"]
    # THEN the notifier got only the INSERTs of permission.request, once each, as Lambda shapes them
    delivered = [r for e in invoker.events for r in e["Records"]]
    assert [r["eventID"] for r in delivered] == ["id1", "id4"]
    assert {e["function"] for e in invoker.events} == {"notifier"}
    first = delivered[0]
    assert first["eventSourceARN"] == ARN
    assert first["dynamodb"]["ApproximateCreationDateTime"] == int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
    assert first["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
