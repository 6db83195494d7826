"""Permission requests (``PERM#<requestId>``) and a run's inbox (``INBOX#<executionId>#<id>``),
both in the project's partition, with a TTL: they matter only while the run goes on."""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_attr, to_item
from cloutagent.adapters.dynamo.table import Table
from cloutagent.domain.steering import InboxMessage, PermissionAnswered, PermissionOpened
from cloutagent.ids import new_id, now_iso


def open_permission_op(record: PermissionOpened) -> dict[str, Any]:
    item = {"PK": keys.project_pk(record.tenant_id, record.project_id), "SK": keys.permission_sk(record.request_id),
            "requestId": record.request_id, "executionId": record.execution_id, "toolName": record.tool_name,
            "status": "pending", "createdAt": now_iso(), "expiresAt": record.expires_at}
    return {"Put": {"Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}


def answer_permission_op(record: PermissionAnswered) -> dict[str, Any]:
    """pending -> the resolution, only while pending and only for the named execution."""
    return {"Update": {
        "Key": {"PK": {"S": keys.project_pk(record.tenant_id, record.project_id)},
                "SK": {"S": keys.permission_sk(record.request_id)}},
        "UpdateExpression": "SET #status = :res, #by = :by, resolvedAt = :at",
        "ConditionExpression": "#status = :pending AND executionId = :exec",
        "ExpressionAttributeNames": {"#status": "status", "#by": "by"},
        "ExpressionAttributeValues": {":res": to_attr(record.resolution), ":by": to_attr(record.by),
                                      ":at": to_attr(now_iso()), ":pending": to_attr("pending"),
                                      ":exec": to_attr(record.execution_id)},
    }}


def inbox_op(record: InboxMessage) -> dict[str, Any]:
    item = {"PK": keys.project_pk(record.tenant_id, record.project_id),
            "SK": keys.inbox_prefix(record.execution_id) + new_id(), "kind": record.kind, "by": record.by,
            "data": record.data, "expiresAt": record.expires_at}
    return {"Put": {"Item": to_item(item)}}


class DynamoSteering:
    def __init__(self, table: Table):
        self.table = table

    def get(self, tenant_id: str, project_id: str, request_id: str) -> dict[str, Any] | None:
        return self.table.get(keys.project_pk(tenant_id, project_id), keys.permission_sk(request_id))

    def inbox_after(self, tenant_id: str, project_id: str, execution_id: str, after: str | None) -> list[dict[str, Any]]:
        """The run's inbox messages after ``after`` (a sort key), oldest first, strongly consistent."""
        prefix = keys.inbox_prefix(execution_id)
        low = after + "\x00" if after else prefix
        items, _ = self.table.query_page(keys.project_pk(tenant_id, project_id), sk_between=(low, prefix + "\uffff"),
                                         consistent=True, limit=100)
        return items
