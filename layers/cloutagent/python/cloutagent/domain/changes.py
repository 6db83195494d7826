"""A project change: what commits in the same transaction as the events that announce it.

Services describe the change in domain terms; the event log's adapter turns it into writes, so
a state change and its events cannot diverge, and no service handles a storage request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from cloutagent.domain.audit import AuditEntry
from cloutagent.domain.executions import Execution, ExecutionStatus, Outcome, Usage
from cloutagent.domain.secrets import SealedSecret
from cloutagent.domain.steering import InboxMessage, PermissionAnswered, PermissionOpened
from cloutagent.domain.triggers import TriggerConfig


@dataclass(frozen=True)
class ExecutionCreated:
    execution: Execution


@dataclass(frozen=True)
class ExecutionMoved:
    """The execution's status changed (``started_at`` when it began running)."""

    execution: Execution
    status: ExecutionStatus
    started_at: str | None = None


@dataclass(frozen=True)
class ExecutionFinished:
    execution: Execution
    outcome: Outcome
    finished_at: str


@dataclass(frozen=True)
class ExecutionMetered:
    """What a running execution has used so far, kept on its record so that a run whose
    executor dies is still billed for it."""

    tenant_id: str
    project_id: str
    execution_id: str
    usage: Usage
    cost_usd: float


@dataclass(frozen=True)
class SecretSealed:
    tenant_id: str
    project_id: str
    secret: SealedSecret


@dataclass(frozen=True)
class SecretRemoved:
    tenant_id: str
    project_id: str
    name: str


@dataclass(frozen=True)
class WebhookSecretSealed:
    """A project webhook's signing secret, sealed (its config travels in ``set_fields``)."""

    tenant_id: str
    project_id: str
    ciphertext: str
    created_at: str


@dataclass(frozen=True)
class WebhookSecretRemoved:
    tenant_id: str
    project_id: str


@dataclass(frozen=True)
class TriggerSaved:
    """A project's Git host trigger: its config and its shared secret, sealed."""

    tenant_id: str
    project_id: str
    config: TriggerConfig
    ciphertext: str


@dataclass(frozen=True)
class TriggerRemoved:
    tenant_id: str
    project_id: str


@dataclass(frozen=True)
class AuditRecorded:
    """The tenant's audit log entry for this change: written with it, or not at all."""

    entry: AuditEntry
    expires_at: int  # epoch seconds: the plan's audit retention


RecordChange = Union[ExecutionCreated, ExecutionMoved, ExecutionFinished, ExecutionMetered, SecretSealed, SecretRemoved,
                     PermissionOpened, PermissionAnswered, InboxMessage, WebhookSecretSealed, WebhookSecretRemoved,
                     TriggerSaved, TriggerRemoved, AuditRecorded]


@dataclass(frozen=True)
class ProjectChange:
    """Project fields to set and to require (domain names), records to write, all or nothing.

    ``secret_names`` replaces the project's list of secret names (name -> updated at).
    A failed ``expect`` raises ``ExpectationFailed`` and nothing is written.
    """

    set_fields: Mapping[str, Any] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)
    records: tuple[RecordChange, ...] = ()
    secret_names: Mapping[str, str] | None = None
