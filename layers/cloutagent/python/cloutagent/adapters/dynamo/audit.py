"""The audit log: ``AUDIT#{at}#{id}`` items in the tenant partition, expiring with the plan's retention."""

from __future__ import annotations

import base64
from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_item
from cloutagent.adapters.dynamo.table import Table
from cloutagent.domain.audit import AuditEntry
from cloutagent.domain.changes import AuditRecorded
from cloutagent.errors import BadRequest


def audit_item(entry: AuditEntry, expires_at: int) -> dict[str, Any]:
    return {
        "PK": keys.tenant_pk(entry.tenant_id),
        "SK": keys.audit_sk(entry.at, entry.entry_id),
        **entry.to_wire(),
        "expiresAt": expires_at,  # epoch seconds: the table's TTL
    }


def put_audit_op(record: AuditRecorded) -> dict[str, Any]:
    """The entry as one write of a project change's transaction (adapters/dynamo/changes.py)."""
    return {"Put": {"Item": to_item(audit_item(record.entry, record.expires_at))}}


class DynamoAuditStore:
    def __init__(self, table: Table):
        self.table = table

    def append(self, entry: AuditEntry, expires_at: int) -> None:
        self.table.put(audit_item(entry, expires_at))

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """Newest first; ``cursor`` continues after the last entry of the previous page."""
        start = _decode_cursor(tenant_id, cursor) if cursor else None
        items, last = self.table.query_page(keys.tenant_pk(tenant_id), sk_prefix=keys.AUDIT_PREFIX, limit=limit,
                                            start_key=start, forward=False)
        entries = [AuditEntry.model_validate({**item, "tenantId": tenant_id}) for item in items]
        next_cursor = _encode_cursor(items[-1]["SK"]) if last and items else None
        return entries, next_cursor


def _encode_cursor(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode().rstrip("=")


def _decode_cursor(tenant_id: str, cursor: str) -> dict[str, Any]:
    try:
        sk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:
        raise BadRequest("The cursor is not valid", {"field": "cursor"}) from exc
    # Only an audit key of the caller's own partition: a cursor cannot start a read anywhere else.
    if not sk.startswith(keys.AUDIT_PREFIX) or not sk.isprintable():
        raise BadRequest("The cursor is not valid", {"field": "cursor"})
    return {"PK": {"S": keys.tenant_pk(tenant_id)}, "SK": {"S": sk}}
