"""The executor: one execution per process (a Fargate task in AWS, a child process locally).

Asks the execution service to begin its run (the launch carries ids only), lives it
(``lifecycle.py``: workspace, agent, delivery), and finishes the execution exactly once —
cancelled on SIGTERM, failed on any error of its own.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from pydantic import ValidationError

from cloutagent.observability import logger
from cloutagent.wiring import Container

from .lifecycle import RunLife
from .relay import EventRelay
from .settings import ExecutorSettings


def clients_for(settings: ExecutorSettings):
    """Every AWS call as the run's tenant when a tenant role is set (always, in AWS)."""
    if not settings.tenant_role_arn:
        return None
    from .session_store import S3SessionStore

    return S3SessionStore(container.clients.client("s3"), settings.sessions_bucket,
                          prefix=f"sessions/{settings.tenant_id}/")


def agent_request(brief: RunBrief, settings: ExecutorSettings, container: Container) -> AgentRequest:
    execution, project = brief.execution, brief.project
    return AgentRequest(
        prompt=execution.prompt,
        cwd=str(workspace_for(settings.workspace_root, execution.tenant_id, project.path)),
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


def outcome_of(agent: AgentOutcome, relay_error: str | None) -> Outcome:
    return Outcome(
        status="failed" if relay_error else agent.status,
        usage=Usage.model_validate(agent.usage),
        cost_usd=agent.cost_usd, duration_ms=agent.duration_ms, num_turns=agent.num_turns,
        session_id=agent.session_id, error=relay_error or agent.error,
    )


async def execute(container: Container, settings: ExecutorSettings) -> int:
    tenant_id, project_id, execution_id = settings.tenant_id, settings.project_id, settings.execution_id
    logger.thread_safe_append_keys(tenant_id=tenant_id, project_id=project_id, execution_id=execution_id)
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, cancel.set)

    service = container.executions
    brief = service.begin_run(tenant_id, project_id, execution_id, container.secrets)
    if brief is None:
        return 0
    relay = EventRelay(container.publisher, tenant_id, project_id, execution_id).start()
    outcome = await RunLife(brief, settings, container, relay, cancel).outcome()
    service.finish(brief.execution, outcome)
    logger.info("execution finished", extra={"status": outcome.status, "events": relay.stored, "cost_usd": outcome.cost_usd})
    return 0


def main() -> int:
    try:
        settings = ExecutorSettings()
    except ValidationError as exc:
        missing = ", ".join(f"CLOUTAGENT_{str(e['loc'][0]).upper()}" for e in exc.errors())
        print(f"cloutagent-executor: {missing} must be set", file=sys.stderr)
        return 2
    container = Container(clients=clients_for(settings))
    try:
        return asyncio.run(execute(container, settings))
    except Exception:
        logger.exception("executor failed")
        container.executions.finish_if_unfinished(settings.tenant_id, settings.project_id, settings.execution_id,
                                                  "The executor failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
