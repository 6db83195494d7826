"""The executor pool's rules that need no AWS: what a pool executor is told, what a claim may
carry, how many pool tasks a launch starts, and which requests the local moto lets past its lock."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from cloutagent.adapters.claims import Claim
from cloutagent.adapters.ecs_launcher import pool_tasks_to_start
from cloutagent_dev.moto_serve import is_sqs
from cloutagent_executor.pool import RUN_MODULES
from cloutagent_executor.settings import ExecutorSettings

IDS = {"tenant_id": "t_1", "project_id": "p_1", "execution_id": "x_1"}


def test_an_executor_with_ids_is_launched_and_one_with_only_a_queue_is_pooled(monkeypatch):
    for name in ("CLOUTAGENT_TENANT_ID", "CLOUTAGENT_PROJECT_ID", "CLOUTAGENT_EXECUTION_ID", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert not ExecutorSettings(**IDS).pooled
    assert ExecutorSettings(claim_queue_url="http://sqs/q").pooled


@pytest.mark.parametrize("given", [{}, {"tenant_id": "t_1"}, {"tenant_id": "t_1", "execution_id": "x_1",
                                                                "claim_queue_url": "http://sqs/q"}])
def test_some_ids_or_neither_ids_nor_a_queue_is_refused(monkeypatch, given):
    for name in ("CLOUTAGENT_TENANT_ID", "CLOUTAGENT_PROJECT_ID", "CLOUTAGENT_EXECUTION_ID", "CLOUTAGENT_CLAIM_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError):
        ExecutorSettings(**given)


def test_an_executor_started_with_nothing_says_what_to_set():
    # GIVEN an environment with no ids and no claim queue
    env = {"PATH": "/usr/bin:/bin"}
    # WHEN the executor starts  THEN it exits at once, naming both ways to start it
    done = subprocess.run([sys.executable, "-m", "cloutagent_executor"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "CLOUTAGENT_EXECUTION_ID" in done.stderr and "CLOUTAGENT_CLAIM_QUEUE_URL" in done.stderr


def test_a_claim_gives_the_pool_executor_its_ids_and_a_config_dir_of_its_own(monkeypatch):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    pool = ExecutorSettings(claim_queue_url="http://sqs/q", claude_config_root="/state/claude-config")
    run = pool.claimed("t_1", "p_1", "x_1")
    assert (run.tenant_id, run.project_id, run.execution_id) == ("t_1", "p_1", "x_1") and not run.pooled
    assert run.claude_config_dir == "/state/claude-config/x_1"
    assert pool.tenant_id == "" and pool.claude_config_dir == ""  # the pool's own settings are untouched
    # on Fargate there is no root: the run makes its own, as a launched one does (confinement.py)
    assert ExecutorSettings(claim_queue_url="http://sqs/q").claimed("t_1", "p_1", "x_1").claude_config_dir == ""


@pytest.mark.parametrize("bad", ["", "../../etc", "x/y", "a" * 129, "x 1"])
def test_a_claim_carries_plain_ids_only(bad):
    with pytest.raises(ValidationError):
        Claim.model_validate({"tenantId": "t_1", "projectId": "p_1", "executionId": bad})
    claim = Claim.model_validate({"tenantId": "t_1", "projectId": "p_1", "executionId": "x_01abc", "prompt": "no"})
    assert claim.to_wire() == {"tenantId": "t_1", "projectId": "p_1", "executionId": "x_01abc"}


@pytest.mark.parametrize(("size", "running", "started"), [(2, 2, 1), (2, 5, 1), (2, 1, 2), (2, 0, 3), (1, 0, 2)])
def test_a_launch_replaces_the_task_its_claim_takes_and_makes_up_a_short_pool(size, running, started):
    assert pool_tasks_to_start(size, running) == started


@pytest.mark.parametrize(("environ", "sqs"), [
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sqs/aws4_request, ..."}, True),
    ({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, True),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, ..."}, False),
    ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"}, False),
    ({}, False),
])
def test_only_sqs_requests_pass_beside_the_local_motos_lock(environ, sqs):
    assert is_sqs(environ) is sqs


def test_a_claims_config_dir_is_made_at_the_claim_and_removed_at_its_end(tmp_path, monkeypatch):
    from cloutagent_executor.pool import claim_config_dir

    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)  # restored after the test
    run = ExecutorSettings(claim_queue_url="http://sqs/q", claude_config_root=str(tmp_path)).claimed("t_1", "p_1", "x_1")
    assert not (tmp_path / "x_1").exists()
    with claim_config_dir(run):
        # made now, and where an unsandboxed CLI (which inherits this environment) will look
        assert (tmp_path / "x_1").is_dir() and os.environ["CLAUDE_CONFIG_DIR"] == str(tmp_path / "x_1")
        (tmp_path / "x_1" / "session.jsonl").write_text("{}")
    assert not (tmp_path / "x_1").exists()
    assert "CLAUDE_CONFIG_DIR" not in os.environ  # nothing later is pointed at the removed directory


def test_on_fargate_the_claimer_names_itself_by_its_task_arn_from_the_metadata_endpoint():
    import http.server
    import threading

    from cloutagent_executor.pool import own_task_ref

    arn = "arn:aws:ecs:us-east-1:123456789012:task/cloutagent-prod/0abc"

    class Metadata(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            body = json.dumps({"TaskARN": arn} if self.path == "/v4/abc/task" else {}).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_port}/v4/abc"
        assert own_task_ref(ExecutorSettings(claim_queue_url="q", ECS_CONTAINER_METADATA_URI_V4=uri)) == arn
    finally:
        server.shutdown()
    # and on a laptop, by its pid
    assert own_task_ref(ExecutorSettings(claim_queue_url="q")) == f"local:{os.getpid()}"


@pytest.mark.parametrize("module", RUN_MODULES)
def test_every_module_a_pool_executor_warms_up_still_exists(module):
    # a rename elsewhere would quietly move its import back onto a warm run's critical path
    importlib.import_module(module)
