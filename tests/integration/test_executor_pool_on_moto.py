"""The executor pool on the AWS code path: the claim queue in moto's SQS over HTTP, pool tasks on
moto's ECS, claim records in the stack's table, and the local moto's lock left to other calls."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from cloutagent.adapters.claims import Claim, ClaimRecords, SqsClaimQueue
from cloutagent.adapters.ecs_launcher import POOL_STARTED_BY, EcsLauncher
from cloutagent.domain.executions import Execution
from cloutagent.ids import new_id, now_iso
from cloutagent.settings import get_settings


@pytest.fixture(scope="module")
def queue(aws):
    """A claim queue of this module's own: nothing else polls it."""
    sqs = aws.clients.client("sqs")
    url = sqs.create_queue(QueueName=f"claims-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return SqsClaimQueue(sqs, url)


@pytest.fixture(scope="module")
def cluster(aws):
    ecs = aws.clients.client("ecs")
    ecs.create_cluster(clusterName="cloutagent-pool-it")
    ecs.register_task_definition(
        family="cloutagent-executor-pool-it", networkMode="bridge",
        containerDefinitions=[{"name": "executor", "image": "cloutagent/executor:test", "essential": True,
                               "cpu": 1024, "memory": 2048}],
    )
    return ecs


def launcher(aws, cluster, queue, pool_size: int) -> EcsLauncher:
    settings = get_settings().model_copy(update={
        "ecs_cluster": "cloutagent-pool-it", "task_definition": "cloutagent-executor-pool-it",
        "subnets": "", "security_groups": "",  # moto 5.2 cannot make awsvpc ENIs (see test_executions_on_moto)
        "executor_pool_size": pool_size,
    })
    return EcsLauncher(cluster, settings, claims=queue if pool_size else None,
                       claimers=ClaimRecords(aws.table) if pool_size else None)


def pool_tasks(cluster) -> list[dict]:
    arns = cluster.list_tasks(cluster="cloutagent-pool-it", startedBy=POOL_STARTED_BY,
                              desiredStatus="RUNNING")["taskArns"]
    return cluster.describe_tasks(cluster="cloutagent-pool-it", tasks=arns)["tasks"] if arns else []


def stored_execution(aws, ready) -> Execution:
    """An execution item in the stack's table, as ``execute`` writes it."""
    from cloutagent.adapters.dynamo.executions import put_execution_op

    execution = Execution(tenant_id=ready["tenantId"], project_id=new_id("p_"), execution_id=new_id("x_"),
                          prompt="hi", created_by=ready["userId"], created_at=now_iso())
    aws.table.transact([put_execution_op(execution)])
    return execution


def drain(queue: SqsClaimQueue) -> list[Claim]:
    claims = []
    while (claim := queue.receive(0)) is not None:
        queue.delete(claim)
        claims.append(claim)
    return claims


def test_a_pooled_launch_queues_ids_only_and_keeps_the_pool_full(aws, cluster, queue, ready):
    # GIVEN a pool of 2 with no task running yet (the first launch after a deploy)
    pooled = launcher(aws, cluster, queue, pool_size=2)
    execution = stored_execution(aws, ready)
    # WHEN an execution is launched
    ref = pooled.launch(execution)
    # THEN its claim is queued with its ids and nothing else
    [message] = queue.client.receive_message(QueueUrl=queue.queue_url, MaxNumberOfMessages=10)["Messages"]
    queue.client.delete_message(QueueUrl=queue.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert json.loads(message["Body"]) == {"tenantId": execution.tenant_id, "projectId": execution.project_id,
                                           "executionId": execution.execution_id}
    assert ref == f"claim:{execution.execution_id}"
    # AND 3 pool tasks started (one takes the claim, two stay idle), none of them told anything of a tenant
    tasks = pool_tasks(cluster)
    assert len(tasks) == 3
    assert all(not t.get("overrides", {}).get("containerOverrides") for t in tasks)
    assert all(not t.get("tags") for t in tasks)

    # WHEN the next execution is launched  THEN one task replaces the one its claim takes
    pooled.launch(stored_execution(aws, ready))
    assert len(drain(queue)) == 1 and len(pool_tasks(cluster)) == 4


def test_without_a_pool_a_launch_runs_the_executions_own_task_as_before(aws, cluster, queue, ready):
    execution = stored_execution(aws, ready)
    cold = launcher(aws, cluster, queue, pool_size=0)
    before = len(pool_tasks(cluster))
    arn = cold.launch(execution)
    [task] = cluster.describe_tasks(cluster="cloutagent-pool-it", tasks=[arn])["tasks"]
    env = {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
    assert env["CLOUTAGENT_EXECUTION_ID"] == execution.execution_id and task["startedBy"] == execution.execution_id[:36]
    assert drain(queue) == [] and len(pool_tasks(cluster)) == before


def test_the_first_claimer_wins_and_a_duplicate_delivery_runs_nothing(aws, ready):
    records = ClaimRecords(aws.table)
    execution = stored_execution(aws, ready)
    claim = Claim(tenant_id=execution.tenant_id, project_id=execution.project_id, execution_id=execution.execution_id)
    assert records.record(claim, "arn:aws:ecs:us-east-1:1:task/c/first")
    assert records.record(claim, "arn:aws:ecs:us-east-1:1:task/c/first")  # its own retry
    assert not records.record(claim, "arn:aws:ecs:us-east-1:1:task/c/second")  # SQS delivered it twice
    assert records.claimer(execution) == "arn:aws:ecs:us-east-1:1:task/c/first"
    # a claim for an execution that does not exist (its project deleted meanwhile) is taken by no one
    gone = claim.model_copy(update={"execution_id": new_id("x_")})
    assert not records.record(gone, "arn:aws:ecs:us-east-1:1:task/c/first")
    # and the record stays off the wire: the execution as services read it has no such field
    assert "claimedBy" not in json.dumps(aws.execution_store.get(execution.tenant_id, execution.project_id,
                                                                   execution.execution_id).to_wire())


def test_a_kill_stops_the_pool_task_that_claimed_the_run(aws, cluster, queue, ready):
    # GIVEN a pooled launch whose claim a pool task took (it records its own task ARN)
    pooled = launcher(aws, cluster, queue, pool_size=1)
    execution = stored_execution(aws, ready)
    pooled.launch(execution)
    [claim] = drain(queue)
    claimer = pool_tasks(cluster)[0]["taskArn"]
    assert ClaimRecords(aws.table).record(claim, claimer)
    # WHEN the run is killed
    pooled.stop(execution, "killed by u_1")
    # THEN that task is stopped, and no other pool task
    [stopped] = cluster.describe_tasks(cluster="cloutagent-pool-it", tasks=[claimer])["tasks"]
    assert stopped["desiredStatus"] == "STOPPED" and stopped["stoppedReason"] == "killed by u_1"
    assert claimer not in [t["taskArn"] for t in pool_tasks(cluster)]


def test_a_long_poll_holds_up_no_other_call_and_a_claim_wakes_it_at_once(aws, queue, ready):
    # GIVEN an executor long-polling the claim queue (in the local moto, which serializes requests)
    received: dict[str, float] = {}

    def poll() -> None:
        claim = queue.receive(wait_seconds=8)
        received["at"] = time.monotonic()
        if claim is not None:
            queue.delete(claim)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    # WHEN other calls go to moto meanwhile  THEN they are not held up behind the poll
    began = time.monotonic()
    aws.clients.client("dynamodb").describe_table(TableName=aws.settings.table_name)
    assert time.monotonic() - began < 1.0
    # AND a claim sent now is received within a fraction of a second, not at the poll's end
    sent = time.monotonic()
    queue.send(stored_execution(aws, ready))
    poller.join(timeout=10)
    assert received["at"] - sent < 0.5
