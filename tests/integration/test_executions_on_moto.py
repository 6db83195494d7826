"""Executions on the AWS code path: RunTask on moto's ECS, the task-state rule, the relay budget."""

from __future__ import annotations

import asyncio
import json

import pytest

from cloutagent.settings import get_settings
from cloutagent.wiring import Container


def body(result):
    return json.loads(result["body"])


@pytest.fixture(scope="module")
def ecs_container(aws):
    """A container whose launcher is the ECS adapter, against a cluster in moto."""
    ecs = aws.clients.client("ecs")
    ecs.create_cluster(clusterName="cloutagent-it")
    ecs.register_task_definition(
        family="cloutagent-executor-it", networkMode="bridge",
        containerDefinitions=[{"name": "executor", "image": "cloutagent/executor:test", "essential": True,
                               "cpu": 1024, "memory": 2048}],
    )
    settings = get_settings().model_copy(update={
        "ecs_cluster": "cloutagent-it", "task_definition": "cloutagent-executor-it",
        # No subnets and a "bridge" task definition: moto 5.2 crashes creating the awsvpc ENI in
        # run_task (NetworkInterface has no private_dns_name). Infra always sets subnets/awsvpc.
        "subnets": "", "security_groups": "",
    })
    return Container(settings=settings, clients=aws.clients)


@pytest.fixture
def execute_via(ecs_container, event_for, monkeypatch):
    import functions.executions.handler as executions_handler
    import functions.projects.handler as projects_handler

    monkeypatch.setattr(executions_handler, "get_container", lambda: ecs_container)
    monkeypatch.setattr(projects_handler, "get_container", lambda: ecs_container)

    def create_project() -> str:
        return body(projects_handler.handler(event_for("project.create")))["data"]["project"]["projectId"]

    return create_project, executions_handler.handler


def test_execute_runs_a_fargate_task_with_ids_only_and_within_its_call_budget(ecs_container, execute_via, event_for, count_aws_calls):
    create_project, executions = execute_via
    pid = create_project()

    with count_aws_calls("dynamodb", "ecs") as counter:
        reply = body(executions(event_for("execute", project_id=pid)))
    execution_id = reply["data"]["execution"]["executionId"]
    assert reply["data"]["execution"]["status"] == "starting"
    launches = counter.calls.pop("ecs.RunTask")
    assert launches == 1
    # the budget: execute <= 4 calls plus the launch (project read, plan check — tenant, month's
    # spend and running count in one Query — the claiming transaction, the subscriber query), and
    # the rate-limit count
    assert counter.calls["dynamodb.UpdateItem"] == 1 and counter.total <= 5, counter.calls

    task = ecs_container.clients.client("ecs").list_tasks(cluster="cloutagent-it", startedBy=execution_id[:36])
    described = ecs_container.clients.client("ecs").describe_tasks(cluster="cloutagent-it", tasks=task["taskArns"])
    overrides = described["tasks"][0]["overrides"]
    text = json.dumps(overrides)
    assert len(text) < 8192 and "dark mode" not in text  # the prompt is read from DynamoDB, never sent
    env = {e["name"]: e["value"] for e in overrides["containerOverrides"][0]["environment"]}
    assert env["CLOUTAGENT_EXECUTION_ID"] == execution_id and env["CLOUTAGENT_PROJECT_ID"] == pid

    stored = body(executions(event_for("execution.get", project_id=pid, execution_id=execution_id)))["data"]["execution"]
    assert stored["prompt"].startswith("Add a dark mode") and stored["maxCostUsd"] == 1.5 and "handle" not in stored


def test_a_task_that_stops_without_finishing_is_finished_as_failed_once(ecs_container, execute_via, event_for, ready):
    from functions.task_state import handler as task_state

    create_project, executions = execute_via
    pid = create_project()
    execution_id = body(executions(event_for("execute", project_id=pid)))["data"]["execution"]["executionId"]
    stopped = event_for("task_state", project_id=pid, execution_id=execution_id)

    original = task_state.get_container
    task_state.get_container = lambda: ecs_container
    try:
        assert task_state.handler(stopped) == {"finished": True}
        assert task_state.handler(stopped) == {"finished": False}  # EventBridge retries are harmless
    finally:
        task_state.get_container = original

    project = ecs_container.project_store.get(ready["tenantId"], pid)
    assert project.state == "idle" and project.execution_id is None
    execution = ecs_container.execution_store.get(ready["tenantId"], pid, execution_id)
    assert execution.status == "failed" and "exit code 137" in execution.error


def test_a_launch_failure_finishes_the_execution_as_failed_and_frees_the_project(ecs_container, execute_via, event_for, ready):
    create_project, executions = execute_via
    pid = create_project()
    broken = Container(settings=ecs_container.settings.model_copy(update={"ecs_cluster": "no-such-cluster"}),
                       clients=ecs_container.clients)
    import functions.executions.handler as executions_handler

    executions_handler.get_container = lambda: broken
    try:
        reply = body(executions(event_for("execute", project_id=pid)))
    finally:
        executions_handler.get_container = lambda: ecs_container
    execution_id = reply["data"]["execution"]["executionId"]
    assert broken.execution_store.get(ready["tenantId"], pid, execution_id).status == "failed"
    assert broken.project_store.get(ready["tenantId"], pid).state == "idle"


class RecordingPoster:
    """The executor's poster port (cloutagent_executor.poster): keeps what it was given."""

    def __init__(self):
        self.posts: list[tuple[str, str]] = []

    async def post(self, connection_id, frame) -> bool:
        self.posts.append((connection_id, frame.text))
        return True

    async def close(self) -> None:
        pass


