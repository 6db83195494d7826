"""The executor: one execution per process (a Fargate task in AWS, a child process locally).

Reads its execution from DynamoDB (the launch carries ids only), marks it running, drives Claude
Code, relays every message as an event, and finishes the execution exactly once — cancelled on
SIGTERM, failed on any error of its own.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from cloutagent.domain.executions import Outcome, Usage
from cloutagent.observability import logger
from cloutagent.settings import get_settings
from cloutagent.wiring import Container

from .agent import AgentRequest, run_agent
from .relay import EventRelay


def workspace_for(root: str, tenant_id: str, project_path: str) -> Path:
    folder = Path(root) / tenant_id / project_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def session_store(container: Container, tenant_id: str):
    bucket = container.settings.sessions_bucket
    if not bucket:
        return None
    from .session_store import S3SessionStore

    return S3SessionStore(container.clients.client("s3"), bucket, prefix=f"sessions/{tenant_id}/")


async def execute(container: Container, tenant_id: str, project_id: str, execution_id: str) -> int:
    service = container.executions
    execution = container.execution_store.get(tenant_id, project_id, execution_id)
    project = container.project_store.get(tenant_id, project_id)
    logger.thread_safe_append_keys(tenant_id=tenant_id, project_id=project_id, execution_id=execution_id)
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, cancel.set)

    if not service.mark_running(execution):
        # Killed before it began (or already finished): close it as cancelled if it is still ours.
        service.finish_if_unfinished(tenant_id, project_id, execution_id, "Cancelled before the agent started")
        return 0

    try:
        secrets_env = container.project_secrets_env(tenant_id, project_id)
    except Exception as exc:  # never start an agent without the secrets it was promised
        logger.error("project secrets could not be decrypted", extra={"error": type(exc).__name__})
        service.finish(execution, Outcome(status="failed", error="The project's secrets could not be decrypted"))
        return 1
    relay = EventRelay(container.publisher, tenant_id, project_id, execution_id).start()
    settings = container.settings
    request = AgentRequest(
        prompt=execution.prompt,
        cwd=str(workspace_for(settings.workspace_root, tenant_id, project.path)),
        model=execution.model,
        system_prompt=project.agent.system_prompt,
        allowed_tools=project.agent.allowed_tools,
        disallowed_tools=project.agent.disallowed_tools,
        permission_mode=project.agent.permission_mode,
        max_turns=project.agent.max_turns,
        resume_session_id=project.session_id,
        max_tokens=execution.max_tokens,
        max_cost_usd=execution.max_cost_usd,
        timeout_seconds=execution.timeout_seconds,
        env=secrets_env,
        cli_path=settings.claude_cli_path or None,
        session_store=session_store(container, tenant_id),
    )
    agent = await run_agent(request, relay.push, cancel)
    try:
        await relay.close()
        relay_error = None
    except Exception as exc:  # events could not be stored: the run cannot be reported as a success
        relay_error = f"Agent output could not be stored ({type(exc).__name__})"
    outcome = Outcome(
        status="failed" if relay_error else agent.status,
        usage=Usage.model_validate(agent.usage),
        cost_usd=agent.cost_usd, duration_ms=agent.duration_ms, num_turns=agent.num_turns,
        session_id=agent.session_id, error=relay_error or agent.error,
    )
    service.finish(execution, outcome)
    logger.info("execution finished", extra={"status": outcome.status, "events": relay.stored, "cost_usd": outcome.cost_usd})
    return 0


def main() -> int:
    settings = get_settings()
    if not (settings.tenant_id and settings.project_id and settings.execution_id):
        print("cloutagent-executor: CLOUTAGENT_TENANT_ID, CLOUTAGENT_PROJECT_ID and CLOUTAGENT_EXECUTION_ID are required",
              file=sys.stderr)
        return 2
    container = Container(settings)
    try:
        return asyncio.run(execute(container, settings.tenant_id, settings.project_id, settings.execution_id))
    except Exception:
        logger.exception("executor failed")
        container.executions.finish_if_unfinished(settings.tenant_id, settings.project_id, settings.execution_id,
                                                  "The executor failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
