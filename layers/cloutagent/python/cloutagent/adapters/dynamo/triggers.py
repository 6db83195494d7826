"""A project's Git host trigger and the deliveries it already acted on, in the project's partition.

Items: PK ``T#{t}#P#{p}``, SK ``TRIGGER`` with the config and ``ciphertext`` (the shared secret
sealed under the project key, base64); SK ``DELIVERY#{provider}#{id}``, one per delivery that
started (or tried to start) a run, written only if absent and expiring through the table's TTL.
Deleting the project purges both with the rest of its partition.
"""

from __future__ import annotations

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.table import Table, error_code
from cloutagent.domain.triggers import TriggerConfig
from cloutagent.ids import epoch_seconds, now_iso


class DynamoTriggerStore:
    def __init__(self, table: Table):
        self.table = table

    def get(self, tenant_id: str, project_id: str) -> tuple[TriggerConfig, str] | None:
        """The trigger's config and its sealed secret, or None when the project has none."""
        item = self.table.get(keys.project_pk(tenant_id, project_id), keys.TRIGGER_SK)
        if item is None:
            return None
        return TriggerConfig.model_validate(item["config"]), item["ciphertext"]

    def put(self, tenant_id: str, project_id: str, config: TriggerConfig, ciphertext: str) -> None:
        self.table.put({"PK": keys.project_pk(tenant_id, project_id), "SK": keys.TRIGGER_SK,
                        "config": config.model_dump(mode="json", by_alias=True), "ciphertext": ciphertext})

    def delete(self, tenant_id: str, project_id: str) -> bool:
        """Remove the trigger; False if there was none."""
        return self.table.delete(keys.project_pk(tenant_id, project_id), keys.TRIGGER_SK, return_old=True) is not None

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
