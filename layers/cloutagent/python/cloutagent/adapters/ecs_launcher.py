"""Starting and stopping executor tasks on ECS Fargate.

Overrides carry ids only (ECS caps them at 8 KB): the executor reads the prompt and the
project's configuration from DynamoDB itself.

With a pool (``executor_pool_size`` > 0) a launch starts no task for its execution: it sends a
claim (``adapters/claims.py``) that an idle pool task takes within a long poll, and starts one
pool task to take that one's place. Pool tasks are plain RunTask tasks, started with no ids and
``startedBy`` = ``POOL_STARTED_BY``; each runs one execution and exits. A kill finds a pooled
run's task through the claim record (the task ARN its claimer read from the ECS task metadata
endpoint), a cold-started one through its ``startedBy``.
"""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo.table import error_code
from cloutagent.domain.executions import Execution, LaunchFailed
from cloutagent.observability import logger

POOL_STARTED_BY = "cloutagent-pool"
RUN_TASK_MAX_COUNT = 10  # ECS starts at most 10 tasks per RunTask call


def execution_environment(execution: Execution) -> list[dict[str, str]]:
    return [
        {"name": "CLOUTAGENT_TENANT_ID", "value": execution.tenant_id},
        {"name": "CLOUTAGENT_PROJECT_ID", "value": execution.project_id},
        {"name": "CLOUTAGENT_EXECUTION_ID", "value": execution.execution_id},
    ]


def pool_tasks_to_start(pool_size: int, pool_tasks: int) -> int:
    """One for the task a claim takes, plus whatever the pool is short of ``pool_size``.

    Busy pool tasks are counted too (ECS cannot tell them from idle ones), so a lost idle task is
    only made up once the pool's running total drops below its size (docs/operations.md).
    """
    return 1 + max(0, pool_size - pool_tasks)


class EcsLauncher:
    def __init__(self, client: Any, settings: Any, *, claims: Any = None, claimers: Any = None):
        self.client = client
        self.settings = settings
        self.claims = claims  # the claim queue; None: every execution cold-starts its own task
        self.claimers = claimers  # who claimed what (a kill's way to a pooled run's task)

    def launch(self, execution: Execution) -> str:
        if self.claims is None or self.settings.executor_pool_size <= 0:
            return self._launch_cold(execution)
        try:
            self.claims.send(execution)
        except Exception as exc:
            code = error_code(exc)
            if not code:
                raise
            raise LaunchFailed(f"The claim could not be queued ({code})") from exc
        self._replenish_pool()
        return f"claim:{execution.execution_id}"

    def _launch_cold(self, execution: Execution) -> str:
        try:
            response = self._run_task(
                count=1, started_by=execution.execution_id[:36], environment=execution_environment(execution),
                tags=[{"key": "tenantId", "value": execution.tenant_id},
                      {"key": "executionId", "value": execution.execution_id}])
        except Exception as exc:
            code = error_code(exc)
            if not code:
                raise
            raise LaunchFailed(f"ECS refused to start the task ({code})") from exc
        if response.get("failures") or not response.get("tasks"):
            reasons = ", ".join(f.get("reason", "?") for f in response.get("failures", []))
            raise LaunchFailed(f"ECS started no task ({reasons or 'no reason given'})")
        return response["tasks"][0]["taskArn"]

    def _replenish_pool(self) -> None:
        # Never fails the launch: the claim is queued and may already be running. Without a task to
        # take it, it waits for the next launch's top-up (docs/operations.md, "The executor pool").
        try:
            missing = pool_tasks_to_start(self.settings.executor_pool_size, self._pool_task_count())
            while missing > 0:
                count = min(missing, RUN_TASK_MAX_COUNT)
                response = self._run_task(count=count, started_by=POOL_STARTED_BY)
                if response.get("failures"):
                    logger.warning("ECS started fewer pool tasks than asked",
                                   extra={"reasons": [f.get("reason") for f in response["failures"]]})
                missing -= count
        except Exception:
            logger.exception("the executor pool could not be topped up")

    def _pool_task_count(self) -> int:
        pages = self.client.get_paginator("list_tasks").paginate(
            cluster=self.settings.ecs_cluster, startedBy=POOL_STARTED_BY, desiredStatus="RUNNING")
        return sum(len(page.get("taskArns", [])) for page in pages)

    def _run_task(self, *, count: int, started_by: str, environment: list[dict[str, str]] | None = None,
                  tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        s = self.settings
        # A pool task gets no overrides and no tags: nothing of a tenant until it claims.
        extra: dict[str, Any] = {}
        if environment is not None:
            extra["overrides"] = {"containerOverrides": [{"name": s.task_container_name, "environment": environment}]}
        if tags:
            extra["tags"] = tags
        return self.client.run_task(
            cluster=s.ecs_cluster,
            taskDefinition=s.task_definition,
            launchType="FARGATE",
            count=count,
            startedBy=started_by,
            **self._network(),
            **extra,
        )

    def _network(self) -> dict[str, Any]:
        subnets = [x for x in self.settings.subnets.split(",") if x]
        if not subnets:  # infra always sets them; only an emulator runs without
            return {}
        groups = [x for x in self.settings.security_groups.split(",") if x]
        return {"networkConfiguration": {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": groups, "assignPublicIp": "DISABLED"}}}

    def stop(self, execution: Execution, reason: str) -> None:
        """Stop the execution's task: the one RunTask started for it, or the pool task that claimed it."""
        tasks = self.client.list_tasks(cluster=self.settings.ecs_cluster, startedBy=execution.execution_id[:36])
        task_arns = list(tasks.get("taskArns", []))
        claimer = self.claimers.claimer(execution) if self.claimers is not None else None
        if claimer and claimer.startswith("arn:"):
            task_arns.append(claimer)
        for task_arn in task_arns:
            self.client.stop_task(cluster=self.settings.ecs_cluster, task=task_arn, reason=reason[:255])
