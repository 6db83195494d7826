"""Sealed project secrets, under their project's partition; their names on the project item.

Item: PK ``T#{t}#P#{p}``, SK ``SECRET#{NAME}``, with ``name``, ``ciphertext`` (base64 of KMS's
blob), ``updatedAt`` and ``updatedBy``. The project item carries ``secretsUpdatedAt`` (name ->
updatedAt), changed in the same transaction as the items, so one GetItem tells whether a name
exists and how many there are.
"""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.codec import to_item
from cloutagent.adapters.dynamo.table import Table
from cloutagent.domain.secrets import SealedSecret, SecretIndex
from cloutagent.errors import ProjectNotFound

INDEX_FIELD = "secretsUpdatedAt"


def put_secret_op(tenant_id: str, project_id: str, secret: SealedSecret) -> dict[str, Any]:
    item = {"PK": keys.project_pk(tenant_id, project_id), "SK": keys.secret_sk(secret.name),
            **secret.model_dump(by_alias=True)}
    return {"Put": {"Item": to_item(item)}}


def delete_secret_op(tenant_id: str, project_id: str, name: str) -> dict[str, Any]:
    return {"Delete": {"Key": {"PK": {"S": keys.project_pk(tenant_id, project_id)}, "SK": {"S": keys.secret_sk(name)}}}}


class DynamoSecretStore:
    def __init__(self, table: Table):
        self.table = table

    def index(self, tenant_id: str, project_id: str) -> SecretIndex:
        """The project's secret names, read from its project item (one consistent GetItem)."""
        item = self.table.get(keys.tenant_pk(tenant_id), keys.project_sk(project_id))
        if item is None:
            raise ProjectNotFound()
        return SecretIndex(last_seq=int(item.get("lastSeq", 0)), updated=item.get(INDEX_FIELD) or {})

    def sealed_one(self, tenant_id: str, project_id: str, name: str) -> SealedSecret | None:
        """One secret by name (the repository's token, for a Git host trigger's comments)."""
        item = self.table.get(keys.project_pk(tenant_id, project_id), keys.secret_sk(name))
        return SealedSecret.model_validate(item) if item else None

    def sealed(self, tenant_id: str, project_id: str) -> list[SealedSecret]:
        items = self.table.query_all(keys.project_pk(tenant_id, project_id), sk_prefix=keys.SECRET_PREFIX,
                                     consistent=True)  # a secret set just before execute must be there
        return [SealedSecret.model_validate(i) for i in items]
