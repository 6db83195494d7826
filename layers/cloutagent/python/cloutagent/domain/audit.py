"""The tenant's audit log: who changed members, roles, keys, secrets, plan or the agent's powers, when.

Entries name what changed, never a secret's value or a key's secret (``details`` holds names,
roles and ids only). Kept for the plan's ``auditRetentionDays``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from cloutagent.domain.base import DomainModel

# What the log records (docs/protocol.md, audit.list).
AUDITED_ACTIONS = frozenset({
    "member.invite", "member.set_role", "member.remove",
    "invitation.revoke", "invitation.accept", "invitation.decline",
    "apikey.create", "apikey.revoke", "apikey.downgrade",
    "secret.set", "secret.delete",
    "webhook.set", "webhook.delete",
    "trigger.set", "trigger.delete",
    "project.update",  # only when it changes the agent's permission mode or tools
    "plan.change",  # the Stripe webhook moved the tenant's plan or subscription status
})


class AuditActor(DomainModel):
    """Who made the change: a member, an API key (``userId`` ``apikey:{keyId}``) or the platform."""

    user_id: str
    display_name: str = ""
    auth_type: str  # jwt | apikey | system
    connection_id: str | None = None
    key_id: str | None = None


class AuditEntry(DomainModel):
    tenant_id: str
    entry_id: str
    at: str
    action: str
    actor: AuditActor
    target: str  # what changed: a user id, a key id, "{projectId}/{SECRET}", the tenant
    project_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id"})


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None
