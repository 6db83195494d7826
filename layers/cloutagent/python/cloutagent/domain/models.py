"""Domain objects. Field names are snake_case; their wire form is camelCase (``to_wire``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import Field

from cloutagent.domain.base import DomainModel
from cloutagent.domain.notifications import WebhookConfig
from cloutagent.domain.repositories import Repository
from cloutagent.domain.steering import (
    DEFAULT_APPROVAL_TIMEOUT_SECONDS, MAX_APPROVAL_TIMEOUT_SECONDS, MIN_APPROVAL_TIMEOUT_SECONDS,
)

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions"]
ProjectState = Literal["idle", "starting", "running", "waiting", "finishing", "cancelling"]


class AgentConfig(DomainModel):
    model: str | None = Field(default=None, max_length=100)
    system_prompt: str | None = Field(default=None, max_length=20_000)
    allowed_tools: list[str] = Field(default_factory=list, max_length=100)
    disallowed_tools: list[str] = Field(default_factory=list, max_length=100)
    permission_mode: PermissionMode | None = None
    max_turns: int | None = Field(default=None, ge=1, le=500)
    # Whether the workspace's own .claude/settings.json and CLAUDE.md apply. Off by default: those
    # files come from earlier runs and repositories, and settings can run hooks and widen tools.
    project_settings: bool = False
    # How long a permission request or question waits for the team before it is denied.
    approval_timeout_seconds: int = Field(default=DEFAULT_APPROVAL_TIMEOUT_SECONDS, ge=MIN_APPROVAL_TIMEOUT_SECONDS,
                                          le=MAX_APPROVAL_TIMEOUT_SECONDS)

    def powers(self) -> tuple:
        """What the agent may do without asking: only admins change these (domain.identity)."""
        return (self.permission_mode, tuple(self.allowed_tools), tuple(self.disallowed_tools), self.project_settings)


class Limits(DomainModel):
    max_tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    max_cost_usd: float | None = Field(default=None, gt=0, le=10_000)
    timeout_seconds: int | None = Field(default=None, ge=5, le=14_400)


class Project(DomainModel):
    tenant_id: str
    project_id: str
    name: str
    description: str = ""
    path: str
    agent: AgentConfig = Field(default_factory=AgentConfig)
    limits: Limits = Field(default_factory=Limits)
    repository: Repository | None = None
    # Admins only see and set it (webhook.*): a URL such as Slack's is itself a credential.
    webhook: WebhookConfig | None = None
    state: ProjectState = "idle"
    execution_id: str | None = None
    session_id: str | None = None
    created_at: str
    updated_at: str
    last_seq: int = 0

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id", "webhook"})


class Event(DomainModel):
    """One entry of a project's event log."""

    project_id: str
    seq: int
    event: str
    ts: str
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class EventPage:
    """One page of a project's history, with the project's ``last_seq`` when it was read."""

    project_id: str
    events: list[Event]
    next_cursor: str | None
    last_seq: int


@dataclass(frozen=True)
class JoinedRoom:
    """A project just joined, and the seq from which this connection receives everything live."""

    project: Project
    last_seq: int


class ApiKey(DomainModel):
    tenant_id: str
    key_id: str
    name: str
    role: str
    prefix: str
    created_at: str
    created_by: str
    revoked_at: str | None = None
    project_ids: list[str] | None = None  # None: every project of the tenant
    expires_at: str | None = None  # None: never (apikey.create {expiresInDays})
    last_used_at: str | None = None  # at most every API_KEY_USE_INTERVAL_SECONDS (services/auth.py)

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id"})

    def refused_at(self, now: str) -> str | None:
        """Why the key admits nobody at ``now`` (ISO), or None while it is live."""
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return None


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: the only time its secret is shown (only its hash is stored)."""

    key: ApiKey
    secret: str = field(repr=False)


class Member(DomainModel):
    tenant_id: str
    user_id: str
    email: str = ""
    role: str
    joined_at: str

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id"})


InvitationStatus = Literal["pending", "accepted", "declined"]


class Invitation(DomainModel):
    """An offer to join a tenant, addressed to an email; only the person with that email takes it up."""

    invitation_id: str
    tenant_id: str
    tenant_name: str = ""  # what the invitee reads: whose team this is
    email: str  # lower-cased
    role: str
    status: InvitationStatus = "pending"
    invited_by: str = ""  # the inviter's display name
    created_at: str
    expires_at: str  # pending until then; the item is gone by TTL some time after

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id"})

    def open_at(self, now: str) -> bool:
        return self.status == "pending" and now < self.expires_at


class Tenant(DomainModel):
    tenant_id: str
    name: str
    plan: str = "free"
    subscription_status: str = "none"
    created_at: str
    # Billing state, kept by the Stripe webhook (domain/billing.py decides what it entitles to).
    plan_source: str = "stripe"  # stripe | operator (a plan assigned by hand, honoured without Stripe)
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    period_end: str | None = None
    trial_end: str | None = None
    cancel_at_period_end: bool = False
    past_due_since: str | None = None
    last_invoice: dict[str, Any] | None = None  # {id, status, hostedInvoiceUrl, amountDue, currency}
