"""A project's Git host trigger and the deliveries it already acted on, in the project's partition.

Items: PK ``T#{t}#P#{p}``, SK ``TRIGGER`` with the config and ``ciphertext`` (the shared secret
sealed under the project key, base64), written and deleted in one transaction with the
``trigger.changed`` event (a ProjectChange record); SK ``DELIVERY#{provider}#{id}``, one per comment
that started (or tried to start) a run, written only if absent and expiring through the table's
TTL. Deleting the project purges both with the rest of its partition.
"""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_item
from cloutagent.adapters.dynamo.table import Table, error_code
from cloutagent.domain.changes import TriggerRemoved, TriggerSaved
from cloutagent.domain.triggers import TriggerConfig
from cloutagent.ids import epoch_seconds, now_iso


def put_trigger_op(record: TriggerSaved) -> dict[str, Any]:
    item = {"PK": keys.project_pk(record.tenant_id, record.project_id), "SK": keys.TRIGGER_SK,
            "config": record.config.model_dump(mode="json", by_alias=True), "ciphertext": record.ciphertext}
    return {"Put": {"Item": to_item(item)}}


def delete_trigger_op(record: TriggerRemoved) -> dict[str, Any]:
    return {"Delete": {"Key": {"PK": {"S": keys.project_pk(record.tenant_id, record.project_id)},
                               "SK": {"S": keys.TRIGGER_SK}}}}


class DynamoTriggerStore:
    def __init__(self, table: Table):
        self.table = table

    def get(self, tenant_id: str, project_id: str) -> tuple[TriggerConfig, str] | None:
        """The trigger's config and its sealed secret, or None when the project has none."""
        item = self.table.get(keys.project_pk(tenant_id, project_id), keys.TRIGGER_SK)
        if item is None:
            return None
        return TriggerConfig.model_validate(item["config"]), item["ciphertext"]

    def claim_delivery(self, tenant_id: str, project_id: str, provider: str, delivery_id: str,
                       ttl_seconds: int) -> bool:
        """Record a delivery as acted on; False if it already was (a redelivery)."""
        try:
            self.table.put({"PK": keys.project_pk(tenant_id, project_id), "SK": keys.delivery_sk(provider, delivery_id),
                            "receivedAt": now_iso(), "expiresAt": epoch_seconds() + ttl_seconds},
                           condition="attribute_not_exists(PK)")
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
