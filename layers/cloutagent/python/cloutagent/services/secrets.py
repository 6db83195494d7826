"""Per-project secrets: set, list, delete, and open them all for the executor.

A value is encrypted before anything is written, and only its ciphertext is stored. Each change
is one transaction: the secret item, the project's list of names and a ``secret.changed`` event
(name, action and who — never the value), conditioned on the project's ``lastSeq``.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from cloutagent.domain.changes import ProjectChange, RecordChange, SecretRemoved, SecretSealed
from cloutagent.domain.identity import Identity
from cloutagent.domain.secrets import (
    MAX_SECRETS_PER_PROJECT, SealedSecret, SecretIndex, SecretInfo, encryption_context,
)
from cloutagent.errors import Conflict, ExpectationFailed, LimitExceeded, NotFound, SecretsUnavailable
from cloutagent.ids import now_iso
from cloutagent.protocol.actions import SecretRef, SecretSet
from cloutagent.services.audit import audited
from cloutagent.services.publisher import Publisher
from cloutagent.services.ports import SecretCipher, SecretStore

MAX_ATTEMPTS = 12  # as the event log: enough to outlast a busy run streaming events
PARALLEL_DECRYPT_ABOVE = 4


class SecretService:
    def __init__(self, store: SecretStore, cipher: SecretCipher, publisher: Publisher, pool: Executor | None = None, limits: Any = None,
                 audit: Any = None):
        self.audit = audit  # an AuditLog: names only, never a value
        self.store = store
        self.cipher = cipher
        self.publisher = publisher
        self.pool = pool
        self.limits = limits  # the license manager, when billing is wired in: may lower the cap per plan

    def set(self, identity: Identity, data: SecretSet) -> SecretInfo:
        """Create or overwrite a secret: encrypt first, then one transaction with its event."""
        tenant_id, project_id, name = identity.tenant_id, data.projectId, data.name
        ciphertext = None
        for _ in range(MAX_ATTEMPTS):
            index = self.store.index(tenant_id, project_id)
            if name not in index.updated:
                self._check_room(tenant_id, len(index.updated))
            if ciphertext is None:
                ciphertext = self.cipher.encrypt(data.value.get_secret_value(),
                                                 encryption_context(tenant_id, project_id, name))
            secret = SealedSecret(name=name, ciphertext=ciphertext, updated_at=now_iso(), updated_by=identity.user_id)
            if self._commit(identity, project_id, index, {**index.updated, name: secret.updated_at}, "set",
                            SecretSealed(tenant_id, project_id, secret), name):
                return SecretInfo(name=name, updated_at=secret.updated_at)
        raise Conflict("The project changed too often meanwhile; try again")

    def list(self, identity: Identity, project_id: str) -> list[SecretInfo]:
        index = self.store.index(identity.tenant_id, project_id)
        return [SecretInfo(name=name, updated_at=at) for name, at in sorted(index.updated.items())]

    def delete(self, identity: Identity, data: SecretRef) -> None:
        tenant_id, project_id, name = identity.tenant_id, data.projectId, data.name
        for _ in range(MAX_ATTEMPTS):
            index = self.store.index(tenant_id, project_id)
            if name not in index.updated:
                raise NotFound("No such secret in this project")
            remaining = {k: v for k, v in index.updated.items() if k != name}
            if self._commit(identity, project_id, index, remaining, "deleted",
                            SecretRemoved(tenant_id, project_id, name), name):
                return
        raise Conflict("The project changed too often meanwhile; try again")

    def environment(self, tenant_id: str, project_id: str) -> dict[str, str]:
        """Every secret of the project, decrypted with the caller's own role: the agent's environment."""
        sealed = self.store.sealed(tenant_id, project_id)

        def open_one(secret: SealedSecret) -> tuple[str, str]:
            try:
                return secret.name, self.cipher.decrypt(secret.ciphertext,
                                                        encryption_context(tenant_id, project_id, secret.name))
            except SecretsUnavailable as exc:
                raise SecretsUnavailable(f"The project secret {secret.name} could not be decrypted") from exc

        if self.pool is not None and len(sealed) > PARALLEL_DECRYPT_ABOVE:
            return dict(self.pool.map(open_one, sealed))
        return dict(open_one(s) for s in sealed)

    def _check_room(self, tenant_id: str, count: int) -> None:
        if count >= MAX_SECRETS_PER_PROJECT:
            raise LimitExceeded(f"A project has at most {MAX_SECRETS_PER_PROJECT} secrets",
                                {"limit": MAX_SECRETS_PER_PROJECT})
        if self.limits is not None:
            self.limits.check_secret_create(tenant_id, count)

    def _commit(self, identity: Identity, project_id: str, index: SecretIndex, updated: dict[str, str],
                action: str, record: RecordChange, name: str) -> bool:
        """The item write, the new list of names and the audit event, all or nothing.

        ``expect`` on ``lastSeq`` makes a lost race surface as ExpectationFailed (False: re-read
        and try again) instead of the event log retrying with a list of names that is now stale.
        """
        # The audit entry (names only, never the value) commits with the secret, or not at all.
        audit = audited(self.audit, identity, "secret.set" if action == "set" else "secret.delete",
                        f"{project_id}/{name}", {"name": name}, project_id=project_id)
        try:
            self.publisher.publish(
                identity.tenant_id, project_id,
                [("secret.changed", {"name": name, "action": action, "by": identity.user_id})],
                last_seq=index.last_seq,
                change=ProjectChange(expect={"last_seq": index.last_seq}, secret_names=updated,
                                     records=(record, *audit)),
            )
        except ExpectationFailed:
            return False
        return True
