"""A project webhook's signing secret, sealed, in its project's partition; its config on the project item.

Item: PK ``T#{t}#P#{p}``, SK ``WEBHOOK``, with ``ciphertext`` (base64 of KMS's blob) and
``createdAt``. The config (url, format, events) is the project item's ``webhook`` attribute, set
in the same transaction; deleting the project purges the item with the rest of its partition.
"""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_item
from cloutagent.adapters.dynamo.table import Table
from cloutagent.domain.changes import WebhookSecretRemoved, WebhookSecretSealed


def put_webhook_secret_op(record: WebhookSecretSealed) -> dict[str, Any]:
    item = {"PK": keys.project_pk(record.tenant_id, record.project_id), "SK": keys.WEBHOOK_SK,
            "ciphertext": record.ciphertext, "createdAt": record.created_at}
    return {"Put": {"Item": to_item(item)}}


def delete_webhook_secret_op(record: WebhookSecretRemoved) -> dict[str, Any]:
    return {"Delete": {"Key": {"PK": {"S": keys.project_pk(record.tenant_id, record.project_id)},
                               "SK": {"S": keys.WEBHOOK_SK}}}}


class DynamoWebhookStore:
    def __init__(self, table: Table):
        self.table = table

    def sealed_secret(self, tenant_id: str, project_id: str) -> str | None:
        """The signing secret's ciphertext, or None when the project has no webhook."""
        item = self.table.get(keys.project_pk(tenant_id, project_id), keys.WEBHOOK_SK)
        return item["ciphertext"] if item else None
