"""Project webhooks in the template: the notifier reads the stream through the routes.json filter."""

from __future__ import annotations

import json

import pytest

from infra.definitions import load_definitions
from infra.stack import CONNECTION_POSTERS, TABLE_ACCESS
from tests.infra.cfn import function_ids, getatt

pytestmark = pytest.mark.infra

ROUTES = load_definitions().routes


def test_the_notifier_reads_the_table_stream_through_the_routes_json_filter(synth):
    notifier = function_ids(synth.resources, {"n": ROUTES.functions["notifier"].handler})["n"]
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": notifier}]
    (table_id,) = synth.of_type("AWS::DynamoDB::Table")
    assert getatt(mapping["EventSourceArn"]) == (table_id, "StreamArn")
    # GIVEN the filter as synthesized  THEN it is routes.json's, so the local poller applies the same one
    [pattern] = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == ROUTES.functions["notifier"].stream_filter == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"event": {"S": ["permission.request", "execution.finished"]}}},
    }
    # new records only, small batches, and a failing function skips records rather than blocking the shard
    assert mapping["StartingPosition"] == "LATEST" and mapping["BatchSize"] <= 10
    assert mapping["BisectBatchOnFunctionError"] is True and 0 < mapping["MaximumRetryAttempts"] <= 3
    assert mapping["MaximumRecordAgeInSeconds"] <= 3600


def test_the_local_poller_uses_the_same_filter_and_matches_what_lambda_would():
    from cloutagent_dev.streams import matches, stream_consumers

    assert stream_consumers() == {"notifier": ROUTES.functions["notifier"].stream_filter,
                                  "git_follow_up": ROUTES.functions["git_follow_up"].stream_filter}
    pattern = ROUTES.functions["notifier"].stream_filter

    def record(event_name: str, event: str | None) -> dict:
        image = {"PK": {"S": "T#t#P#p#EV"}, "SK": {"S": "000000000001"}, **({"event": {"S": event}} if event else {})}
        return {"eventName": event_name, "dynamodb": {"NewImage": image}}

    assert matches(pattern, record("INSERT", "permission.request"))
    assert matches(pattern, record("INSERT", "execution.finished"))
    assert not matches(pattern, record("MODIFY", "permission.request"))
    assert not matches(pattern, record("INSERT", "execution.message"))
    assert not matches(pattern, record("INSERT", None))  # a project or execution item
    assert not matches(pattern, {"eventName": "REMOVE", "dynamodb": {"OldImage": {}}})


def test_the_git_follow_up_reads_the_stream_for_finished_runs_only(synth):
    follow_up = function_ids(synth.resources, {"f": ROUTES.functions["git_follow_up"].handler})["f"]
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": follow_up}]
    [pattern] = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"event": {"S": ["execution.finished"]}}}}
    assert TABLE_ACCESS["git_follow_up"] == "read" and "git_follow_up" not in CONNECTION_POSTERS


def test_the_webhook_functions_get_the_table_access_they_need_and_no_more():
    assert TABLE_ACCESS["notifications"] == "write" and TABLE_ACCESS["notifier"] == "read"
    assert "notifications" in CONNECTION_POSTERS and "notifier" not in CONNECTION_POSTERS
