"""The shapes of the replies the REST API returns, as models, for the OpenAPI document only.

The replies themselves are built by ``protocol/replies.py`` (the same dicts the WebSocket sends);
these models describe them, and ``tests/e2e/test_rest_api.py`` checks every route's real answers
against the document, so a reply that drifts from its model fails a test.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from cloutagent.domain.audit import AuditEntry
from cloutagent.domain.executions import Execution, ExecutionStatus
from cloutagent.domain.models import Project
from cloutagent.domain.schedules import Schedule
from cloutagent.domain.secrets import SecretInfo
from cloutagent.errors import ERROR_CODES

ErrorCode = Literal[tuple(ERROR_CODES)]  # type: ignore[valid-type]


class ExecutionSummary(Execution):
    """An execution in a list: a preview of the prompt instead of the prompt."""

    wire_exclude: ClassVar[frozenset[str]] = Execution.wire_exclude | {"prompt"}
    prompt_preview: str


class HealthReply(BaseModel):
    status: Literal["ok"]
    version: str
    protocol: int
    ts: str


class WhoamiReply(BaseModel):
    tenantId: str
    userId: str
    role: Literal["owner", "admin", "member", "viewer"]
    authType: str
    connectionId: str | None
    displayName: str
    allowedActions: list[str]
    projectIds: list[str] | None  # a key limited to these projects; null: every project


class ProjectReply(BaseModel):
    project: Project


class ProjectsReply(BaseModel):
    projects: list[Project]


class ProjectDeletedReply(BaseModel):
    projectId: str
    deleted: Literal[True]


class StartedExecution(BaseModel):
    executionId: str
    status: ExecutionStatus


class ExecutionStartedReply(BaseModel):
    execution: StartedExecution


class ExecutionReply(BaseModel):
    execution: Execution


class AuditReply(BaseModel):
    entries: list[AuditEntry]
    nextCursor: str | None


class ExecutionsReply(BaseModel):
    executions: list[ExecutionSummary]
    nextCursor: str | None


class ExecutionKilledReply(BaseModel):
    executionId: str
    status: ExecutionStatus


class DiffReply(BaseModel):
    executionId: str
    diff: str
    nextCursor: str | None
    totalBytes: int


class EventFrame(BaseModel):
    """A stored event, as it was broadcast: the same seq a WebSocket watcher received."""

    type: Literal["event"]
    event: str
    projectId: str
    seq: int
    ts: str
    data: dict[str, Any]


class EventsReply(BaseModel):
    projectId: str
    events: list[EventFrame]
    nextCursor: str | None
    lastSeq: int


class SecretsReply(BaseModel):
    projectId: str
    secrets: list[SecretInfo]


class ScheduleReply(BaseModel):
    schedule: Schedule


class SchedulesReply(BaseModel):
    projectId: str
    schedules: list[Schedule]


class ScheduleDeletedReply(BaseModel):
    projectId: str
    scheduleId: str
    deleted: Literal[True]


class OpenApiReply(BaseModel):
    """This document."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    details: dict[str, Any]


class ErrorReply(BaseModel):
    """Every refusal: the WebSocket error frame's ``{code, message, details}``, under ``error``."""

    error: ErrorDetail
    requestId: str | None = None
