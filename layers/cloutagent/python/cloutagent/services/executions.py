"""Execution use cases: start, kill, new session, inspect; and the transitions the executor and
the crash detectors drive. Every transition is one conditional transaction with its events."""

from __future__ import annotations

from typing import Any

from cloutagent.errors import ExpectationFailed
from cloutagent.domain.changes import ExecutionCreated, ExecutionFinished, ExecutionMoved, ProjectChange
from cloutagent.domain.executions import (
    DIFF_PAGE_BYTES, DiffPage, Execution, ExecutionPage, LaunchFailed, Outcome, RunBrief, effective_limits,
)
from cloutagent.domain.identity import Identity
from cloutagent.domain.models import Project
from cloutagent.errors import BadRequest, Conflict, ProjectBusy, ProjectNotFound
from cloutagent.ids import new_id, now_iso
from cloutagent.observability import logger, record_metric
from cloutagent.protocol.actions import Execute
from cloutagent.services.publisher import Publisher
from cloutagent.services.ports import DiffStore, ExecutionStore, Launcher, ProjectStore


class ExecutionService:
    def __init__(self, projects: ProjectStore, executions: ExecutionStore, publisher: Publisher, launcher: Launcher,
                 limits: Any = None, diffs: DiffStore | None = None):
        self.projects = projects
        self.executions = executions
        self.publisher = publisher
        self.launcher = launcher
        self.limits = limits  # the license manager, when billing is wired in
        self.diffs = diffs

    # -- client actions --------------------------------------------------------------------------
    def start(self, identity: Identity, data: Execute, *, trigger: dict[str, Any] | None = None) -> Execution:
        """Start a run; ``trigger`` is where a Git host comment that asked for it wants the answer."""
        project = self.projects.get(identity.tenant_id, data.projectId)
        if project.state != "idle":
            raise ProjectBusy()
        if project.repository is None and (data.branch or data.pullRequest):
            raise BadRequest("branch and pullRequest need a project with a repository (project.update {repository})")
        limits = effective_limits(project, data.options)
        if self.limits is not None:
            limits = self.limits.check_execute(identity.tenant_id, limits)
        execution = Execution(
            tenant_id=identity.tenant_id, project_id=project.project_id, execution_id=new_id("x_"),
            prompt=data.prompt, created_by=identity.user_id, created_at=now_iso(), branch=data.branch,
            pull_request=data.pullRequest, trigger=trigger, **limits,
        )
        try:
            self.publisher.publish(
                identity.tenant_id, project.project_id,
                [("project.state", {"state": "starting", "executionId": execution.execution_id})],
                last_seq=project.last_seq,
                change=ProjectChange(set_fields={"state": "starting", "execution_id": execution.execution_id},
                                     expect={"state": "idle"}, records=(ExecutionCreated(execution),)),
            )
        except ExpectationFailed as exc:
            raise ProjectBusy() from exc
        record_metric("ExecutionStarted", tenant_id=identity.tenant_id)
        self._launch(execution)
        return execution

    def _launch(self, execution: Execution) -> None:
        try:
            handle = self.launcher.launch(execution)  # found again by execution id; never stored
        except Exception as exc:
            logger.exception("executor launch failed", extra={"execution_id": execution.execution_id})
            reason = str(exc) if isinstance(exc, LaunchFailed) else type(exc).__name__
            self.finish(execution, Outcome(status="failed", error=f"The executor could not be started: {reason}"))
            return
        logger.info("executor launched", extra={"execution_id": execution.execution_id, "handle": handle})

    def kill(self, identity: Identity, project_id: str, execution_id: str | None = None) -> Execution:
        """Ask the running execution (that one, when named) to stop; returns it as it now is (cancelling)."""
        project = self.projects.get(identity.tenant_id, project_id)
        if project.state == "idle" or not project.execution_id:
            raise Conflict("Nothing is running in this project")
        if execution_id is not None and execution_id != project.execution_id:
            raise Conflict("That execution is not the one running in this project",
                           {"runningExecutionId": project.execution_id})
        execution = self.executions.get(identity.tenant_id, project_id, project.execution_id)
        if project.state != "cancelling":
            try:
                self.publisher.publish(
                    identity.tenant_id, project_id,
                    [("project.state", {"state": "cancelling", "executionId": execution.execution_id, "by": identity.user_id})],
                    last_seq=project.last_seq,
                    change=ProjectChange(set_fields={"state": "cancelling"},
                                         expect={"execution_id": execution.execution_id, "state": project.state},
                                         records=(ExecutionMoved(execution, "cancelling"),)),
                )
            except ExpectationFailed as exc:
                raise Conflict("The execution finished meanwhile") from exc
        self.launcher.stop(execution, f"killed by {identity.user_id}")
        return execution.model_copy(update={"status": "cancelling"})

    def new_session(self, identity: Identity, project_id: str) -> Project:
        """Forget the agent's conversation, so the next execution starts afresh."""
        project = self.projects.get(identity.tenant_id, project_id)
        if project.state != "idle":
            raise ProjectBusy("Wait for the running execution to finish, or kill it, first")
        try:
            [event] = self.publisher.publish(
                identity.tenant_id, project_id,
                [("project.updated", {"changed": ["sessionId"], "sessionId": None, "by": identity.user_id})],
                last_seq=project.last_seq, change=ProjectChange(set_fields={"session_id": None}, expect={"state": "idle"}),
            )
        except ExpectationFailed as exc:
            raise ProjectBusy() from exc
        return project.model_copy(update={"session_id": None, "last_seq": event.seq, "updated_at": event.ts})

    def get(self, identity: Identity, project_id: str, execution_id: str) -> Execution:
        self.projects.get(identity.tenant_id, project_id)  # another tenant's project: not found
        return self.executions.get(identity.tenant_id, project_id, execution_id)

    def diff(self, identity: Identity, project_id: str, execution_id: str, cursor: str | None) -> DiffPage:
        """A page of the run's unified diff, cut at a line's end; empty when it changed nothing."""
        execution = self.get(identity, project_id, execution_id)
        offset = int(cursor or 0)
        found = self.diffs.read(identity.tenant_id, execution.execution_id, offset, DIFF_PAGE_BYTES) if self.diffs else None
        if found is None:
            return DiffPage(text="", next_cursor=None, total_bytes=0)
        chunk, total = found
        end = offset + len(chunk)
        if end < total and b"\n" in chunk:  # end the page on a whole line; the rest comes next
            chunk = chunk[: chunk.rindex(b"\n") + 1]
            end = offset + len(chunk)
        return DiffPage(text=chunk.decode(errors="replace"), next_cursor=str(end) if end < total else None,
                        total_bytes=total)

    def list(self, identity: Identity, project_id: str, limit: int, cursor: str | None) -> ExecutionPage:
        self.projects.get(identity.tenant_id, project_id)
        return ExecutionPage(*self.executions.list(identity.tenant_id, project_id, limit, cursor))

    # -- transitions driven by the executor and crash detectors ------------------------------------
    def begin_run(self, tenant_id: str, project_id: str, execution_id: str, secrets: Any) -> RunBrief | None:
        """starting -> running, with what the run needs; None if it ended before it began.

        ``secrets`` gives the project's secrets as an environment; when they cannot be read the
        run fails before any agent starts, so an agent never runs without what it was promised.
        """
        execution = self.executions.get(tenant_id, project_id, execution_id)
        project = self.projects.get(tenant_id, project_id)
        if not self.mark_running(execution):
            # Killed before it began (or already finished): close it as cancelled if still ours.
            self.finish_if_unfinished(tenant_id, project_id, execution_id, "Cancelled before the agent started")
            return None
        try:
            secrets_env = secrets.environment(tenant_id, project_id)
        except Exception as exc:
            logger.error("project secrets could not be decrypted", extra={"error": type(exc).__name__})
            self.finish(execution, Outcome(status="failed", error="The project's secrets could not be decrypted"))
            return None
        token_name = project.repository.token_secret if project.repository else None
        token = secrets_env.pop(token_name, "") if token_name else None
        return RunBrief(execution=execution, project=project, secrets_env=secrets_env, repository_token=token)

    def mark_running(self, execution: Execution) -> bool:
        """starting -> running; False if it was cancelled (or finished) before it began."""
        try:
            self.publisher.publish(
                execution.tenant_id, execution.project_id,
                [("execution.started", {"executionId": execution.execution_id, "model": execution.model,
                                        "promptPreview": execution.prompt[:200]}),
                 ("project.state", {"state": "running", "executionId": execution.execution_id})],
                change=ProjectChange(set_fields={"state": "running"},
                                     expect={"execution_id": execution.execution_id, "state": "starting"},
                                     records=(ExecutionMoved(execution, "running", started_at=now_iso()),)),
            )
        except ExpectationFailed:
            return False
        return True

    def finish(self, execution: Execution, outcome: Outcome) -> bool:
        """Close an execution once: idempotent, so the executor, the launcher and the task-state
        rule may all report the same end and only the first one counts."""
        fields: dict[str, Any] = {"state": "idle", "execution_id": None}
        if outcome.session_id:
            fields["session_id"] = outcome.session_id
        try:
            self.publisher.publish(
                execution.tenant_id, execution.project_id,
                [("execution.finished", outcome.finished_event(execution.execution_id)),
                 ("project.state", {"state": "idle", "executionId": execution.execution_id})],
                change=ProjectChange(set_fields=fields, expect={"execution_id": execution.execution_id},
                                     records=(ExecutionFinished(execution, outcome, now_iso()),)),
            )
        except ExpectationFailed:
            return False
        self._record_outcome(execution, outcome)
        if self.limits is not None:
            self.limits.record_execution_cost(execution, outcome)
        return True

    @staticmethod
    def _record_outcome(execution: Execution, outcome: Outcome) -> None:
        tenant = execution.tenant_id
        if outcome.status == "failed":  # the execution-failures alarm watches this one
            record_metric("ExecutionFailed", tenant_id=tenant)
        record_metric("ExecutionFinished", tenant_id=tenant)
        record_metric("ExecutionCostUsd", outcome.cost_usd, tenant_id=tenant, unit="None")

    def finish_if_unfinished(self, tenant_id: str, project_id: str, execution_id: str, reason: str) -> bool:
        """The run died without reporting (crash, OOM, lost process): close it as failed."""
        try:
            project = self.projects.get(tenant_id, project_id)
        except ProjectNotFound:  # deleted meanwhile: nothing left to finish
            return False
        # Any other error propagates: the caller (EventBridge, the process watcher) must retry,
        # never conclude that the execution was finished.
        if project.execution_id != execution_id:
            return False
        execution = self.executions.get(tenant_id, project_id, execution_id)
        status = "cancelled" if project.state == "cancelling" else "failed"
        logger.warning("finishing an execution that did not report", extra={"execution_id": execution_id, "reason": reason})
        # Billed what the run reported using while it ran (ExecutionMetered), not nothing.
        return self.finish(execution, Outcome(status=status, error=reason, usage=execution.usage,
                                              cost_usd=execution.cost_usd))
