"""The executor gets Claude credentials as an ECS secret, never as plain environment."""

import json

import pytest

pytestmark = pytest.mark.infra


def test_the_anthropic_key_reaches_the_executor_only_as_an_ecs_secret(synth):
    [task] = synth.of_type("AWS::ECS::TaskDefinition").values()
    [container] = task["Properties"]["ContainerDefinitions"]
    assert [s["Name"] for s in container.get("Secrets", [])] == ["ANTHROPIC_API_KEY"]
    assert all("ANTHROPIC" not in e["Name"] for e in container.get("Environment", []))


def test_the_usage_reporter_wakes_only_for_pending_meter_records_and_is_swept_every_5_minutes(synth):
    [mapping] = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                 if "METER#" in json.dumps(m["Properties"].get("FilterCriteria"))]
    [pattern] = mapping["Properties"]["FilterCriteria"]["Filters"]
    assert '"prefix":"METER#"' in pattern["Pattern"].replace(" ", "") and "pending" in pattern["Pattern"]
    schedules = [r for r in synth.of_type("AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    assert [r["Properties"]["ScheduleExpression"] for r in schedules] == ["rate(5 minutes)"]
