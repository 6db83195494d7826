"""Request counters for rate limiting: one item per tenant and one-second window, counting the
tenant and each caller in one UpdateItem (``domain/rate_limits.py``); the TTL removes old windows."""

from __future__ import annotations

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.table import Table
from cloutagent.domain.rate_limits import WINDOW_MS, WindowCounts

KEEP_SECONDS = 120  # a window item outlives its second briefly; DynamoDB's TTL deletes it later


class DynamoRateCounter:
    def __init__(self, table: Table):
        self.table = table

    def count(self, tenant_id: str, caller: str, window: int) -> WindowCounts:
        item = self.table.update(
            keys.tenant_pk(tenant_id), keys.rate_sk(window),
            "ADD #caller :one, #total :one SET #ttl = if_not_exists(#ttl, :expires)",
            names={"#caller": f"c:{caller}", "#total": "total", "#ttl": "expiresAt"},
            vals={":one": 1, ":expires": window * WINDOW_MS // 1000 + KEEP_SECONDS},
            returns="UPDATED_NEW",
        )
        return WindowCounts(caller=int(item[f"c:{caller}"]), tenant=int(item["total"]))

    def count_person(self, user_id: str, window: int) -> int:
        """An invitee's requests in this window: they have no tenant partition to count in."""
        item = self.table.update(
            keys.PERSON_PK, keys.person_rate_sk(user_id, window),
            "ADD #total :one SET #ttl = if_not_exists(#ttl, :expires)",
            names={"#total": "total", "#ttl": "expiresAt"},
            vals={":one": 1, ":expires": window * WINDOW_MS // 1000 + KEEP_SECONDS},
            returns="UPDATED_NEW",
        )
        return int(item["total"])
