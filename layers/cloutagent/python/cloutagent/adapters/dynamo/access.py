"""Tenants, their members and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import from_item, to_attr, to_item
from cloutagent.adapters.dynamo.table import Table, cancellation_codes, error_code
from cloutagent.adapters.dynamo.table import key as table_key
from cloutagent.domain.models import ApiKey, Invitation, Member, Tenant
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


def _guard_put(member: Member) -> dict[str, Any]:
    """The person's one-membership guard: written with the membership, refused if they hold one."""
    item = {"PK": keys.PERSON_PK, "SK": keys.person_sk(member.user_id), "tenantId": member.tenant_id,
            "since": member.joined_at}
    return {"Put": {"Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}


def _invitation_item(invitation: Invitation) -> dict[str, Any]:
    # expiresAt is the table's TTL (epoch seconds): a week past the invitation's end, so admins see
    # what became of it; the wire's expiresAt is validUntil here.
    wire = invitation.to_wire(exclude={"expires_at"})
    item = {"PK": keys.tenant_pk(invitation.tenant_id), "SK": keys.invite_sk(invitation.email), **wire,
            "tenantId": invitation.tenant_id, "validUntil": invitation.expires_at,
            "expiresAt": _epoch(invitation.expires_at) + INVITATION_KEPT_SECONDS}
    if invitation.status == "pending":
        item["GSI1PK"], item["GSI1SK"] = keys.invitee_lookup(invitation.email), keys.tenant_pk(invitation.tenant_id)
    return item


def _invitation(item: dict[str, Any]) -> Invitation:
    return Invitation.model_validate({**item, "expiresAt": item["validUntil"]})


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


INVITATION_KEPT_SECONDS = 7 * 86400


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
                    _guard_put(owner),
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
        """The membership and the person's guard together: a person already in a tenant gets CONFLICT."""
        try:
            self.table.transact([
                {"Put": {"Item": to_item(_member_item(member)), "ConditionExpression": "attribute_not_exists(PK)"}},
                _guard_put(member),
            ])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in cancellation_codes(exc):
                raise Conflict("That user already belongs to a tenant") from exc
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
        """The membership and the person's guard (if it names this tenant): they may then join another."""
        try:
            self.table.transact([
                {"Delete": {"Key": table_key(keys.tenant_pk(tenant_id), keys.user_sk(user_id)),
                            "ConditionExpression": "attribute_exists(PK)"}},
                {"Delete": {"Key": table_key(keys.PERSON_PK, keys.person_sk(user_id)),
                            "ConditionExpression": "attribute_not_exists(PK) OR tenantId = :t",
                            "ExpressionAttributeValues": {":t": to_attr(tenant_id)}}},
            ])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and cancellation_codes(exc)[0] == "ConditionalCheckFailed":
                raise NotFound("No such member") from exc
            raise

    # -- invitations -----------------------------------------------------------------------
    def put_invitation(self, invitation: Invitation, now: str) -> None:
        """One open invitation per email per tenant: a pending, unexpired one is CONFLICT."""
        try:
            self.table.put(_invitation_item(invitation),
                           condition="attribute_not_exists(PK) OR #s <> :pending OR validUntil <= :now",
                           names={"#s": "status"}, vals={":pending": "pending", ":now": now})
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Conflict("That email already has a pending invitation here") from exc
            raise

    def list_invitations(self, tenant_id: str) -> list[Invitation]:
        items = self.table.query_all(keys.tenant_pk(tenant_id), sk_prefix=keys.INVITE_PREFIX, consistent=True)
        return [_invitation(i) for i in items]

    def invitations_for(self, email: str) -> list[Invitation]:
        """Pending invitations addressed to an email, each read from its own item's key (never an attribute)."""
        found = []
        for hit in self.table.query_all(keys.invitee_lookup(email), index="GSI1"):
            tenant_id = hit["PK"].removeprefix("T#")
            if hit["PK"] != keys.tenant_pk(tenant_id) or hit["SK"] != keys.invite_sk(email):
                continue
            found.append(_invitation({**hit, "tenantId": tenant_id}))
        return found

    def delete_invitation(self, tenant_id: str, email: str) -> None:
        self.table.delete(keys.tenant_pk(tenant_id), keys.invite_sk(email))

    def accept_invitation(self, invitation: Invitation, member: Member, now: str) -> None:
        """One transaction: the person's guard, the membership, the invitation taken while still open."""
        try:
            self.table.transact([
                _guard_put(member),
                {"Put": {"Item": to_item(_member_item(member)), "ConditionExpression": "attribute_not_exists(PK)"}},
                self._close_invitation(invitation, "accepted", now),
            ])
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(exc)
            if "ConditionalCheckFailed" in codes[:2]:  # the guard or the membership: already in a tenant
                raise Conflict("You already belong to a tenant") from exc
            if "ConditionalCheckFailed" in codes:
                raise NotFound("No such invitation") from exc
            raise

    def decline_invitation(self, invitation: Invitation, now: str) -> None:
        try:
            self.table.transact([self._close_invitation(invitation, "declined", now)])
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in cancellation_codes(exc):
                raise NotFound("No such invitation") from exc
            raise

    def _close_invitation(self, invitation: Invitation, status: str, now: str) -> dict[str, Any]:
        """Out of the invitee's lookup, as long as it is still the pending one addressed to that email."""
        return {"Update": {
            "Key": table_key(keys.tenant_pk(invitation.tenant_id), keys.invite_sk(invitation.email)),
            "UpdateExpression": "SET #s = :status, closedAt = :now REMOVE GSI1PK, GSI1SK",
            "ConditionExpression": "#s = :pending AND invitationId = :id AND email = :email AND validUntil > :now",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {k: to_attr(v) for k, v in {
                ":status": status, ":now": now, ":pending": "pending", ":id": invitation.invitation_id,
                ":email": invitation.email}.items()},
        }}

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
