"""AWS calls per action: the real handlers in this process against a local stack's moto, every
call counted with botocore `before-call` hooks (as tests/integration does; those tests assert)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Callable, Iterator

from bench.awscount import counting
from bench.stack import local_stack, pointed_at
from bench.stats import Row

RELAY_EVENTS = 1000


class RecordingConnections:
    """An in-memory @connections sink: relaying is counted in DynamoDB calls, not deliveries."""

    def __init__(self) -> None:
        self.posts = 0

    async def post(self, connection_id: str, frame: Any) -> bool:  # the executor's poster port
        self.posts += 1
        return True

    async def close(self) -> None:
        pass


def _body(result: dict) -> dict:
    reply = json.loads(result["body"])
    assert reply.get("type") == "response", reply
    return reply["data"]


def _describe(calls: dict[str, int]) -> str:
    return ", ".join(f"{name.split('.', 1)[1]}×{n}" for name, n in sorted(calls.items())) or "none"


@contextlib.contextmanager
def _ecs_launcher(container: Any) -> Iterator[Any]:
    """The executions handler with the ECS launcher, against a cluster in moto (as the integration test)."""
    import functions.executions.handler as executions

    from cloutagent.wiring import Container

    ecs = container.clients.client("ecs")
    ecs.create_cluster(clusterName="cloutagent-bench")
    ecs.register_task_definition(family="cloutagent-executor-bench", networkMode="bridge", containerDefinitions=[
        {"name": "executor", "image": "cloutagent/executor:bench", "essential": True, "cpu": 1024, "memory": 2048}])
    settings = container.settings.model_copy(update={
        "ecs_cluster": "cloutagent-bench", "task_definition": "cloutagent-executor-bench",
        "subnets": "", "security_groups": ""})
    ecs_container = Container(settings=settings, clients=container.clients)
    original = executions.get_container
    executions.get_container = lambda: ecs_container
    try:
        yield ecs_container
    finally:
        executions.get_container = original


def _relay(container: Any, ready: dict, project_id: str) -> dict[str, int]:
    from cloutagent.domain.identity import Identity, Role
    from cloutagent_executor.broadcast import Broadcaster, LiveFanout
    from cloutagent_executor.relay import EventRelay

    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner, connection_id="bench-sub")
    container.room_store.put_connection(identity, "bench-sub", tenant_cap=1000)
    container.room_store.subscribe(identity, project_id, "bench-sub")
    async def burst() -> None:
        fanout = LiveFanout(container.room_store, Broadcaster(RecordingConnections(), lambda cid: None),
                            ready["tenantId"], project_id)
        relay = EventRelay(container.event_log, fanout, ready["tenantId"], project_id, "x_bench").start()
        for i in range(RELAY_EVENTS):
            await relay.push({"kind": "text", "text": f"line {i}"})
        await relay.close()

    with counting(container) as counter:
        asyncio.run(burst())
    return dict(counter.calls)


def _count(container: Any, call: Callable[[], Any], *services: str) -> tuple[Any, dict[str, int]]:
    with counting(container, *services) as counter:
        result = call()
    return result, dict(counter.calls)


def _measure(ready: dict) -> dict[str, dict[str, int]]:
    from cloutagent_dev.events import load_event
    from functions.connect.handler import handler as connect
    from functions.executions.handler import handler as executions
    from functions.projects.handler import handler as projects
    from functions.rooms.handler import handler as rooms
    from functions.session.handler import handler as session

    def event(name: str, **values: Any) -> dict:
        defaults = {"tenant_id": ready["tenantId"], "user_id": ready["userId"], "role": "owner",
                    "connection_id": "bench-calls", "project_id": "none"}
        return load_event(name, **{**defaults, **values})

    calls: dict[str, dict[str, int]] = {}
    with pointed_at(ready) as container:
        session(event("ping"))  # warm: clients exist, nothing lazy is left to count
        _, calls["ping"] = _count(container, lambda: session(event("ping")))
        _body(projects(event("project.create")))
        created, calls["project.create"] = _count(container, lambda: _body(projects(event("project.create"))))
        project_id = created["project"]["projectId"]
        _, calls["project.get"] = _count(container, lambda: _body(projects(event("project.get", project_id=project_id))))
        assert connect(event("connect")) == {"statusCode": 200}
        _, calls["project.join"] = _count(container, lambda: _body(rooms(event("project.join", project_id=project_id))))
        _, calls["messages.get"] = _count(container, lambda: _body(rooms(event("messages.get", project_id=project_id))))
        with _ecs_launcher(container):
            _, calls["execute"] = _count(container, lambda: _body(executions(event("execute", project_id=project_id))),
                                         "dynamodb", "ecs")
        other = _body(projects(event("project.create")))["project"]["projectId"]
        calls["relay"] = _relay(container, ready, other)
    return calls


RATE = 1  # the rate-limit window's UpdateItem (domain/rate_limits.py) on every counted action


def run() -> dict:
    with local_stack() as stack:
        calls = _measure(stack.info)
    total = {action: sum(c.values()) for action, c in calls.items()}
    launches = calls["execute"].get("ecs.RunTask", 0)
    writes = calls["relay"].get("dynamodb.TransactWriteItems", 0)
    queries = calls["relay"].get("dynamodb.Query", 0)
    scans = {action: n for action, c in calls.items() for name, n in c.items() if name.endswith(".Scan")}
    rows = [
        Row("AWS calls: ping", f"{total['ping']} ({_describe(calls['ping'])})", "0", total["ping"] == 0),
        # every counted action also adds itself to its rate-limit window: one UpdateItem (RATE)
        Row("AWS calls: project.get", f"{total['project.get']} ({_describe(calls['project.get'])})", "1 + rate",
            total["project.get"] == 1 + RATE),
        Row("AWS calls: project.create", f"{total['project.create']} ({_describe(calls['project.create'])})",
            "≤ 3 + rate", total["project.create"] <= 3 + RATE),
        Row("AWS calls: execute", f"{total['execute'] - launches} + {launches} launch ({_describe(calls['execute'])})",
            "≤ 4 + rate, plus the launch", total["execute"] - launches <= 4 + RATE and launches == 1),
        Row(f"AWS calls: relaying {RELAY_EVENTS} events (1 subscriber)",
            f"{writes} writes = 1 per {RELAY_EVENTS / max(writes, 1):.0f} events; {queries} subscriber queries for "
            f"{writes} batches ({_describe(calls['relay'])})",
            "≤ 1 write per 25 events, ≤ 1 query per batch", 0 < writes <= RELAY_EVENTS / 25 and queries <= writes),
        Row("AWS calls: project.join, messages.get",
            f"{total['project.join']} ({_describe(calls['project.join'])}), "
            f"{total['messages.get']} ({_describe(calls['messages.get'])})", "-", None),
        Row("AWS calls: Scan, in any of the above", str(sum(scans.values())), "0", not scans),
    ]
    return {"rows": rows, "data": calls}
