"""A handler's trace: run as Lambda runs it, its AWS calls are subsegments and its tenant an annotation.

The handler runs in its own interpreter with Lambda's variables (LAMBDA_TASK_ROOT, the trace
header Lambda passes in _X_AMZN_TRACE_ID), against the session stack's moto; X-Ray's emitter
writes to a file instead of the daemon. Also: every log line of the invocation carries its
request id and the API Gateway request id as correlation id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cloutagent_dev.stack import join_environment
from tests.conftest import new_user

REPO = Path(__file__).resolve().parents[2]
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _all(entities):
    for entity in entities:
        yield entity
        yield from _all(entity.get("subsegments", []))


@pytest.fixture
def traced(ready, tmp_path):
    def invoke(function: str, event: dict) -> tuple[list[dict], list[dict], dict]:
        (tmp_path / "event.json").write_text(json.dumps(event))
        segments = tmp_path / "segments.jsonl"
        env = {**os.environ, **join_environment(ready), "LAMBDA_TASK_ROOT": str(tmp_path),
               "_X_AMZN_TRACE_ID": TRACE_HEADER, "POWERTOOLS_SERVICE_NAME": function,
               "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers/cloutagent/python")])}
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
        done = subprocess.run([sys.executable, "-m", "tests.integration.traced_invoke", function,
                               str(tmp_path / "event.json"), str(segments)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-3000:]
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        reply = next(line["reply"] for line in lines if "reply" in line)
        logs = [line for line in lines if "reply" not in line]
        entities = [json.loads(line) for line in segments.read_text().splitlines()] if segments.exists() else []
        return list(_all(entities)), logs, reply

    return invoke


def test_a_websocket_action_s_dynamodb_calls_are_subsegments_of_its_traced_handler(traced, event_for, ready):
    # GIVEN the projects function as Lambda runs it, with X-Ray sampling this request
    # WHEN a client lists its projects
    # (a tenant of its own: the dev tenant's project list, filled by the rest of the suite, can
    # outgrow one frame and then arrives in chunks, not as the route's answer)
    user = new_user(ready, f"traced-{uuid.uuid4().hex[:8]}@example.com")
    segments, logs, reply = traced("projects", event_for("project.list", tenant_id=user["tenantId"],
                                                         user_id=user["userId"]))

    # THEN the reply is the usual one
    assert json.loads(reply["body"])["type"] == "response"
    # AND the handler is a subsegment of Lambda's trace, annotated with its tenant
    handler = next(s for s in segments if s["name"] == "## handle")
    assert handler["trace_id"] == TRACE_HEADER.split(";")[0].removeprefix("Root=")
    assert handler["annotations"]["tenant_id"] == user["tenantId"]
    assert handler["annotations"]["ColdStart"] is True
    # AND each DynamoDB call it made is a subsegment of its own, named by service and operation
    dynamodb = [s for s in segments if s.get("namespace") == "aws" and s["name"] == "dynamodb"]
    assert dynamodb, [s["name"] for s in segments]
    assert {s["aws"]["operation"] for s in dynamodb} >= {"Query"}, [s["aws"] for s in dynamodb]
    assert all(s["aws"]["table_name"] == ready["tableName"] for s in dynamodb)
    # AND the response body stays out of the trace (it is tenants' data)
    assert "## handle response" not in json.dumps(handler.get("metadata", {}))


def test_every_log_line_of_an_invocation_carries_its_request_and_correlation_ids(traced, event_for):
    # GIVEN an action that logs (a refused one)
    event = event_for("project.get", project_id="p_does_not_exist")
    # WHEN it runs as Lambda runs it
    _, logs, reply = traced("projects", event)
    # THEN its log lines carry Lambda's request id, the cold start and API Gateway's request id
    assert json.loads(reply["body"])["type"] == "error"
    refused = [line for line in logs if line.get("message") == "request refused"]
    assert refused, logs
    assert refused[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert refused[0]["function_request_id"] and refused[0]["cold_start"] is True
    assert refused[0]["tenant_id"]
