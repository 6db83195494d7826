"""AWS faults moto cannot raise, injected with botocore's Stubber or a failing wrapper."""

from __future__ import annotations

import asyncio
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cloutagent.adapters.connections import ApiGatewayConnections
from cloutagent.domain.identity import Identity, Role
from cloutagent.services.fanout import Fanout
from cloutagent.services.publisher import Publisher
from cloutagent_executor.relay import EventRelay
from functions.projects.handler import handler as projects


def _project(event_for) -> str:
    return json.loads(projects(event_for("project.create"))["body"])["data"]["project"]["projectId"]


def _subscribe(aws, ready, project_id: str, connection_id: str) -> None:
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner, connection_id=connection_id)
    aws.room_store.put_connection(identity, connection_id, tenant_cap=1000)
    aws.room_store.subscribe(identity, project_id, connection_id)


def _stubbed_connections():
    client = boto3.client("apigatewaymanagementapi", endpoint_url="https://example.invalid/prod", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_gone_on_post_drops_only_that_subscription_and_the_event_stays_in_history(aws, event_for, ready):
    # GIVEN a project with two subscribers, one of which is gone
    pid = _project(event_for)
    _subscribe(aws, ready, pid, "alive")
    _subscribe(aws, ready, pid, "gone")
    client, stub = _stubbed_connections()
    delivered = []

    def post(ConnectionId, Data):  # the stubber answers per call; route by connection
        if ConnectionId == "gone":
            raise ClientError({"Error": {"Code": "GoneException", "Message": "gone"}}, "PostToConnection")
        delivered.append(ConnectionId)
        return {}

    client.post_to_connection = post
    publisher = Publisher(aws.event_log, Fanout(aws.room_store, ApiGatewayConnections(client), aws.pool))

    # WHEN an event is published
    [event] = publisher.publish(ready["tenantId"], pid, [("project.updated", {"changed": ["x"]})])

    # THEN the live subscriber got it, the gone one is forgotten, and history has the event
    assert delivered == ["alive"]
    assert aws.room_store.subscribers(ready["tenantId"], pid) == ["alive"]
    stored, _ = aws.event_log.read(ready["tenantId"], pid, after_seq=event.seq - 1, limit=5)
    assert [e.seq for e in stored] == [event.seq]


class ThrottlingConnectionsApi:
    """A real HTTP @connections endpoint on 127.0.0.1 that answers 429 LimitExceeded N times."""

    def __init__(self, throttle_first: int):
        import http.server
        import threading

        outer = self
        self.posts = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts += 1
                throttled = outer.posts <= throttle_first
                body = b'{"message": "Rate exceeded"}' if throttled else b""
                self.send_response(429 if throttled else 200)
                if throttled:
                    self.send_header("x-amzn-ErrorType", "LimitExceededException")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/prod"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def connections_client(monkeypatch):
    """The platform's own @connections client (adapters.aws: botocore standard retries)."""
    from cloutagent.adapters import aws
    from cloutagent.settings import reset_settings

    def build(url: str):
        monkeypatch.setenv("CLOUTAGENT_CONNECTIONS_URL", url)
        reset_settings()
        # a client of its own (the cache is keyed by the URL): resetting the process's clients would
        # leave a container built earlier (another test's) on clients no call counter watches
        return aws.connections_api()

    yield build
    reset_settings()


def test_limit_exceeded_on_post_is_retried_by_botocore_then_delivered(connections_client):
    # GIVEN an endpoint that throttles the first two posts
    api = ThrottlingConnectionsApi(throttle_first=2)
    try:
        # WHEN the adapter posts once
        delivered = ApiGatewayConnections(connections_client(api.url)).post("c1", "hello")
    finally:
        api.close()
    # THEN botocore's retries got it through: three requests, no retry loop of our own on top
    assert delivered is True and api.posts == 3


def test_limit_exceeded_that_never_clears_gives_up_after_botocores_budget(connections_client):
    from cloutagent.adapters import aws

    api = ThrottlingConnectionsApi(throttle_first=100)
    try:
        with pytest.raises(ClientError) as raised:
            ApiGatewayConnections(connections_client(api.url)).post("c1", "hello")
    finally:
        api.close()
    # Exactly the client's configured attempts, not attempts multiplied by an adapter loop.
    assert raised.value.response["Error"]["Code"] == "LimitExceededException"
    assert api.posts == 1 + aws.CONNECTIONS_MAX_RETRIES


class ThrottlingDynamo:
    """Passes calls to the real (moto) client, but throttles the first N transactions."""

    def __init__(self, real, throttle_first: int):
        self.real = real
        self.remaining = throttle_first
        self.throttled = 0

    def transact_write_items(self, **kwargs):
        if self.remaining > 0:
            self.remaining -= 1
            self.throttled += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "TransactWriteItems")
        return self.real.transact_write_items(**kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


async def test_throttled_event_batches_are_retried_and_nothing_is_lost_or_reordered(aws, event_for, ready, monkeypatch):
    from cloutagent.adapters.dynamo.events import DynamoEventLog
    from cloutagent.adapters.dynamo.table import Table

    monkeypatch.setattr("cloutagent_executor.relay.asyncio.sleep", _no_sleep)
    pid = _project(event_for)
    flaky = ThrottlingDynamo(aws.clients.dynamodb(), throttle_first=3)
    log = DynamoEventLog(Table(flaky, aws.settings.table_name), retention_days=1)
    relay = EventRelay(log, _KeptBatches(), ready["tenantId"], pid, "x_throttled").start()
    for i in range(120):
        await relay.push({"kind": "text", "text": f"m{i}"})
    await relay.close()

    assert flaky.throttled == 3
    stored, _ = aws.event_log.read(ready["tenantId"], pid, after_seq=1, limit=500)
    assert [e.data["text"] for e in stored] == [f"m{i}" for i in range(120)]
    assert [e.seq for e in stored] == list(range(2, 122))


class _KeptBatches:
    """The relay's fan-out port, keeping what it is handed (no watcher in this test)."""

    def __init__(self):
        self.batches = []

    def after_stored(self, events):
        self.batches.append(events)

    def busy(self):
        return False

    async def close(self):
        pass


_real_sleep = asyncio.sleep


async def _no_sleep(seconds):
    await _real_sleep(0)


def test_a_run_task_failure_finishes_the_execution_as_failed_and_frees_the_project(aws, event_for, ready, capsys):
    from cloutagent.protocol.actions import Execute
    from cloutagent.services.executions import ExecutionService

    from cloutagent.adapters.ecs_launcher import EcsLauncher

    ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ecs)
    stub.add_client_error("run_task", service_error_code="ClusterNotFoundException", http_status_code=400)
    stub.activate()
    pid = _project(event_for)
    service = ExecutionService(aws.project_store, aws.execution_store, aws.publisher, EcsLauncher(ecs, aws.settings))
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner)
    execution = service.start(identity, Execute(projectId=pid, prompt="hi"))
    stored = aws.execution_store.get(ready["tenantId"], pid, execution.execution_id)
    assert stored.status == "failed" and "ClusterNotFoundException" in stored.error
    assert aws.project_store.get(ready["tenantId"], pid).state == "idle"
    # and the execution-failures alarm sees it: an EMF data point, its tenant as metadata on the same
    # line, never a dimension (each tenant would be a custom metric of its own)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failed = [m for m in emf if m.get("ExecutionFailed") == [1.0] or m.get("ExecutionFailed") == 1.0]
    assert failed and failed[0]["tenant"] == ready["tenantId"]
    assert all("tenant" not in dims for dims in failed[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"])
    assert failed[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "cloutagent"
