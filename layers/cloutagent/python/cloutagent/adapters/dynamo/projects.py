"""Projects, stored under their tenant's partition."""

from __future__ import annotations

import json
from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_attr, to_item
from cloutagent.adapters.dynamo.events import DynamoEventLog
from cloutagent.adapters.dynamo.table import Table, cancellation_codes, error_code
from cloutagent.domain.models import Event, Project, Tenant
from cloutagent.errors import ProjectBusy, ProjectNotFound, StaleWrite
from cloutagent.ids import epoch_seconds

_PROJECT_FIELDS = (
    "projectId", "name", "description", "path", "agent", "limits", "repository", "webhook", "state", "executionId",
    "sessionId", "createdAt", "updatedAt", "lastSeq",
)


def project_item(project: Project) -> dict[str, Any]:
    # The stored form, not the wire form: the wire leaves out what only admins may read (webhook).
    stored = project.model_dump(mode="json", by_alias=True, exclude={"tenant_id"})
    return {"PK": keys.tenant_pk(project.tenant_id), "SK": keys.project_sk(project.project_id), **stored}


def project_from_item(tenant_id: str, item: dict[str, Any]) -> Project:
    return Project.model_validate({"tenantId": tenant_id, **{k: item.get(k) for k in _PROJECT_FIELDS if k in item}})


class DynamoProjectStore:
    def __init__(self, table: Table, events: DynamoEventLog):
        self.table = table
        self.events = events

    def get(self, tenant_id: str, project_id: str) -> Project:
        item = self.table.get(keys.tenant_pk(tenant_id), keys.project_sk(project_id))
        if item is None:
            raise ProjectNotFound()
        return project_from_item(tenant_id, item)

    def list(self, tenant_id: str) -> list[Project]:
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.PROJECT_PREFIX)
        return [project_from_item(tenant_id, i) for i in items]

    def overview(self, tenant_id: str) -> tuple[Tenant | None, list[Project]]:
        """The tenant record and all its projects in one query.

        Within a tenant partition, sort keys between "PROJECT#" and "TENANT" are exactly the
        projects followed by the tenant record (see docs/data-model.md).
        """
        tenant, projects = None, []
        for item in self.table.query_all(keys.tenant_pk(tenant_id), sk_between=(keys.PROJECT_PREFIX, keys.TENANT_SK)):
            if item["SK"] == keys.TENANT_SK:
                tenant = Tenant.model_validate({"tenantId": tenant_id, **item})
            elif item["SK"].startswith(keys.PROJECT_PREFIX):
                projects.append(project_from_item(tenant_id, item))
        return tenant, projects

    def create(self, project: Project, created_event: Event) -> None:
        """Store a project and its first event (seq 1) together."""
        self.table.transact(
            [
                {
                    "Put": {
                        "Item": to_item(project_item(project)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": {"Item": self.events.event_item(project.tenant_id, created_event)}},
            ]
        )

    def purge(self, tenant_id: str, project_id: str) -> int:
        """Remove everything kept under a deleted project: room subscriptions, executions and
        secret ciphertexts. Its event log expires by TTL."""
        pk = keys.project_pk(tenant_id, project_id)
        doomed = [(pk, item["SK"]) for item in self.table.query_all(pk)]
        self.table.batch_delete(doomed)
        return len(doomed)

    def delete(self, project: Project, deleted_event: Event) -> None:
        """Delete an idle project and log its deletion, or fail if it is running or changed."""
        try:
            self.table.transact(
                [
                    {
                        "Delete": {
                            "Key": {"PK": {"S": keys.tenant_pk(project.tenant_id)}, "SK": {"S": keys.project_sk(project.project_id)}},
                            "ConditionExpression": "#ls = :seq AND #st = :idle",
                            "ExpressionAttributeNames": {"#ls": "lastSeq", "#st": "state"},
                            "ExpressionAttributeValues": {":seq": to_attr(project.last_seq), ":idle": to_attr("idle")},
                        }
                    },
                    {"Put": {"Item": self.events.event_item(project.tenant_id, deleted_event)}},
                ]
            )
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and cancellation_codes(exc)[0] == "ConditionalCheckFailed":
                current = self.get(project.tenant_id, project.project_id)
                if current.state != "idle":
                    raise ProjectBusy("Kill the running execution before deleting the project") from exc
                raise StaleWrite() from exc
            raise
