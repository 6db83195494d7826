"""The tenant's audit log: services record each change after it happened; admins read it (audit.list)."""

from __future__ import annotations

from typing import Any, Callable

from cloutagent.domain.audit import AuditActor, AuditEntry, AuditPage
from cloutagent.domain.changes import AuditRecorded
from cloutagent.domain.identity import Identity
from cloutagent.ids import epoch_seconds, new_id, now_iso
from cloutagent.observability import logger, record_metric
from cloutagent.services.ports import AuditStore

DEFAULT_RETENTION_DAYS = 365
# Changes no member made: the Stripe webhook's (a plan or subscription status moved).
STRIPE_ACTOR = AuditActor(user_id="stripe", display_name="Stripe webhook", auth_type="system")


def actor_of(identity: Identity) -> AuditActor:
    key_id = identity.user_id.removeprefix("apikey:") if identity.auth_type == "apikey" else None
    return AuditActor(user_id=identity.user_id, display_name=identity.display_name, auth_type=identity.auth_type,
                      connection_id=identity.connection_id, key_id=key_id)


def audited(audit: "AuditLog | None", identity: Identity, action: str, target: str,
            details: dict[str, Any] | None = None, *, project_id: str | None = None) -> tuple[AuditRecorded, ...]:
    """The records a ProjectChange carries for its audit entry: none when no audit log is wired."""
    return () if audit is None else (audit.entry(identity, action, target, details, project_id=project_id),)


class AuditLog:
    def __init__(self, store: AuditStore, retention_days: Callable[[str], int] | None = None):
        self.store = store
        # The tenant's plan's auditRetentionDays (wiring reads it through the license manager).
        self.retention_days = retention_days or (lambda tenant_id: DEFAULT_RETENTION_DAYS)

    def record(self, identity: Identity, action: str, target: str, details: dict[str, Any] | None = None, *,
               project_id: str | None = None) -> None:
        """Record a change that has happened (never call it before the change succeeded)."""
        self.record_as(identity.tenant_id, actor_of(identity), action, target, details, project_id=project_id)

    def entry(self, identity: Identity, action: str, target: str, details: dict[str, Any] | None = None, *,
              project_id: str | None = None) -> AuditRecorded:
        """The entry for a change a ProjectChange is about to make, to travel in its transaction."""
        entry = AuditEntry(tenant_id=identity.tenant_id, entry_id=new_id("au_"), at=now_iso(), action=action,
                           actor=actor_of(identity), target=target, project_id=project_id, details=details or {})
        return AuditRecorded(entry, epoch_seconds() + self.retention_days(identity.tenant_id) * 86400)

    def record_as(self, tenant_id: str, actor: AuditActor, action: str, target: str,
                  details: dict[str, Any] | None = None, *, project_id: str | None = None) -> None:
        entry = AuditEntry(tenant_id=tenant_id, entry_id=new_id("au_"), at=now_iso(), action=action, actor=actor,
                           target=target, project_id=project_id, details=details or {})
        try:
            days = self.retention_days(tenant_id)
            self.store.append(entry, epoch_seconds() + days * 86400)
        except Exception:
            # The change itself is done and cannot be undone here: answering it as failed would make
            # a client retry a change that happened. Alarm on the metric instead.
            logger.exception("audit entry not recorded", extra={"audit_action": action, "target": target})
            record_metric("AuditRecordFailed", 1, tenant_id=tenant_id)

    def list(self, identity: Identity, limit: int, cursor: str | None) -> AuditPage:
        """The tenant's entries, newest first."""
        return AuditPage(*self.store.list(identity.tenant_id, limit, cursor))
