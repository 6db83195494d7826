"""Tenants, their members and their API keys."""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import from_item, to_attr, to_item
from cloutagent.adapters.dynamo.table import Table, cancellation_codes, error_code
from cloutagent.adapters.dynamo.table import key as table_key
from cloutagent.domain.models import ApiKey, Member, Tenant
from cloutagent.errors import Conflict, NotFound


# What a handshake reads of a key item: its record, never its hash (infra/policies.py grants these only).
API_KEY_READ_ATTRIBUTES = ("tenantId", "keyId", "name", "role", "prefix", "createdAt", "createdBy", "revokedAt",
                           "projectIds", "expiresAt", "lastUsedAt")


def _member_item(member: Member) -> dict[str, Any]:
    return {
        "PK": keys.tenant_pk(member.tenant_id),
        "SK": keys.user_sk(member.user_id),
        "GSI1PK": keys.user_lookup(member.user_id),
        "GSI1SK": keys.tenant_pk(member.tenant_id),
        **member.to_wire(),
        "tenantId": member.tenant_id,
    }


class DynamoAccessStore:
    def __init__(self, table: Table):
        self.table = table

    # -- tenants -------------------------------------------------------------------------
    def create_tenant(self, tenant: Tenant, owner: Member) -> bool:
        """Create a tenant with its owner; False if this user already belongs to a tenant."""
        tenant_item = {"PK": keys.tenant_pk(tenant.tenant_id), "SK": keys.TENANT_SK, **tenant.to_wire()}
        try:
            self.table.transact(
                [
                    {"Put": {"Item": to_item(tenant_item), "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"Item": to_item(_member_item(owner)), "ConditionExpression": "attribute_not_exists(PK)"}},
                ]
            )
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in cancellation_codes(exc):
                return False
            raise
        return True

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = self.table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
        return Tenant.model_validate({"tenantId": tenant_id, **item}) if item else None

    def update_tenant(self, tenant_id: str, fields: dict[str, Any]) -> None:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        vals = {f":v{i}": v for i, v in enumerate(fields.values())}
        expr = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        self.table.update(keys.tenant_pk(tenant_id), keys.TENANT_SK, expr, names=names, vals=vals,
                          condition="attribute_exists(PK)")

    # -- members -------------------------------------------------------------------------
    def find_membership(self, user_id: str) -> Member | None:
        items, _ = self.table.query_page(keys.user_lookup(user_id), index="GSI1", limit=1)
        return Member.model_validate(items[0]) if items else None

    def get_member(self, tenant_id: str, user_id: str) -> Member:
        item = self.table.get(keys.tenant_pk(tenant_id), keys.user_sk(user_id))
        if item is None:
            raise NotFound("No such member")
        return Member.model_validate(item)

    def list_members(self, tenant_id: str) -> list[Member]:
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.USER_PREFIX)
        return [Member.model_validate(i) for i in items]

    def add_member(self, member: Member) -> None:
        try:
            self.table.put(_member_item(member), condition="attribute_not_exists(PK)")
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Conflict("That user is already a member") from exc
            raise

    def set_role(self, tenant_id: str, user_id: str, role: str) -> Member:
        try:
            item = self.table.update(
                keys.tenant_pk(tenant_id), keys.user_sk(user_id), "SET #r = :r",
                names={"#r": "role"}, vals={":r": role}, condition="attribute_exists(PK)",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("No such member") from exc
            raise
        return Member.model_validate(item)

    def remove_member(self, tenant_id: str, user_id: str) -> None:
        if self.table.delete(keys.tenant_pk(tenant_id), keys.user_sk(user_id), return_old=True) is None:
            raise NotFound("No such member")

    # -- API keys --------------------------------------------------------------------------
    def put_api_key(self, key: ApiKey, key_hash: str) -> None:
        self.table.put(
            {
                "PK": keys.tenant_pk(key.tenant_id),
                "SK": keys.apikey_sk(key.key_id),
                "GSI1PK": keys.apikey_lookup(key_hash),
                "GSI1SK": keys.tenant_pk(key.tenant_id),
                "keyHash": key_hash,
                "tenantId": key.tenant_id,
                **key.to_wire(),
            },
            condition="attribute_not_exists(PK)",
        )

    def find_api_key(self, key_hash: str) -> tuple[ApiKey, str] | None:
        items, _ = self.table.query_page(keys.apikey_lookup(key_hash), index="GSI1", limit=1)
        if not items:
            return None
        return ApiKey.model_validate(items[0]), items[0]["keyHash"]

    def get_api_key(self, tenant_id: str, key_id: str) -> ApiKey | None:
        """The key item itself, strongly consistent: the index can lag a revocation, this cannot.

        Only the key's record is read (``API_KEY_READ_ATTRIBUTES``, never its hash): functions that
        otherwise read no item (session) may GetItem just these attributes (infra/policies.py)."""
        out = self.table.client.get_item(
            TableName=self.table.name, Key=table_key(keys.tenant_pk(tenant_id), keys.apikey_sk(key_id)),
            ConsistentRead=True, ProjectionExpression=", ".join(f"#a{i}" for i in range(len(API_KEY_READ_ATTRIBUTES))),
            ExpressionAttributeNames={f"#a{i}": name for i, name in enumerate(API_KEY_READ_ATTRIBUTES)},
        )
        return ApiKey.model_validate(from_item(out["Item"])) if "Item" in out else None

    def touch_api_key(self, tenant_id: str, key_id: str, when: str, cutoff: str) -> None:
        """Set ``lastUsedAt`` unless a use after ``cutoff`` is already recorded (or the key is gone).

        Returns nothing and names no other attribute: the authorizer, which writes no other item,
        may update exactly this one attribute (infra/policies.py)."""
        try:
            self.table.client.update_item(
                TableName=self.table.name, Key=table_key(keys.tenant_pk(tenant_id), keys.apikey_sk(key_id)),
                UpdateExpression="SET #u = :now", ReturnValues="NONE",
                ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(#u) OR #u < :cutoff)",
                ExpressionAttributeNames={"#u": "lastUsedAt"},
                ExpressionAttributeValues={":now": to_attr(when), ":cutoff": to_attr(cutoff)},
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def set_api_key_role(self, tenant_id: str, key_id: str, role: str) -> ApiKey:
        try:
            item = self.table.update(
                keys.tenant_pk(tenant_id), keys.apikey_sk(key_id), "SET #r = :r",
                names={"#r": "role"}, vals={":r": role}, condition="attribute_exists(PK)",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("No such API key") from exc
            raise
        return ApiKey.model_validate(item)

    def list_api_keys(self, tenant_id: str) -> list[ApiKey]:
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.APIKEY_PREFIX)
        return [ApiKey.model_validate(i) for i in items]

    def revoke_api_key(self, tenant_id: str, key_id: str, when: str) -> ApiKey:
        try:
            item = self.table.update(
                keys.tenant_pk(tenant_id), keys.apikey_sk(key_id), "SET #rv = :now REMOVE GSI1PK, GSI1SK",
                names={"#rv": "revokedAt"}, vals={":now": when}, condition="attribute_exists(PK)",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("No such API key") from exc
            raise
        return ApiKey.model_validate(item)
