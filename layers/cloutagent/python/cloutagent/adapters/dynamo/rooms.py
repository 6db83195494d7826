"""Connections (2-hour TTL, like API Gateway's own cap) and project room subscriptions."""

from __future__ import annotations

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_attr, to_item
from cloutagent.adapters.dynamo.table import Table, cancellation_codes, error_code
from cloutagent.errors import SlotsFull, Unauthorized
from cloutagent.domain.identity import Identity
from cloutagent.ids import epoch_seconds, now_iso


class DynamoRoomStore:
    def __init__(self, table: Table, ttl_seconds: int):
        self.table = table
        self.ttl_seconds = ttl_seconds

    def put_connection(self, identity: Identity, connection_id: str, *, tenant_cap: int) -> None:
        """Record the connection and count it among the tenant's, at most ``tenant_cap``, in one
        transaction: parallel handshakes can never exceed the cap. Raises SlotsFull when full.

        The count is a small item of its own (``CONNSLOTS``), so a handshake writes the same few
        bytes however many connections the tenant has open."""
        record = to_item({
            "PK": keys.tenant_pk(identity.tenant_id),
            "SK": keys.connection_sk(identity.user_id, connection_id),
            "connectionId": connection_id,
            "userId": identity.user_id,
            "role": identity.role.name,
            "connectedAt": now_iso(),
            "expiresAt": epoch_seconds() + self.ttl_seconds,
        })
        count = {"Update": {
            "Key": self._slots_key(identity.tenant_id),
            "UpdateExpression": "ADD #n :one",
            "ConditionExpression": "attribute_not_exists(#n) OR #n < :cap",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {":one": to_attr(1), ":cap": to_attr(tenant_cap)},
        }}
        try:
            self.table.transact([{"Put": {"Item": record}}, count])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and \
                    cancellation_codes(exc)[1:2] == ["ConditionalCheckFailed"]:
                raise SlotsFull() from exc
            raise

    def free_expired_slots(self, tenant_id: str) -> int:
        """Count the tenant's connections again, without those whose $disconnect never ran (their
        record's time is up); returns how many the count held too many.

        Expired records are deleted first, so a $disconnect that comes after all cannot give their
        place back twice. The new count is written only if no handshake or $disconnect changed it
        meanwhile (else 0: nothing freed this time)."""
        before = int((self.table.get(keys.tenant_pk(tenant_id), keys.CONNECTION_SLOTS_SK) or {}).get("count", 0))
        now = epoch_seconds()
        records = list(self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.CONN_PREFIX, consistent=True))
        expired = [(i["PK"], i["SK"]) for i in records if int(i.get("expiresAt", now + 1)) <= now]
        live = len(records) - len(expired)
        if before <= live:
            return 0
        self.table.batch_delete(expired)
        try:
            # REMOVE: the map of open connections this item held before it was a count
            self.table.update(keys.tenant_pk(tenant_id), keys.CONNECTION_SLOTS_SK, "SET #n = :live REMOVE #m",
                              names={"#n": "count", "#m": "slots"}, vals={":live": live, ":before": before},
                              condition="#n = :before")
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return 0
        return before - live

    @staticmethod
    def _slots_key(tenant_id: str) -> dict:
        return {"PK": {"S": keys.tenant_pk(tenant_id)}, "SK": {"S": keys.CONNECTION_SLOTS_SK}}

    def connection_ids(self, tenant_id: str, user_id: str) -> list[str]:
        # Strongly consistent: a connection recorded just before a revocation must be listed to be closed.
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.connection_sk(user_id, ""),
                                     consistent=True)
        return [i["connectionId"] for i in items]

    def count_connections(self, tenant_id: str, user_id: str) -> int:
        prefix = keys.connection_sk(user_id, "")
        now = epoch_seconds()
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=prefix)
        # TTL deletion lags by hours; expired records must not count against the limit.
        return sum(1 for i in items if int(i.get("expiresAt", now + 1)) > now)

    def tenant_connections(self, tenant_id: str) -> list[tuple[str, str]]:
        """Every live connection of the tenant, as (connection id, role): for tenant-level notices."""
        now = epoch_seconds()
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.CONN_PREFIX)
        return [(i["connectionId"], i.get("role", "viewer")) for i in items if int(i.get("expiresAt", now + 1)) > now]

    def delete_connection(self, identity: Identity, connection_id: str) -> set[str]:
        """Forget a connection; returns the projects it had joined."""
        old = self.table.delete(
            keys.tenant_pk(identity.tenant_id), keys.connection_sk(identity.user_id, connection_id), return_old=True
        )
        if old is not None:  # its place back; a record already gone was never counted twice
            try:
                self.table.update(keys.tenant_pk(identity.tenant_id), keys.CONNECTION_SLOTS_SK, "ADD #n :minus",
                                  names={"#n": "count"}, vals={":minus": -1, ":zero": 0}, condition="#n > :zero")
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
        return set((old or {}).get("rooms", set()))

    def subscribe(self, identity: Identity, project_id: str, connection_id: str) -> bool:
        """Join a room; False when this connection was in it already (nothing is written then)."""
        subscription = to_item({
            "PK": keys.project_pk(identity.tenant_id, project_id),
            "SK": keys.subscription_sk(connection_id),
            "connectionId": connection_id,
            "userId": identity.user_id,
            "expiresAt": epoch_seconds() + self.ttl_seconds,
        })
        put = {"Put": {"Item": subscription, "ConditionExpression": "attribute_not_exists(PK)"}}
        try:
            self._change_room(identity, project_id, connection_id, put, "ADD")
        except Unauthorized as exc:
            subscription, connection = (cancellation_codes(exc.__cause__) + ["None"])[:2]
            if subscription == "ConditionalCheckFailed" and connection != "ConditionalCheckFailed":
                return False  # in the room already: a second join changes nothing
            raise
        return True

    def unsubscribe(self, identity: Identity, project_id: str, connection_id: str) -> None:
        """Leave a room; the connection's room set forgets it too, so $disconnect will not
        announce a second member.left for it."""
        key = {"PK": {"S": keys.project_pk(identity.tenant_id, project_id)}, "SK": {"S": keys.subscription_sk(connection_id)}}
        self._change_room(identity, project_id, connection_id, {"Delete": {"Key": key}}, "DELETE")

    def _change_room(self, identity: Identity, project_id: str, connection_id: str,
                     subscription_op: dict, verb: str) -> None:
        """The subscription and the connection's room set change together, and only for a
        connection that still exists (never resurrect an expired one as a record without TTL)."""
        room_set = {"Update": {
            "Key": {"PK": {"S": keys.tenant_pk(identity.tenant_id)},
                    "SK": {"S": keys.connection_sk(identity.user_id, connection_id)}},
            "UpdateExpression": f"{verb} #r :p",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": {"#r": "rooms"},
            "ExpressionAttributeValues": {":p": to_attr({project_id})},
        }}
        try:
            self.table.transact([subscription_op, room_set])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                raise Unauthorized("This connection is no longer known; reconnect") from exc
            raise

    def subscribers(self, tenant_id: str, project_id: str) -> list[str]:
        # Consistent: a subscription made a moment ago must already receive the next event.
        items = self.table.query_all(keys.project_pk(tenant_id, project_id), sk_prefix=keys.SUB_PREFIX, consistent=True)
        now = epoch_seconds()
        return [i["connectionId"] for i in items if int(i.get("expiresAt", now + 1)) > now]

    def drop_subscription(self, tenant_id: str, project_id: str, connection_id: str) -> None:
        self.table.delete(keys.project_pk(tenant_id, project_id), keys.subscription_sk(connection_id))

    def drop_subscriptions(self, tenant_id: str, project_ids: set[str], connection_id: str) -> None:
        self.table.batch_delete([(keys.project_pk(tenant_id, p), keys.subscription_sk(connection_id)) for p in project_ids])
