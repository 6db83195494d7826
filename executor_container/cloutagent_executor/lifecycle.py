"""One run's life, once it has begun: fill the workspace, run the agent in it, deliver its work.

``RunLife.outcome`` is the whole story; ``main.execute`` only begins and finishes the execution.
A project with a repository starts from a clone and ends as a branch (``repository.py``); any
other starts from its snapshot and is saved back (``workspace.py``). The team steers the agent
while it runs (``steering.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cloutagent.domain.executions import Outcome, RunBrief, Usage
from cloutagent.observability import logger
from cloutagent.wiring import Container

from . import timeline
from .agent import AgentOutcome, AgentRequest, run_agent
from .confinement import confined
from .git_client import GitFailure
from .redact import Redactor
from .relay import EventRelay
from .repository import RepositoryRun, RunPlan
from .settings import ExecutorSettings
from .spare import SpareCli
from .steering import Steering
from .usage import UsageMeter
from .workspace import RunWorkspace, WorkspaceSnapshots, folder_path, fresh_folder


def run_workspace(brief: RunBrief, settings: ExecutorSettings, container: Container, root: str) -> RunWorkspace:
    """A project with a repository starts from it (its branches are its state); others from a snapshot."""
    execution = brief.execution
    folder = fresh_folder(root, execution.tenant_id, brief.project.path)
    snapshots = (WorkspaceSnapshots(container.clients.client("s3"), settings.sessions_bucket,
                                    execution.tenant_id, execution.project_id)
                 if settings.sessions_bucket and brief.project.repository is None else None)
    return RunWorkspace(folder, snapshots)


def repository_run(brief: RunBrief, settings: ExecutorSettings) -> RepositoryRun | None:
    repository, execution = brief.project.repository, brief.execution
    if repository is None:
        return None
    pull_request = execution.pull_request if execution.pull_request is not None else repository.pull_request
    plan = RunPlan(repository=repository, token=brief.repository_token or "", execution_id=execution.execution_id,
                   given_branch=execution.branch, pull_request=pull_request,
                   author_name=f"cloutagent for {execution.created_by}",
                   author_email=f"{execution.created_by}@users.noreply.cloutagent.dev")
    return RepositoryRun(plan, allow_http=settings.allow_loopback_repositories)


class LastText:
    """Passes the agent's messages on, keeping its last text: the commit message."""

    def __init__(self, push):
        self.push, self.text = push, None

    async def __call__(self, data: dict) -> None:
        if data.get("kind") == "text" and data.get("role") == "assistant" and not data.get("parentToolUseId"):
            self.text = data.get("text")
        await self.push(data)


def session_store(container: Container, settings: ExecutorSettings):
    if not settings.sessions_bucket:
        return None
    from .session_store import S3SessionStore

    return S3SessionStore(container.clients.client("s3"), settings.sessions_bucket,
                          prefix=f"sessions/{settings.tenant_id}/")


def agent_request(brief: RunBrief, settings: ExecutorSettings, container: Container, cwd: Path) -> AgentRequest:
    execution, project = brief.execution, brief.project
    return AgentRequest(
        prompt=execution.prompt,
        cwd=str(cwd),
        model=execution.model,
        system_prompt=project.agent.system_prompt,
        allowed_tools=project.agent.allowed_tools,
        disallowed_tools=project.agent.disallowed_tools,
        permission_mode=project.agent.permission_mode,
        project_settings=project.agent.project_settings,
        max_turns=project.agent.max_turns,
        resume_session_id=project.session_id,
        max_tokens=execution.max_tokens,
        max_cost_usd=execution.max_cost_usd,
        timeout_seconds=execution.timeout_seconds,
        env=brief.secrets_env,
        cli_path=settings.claude_cli_path or None,
        session_store=session_store(container, settings),
    )


def outcome_of(agent: AgentOutcome, own_error: str | None) -> Outcome:
    """The run's outcome; an error of the executor's own (events or files not kept) fails it."""
    return Outcome(
        status="failed" if own_error else agent.status,
        usage=Usage.model_validate(agent.usage),
        cost_usd=agent.cost_usd, duration_ms=agent.duration_ms, num_turns=agent.num_turns,
        session_id=agent.session_id, error=own_error or agent.error,
    )


