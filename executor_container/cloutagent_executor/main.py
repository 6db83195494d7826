"""The executor: one execution per process (a Fargate task in AWS, a child process locally).

Asks the execution service to begin its run (the launch carries ids only), lives it
(``lifecycle.py``: workspace, agent, delivery), and finishes the execution exactly once —
cancelled on SIGTERM, failed on any error of its own. Started without ids, it is a pool
executor: warm and tenant-neutral until it claims its one execution (``pool.py``), then the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from pydantic import ValidationError

from cloutagent import heap
from cloutagent.observability import logger
from cloutagent.wiring import Container

from . import timeline
from .broadcast import open_fanout
from .lifecycle import RunLife
from .logs import log_as_execution, route_library_logs
from .relay import ArrivalTrace, EventRelay
from .settings import ExecutorSettings
from .spare import SpareCli


def clients_for(settings: ExecutorSettings):
    """Every AWS call as the run's tenant when a tenant role is set (always, in AWS). A pool
    executor's, made before it has a tenant, call nothing until its claim binds them (pool.py)."""
    if not settings.tenant_role_arn:
        return None
    from cloutagent.adapters.tenant_session import TenantClients

    if settings.pooled:
        return TenantClients(settings.tenant_role_arn)
    return TenantClients(settings.tenant_role_arn, settings.tenant_id, settings.execution_id)


# No client waits on an executor's appends, and losing begin_run's race to a room full of joins
# would fail the run: it waits out contention far longer than a Lambda may.
EXECUTOR_SEQ_CONTENTION_SECONDS = 300.0


def executor_container(clients) -> Container:
    from cloutagent.settings import get_settings

    settings = get_settings().model_copy(update={"seq_contention_seconds": EXECUTOR_SEQ_CONTENTION_SECONDS})
    return Container(settings=settings, clients=clients)


async def execute(container: Container, settings: ExecutorSettings, spare: SpareCli | None = None) -> int:
    tenant_id, project_id, execution_id = settings.tenant_id, settings.project_id, settings.execution_id
    log_as_execution(tenant_id=tenant_id, project_id=project_id, execution_id=execution_id)
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, cancel.set)

    service = container.executions
    brief = service.begin_run(tenant_id, project_id, execution_id, container.secrets)
    if brief is None:
        return 0
    timeline.mark("run begun")
    heap.settle()  # the run's clients, settings and SDK live until it ends; its events do not
    fanout = open_fanout(container, tenant_id, project_id)
    trace = ArrivalTrace(settings.relay_trace) if settings.relay_trace else None
    relay = EventRelay(container.event_log, fanout, tenant_id, project_id, execution_id, trace).start()
    outcome = await RunLife(brief, settings, container, relay, cancel, spare).outcome()
    service.finish(brief.execution, outcome)
    logger.info("execution finished", extra={"status": outcome.status, "events": relay.stored, "batches": relay.batches,
                                             "posts": fanout.broadcaster.posted, "room_reads": fanout.room_reads,
                                             "cost_usd": outcome.cost_usd})
    return 0


def main() -> int:
    route_library_logs()
    try:
        settings = ExecutorSettings()
    except ValidationError as exc:
        print(f"cloutagent-executor: {settings_problem(exc)}", file=sys.stderr)
        return 2
    if settings.pooled:
        from .pool import serve_one_claim

        return serve_one_claim(settings)
    return run(executor_container(clients_for(settings)), settings)


def settings_problem(exc: ValidationError) -> str:
    """What is wrong with the environment, by variable name."""
    def one(error: dict) -> str:
        if not error["loc"]:  # the ids and the queue, checked together
            return error["msg"].removeprefix("Value error, ")
        return f"CLOUTAGENT_{str(error['loc'][0]).upper()}: {error['msg']}"

    return "; ".join(one(e) for e in exc.errors())


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (less CPU for each post to a watcher), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(container: Container, settings: ExecutorSettings, spare: SpareCli | None = None,
        runner: asyncio.Runner | None = None) -> int:
    """Run the one execution ``settings`` names, finishing it as failed if the executor itself fails.

    A pool executor passes its loop (``runner``), where its spare CLI already runs.
    """
    try:
        with contextlib.nullcontext(runner) if runner else asyncio.Runner(loop_factory=new_event_loop) as loop:
            return loop.run(execute(container, settings, spare))
    except Exception:
        logger.exception("executor failed")
        container.executions.finish_if_unfinished(settings.tenant_id, settings.project_id, settings.execution_id,
                                                  "The executor failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
