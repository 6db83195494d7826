"""What lets an operator see the platform: traces on every function, and the alarms on its streams."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from cloutagent import definitions
from infra.app import cdk_json_context
from infra.constructs.monitoring import USAGE_STREAM_MAX_AGE

pytestmark = pytest.mark.infra


def test_every_function_is_traced_by_x_ray(synth):
    functions = synth.of_type("AWS::Lambda::Function")
    untraced = [k for k, f in functions.items() if f["Properties"].get("TracingConfig", {}).get("Mode") != "Active"]
    # CDK's own helper functions (custom resources) are not ours; the platform's all carry a service name
    ours = [k for k in untraced if "POWERTOOLS_SERVICE_NAME" in str(functions[k]["Properties"].get("Environment"))]
    assert ours == []


def test_every_function_runs_with_the_shared_function_environment(synth):
    # routes.json functionEnvironment (PYDANTIC_DISABLE_PLUGINS keeps pydantic's plugin scan out of
    # every cold start): the local stack and the cold-start bench set the same variables.
    shared = definitions.function_environment()
    assert shared["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    functions = synth.of_type("AWS::Lambda::Function")
    ours = {k: f["Properties"]["Environment"]["Variables"] for k, f in functions.items()
            if "POWERTOOLS_SERVICE_NAME" in str(f["Properties"].get("Environment"))}
    assert len(ours) == len(definitions.routes()["functions"])
    missing = {k: name for k, variables in ours.items() for name, value in shared.items() if variables.get(name) != value}
    assert missing == {}


def test_the_usage_stream_alarms_when_its_consumer_falls_behind(synth):
    # GIVEN the usage_reporter reads the usage outbox off the table's stream
    prefix = f"cloutagent-{cdk_json_context()['stage']}-"
    (alarm,) = synth.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": f"{prefix}usage-stream-iterator-age"}}
    ).values()
    props = alarm["Properties"]
    # THEN the alarm watches that function's IteratorAge, its oldest record, and pages
    assert props["Namespace"] == "AWS/Lambda" and props["MetricName"] == "IteratorAge"
    assert props["Statistic"] == "Maximum"
    assert props["Threshold"] == USAGE_STREAM_MAX_AGE.to_milliseconds()
    (dimension,) = props["Dimensions"]
    assert dimension["Name"] == "FunctionName"
    assert "UsageReporter" in str(dimension["Value"])
    assert props["AlarmActions"] and props["OKActions"]
    # AND that function is the one the table's stream feeds
    synth.template.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "FunctionName": dimension["Value"], "EventSourceArn": Match.any_value(),
    })
