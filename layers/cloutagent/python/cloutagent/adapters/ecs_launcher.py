"""Starting and stopping executor tasks on ECS Fargate.

Overrides carry ids only (ECS caps them at 8 KB): the executor reads the prompt and the
project's configuration from DynamoDB itself.
"""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo.table import error_code
from cloutagent.domain.executions import Execution, LaunchFailed


def execution_environment(execution: Execution) -> list[dict[str, str]]:
    return [
        {"name": "CLOUTAGENT_TENANT_ID", "value": execution.tenant_id},
        {"name": "CLOUTAGENT_PROJECT_ID", "value": execution.project_id},
        {"name": "CLOUTAGENT_EXECUTION_ID", "value": execution.execution_id},
    ]


class EcsLauncher:
    def __init__(self, client: Any, settings: Any):
        self.client = client
        self.settings = settings

    def launch(self, execution: Execution) -> str:
        try:
            response = self._run_task(execution)
        except Exception as exc:
            code = error_code(exc)
            if not code:
                raise
            raise LaunchFailed(f"ECS refused to start the task ({code})") from exc
        if response.get("failures") or not response.get("tasks"):
            reasons = ", ".join(f.get("reason", "?") for f in response.get("failures", []))
            raise LaunchFailed(f"ECS started no task ({reasons or 'no reason given'})")
        return response["tasks"][0]["taskArn"]

    def _run_task(self, execution: Execution) -> dict[str, Any]:
        s = self.settings
        return self.client.run_task(
            cluster=s.ecs_cluster,
            taskDefinition=s.task_definition,
            launchType="FARGATE",
            count=1,
            startedBy=execution.execution_id[:36],
            **self._network(),
            overrides={"containerOverrides": [{"name": s.task_container_name, "environment": execution_environment(execution)}]},
            tags=[{"key": "tenantId", "value": execution.tenant_id}, {"key": "executionId", "value": execution.execution_id}],
        )

    def _network(self) -> dict[str, Any]:
        subnets = [x for x in self.settings.subnets.split(",") if x]
        if not subnets:  # infra always sets them; only an emulator runs without
            return {}
        groups = [x for x in self.settings.security_groups.split(",") if x]
        return {"networkConfiguration": {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": groups, "assignPublicIp": "DISABLED"}}}

    def stop(self, execution: Execution, reason: str) -> None:
        """Stop the execution's task, found by the startedBy tag RunTask gave it."""
        tasks = self.client.list_tasks(cluster=self.settings.ecs_cluster, startedBy=execution.execution_id[:36])
        for task_arn in tasks.get("taskArns", []):
            self.client.stop_task(cluster=self.settings.ecs_cluster, task=task_arn, reason=reason[:255])
