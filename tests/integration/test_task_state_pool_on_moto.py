"""The task-state rule for pool tasks, on moto: a stopped pool task's ECS event names no execution,
so its run is found by the task's ARN, through the claim the task recorded (GSI1)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from cloutagent.adapters.claims import Claim
from cloutagent.domain.executions import Outcome
from cloutagent.wiring import Container
from tests.fakes import FakeLauncher

STOPPED_BEFORE_FINISHING = "The executor stopped (Essential container in task exited, exit code 137) before finishing"


def body(result):
    return json.loads(result["body"])


@dataclass
class Run:
    tenant_id: str
    project_id: str
    execution_id: str
    task_id: str  # the last part of the pool task's ARN

    @property
    def task_arn(self) -> str:
        return f"arn:aws:ecs:us-east-1:123456789012:task/cloutagent/{self.task_id}"


@pytest.fixture
def container(aws, monkeypatch):
    """The stack's table, with a launcher that starts nothing: the pool task is played by the test."""
    import functions.executions.handler as executions_handler
    import functions.projects.handler as projects_handler
    import functions.task_state.handler as task_state_handler

    pooled = Container(settings=aws.settings, clients=aws.clients, launcher=FakeLauncher())
    for module in (projects_handler, executions_handler, task_state_handler):
        monkeypatch.setattr(module, "get_container", lambda: pooled)
    return pooled


@pytest.fixture
def started_run(container, event_for, make_user):
    """A run of a tenant of its own, started through ``execute``; not yet claimed."""
    from functions.executions.handler import handler as executions
    from functions.projects.handler import handler as projects

    def start() -> Run:
        user = make_user(prefix="pool-task-state")
        mine = {"tenant_id": user["tenantId"], "user_id": user["userId"]}
        pid = body(projects(event_for("project.create", **mine)))["data"]["project"]["projectId"]
        reply = body(executions(event_for("execute", project_id=pid, **mine)))
        return Run(user["tenantId"], pid, reply["data"]["execution"]["executionId"], uuid.uuid4().hex)

    return start


@pytest.fixture
def claimed_run(container, started_run):
    """A run a pool task claimed and began, as ``cloutagent_executor/pool.py`` does: record, then begin."""

    def claim() -> Run:
        run = started_run()
        claim = Claim(tenant_id=run.tenant_id, project_id=run.project_id, execution_id=run.execution_id)
        assert container.claim_records.record(claim, run.task_arn)
        execution = container.execution_store.get(run.tenant_id, run.project_id, run.execution_id)
        assert container.executions.mark_running(execution)
        return run

    return claim


def stop_pool_task(event_for, run_or_task_id: Run | str) -> dict:
    from functions.task_state.handler import handler as task_state

    task_id = run_or_task_id.task_id if isinstance(run_or_task_id, Run) else run_or_task_id
    return task_state(event_for("task_state_pool", task_id=task_id))


def status_of(container, run: Run) -> tuple[str, str | None, str]:
    execution = container.execution_store.get(run.tenant_id, run.project_id, run.execution_id)
    return execution.status, execution.error, container.project_store.get(run.tenant_id, run.project_id).state


def test_a_claimed_pool_task_that_stops_finishes_its_run_as_failed_once(container, claimed_run, event_for):
    # GIVEN a run a pool task claimed and began
    run = claimed_run()
    assert status_of(container, run)[0] == "running"
    # WHEN the task stops before the run reported its end (OOM, kill -9), with no ids in its event
    assert stop_pool_task(event_for, run) == {"finished": True}
    # THEN the run is failed with the stop's reason, and its project is free again
    assert status_of(container, run) == ("failed", STOPPED_BEFORE_FINISHING, "idle")
    # AND EventBridge's retry of the same event changes nothing: the finish cleared the lookup
    assert container.claim_records.claims_of(run.task_arn) == []
    assert stop_pool_task(event_for, run) == {"finished": False}
    assert status_of(container, run) == ("failed", STOPPED_BEFORE_FINISHING, "idle")


def test_a_pool_task_that_stops_without_claiming_changes_nothing(container, claimed_run, started_run, event_for):
    # GIVEN a run claimed by one pool task, and one still waiting for a claimer
    claimed, waiting = claimed_run(), started_run()
    # WHEN another pool task stops idle (scaled in, replaced) before it claimed anything
    assert stop_pool_task(event_for, uuid.uuid4().hex) == {"finished": False}
    # THEN neither run changed
    assert status_of(container, claimed) == ("running", None, "running")
    assert status_of(container, waiting) == ("starting", None, "starting")


def test_a_pool_task_whose_run_finished_leaves_that_run_alone(container, claimed_run, event_for):
    # GIVEN a run its pool task finished as it should
    run = claimed_run()
    execution = container.execution_store.get(run.tenant_id, run.project_id, run.execution_id)
    assert container.executions.finish(execution, Outcome(status="completed", num_turns=3))
    # WHEN the task then exits and stops
    assert stop_pool_task(event_for, run) == {"finished": False}
    # THEN the run stays as it ended
    assert status_of(container, run) == ("completed", None, "idle")


def test_a_stopped_pool_task_finds_its_own_claim_and_never_another_tenants(container, claimed_run, event_for):
    # GIVEN two tenants' runs, each claimed by a pool task of its own
    mine, theirs = claimed_run(), claimed_run()
    assert mine.tenant_id != theirs.tenant_id
    # THEN a task's ARN finds exactly its own claim, with its tenant
    assert container.claim_records.claims_of(mine.task_arn) == [
        Claim(tenant_id=mine.tenant_id, project_id=mine.project_id, execution_id=mine.execution_id)]
    # WHEN one tenant's pool task stops
    assert stop_pool_task(event_for, mine) == {"finished": True}
    # THEN only that tenant's run is finished; the other's goes on
    assert status_of(container, mine)[0] == "failed"
    assert status_of(container, theirs) == ("running", None, "running")
    assert container.claim_records.claims_of(theirs.task_arn) == [
        Claim(tenant_id=theirs.tenant_id, project_id=theirs.project_id, execution_id=theirs.execution_id)]


def test_a_lookup_entry_on_anything_but_an_execution_item_is_no_claim(container, aws, claimed_run):
    # GIVEN a claimed run, and an item of another tenant that carries the same task's lookup key
    from cloutagent.adapters.dynamo import keys

    run, other = claimed_run(), claimed_run()
    aws.table.put({"PK": keys.tenant_pk(other.tenant_id), "SK": "NOTE#1", "GSI1PK": keys.claim_lookup(run.task_arn),
                   "GSI1SK": keys.tenant_pk(run.tenant_id), "claimedBy": run.task_arn})
    try:
        # THEN the lookup returns the run's claim only
        assert container.claim_records.claims_of(run.task_arn) == [
            Claim(tenant_id=run.tenant_id, project_id=run.project_id, execution_id=run.execution_id)]
    finally:
        aws.table.delete(keys.tenant_pk(other.tenant_id), "NOTE#1")


def test_a_cold_started_task_is_still_found_by_its_overrides(container, started_run, event_for):
    from functions.task_state.handler import handler as task_state

    # GIVEN a run launched with its own task (its ids in the task's overrides), never claimed
    run = started_run()
    stopped = event_for("task_state", tenant_id=run.tenant_id, project_id=run.project_id,
                        execution_id=run.execution_id)
    # WHEN that task stops  THEN the run is finished as before, and the pool lookup plays no part
    assert task_state(stopped) == {"finished": True}
    assert status_of(container, run)[:1] == ("failed",) and "exit code 137" in status_of(container, run)[1]
