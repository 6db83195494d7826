"""What the SDK's shortcuts return, as typed dicts: the wire objects of docs/protocol.md.

Plain dicts at run time (nothing to convert, nothing to install), typed for editors and type
checkers. ``tests/unit/test_client_types.py`` keeps each one's keys equal to the service's.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Role = Literal["owner", "admin", "member", "viewer"]
ProjectState = Literal["idle", "starting", "running", "waiting", "finishing", "cancelling"]
ExecutionStatus = Literal["starting", "running", "cancelling", "completed", "failed", "cancelled", "timeout",
                          "budget_exceeded"]
ScheduleOutcome = Literal["started", "skipped", "failed"]


class Project(TypedDict):
    projectId: str
    name: str
    description: str
    path: str
    agent: dict[str, Any]
    limits: dict[str, Any]
    repository: dict[str, Any] | None
    state: ProjectState
    executionId: str | None
    sessionId: str | None
    createdAt: str
    updatedAt: str
    lastSeq: int


class Execution(TypedDict):
    projectId: str
    executionId: str
    status: ExecutionStatus
    prompt: str
    model: str | None
    maxTokens: int | None
    maxCostUsd: float | None
    timeoutSeconds: int | None
    createdBy: str
    createdAt: str
    startedAt: str | None
    finishedAt: str | None
    usage: dict[str, int] | None
    costUsd: float | None
    durationMs: int | None
    numTurns: int | None
    sessionId: str | None
    error: str | None
    errorCode: str | None
    branch: str | None
    pullRequest: bool | None
    git: dict[str, Any] | None


class Event(TypedDict):
    """An event frame (``type: "event"``) from ``subscribe`` or ``history``."""

    type: Literal["event"]
    event: str
    projectId: str
    seq: int
    ts: str
    data: dict[str, Any]


class StartedRun(TypedDict):
    """What ``execute`` answers (REST: 202): the run's id, ``starting``; the rest comes with ``execution.get``."""

    executionId: str
    status: ExecutionStatus


class EventPage(TypedDict):
    """A page of a project's stored log (``messages.get``, ``GET /v1/projects/{id}/events``)."""

    projectId: str
    events: list[Event]
    nextCursor: str | None  # more may follow; None on the last page
    lastSeq: int  # the project's lastSeq when the page was read


class Member(TypedDict):
    userId: str
    email: str
    role: Role
    joinedAt: str


InvitationStatus = Literal["pending", "accepted", "declined"]


class Invitation(TypedDict):
    invitationId: str
    tenantName: str  # whose team it is (the tenant's id is never sent)
    email: str  # lower-cased
    role: Role
    status: InvitationStatus
    invitedBy: str  # the inviter's display name
    createdAt: str
    expiresAt: str  # pending until then


class ApiKey(TypedDict):
    keyId: str
    name: str
    role: Role
    prefix: str
    createdAt: str
    createdBy: str
    revokedAt: str | None
    projectIds: list[str] | None  # limited to these projects; None: every project of the tenant
    expiresAt: str | None  # refused from then on; None: never
    lastUsedAt: str | None  # its last use, to within API_KEY_USE_INTERVAL (5 minutes)


class AuditActor(TypedDict):
    userId: str  # a member's id, "apikey:{keyId}", or "stripe"
    displayName: str
    authType: str  # jwt | apikey | system
    connectionId: str | None
    keyId: str | None


class AuditEntry(TypedDict):
    entryId: str
    at: str
    action: str  # member.invite, apikey.revoke, secret.set, plan.change, ...
    actor: AuditActor
    target: str
    projectId: str | None
    details: dict[str, Any]  # names, roles, ids: never a secret's value


class AuditPage(TypedDict):
    entries: list[AuditEntry]
    nextCursor: str | None


class CreatedApiKey(TypedDict):
    apiKey: ApiKey
    key: str  # shown this once: the service keeps only its hash


class Identity(TypedDict):
    """``whoami``: who the credentials are."""

    tenantId: str
    userId: str
    role: Role
    authType: str
    connectionId: str
    displayName: str  # the member's email, or "API key <name>"
    allowedActions: list[str]  # what this role may do: show only the controls that would work
    projectIds: list[str] | None  # a key limited to these projects; None: every project


GitHost = Literal["github", "gitlab"]


class Trigger(TypedDict):
    """A project's Git host trigger (trigger.set / get): never its secret."""

    provider: GitHost
    word: str  # matched as a word, in any case: "@cloutagent"
    trustOrgMembers: bool
    trustedLogins: list[str]
    createdAt: str
    createdBy: str


class Schedule(TypedDict):
    """A project's recurring run (schedule.create / list), and what its last firing did."""

    projectId: str
    scheduleId: str
    name: str | None
    expression: str  # cron(...) or rate(...), EventBridge Scheduler's syntax
    timezone: str
    prompt: str
    options: dict[str, Any]
    branch: str | None
    pullRequest: bool | None
    createdBy: str
    createdAt: str
    lastFiredAt: str | None
    lastOutcome: ScheduleOutcome | None
    lastExecutionId: str | None
    lastError: str | None  # the error code of a skipped or failed firing
    startedCount: int
    skippedCount: int
    failedCount: int
