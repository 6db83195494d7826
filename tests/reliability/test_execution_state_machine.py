"""A hypothesis state machine drives the execution lifecycle in every order it can find:
no illegal transition, never two unfinished executions, never stuck running."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cloutagent.domain.executions import FINAL_STATUSES, Outcome
from cloutagent.domain.identity import Identity, Role
from cloutagent.errors import Conflict, ProjectBusy
from cloutagent.protocol.actions import Execute
from cloutagent.services.executions import ExecutionService


class RecordingLauncher:
    """Launches nothing: the test itself plays the executor (start, finish, crash)."""

    def __init__(self):
        self.launched, self.stopped = [], []

    def launch(self, execution):
        self.launched.append(execution.execution_id)
        return f"fake:{execution.execution_id}"

    def stop(self, execution, reason):
        self.stopped.append(execution.execution_id)


@pytest.fixture(scope="module")
def world(aws, ready):
    return aws, ready


def test_the_execution_lifecycle_never_breaks_its_invariants(world):
    aws, ready = world
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner)

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            from cloutagent.protocol.actions import ProjectCreate

            self.project_id = aws.projects.create(identity, ProjectCreate(name="state machine")).project_id
            self.service = ExecutionService(aws.project_store, aws.execution_store, aws.publisher, RecordingLauncher())
            self.current = None  # the execution the model believes is unfinished
            self.finished = []

        def _project(self):
            return aws.project_store.get(ready["tenantId"], self.project_id)

        @rule()
        def execute(self):
            try:
                execution = self.service.start(identity, Execute(projectId=self.project_id, prompt="go"))
            except ProjectBusy:
                assert self.current is not None, "PROJECT_BUSY while nothing runs"
                return
            assert self.current is None, "a second execution started while one was unfinished"
            self.current = execution

        @rule()
        def kill(self):
            try:
                killed = self.service.kill(identity, self.project_id)
            except Conflict:
                assert self.current is None, "CONFLICT although something runs"
                return
            assert self.current is not None and killed.execution_id == self.current.execution_id

        @precondition(lambda self: self.current is not None)
        @rule()
        def executor_starts(self):
            began = self.service.mark_running(self.current)
            state = self._project().state
            assert began == (state == "running") or state in ("cancelling", "running")

        @precondition(lambda self: self.current is not None)
        @rule(status=st.sampled_from(sorted(FINAL_STATUSES)))
        def executor_finishes(self, status):
            assert self.service.finish(self.current, Outcome(status=status, cost_usd=0.01)) is True
            self.finished.append(self.current)
            self.current = None

        @precondition(lambda self: self.current is not None)
        @rule()
        def executor_crashes(self):
            execution = self.current
            assert self.service.finish_if_unfinished(ready["tenantId"], self.project_id, execution.execution_id, "lost") is True
            stored = aws.execution_store.get(ready["tenantId"], self.project_id, execution.execution_id)
            assert stored.status in ("failed", "cancelled")
            self.finished.append(execution)
            self.current = None

        @precondition(lambda self: bool(self.finished))
        @rule()
        def a_late_duplicate_report_changes_nothing(self):
            late = self.finished[-1]
            before = self._project()
            assert self.service.finish(late, Outcome(status="completed")) is False
            assert self.service.finish_if_unfinished(ready["tenantId"], self.project_id, late.execution_id, "dup") is False
            after = self._project()
            assert (after.state, after.execution_id, after.last_seq) == (before.state, before.execution_id, before.last_seq)

        @rule()
        def new_session(self):
            try:
                self.service.new_session(identity, self.project_id)
            except ProjectBusy:
                assert self.current is not None
                return
            assert self.current is None

        @invariant()
        def project_state_matches_the_one_unfinished_execution(self):
            project = self._project()
            if self.current is None:
                assert project.state == "idle" and project.execution_id is None
            else:
                assert project.state in ("starting", "running", "cancelling")
                assert project.execution_id == self.current.execution_id

        @invariant()
        def never_two_unfinished_executions(self):
            executions, _ = aws.execution_store.list(ready["tenantId"], self.project_id, 100, None)
            unfinished = [e for e in executions if e.status not in FINAL_STATUSES]
            assert len(unfinished) <= 1

        def teardown(self):
            events, _ = aws.event_log.read(ready["tenantId"], self.project_id, after_seq=0, limit=500)
            seqs = [e.seq for e in events]
            assert seqs == list(range(1, len(seqs) + 1)), "the event log has a gap"

    Lifecycle.TestCase.settings = settings(max_examples=12, stateful_step_count=15, deadline=None,
                                           suppress_health_check=list(HealthCheck))
    Lifecycle.TestCase().runTest()
