"""messages.get on a long log: a filter that matches nothing reads a bounded number of stored
events per call and answers with a cursor, instead of paging through the whole log.

The 50 000 events go to a table of their own (table.json's, made for this test and dropped after):
in the session's table they would slow every later test, since moto reads a whole table to answer
a query on an index.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from cloutagent.adapters.dynamo import keys
from cloutagent.services.rooms import MESSAGES_READ_BOUND, decode_cursor
from cloutagent.wiring import Container, install_container
from cloutagent_dev.provision import create_table

LOG_LENGTH = 50_000


def _fill_log(aws, tenant: str, project: str, count: int) -> None:
    """Stored events as the event log writes them, written in bulk (appending one by one would
    take the test minutes); the project's lastSeq follows."""
    client, table = aws.clients.dynamodb(), aws.settings.table_name
    pk, expires = keys.events_pk(tenant, project), int(time.time()) + 3600

    def write(first: int) -> None:
        requests = [{"PutRequest": {"Item": {
            "PK": {"S": pk}, "SK": {"S": keys.seq_sk(seq)}, "seq": {"N": str(seq)},
            "event": {"S": "execution.message"}, "ts": {"S": "2026-12-01T00:00:00.000Z"},
            "data": {"S": json.dumps({"kind": "text", "text": f"line {seq}"})}, "expiresAt": {"N": str(expires)},
        }}} for seq in range(first, min(first + 25, count + 2))]
        while requests:
            requests = client.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(2, count + 2, 25)))
    client.update_item(TableName=table, Key={"PK": {"S": keys.tenant_pk(tenant)}, "SK": {"S": keys.project_sk(project)}},
                       UpdateExpression="SET lastSeq = :s", ExpressionAttributeValues={":s": {"N": str(count + 1)}})


@pytest.fixture
def own_table(aws):
    """The handlers of this process on a fresh table of their own, until the test ends; then the
    session's container again (the one the call-counting fixtures of later tests watch)."""
    name = f"cloutagent-long-log-{uuid.uuid4().hex[:8]}"
    client = aws.clients.dynamodb()
    create_table(client, name)
    own = install_container(Container(aws.settings.model_copy(update={"table_name": name}), aws.clients))
    try:
        yield own
    finally:
        install_container(aws)
        client.delete_table(TableName=name)


@pytest.mark.timeout(600)  # filling 50 000 events into moto takes most of it
def test_a_filter_matching_nothing_on_50_000_events_reads_within_its_bound_and_returns_a_cursor(
        own_table, event_for, count_aws_calls):
    from functions.projects.handler import handler as projects
    from functions.rooms.handler import handler as rooms

    aws = own_table
    mine = {"tenant_id": f"t_longlog{uuid.uuid4().hex[:8]}", "user_id": "u-long-log"}
    pid = json.loads(projects(event_for("project.create", **mine))["body"])["data"]["project"]["projectId"]
    _fill_log(aws, mine["tenant_id"], pid, LOG_LENGTH)

    event = event_for("messages.get", project_id=pid, **mine)
    event["body"] = json.dumps({"action": "messages.get", "requestId": "m1",
                                "data": {"projectId": pid, "sinceSeq": 0, "events": ["permission.request"]}})
    with count_aws_calls("dynamodb") as calls:
        reply = json.loads(rooms(event)["body"])
    page = reply["data"]
    assert page["events"] == [] and page["lastSeq"] == LOG_LENGTH + 1
    resume = decode_cursor(page["nextCursor"])
    assert 0 < resume <= MESSAGES_READ_BOUND + 1  # it stopped where its bound ran out
    # the project, then at most ceil(bound / 100) pages of at most 100 events each
    assert calls.calls["dynamodb.Query"] <= MESSAGES_READ_BOUND // 100, calls.calls

    # AND the cursor goes on from there, a bounded step at a time
    event["body"] = json.dumps({"action": "messages.get", "requestId": "m2",
                                "data": {"projectId": pid, "cursor": page["nextCursor"], "events": ["permission.request"]}})
    second = json.loads(rooms(event)["body"])["data"]
    assert second["events"] == [] and decode_cursor(second["nextCursor"]) > resume
