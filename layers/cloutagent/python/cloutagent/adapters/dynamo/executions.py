"""Execution records, under their project's partition, newest first by id."""

from __future__ import annotations

import base64
from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_attr, to_item
from cloutagent.adapters.dynamo.table import Table
from cloutagent.domain.executions import Execution, Outcome
from cloutagent.errors import BadRequest, NotFound


def put_execution_op(execution: Execution) -> dict[str, Any]:
    """The write that records a new execution, for inclusion in a transaction."""
    item = {
        "PK": keys.project_pk(execution.tenant_id, execution.project_id),
        "SK": keys.execution_sk(execution.execution_id),
        **execution.model_dump(mode="json", by_alias=True, exclude={"tenant_id"}),
    }
    return {"Put": {"Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}


def finish_execution_op(execution: Execution, outcome: Outcome, finished_at: str) -> dict[str, Any]:
    values = {":st": outcome.status, ":fa": finished_at, ":u": outcome.usage.to_wire(), ":c": outcome.cost_usd,
              ":d": outcome.duration_ms, ":n": outcome.num_turns, ":s": outcome.session_id, ":e": outcome.error,
              ":ec": outcome.error_code, ":g": outcome.git}
    return {
        "Update": {
            "Key": {"PK": {"S": keys.project_pk(execution.tenant_id, execution.project_id)},
                    "SK": {"S": keys.execution_sk(execution.execution_id)}},
            # A pool executor's claim leaves GSI1 with its run: the lookup index keeps live claims only.
            "UpdateExpression": "SET #status = :st, finishedAt = :fa, #usage = :u, costUsd = :c, durationMs = :d, "
                                "numTurns = :n, sessionId = :s, #error = :e, errorCode = :ec, git = :g "
                                "REMOVE GSI1PK, GSI1SK",
            "ExpressionAttributeNames": {"#status": "status", "#usage": "usage", "#error": "error"},
            "ExpressionAttributeValues": {k: to_attr(v) for k, v in values.items()},
        }
    }


def metered_execution_op(tenant_id: str, project_id: str, execution_id: str, usage: dict[str, Any],
                         cost_usd: float) -> dict[str, Any]:
    """The usage so far, on the execution's record (a later finish overwrites it)."""
    return {
        "Update": {
            "Key": {"PK": {"S": keys.project_pk(tenant_id, project_id)}, "SK": {"S": keys.execution_sk(execution_id)}},
            "UpdateExpression": "SET #usage = :u, costUsd = :c",
            "ExpressionAttributeNames": {"#usage": "usage"},
            "ExpressionAttributeValues": {":u": to_attr(usage), ":c": to_attr(cost_usd)},
        }
    }


def execution_status_op(execution: Execution, status: str, **fields: Any) -> dict[str, Any]:
    names = {"#status": "status", **{f"#f{i}": k for i, k in enumerate(fields)}}
    values = {":st": to_attr(status), **{f":v{i}": to_attr(v) for i, v in enumerate(fields.values())}}
    sets = ["#status = :st"] + [f"#f{i} = :v{i}" for i in range(len(fields))]
    return {
        "Update": {
            "Key": {"PK": {"S": keys.project_pk(execution.tenant_id, execution.project_id)},
                    "SK": {"S": keys.execution_sk(execution.execution_id)}},
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


class DynamoExecutionStore:
    def __init__(self, table: Table):
        self.table = table

    def get(self, tenant_id: str, project_id: str, execution_id: str) -> Execution:
        item = self.table.get(keys.project_pk(tenant_id, project_id), keys.execution_sk(execution_id))
        if item is None:
            raise NotFound("No such execution")
        return Execution.model_validate({"tenantId": tenant_id, **item})

    def list(self, tenant_id: str, project_id: str, limit: int, cursor: str | None) -> tuple[list[Execution], str | None]:
        start = _decode_cursor(tenant_id, project_id, cursor) if cursor else None
        items, last = self.table.query_page(keys.project_pk(tenant_id, project_id), sk_prefix=keys.EXEC_PREFIX,
                                            limit=limit, start_key=start, forward=False)
        executions = [Execution.model_validate({"tenantId": tenant_id, **i}) for i in items]
        next_cursor = _encode_cursor(executions[-1].execution_id) if last and executions else None
        return executions, next_cursor


def _encode_cursor(execution_id: str) -> str:
    return base64.urlsafe_b64encode(execution_id.encode()).decode().rstrip("=")


def _decode_cursor(tenant_id: str, project_id: str, cursor: str) -> dict[str, Any]:
    try:
        execution_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:
        raise BadRequest("The cursor is not valid", {"field": "cursor"}) from exc
    if not execution_id.replace("_", "").isalnum():
        raise BadRequest("The cursor is not valid", {"field": "cursor"})
    return {"PK": {"S": keys.project_pk(tenant_id, project_id)}, "SK": {"S": keys.execution_sk(execution_id)}}