async def test_relaying_a_burst_of_1000_events_costs_one_write_per_25_and_reads_the_room_only_when_it_may_have_changed(
        aws, event_for, count_aws_calls, ready):
    from cloutagent.domain.identity import Identity, Role
    from cloutagent_executor.broadcast import ROOM_MAX_AGE_SECONDS, Broadcaster, LiveFanout
    from cloutagent_executor.relay import EventRelay
    from functions.projects.handler import handler as projects

    pid = body(projects(event_for("project.create")))["data"]["project"]["projectId"]
    sink = RecordingPoster()
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner, connection_id="sub-1")
    aws.room_store.put_connection(identity, "sub-1", tenant_cap=1000)
    aws.room_store.subscribe(identity, pid, "sub-1")
    fanout = LiveFanout(aws.room_store, Broadcaster(sink, on_gone=lambda cid: None), ready["tenantId"], pid)

    loop = asyncio.get_running_loop()
    with count_aws_calls() as counter:
        started = loop.time()
        relay = EventRelay(aws.event_log, fanout, ready["tenantId"], pid, "x_burst").start()
        for i in range(1000):
            await relay.push({"kind": "text", "text": f"line {i}"})
        await relay.close()
        seconds = loop.time() - started

    writes = counter.calls["dynamodb.TransactWriteItems"]
    queries = counter.calls["dynamodb.Query"]
    assert writes <= 1000 / 25, counter.calls
    # Nobody else wrote to the project: the room is read for the first batch, then once per
    # ROOM_MAX_AGE_SECONDS at most, never once per batch.
    assert queries == fanout.room_reads <= 1 + seconds / ROOM_MAX_AGE_SECONDS and queries <= writes
    assert set(counter.calls) <= {"dynamodb.TransactWriteItems", "dynamodb.Query", "dynamodb.GetItem"}
    frames = [json.loads(t) for _, t in sink.posts]
    delivered = [e["data"]["text"] for f in frames for e in (f["events"] if f["type"] == "events" else [f])]
    assert delivered == [f"line {i}" for i in range(1000)]
    # a few POSTs per stored batch (its events packed into frames under 32 KB), not one per event,
    # and no chunks: only an event too big for a frame of its own is chunked
    assert {f["type"] for f in frames} <= {"event", "events"}
    assert writes <= len(frames) <= 1000 / 25


async def test_a_watcher_who_joins_while_a_run_streams_gets_every_batch_stored_after_the_join(aws, event_for, ready):
    from cloutagent.domain.identity import Identity, Role
    from cloutagent_executor.broadcast import Broadcaster, LiveFanout
    from cloutagent_executor.relay import EventRelay
    from functions.projects.handler import handler as projects

    pid = body(projects(event_for("project.create")))["data"]["project"]["projectId"]
    tenant = ready["tenantId"]
    sink = RecordingPoster()

    def join(connection_id: str) -> int:
        """What RoomService.join stores (its own broadcast would find no such socket and drop it)."""
        who = Identity(tenant_id=tenant, user_id=ready["userId"], role=Role.owner, connection_id=connection_id)
        aws.room_store.put_connection(who, connection_id, tenant_cap=1000)
        aws.room_store.subscribe(who, pid, connection_id)
        [event] = aws.event_log.append(tenant, pid, [("member.joined", {"connectionId": connection_id})])
        return event.seq

    join("early")
    fanout = LiveFanout(aws.room_store, Broadcaster(sink, on_gone=lambda cid: None), tenant, pid)
    relay = EventRelay(aws.event_log, fanout, tenant, pid, "x_join").start()
    await relay.push({"kind": "text", "text": "before"})
    for _ in range(500):  # until "before" is stored and posted
        if sink.posts:
            break
        await asyncio.sleep(0.01)
    joined_seq = join("late")  # another writer: member.joined moves the log
    await relay.push({"kind": "text", "text": "after"})
    await relay.close()

    def texts(connection_id: str) -> list[str]:
        frames = [json.loads(t) for cid, t in sink.posts if cid == connection_id]
        return [e["data"]["text"] for f in frames for e in (f["events"] if f["type"] == "events" else [f])]

    assert texts("early") == ["before", "after"]
    assert texts("late") == ["after"]  # stored after its join (seq > lastSeq it was given): pushed to it
    stored, _ = aws.event_log.read(tenant, pid, after_seq=joined_seq, limit=10)
    assert [e.data.get("text") for e in stored] == ["after"]
    assert fanout.room_reads == 2


def test_kill_finds_the_task_by_execution_id_and_stops_it(ecs_container, execute_via, event_for, ready):
    create_project, executions = execute_via
    pid = create_project()
    execution_id = body(executions(event_for("execute", project_id=pid)))["data"]["execution"]["executionId"]
    reply = body(executions(event_for("agent.kill", project_id=pid)))
    assert reply["data"] == {"executionId": execution_id, "status": "cancelling"}
    ecs = ecs_container.clients.client("ecs")
    [task_arn] = ecs.list_tasks(cluster="cloutagent-it", startedBy=execution_id[:36], desiredStatus="STOPPED")["taskArns"] or \
        ecs.list_tasks(cluster="cloutagent-it", startedBy=execution_id[:36])["taskArns"]
    [task] = ecs.describe_tasks(cluster="cloutagent-it", tasks=[task_arn])["tasks"]
    assert task["desiredStatus"] == "STOPPED" and "killed by" in task.get("stoppedReason", "")