class RunLife:
    def __init__(self, brief: RunBrief, settings: ExecutorSettings, container: Container, relay: EventRelay,
                 cancel: asyncio.Event, spare: SpareCli | None = None):
        self.brief, self.settings, self.container = brief, settings, container
        self.relay, self.cancel = relay, cancel
        execution = brief.execution
        self.request = agent_request(brief, settings, container,
                                     folder_path(settings.workspace_root, execution.tenant_id, brief.project.path))
        # A pool executor's spare CLI, when it can serve this run; else the run starts its own.
        self.spare = spare if spare is not None and spare.serves(self.request) else None
        self.unused_spare = spare if self.spare is None else None
        root = str(self.spare.host_root) if self.spare is not None else settings.workspace_root
        self.workspace = run_workspace(brief, settings, container, root)
        self.repository = repository_run(brief, settings)

    async def outcome(self) -> Outcome:
        if self.unused_spare is not None:  # its CPU and memory are the run's now
            await self.unused_spare.close()
        try:
            failure = await self._fill()
            if failure is not None:  # before any model call: a wrong token or branch costs nothing
                await asyncio.to_thread(self.workspace.close)
                await self.relay.close()
                return Outcome(status="failed", error=failure.message, error_code=failure.code)
            agent, final_text = await self._run_agent()
            git, git_failure = await self._deliver(final_text)
            own_error = await self._close()
        finally:
            if self.repository is not None:
                self.repository.close()
        outcome = outcome_of(agent, own_error)
        if git_failure is not None and outcome.status == "completed":
            outcome = outcome.model_copy(update={"status": "failed", "error": git_failure.message,
                                                 "error_code": git_failure.code})
        return outcome.model_copy(update={"git": git})

    async def _fill(self) -> GitFailure | None:
        try:
            if self.repository is not None:
                await self.repository.clone(self.workspace.folder)
            else:
                await asyncio.to_thread(self.workspace.open)
        except GitFailure as failure:
            return failure
        timeline.mark("workspace filled")
        return None

    async def _run_agent(self) -> tuple[AgentOutcome, str | None]:
        brief, settings, relay = self.brief, self.settings, self.relay
        last_text = LastText(relay.push)
        execution = brief.execution
        steering = Steering(self.container.steering_store, relay,
                            (execution.tenant_id, execution.project_id, execution.execution_id),
                            brief.project.agent.approval_timeout_seconds, self.cancel,
                            Redactor(brief.secrets_env.values()).scrub).start()
        try:
            async with confined(self.request, settings, self.spare) as run:
                timeline.mark("sandbox ready")
                # Live usage: what the gateway metered when there is one, else what the CLI streamed.
                gateway_meter = run.gateway.meter if run.gateway else None
                meter = gateway_meter or UsageMeter()
                relay.watch_usage(meter)
                agent = run.settle(await run_agent(run.request, last_text, self.cancel,
                                                   None if gateway_meter else meter, steering, self.spare,
                                                   gateway_meter=gateway_meter))
        finally:
            await steering.close()
        logger.info("inbox reads", extra={"reads": steering.reads})
        return agent, last_text.text

    async def _deliver(self, final_text: str | None) -> tuple[dict | None, GitFailure | None]:
        """Commit, push and (if asked) open the pull request; the execution.git data, and any failure."""
        if self.repository is None:
            return None, None
        try:
            result = await self.repository.deliver(final_text, self.container.clients.client("s3"),
                                                   self.settings.sessions_bucket, self.brief.execution.tenant_id)
        except GitFailure as failure:
            logger.warning("repository delivery failed", extra={"code": failure.code})
            return None, failure
        data = result.event()
        self.relay.publish("execution.git", data)
        return data, result.pull_request_failure

    async def _close(self) -> str | None:
        """Store the last events and save the files; an error of the executor's own, if any."""
        try:
            await self.relay.close()
            relay_error = None
        except Exception as exc:  # events could not be stored: the run cannot be reported as a success
            relay_error = f"Agent output could not be stored ({type(exc).__name__})"
        files_error = await asyncio.to_thread(self.workspace.close)
        return relay_error or files_error
