"""A pool executor: started before there is anything to run, it takes the first claim that comes.

Until it claims, it holds nothing of a tenant: no ids (its environment has none), no tenant session,
no project data, no CLI config directory. The only AWS client it calls is the claim queue's, with
the process's own credentials (on Fargate the task role, which may receive and delete claims and
assume the tenant data role, nothing else). It spends that time on what every run needs and no
tenant decides: importing the executor and what a run imports later (most of a cold start), finding
its own task ref, reading the CLI into the page cache, and building the run's services and AWS
clients, which have no credentials until a claim names their tenant (``TenantClients.bind``).

Once it claims, it is a launched executor: the tenant's role session (its clients bound to the
claim's tenant), a CLI config directory of the claim's own (made now, removed at the end), the same
``execute``. Then it exits: one claim per process, so no run ever shares a process with another
tenant's.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from cloutagent import heap
from cloutagent.adapters import aws
from cloutagent.adapters.claims import Claim, ClaimRecords, SqsClaimQueue
from cloutagent.adapters.tenant_session import TenantClients
from cloutagent.observability import logger
from cloutagent.wiring import Container

from . import timeline
from .confinement import BUNDLED_CLI
from .logs import log_as_execution
from .main import clients_for, executor_container, new_event_loop, run
from .settings import ExecutorSettings
from .spare import SpareCli

# What a run imports on its way (the Container's lazy adapters and services, the tenant session,
# the sandbox and its gateway): imported here, before any claim, they cost a warm run nothing.
RUN_MODULES = (
    "anyio._backends._asyncio",
    "anyio.streams.stapled",
    "anyio.streams.tls",
    "boto3",
    "boto3.s3.inject",
    "boto3.s3.transfer",
    "botocore.credentials",
    "cloutagent.definitions",
    "cloutagent.adapters.ecs_launcher",
    "cloutagent.adapters.tenant_session",
    "cloutagent.adapters.dynamo.table",
    "cloutagent.adapters.dynamo.events",
    "cloutagent.adapters.dynamo.projects",
    "cloutagent.adapters.dynamo.rooms",
    "cloutagent.adapters.dynamo.executions",
    "cloutagent.adapters.dynamo.steering",
    "cloutagent.adapters.dynamo.secrets",
    "cloutagent.adapters.dynamo.access",
    "cloutagent.adapters.billing.store",
    "cloutagent.adapters.kms_secrets",
    "cloutagent.adapters.connections",
    "cloutagent.adapters.s3_diffs",
    "cloutagent.services.executions",
    "cloutagent.services.publisher",
    "cloutagent.services.fanout",
    "cloutagent.services.secrets",
    "cloutagent.services.billing.licenses",
    "cloutagent.services.billing.notices",
    "cloutagent_executor.session_store",
    "cloutagent_executor.model_gateway",
    "cloutagent_executor.sandbox",
)
READ_CHUNK = 8 * 1024 * 1024
# The AWS services a run calls as its tenant: their models read before the claim (tenant_session.py
# shares the loader), so the tenant's clients are made in milliseconds.
RUN_SERVICES = ("dynamodb", "s3", "sts", "kms")
# The Container's parts a run uses (main.execute, lifecycle.py, broadcast.py), built before the claim.
RUN_CONTAINER_PARTS = ("executions", "secrets", "event_log", "room_store", "steering_store")


def serve_one_claim(settings: ExecutorSettings) -> int:
    """Wait for one claim, run its execution as a launched executor would, and exit."""
    task_ref = own_task_ref(settings)
    warm_up(settings)
    container, clients = unclaimed_container(settings)
    queue = SqsClaimQueue(aws.client("sqs"), settings.claim_queue_url)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        spare = runner.run(start_spare(settings))
        try:
            heap.settle()  # what warm_up made serves every run
            logger.info("pool executor waiting for a claim", extra={"task_ref": task_ref, "spare_cli": spare is not None})
            claim, spare = runner.run(wait_keeping_spare(queue, settings, spare))
            return take_claim(claim, queue, settings, container, clients, task_ref, spare, runner)
        finally:
            if spare is not None:
                runner.run(spare.close())


def unclaimed_container(settings: ExecutorSettings) -> tuple[Container, TenantClients | None]:
    """The run's object graph and AWS clients, built before any claim (tens of ms a warm run does
    not spend): the clients have no credentials until the claim binds them to its tenant."""
    clients = clients_for(settings)
    container = executor_container(clients)
    for name in RUN_CONTAINER_PARTS:
        getattr(container, name)
    return container, clients


def take_claim(claim: Claim, queue: SqsClaimQueue, settings: ExecutorSettings, container: Container,
               clients: TenantClients | None, task_ref: str, spare: SpareCli | None, runner: asyncio.Runner) -> int:
    heap.hold()  # the tenant's clients and the run's start, as a launched executor's (main.execute)
    timeline.restart()
    run_settings = settings.claimed(claim.tenant_id, claim.project_id, claim.execution_id)
    log_as_execution(tenant_id=claim.tenant_id, project_id=claim.project_id, execution_id=claim.execution_id)
    try:
        if clients is not None:
            clients.bind(claim.tenant_id, claim.execution_id)  # the tenant's session, only now
        if not ClaimRecords(container.table).record(claim, task_ref):
            logger.warning("the claim was taken by another executor, or its execution is gone")
            queue.delete(claim)
            return 0
        # Recorded, then deleted: an executor that dies in between leaves the claim to another.
        queue.delete(claim)
    except Exception:
        logger.exception("the claim could not be taken; it returns to the queue")
        return 1
    timeline.mark("claimed")
    logger.info("pool executor claimed an execution", extra={"task_ref": task_ref})
    with claim_config_dir(run_settings):
        return run(container, run_settings, spare, runner)


async def start_spare(settings: ExecutorSettings) -> SpareCli | None:
    """The CLI, started and parked (spare.py); None if it cannot start (the run starts its own)."""
    try:
        return await SpareCli.start(settings)
    except Exception:  # noqa: BLE001 - a pool executor without a spare is a slower one, not a broken one
        logger.exception("the spare CLI did not start; this executor's run will start its own")
        return None


async def wait_keeping_spare(queue: SqsClaimQueue, settings: ExecutorSettings,
                             spare: SpareCli | None) -> tuple[Claim, SpareCli | None]:
    """The claim, and a spare CLI that is still running: one that exited while parked is replaced."""
    while True:
        claim = await asyncio.to_thread(queue.receive, settings.claim_wait_seconds)
        if claim is not None:
            return claim, spare
        if spare is not None and not spare.alive:
            logger.warning("the spare CLI exited while parked; starting another")
            await spare.close()
            spare = await start_spare(settings)


def own_task_ref(settings: ExecutorSettings) -> str:
    """How a kill reaches this process: its ECS task ARN on Fargate, its pid on a laptop."""
    if not settings.ecs_container_metadata_uri_v4:
        return f"local:{os.getpid()}"
    url = f"{settings.ecs_container_metadata_uri_v4}/task"
    with urllib.request.urlopen(url, timeout=5) as reply:  # nosec B310 - the http:// endpoint ECS sets for the task
        return json.loads(reply.read())["TaskARN"]


def warm_up(settings: ExecutorSettings) -> None:
    """Everything tenant-neutral a run would otherwise do first: imports, and the CLI's pages."""
    for name in RUN_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # renamed since: the run imports what it needs itself, only later
            logger.warning("a module to warm up is gone", extra={"module": name})
    aws.preload_models(RUN_SERVICES)
    cli = Path(settings.claude_cli_path or BUNDLED_CLI)
    try:
        with cli.open("rb") as binary:  # hundreds of MB, read from a lazily pulled image on Fargate
            while binary.read(READ_CHUNK):
                pass
    except OSError:
        logger.warning("the CLI could not be read ahead", extra={"cli": str(cli)})


@contextmanager
def claim_config_dir(settings: ExecutorSettings) -> Iterator[None]:
    """The claim's own CLI config directory (the local stack's), as a launcher gives a launched run."""
    if not settings.claude_config_dir:  # on Fargate: the run's own, made and removed by confinement.py
        yield
        return
    path = Path(settings.claude_config_dir)
    path.mkdir(parents=True, exist_ok=True)
    # Without a sandbox the CLI inherits this process's environment, as a launched run's inherits
    # the CLAUDE_CONFIG_DIR its launcher set.
    before = os.environ.get("CLAUDE_CONFIG_DIR")
    os.environ["CLAUDE_CONFIG_DIR"] = str(path)
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)
        # the directory is gone: nothing started after the claim may be pointed at it
        if before is None:
            os.environ.pop("CLAUDE_CONFIG_DIR", None)
        else:
            os.environ["CLAUDE_CONFIG_DIR"] = before
