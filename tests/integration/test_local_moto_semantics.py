"""The local moto behaves like DynamoDB where our correctness depends on it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def dynamodb(ready):
    client = boto3.client("dynamodb", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    name = f"semantics-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}])
    return client, name


def _claim(table: str, key: str) -> list[dict]:
    return [{"Put": {"TableName": table, "Item": {"PK": {"S": key}}, "ConditionExpression": "attribute_not_exists(PK)"}}]


def test_a_transaction_retried_with_the_same_client_request_token_succeeds_without_applying_twice(dynamodb):
    client, table = dynamodb
    token = str(uuid.uuid4())
    client.transact_write_items(TransactItems=_claim(table, "k1"), ClientRequestToken=token)
    client.transact_write_items(TransactItems=_claim(table, "k1"), ClientRequestToken=token)  # botocore's retry
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=_claim(table, "k1"), ClientRequestToken=str(uuid.uuid4()))
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_concurrent_conditional_transactions_are_atomic_exactly_one_wins(dynamodb):
    client, table = dynamodb

    def attempt(_):
        try:
            client.transact_write_items(TransactItems=_claim(table, "race"))
            return True
        except ClientError:
            return False

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert sum(pool.map(attempt, range(10))) == 1


def test_a_failed_transaction_changes_nothing_even_what_its_earlier_operations_wrote(dynamodb):
    client, table = dynamodb
    client.put_item(TableName=table, Item={"PK": {"S": "keep"}, "v": {"S": "original"}})
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"PK": {"S": "keep"}, "v": {"S": "overwritten"}}}},
            {"Put": {"TableName": table, "Item": {"PK": {"S": "new"}}}},
            {"Update": {"TableName": table, "Key": {"PK": {"S": "missing"}}, "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "attribute_exists(PK)", "ExpressionAttributeValues": {":v": {"S": "x"}}}},
        ])
    assert client.get_item(TableName=table, Key={"PK": {"S": "keep"}})["Item"]["v"]["S"] == "original"
    assert "Item" not in client.get_item(TableName=table, Key={"PK": {"S": "new"}})
    assert "Item" not in client.get_item(TableName=table, Key={"PK": {"S": "missing"}})


def _queries(client, table: str) -> list:
    """The same queries, on one partition of a table that has several, as pages and in both orders."""
    for pk in ("A", "B", "C"):
        for sk in range(30):
            client.put_item(TableName=table, Item={
                "PK": {"S": pk}, "SK": {"S": f"{sk:04d}"}, "n": {"N": str(sk)}, "b": {"B": bytes([sk, 0, 255])},
                "m": {"M": {"x": {"L": [{"S": "é\u202e"}, {"BOOL": True}, {"NULL": True}]}, "ns": {"NS": ["1", "2.5"]}}},
                "ss": {"SS": ["a", "b"]}, "bs": {"BS": [b"\x00", b"\x01"]},
                # In the index: two of every three items, one of those without its index sort key.
                **({"GSI1PK": {"S": f"G{sk % 2}"}} if sk % 3 else {}),
                **({"GSI1SK": {"S": f"{sk % 5}"}} if sk % 3 == 1 else {})})
    asked = [
        {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "B"}}},
        {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
         "ExpressionAttributeValues": {":pk": {"S": "B"}, ":p": {"S": "001"}}, "ScanIndexForward": False},
        {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "C"}, ":min": {"N": "20"}},
         "FilterExpression": "n >= :min", "Limit": 15},
        {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "none"}}},
        {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "A"}},
         "ProjectionExpression": "SK, b, m.x", "Limit": 7},
        # Sort-key conditions (moto_serve hands moto only the items they keep), paged and reversed.
        {"KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
         "ExpressionAttributeValues": {":pk": {"S": "B"}, ":lo": {"S": "0005"}, ":hi": {"S": "0017"}}, "Limit": 4},
        {"KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi", "ScanIndexForward": False,
         "ExpressionAttributeValues": {":pk": {"S": "C"}, ":lo": {"S": "0010"}, ":hi": {"S": "0010\uffff"}}},
        {"KeyConditionExpression": "PK = :pk AND SK > :v", "Limit": 5,
         "ExpressionAttributeValues": {":pk": {"S": "A"}, ":v": {"S": "0024"}}},
        {"KeyConditionExpression": "PK = :pk AND SK <= :v", "ScanIndexForward": False, "Limit": 3,
         "ExpressionAttributeValues": {":pk": {"S": "A"}, ":v": {"S": "0002"}}},
        {"KeyConditionExpression": "PK = :pk AND SK = :v", "ExpressionAttributeValues": {":pk": {"S": "B"}, ":v": {"S": "0029"}}},
        {"KeyConditionExpression": "PK = :pk AND SK < :v", "ExpressionAttributeValues": {":pk": {"S": "B"}, ":v": {"S": "0000"}}},
        # The index (moto_serve hands moto only the items whose index key matches): ties on its sort
        # key across partitions, paged, reversed, and a key nothing has.
        {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :g", "ExpressionAttributeValues": {":g": {"S": "G1"}},
         "Limit": 6},
        {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :g AND GSI1SK BETWEEN :lo AND :hi",
         "ExpressionAttributeValues": {":g": {"S": "G0"}, ":lo": {"S": "1"}, ":hi": {"S": "3"}}, "ScanIndexForward": False},
        {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :g", "ExpressionAttributeValues": {":g": {"S": "G9"}}},
    ]
    answers = []
    for query in asked:
        pages, start = [], None
        while True:
            page = client.query(TableName=table, **query, **({"ExclusiveStartKey": start} if start else {}))
            pages.append((page["Items"], page["Count"], page["ScannedCount"]))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        answers.append(pages)
    return answers


def _ranged_table(client) -> str:
    name = f"ranged-{uuid.uuid4().hex[:8]}"
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"}
                                              for name in ("PK", "SK", "GSI1PK", "GSI1SK")],
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                        GlobalSecondaryIndexes=[{"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"},
                                                 "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                                                               {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]}])
    return name


def test_queries_read_only_their_partition_and_answer_as_moto_itself_does(ready):
    """moto_serve gives a query only the items that can match its key (moto sorts the whole table
    per query) and writes the items as JSON itself (moto's serializer is slow); moto unpatched, in this
    process, is the oracle, with every attribute type."""
    from moto import mock_aws

    local = boto3.client("dynamodb", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                         aws_access_key_id="local", aws_secret_access_key="local")
    served = _queries(local, _ranged_table(local))
    with mock_aws():
        plain = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        assert served == _queries(plain, _ranged_table(plain))


def _stream_records(dynamodb_client, streams_client, table: str) -> list[dict]:
    dynamodb_client.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = dynamodb_client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams_client.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                 ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    dynamodb_client.put_item(TableName=table, Item={"PK": {"S": "k"}, "b": {"B": b"\x00\xff"}, "n": {"N": "1.5"},
                                                    "m": {"M": {"l": {"L": [{"S": "x"}, {"NULL": True}]}}}})
    dynamodb_client.put_item(TableName=table, Item={"PK": {"S": "k"}, "ss": {"SS": ["a"]}})
    dynamodb_client.delete_item(TableName=table, Key={"PK": {"S": "k"}})
    records = streams_client.get_records(ShardIterator=iterator)["Records"]
    for record in records:  # ids, times and sequence numbers differ between any two servers
        record.pop("eventID")
        assert record["dynamodb"].pop("ApproximateCreationDateTime").year >= 2024
        record["dynamodb"].pop("SequenceNumber")
        assert record["dynamodb"].pop("SizeBytes") > 0  # moto counts the time's text, which varies
    return records


def _moto(module: str):
    """A moto server of its own: ``cloutagent_dev.moto_serve`` (patched) or ``moto.server`` (as shipped)."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [sys.executable, "-m", module, "--port", str(port)] + (["--host", "127.0.0.1"] if "moto_serve" in module else ["-H", "127.0.0.1"])
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def test_stream_records_written_directly_are_what_moto_itself_answers():
    """moto_serve writes a stream's records as JSON itself; moto's own server is the oracle."""
    answers = []
    for module in ("cloutagent_dev.moto_serve", "moto.server"):
        process, endpoint = _moto(module)
        try:
            common = dict(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local",
                          endpoint_url=endpoint)
            answers.append(_stream_records(boto3.client("dynamodb", **common),
                                           boto3.client("dynamodbstreams", **common), "streamed"))
        finally:
            process.terminate()
            process.wait(timeout=10)
    direct, plain = answers
    assert [r["eventName"] for r in direct] == ["INSERT", "MODIFY", "REMOVE"]
    assert direct == plain
