"""The execution service against in-memory ports: the run state machine, with no stack."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from cloutagent.domain.changes import ExecutionMetered, ProjectChange
from cloutagent.domain.executions import LaunchFailed, Outcome, Usage
from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.models import Event, Project
from cloutagent.errors import Conflict, ProjectBusy
from cloutagent.protocol.actions import Execute
from cloutagent.services.executions import ExecutionService
from cloutagent.services.fanout import Fanout
from cloutagent.services.publisher import Publisher
from tests.fakes import (
    FakeDatabase, FakeEventLog, FakeExecutionStore, FakeLauncher, FakeProjectStore, FakeRoomStore, FakeSecrets,
    FakeSockets,
)

ALICE = Identity(tenant_id="t_a", user_id="u_alice", role=Role.member, connection_id="c_alice")


class World:
    def __init__(self, launcher: FakeLauncher | None = None):
        self.db = FakeDatabase()
        self.projects = FakeProjectStore(self.db)
        self.rooms, self.sockets = FakeRoomStore(), FakeSockets()
        self.launcher = launcher or FakeLauncher()
        publisher = Publisher(FakeEventLog(self.db), Fanout(self.rooms, self.sockets, ThreadPoolExecutor(2)))
        self.service = ExecutionService(self.projects, FakeExecutionStore(self.db), publisher, self.launcher)
        project = Project(tenant_id="t_a", project_id="p_1", name="demo", path="demo", created_at="t", updated_at="t")
        self.projects.create(project, Event(project_id="p_1", seq=1, event="project.created", ts="t", data={}))

    def project(self) -> Project:
        return self.projects.get("t_a", "p_1")

    def events(self) -> list[str]:
        return [e.event for e in self.db.events[("t_a", "p_1")]]


def test_start_moves_the_project_to_starting_and_launches_once():
    world = World()
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    assert world.project().state == "starting" and world.project().execution_id == execution.execution_id
    assert world.launcher.launched == [execution.execution_id]
    assert world.events()[-1] == "project.state"


def test_a_second_start_while_one_runs_is_busy_and_launches_nothing():
    world = World()
    world.service.start(ALICE, Execute(projectId="p_1", prompt="one"))
    with pytest.raises(ProjectBusy):
        world.service.start(ALICE, Execute(projectId="p_1", prompt="two"))
    assert len(world.launcher.launched) == 1


def test_a_launch_that_fails_finishes_the_execution_as_failed_and_frees_the_project():
    world = World(FakeLauncher(fail_with=LaunchFailed("no capacity")))
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    stored = world.service.executions.get("t_a", "p_1", execution.execution_id)
    assert stored.status == "failed" and "no capacity" in stored.error
    assert world.project().state == "idle"


def test_kill_asks_the_launcher_to_stop_and_the_finish_counts_once():
    world = World()
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    world.service.kill(ALICE, "p_1")
    assert world.launcher.stopped == [execution.execution_id] and world.project().state == "cancelling"
    assert world.service.finish(execution, Outcome(status="cancelled")) is True
    assert world.service.finish(execution, Outcome(status="failed", error="late")) is False
    assert world.service.executions.get("t_a", "p_1", execution.execution_id).status == "cancelled"
    with pytest.raises(Conflict):
        world.service.kill(ALICE, "p_1")


def test_begin_run_gives_the_executor_its_brief_with_the_projects_secrets():
    world = World()
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    brief = world.service.begin_run("t_a", "p_1", execution.execution_id, FakeSecrets({"TOKEN": "s3cret"}))
    assert brief.execution.prompt == "hi" and brief.project.path == "demo"
    assert brief.secrets_env == {"TOKEN": "s3cret"} and world.project().state == "running"


def test_begin_run_of_a_killed_execution_starts_nothing_and_closes_it():
    world = World()
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    world.service.kill(ALICE, "p_1")
    assert world.service.begin_run("t_a", "p_1", execution.execution_id, FakeSecrets()) is None
    assert world.project().state == "idle"


def test_begin_run_without_its_secrets_fails_before_any_agent_starts():
    world = World()
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    assert world.service.begin_run("t_a", "p_1", execution.execution_id, FakeSecrets(fail=True)) is None
    stored = world.service.executions.get("t_a", "p_1", execution.execution_id)
    assert stored.status == "failed" and "secrets" in stored.error and world.project().state == "idle"


def test_a_run_whose_executor_dies_is_billed_what_it_reported_using():
    # GIVEN a running execution whose relay stored a usage report with the record
    world = World()
    execution = world.service.start(ALICE, Execute(projectId="p_1", prompt="hi"))
    world.service.begin_run("t_a", "p_1", execution.execution_id, FakeSecrets())
    used = Usage(input_tokens=10, output_tokens=5000)
    world.service.publisher.publish("t_a", "p_1", [("execution.usage", {"costUsd": 0.42})], change=ProjectChange(
        records=(ExecutionMetered("t_a", "p_1", execution.execution_id, used, 0.42),)))
    # WHEN the executor vanishes and the crash detector closes the run
    assert world.service.finish_if_unfinished("t_a", "p_1", execution.execution_id, "the task stopped") is True
    # THEN the run failed, billed what it had used
    stored = world.service.executions.get("t_a", "p_1", execution.execution_id)
    assert stored.status == "failed" and stored.cost_usd == 0.42 and stored.usage == used
