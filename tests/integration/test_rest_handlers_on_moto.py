"""REST v1 requests (the sample events in events/rest.*.json) through the same function handlers
as the WebSocket actions, against moto: the same answers, as HTTP, with AWS call budgets."""

from __future__ import annotations

import json

from functions.projects.handler import handler as projects
from tests.conftest import new_user


def test_a_rest_get_answers_the_project_with_one_read_after_the_key_lookup(aws, event_for, count_aws_calls, ready):
    # GIVEN a project of a fresh tenant, and its API key
    user = new_user(ready, "rest-calls@example.com")
    created = projects(event_for("project.create", tenant_id=user["tenantId"], user_id=user["userId"]))
    pid = json.loads(created["body"])["data"]["project"]["projectId"]

    # WHEN the sample REST request for it runs through the projects function, twice
    with count_aws_calls() as first_calls:
        projects(event_for("rest.project.get", project_id=pid, api_key=user["apiKey"]))
    with count_aws_calls() as calls:
        reply = projects(event_for("rest.project.get", project_id=pid, api_key=user["apiKey"]))

    # THEN it is the project as JSON, for one key lookup (GSI query), one consistent GetItem of the key
    # item (the index can lag a revocation: issue #20) and one GetItem of the project
    assert reply["statusCode"] == 200 and reply["headers"]["content-type"] == "application/json"
    assert json.loads(reply["body"])["project"]["projectId"] == pid
    reads = {name: n for name, n in calls.calls.items() if name != "dynamodb.UpdateItem"}
    assert reads == {"dynamodb.Query": 1, "dynamodb.GetItem": 2}, calls.calls
    # AND the key's lastUsedAt is written by the first request only (at most once per interval per key)
    assert first_calls.calls["dynamodb.UpdateItem"] == calls.calls.get("dynamodb.UpdateItem", 0) + 1, first_calls.calls


def test_a_rest_request_without_a_key_is_refused_before_any_aws_call(aws, event_for, count_aws_calls):
    event = event_for("rest.project.get", project_id="p_1", api_key="")
    event["headers"].pop("x-api-key")
    with count_aws_calls() as calls:
        reply = projects(event)
    assert reply["statusCode"] == 401
    assert json.loads(reply["body"])["error"]["code"] == "UNAUTHORIZED"
    assert calls.total == 0


def test_the_sample_execute_request_is_served_by_the_function_routes_json_names():
    from cloutagent import definitions
    from cloutagent.gateway.rest import rest_routes
    from cloutagent_dev.events import load_event

    event = load_event("rest.execute", project_id="p_1", api_key="cla_x")
    route = rest_routes()[event["routeKey"]]
    assert definitions.routes()["routes"][route.action] == "executions"
