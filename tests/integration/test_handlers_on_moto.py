"""Each handler, fed the sample event from events/, against moto; with AWS call budgets."""

from __future__ import annotations

import json
import uuid

import pytest

from functions.access.handler import handler as access
from functions.default.handler import handler as default
from functions.projects.handler import handler as projects
from functions.rooms.handler import handler as rooms
from functions.session.handler import handler as session
from tests.conftest import new_user
from tests.integration.conftest import RATE_COUNT


def body(result):
    assert result["statusCode"] == 200
    return json.loads(result["body"])


def test_ping_makes_no_aws_call(aws, event_for, count_aws_calls):
    with count_aws_calls() as counter:
        reply = body(session(event_for("ping")))
    assert reply["type"] == "response" and reply["data"]["pong"] is True
    assert counter.total == 0


def test_project_create_costs_at_most_three_calls_and_get_exactly_one(aws, event_for, count_aws_calls):
    with count_aws_calls() as create_calls:
        created = body(projects(event_for("project.create")))["data"]["project"]
    assert created["name"] == "Website redesign" and created["agent"]["permissionMode"] == "acceptEdits"
    assert create_calls.total <= 3, create_calls.calls
    assert "dynamodb.Scan" not in create_calls.calls

    with count_aws_calls() as get_calls:
        got = body(projects(event_for("project.get", project_id=created["projectId"])))["data"]["project"]
    assert got == created
    assert dict(get_calls.calls) == {"dynamodb.GetItem": 1, **RATE_COUNT}


def test_every_project_sample_event_runs_against_moto(aws, event_for, ready):
    from functions.connect.handler import handler as connect

    # A tenant of its own: the dev tenant's project list, filled by the rest of the suite, can
    # outgrow one frame (and then arrives as chunks, not as the route's answer)
    user = new_user(ready, f"samples-{uuid.uuid4().hex[:8]}@example.com")
    mine = {"tenant_id": user["tenantId"], "user_id": user["userId"]}
    pid = body(projects(event_for("project.create", **mine)))["data"]["project"]["projectId"]
    assert connect(event_for("connect", connection_id="conn-samples", **mine)) == {"statusCode": 200}
    for name, fn in [("project.list", projects), ("project.update", projects), ("project.join", rooms),
                     ("messages.get", rooms), ("project.leave", rooms), ("project.delete", projects)]:
        reply = body(fn(event_for(name, project_id=pid, connection_id="conn-samples", **mine)))
        assert reply["type"] == "response", (name, reply)


def test_joining_from_an_unknown_connection_is_refused_and_leaves_no_record(aws, event_for, ready):
    pid = body(projects(event_for("project.create")))["data"]["project"]["projectId"]
    reply = body(rooms(event_for("project.join", project_id=pid, connection_id="never-connected")))
    assert reply["error"]["code"] == "UNAUTHORIZED"
    assert aws.room_store.count_connections(ready["tenantId"], ready["userId"]) == aws.room_store.count_connections(
        ready["tenantId"], ready["userId"])  # stable
    assert "never-connected" not in aws.room_store.subscribers(ready["tenantId"], pid)


def test_a_project_update_is_one_transaction_with_its_event(aws, event_for, count_aws_calls):
    pid = body(projects(event_for("project.create")))["data"]["project"]["projectId"]
    with count_aws_calls() as counter:
        body(projects(event_for("project.update", project_id=pid)))
    # read, then project change + event in one transaction, then one subscriber query
    assert dict(counter.calls) == {"dynamodb.GetItem": 1, "dynamodb.TransactWriteItems": 1, "dynamodb.Query": 1,
                                   **RATE_COUNT}


def test_the_default_route_answers_unknown_action(aws, event_for):
    reply = body(default(event_for("default")))
    assert reply["error"]["code"] == "UNKNOWN_ACTION"


def test_access_sample_events_run_and_identity_comes_only_from_the_authorizer(aws, event_for):
    created = body(access(event_for("apikey.create")))["data"]
    assert created["apiKey"]["role"] == "member"
    assert body(access(event_for("apikey.list")))["data"]["apiKeys"]
    assert body(access(event_for("member.list")))["data"]["members"]
    # A viewer identity in the authorizer context wins over anything in the body
    refused = body(access(event_for("apikey.create", role="viewer")))
    assert refused["error"]["code"] == "FORBIDDEN"


def test_a_handler_without_authorizer_context_refuses(aws, event_for):
    event = event_for("whoami")
    del event["requestContext"]["authorizer"]
    assert body(session(event))["error"]["code"] == "UNAUTHORIZED"


def test_an_unexpected_failure_is_internal_with_no_detail(aws, event_for, monkeypatch):
    def explode(*a, **k):
        raise RuntimeError("secret internals: arn:aws:dynamodb:...")

    monkeypatch.setattr(aws.project_store, "list", explode)
    reply = body(projects(event_for("project.list")))
    assert reply["error"] == {"code": "INTERNAL", "message": "Internal error", "details": {}}


def test_deleting_a_project_purges_its_subscriptions_executions_and_secret_ciphertexts(aws, event_for, ready):
    from cloutagent.adapters.dynamo import keys
    from cloutagent.domain.identity import Identity, Role

    pid = body(projects(event_for("project.create")))["data"]["project"]["projectId"]
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner, connection_id="purge-c")
    aws.room_store.put_connection(identity, "purge-c", tenant_cap=1000)
    aws.room_store.subscribe(identity, pid, "purge-c")
    aws.table.put({"PK": keys.project_pk(ready["tenantId"], pid), "SK": keys.secret_sk("TOKEN"), "ciphertext": "AQID"})
    assert list(aws.table.query_all(keys.project_pk(ready["tenantId"], pid)))

    body(projects(event_for("project.delete", project_id=pid)))

    assert list(aws.table.query_all(keys.project_pk(ready["tenantId"], pid))) == []
