"""A ProjectChange (domain) as DynamoDB: project-item attributes and transaction writes."""

from __future__ import annotations

from functools import singledispatch
from typing import Any, Mapping

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from cloutagent.adapters.dynamo.audit import put_audit_op
from cloutagent.adapters.dynamo.executions import (
    execution_status_op, finish_execution_op, metered_execution_op, put_execution_op,
)
from cloutagent.adapters.dynamo.secrets import INDEX_FIELD, delete_secret_op, put_secret_op
from cloutagent.adapters.dynamo.steering import answer_permission_op, inbox_op, open_permission_op
from cloutagent.adapters.dynamo.triggers import delete_trigger_op, put_trigger_op
from cloutagent.adapters.dynamo.webhooks import delete_webhook_secret_op, put_webhook_secret_op
from cloutagent.domain.changes import (
    AuditRecorded, ExecutionCreated, ExecutionFinished, ExecutionMetered, ExecutionMoved, ProjectChange, RecordChange, SecretRemoved,
    SecretSealed, TriggerRemoved, TriggerSaved, WebhookSecretRemoved, WebhookSecretSealed,
)
from cloutagent.domain.steering import InboxMessage, PermissionAnswered, PermissionOpened


def project_attributes(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Domain field names and values -> the project item's attribute names and values."""
    return {to_camel(name): _stored(value) for name, value in fields.items()}


def set_attributes(change: ProjectChange) -> dict[str, Any]:
    attributes = project_attributes(change.set_fields)
    if change.secret_names is not None:
        attributes[INDEX_FIELD] = dict(change.secret_names)
    return attributes


def record_ops(change: ProjectChange) -> list[dict[str, Any]]:
    return [record_op(record) for record in change.records]


def _stored(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True) if isinstance(value, BaseModel) else value


@singledispatch
def record_op(record: RecordChange) -> dict[str, Any]:
    raise TypeError(f"no write for {type(record).__name__}")


@record_op.register
def _(record: ExecutionCreated) -> dict[str, Any]:
    return put_execution_op(record.execution)


@record_op.register
def _(record: ExecutionMoved) -> dict[str, Any]:
    extra = {"startedAt": record.started_at} if record.started_at else {}
    return execution_status_op(record.execution, record.status, **extra)


@record_op.register
def _(record: ExecutionFinished) -> dict[str, Any]:
    return finish_execution_op(record.execution, record.outcome, record.finished_at)


@record_op.register
def _(record: ExecutionMetered) -> dict[str, Any]:
    return metered_execution_op(record.tenant_id, record.project_id, record.execution_id, record.usage.to_wire(),
                                record.cost_usd)


@record_op.register
def _(record: SecretSealed) -> dict[str, Any]:
    return put_secret_op(record.tenant_id, record.project_id, record.secret)


@record_op.register
def _(record: SecretRemoved) -> dict[str, Any]:
    return delete_secret_op(record.tenant_id, record.project_id, record.name)


@record_op.register
def _(record: PermissionOpened) -> dict[str, Any]:
    return open_permission_op(record)


@record_op.register
def _(record: PermissionAnswered) -> dict[str, Any]:
    return answer_permission_op(record)


@record_op.register
def _(record: InboxMessage) -> dict[str, Any]:
    return inbox_op(record)


@record_op.register
def _(record: WebhookSecretSealed) -> dict[str, Any]:
    return put_webhook_secret_op(record)


@record_op.register
def _(record: WebhookSecretRemoved) -> dict[str, Any]:
    return delete_webhook_secret_op(record)


@record_op.register
def _(record: TriggerSaved) -> dict[str, Any]:
    return put_trigger_op(record)


@record_op.register
def _(record: TriggerRemoved) -> dict[str, Any]:
    return delete_trigger_op(record)


@record_op.register
def _(record: AuditRecorded) -> dict[str, Any]:
    return put_audit_op(record)
