"""The ``data`` of each client action. Constraints live here, in ``Field``s, not in if-chains.

Unknown fields are ignored, so identity fields smuggled into a body (``tenantId``, ``userId``,
``role``) have no effect: identity always comes from the authorizer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloutagent.domain.models import AgentConfig, Limits

ProjectId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RoleName = Literal["owner", "admin", "member", "viewer"]


class ActionData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Empty(ActionData):
    pass


class ProjectRef(ActionData):
    projectId: ProjectId


class ProjectCreate(ActionData):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2_000)
    path: str | None = Field(default=None, max_length=256)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    limits: Limits = Field(default_factory=Limits)


class ProjectUpdate(ActionData):
    projectId: ProjectId
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2_000)
    path: str | None = Field(default=None, max_length=256)
    agent: AgentConfig | None = None
    limits: Limits | None = None


class MessagesGet(ActionData):
    projectId: ProjectId
    sinceSeq: int | None = Field(default=None, ge=0)
    since: datetime | None = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)
    events: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=20)


class ApiKeyCreate(ActionData):
    name: str = Field(min_length=1, max_length=100)
    role: RoleName = "member"


class ApiKeyRef(ActionData):
    keyId: str = Field(min_length=1, max_length=64)


class MemberInvite(ActionData):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: RoleName = "member"


class MemberRef(ActionData):
    userId: str = Field(min_length=1, max_length=128)


class MemberSetRole(ActionData):
    userId: str = Field(min_length=1, max_length=128)
    role: RoleName


class PageRequest(ActionData):
    projectId: ProjectId
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class ExecuteOptions(ActionData):
    maxTokens: int | None = Field(default=None, ge=1, le=10_000_000)
    maxCostUsd: float | None = Field(default=None, gt=0, le=10_000)
    timeoutSeconds: int | None = Field(default=None, ge=5, le=14_400)
    model: str | None = Field(default=None, min_length=1, max_length=100)


class Execute(ActionData):
    projectId: ProjectId
    prompt: str = Field(min_length=1, max_length=100_000)
    options: ExecuteOptions = Field(default_factory=ExecuteOptions)


class ExecutionRef(ActionData):
    projectId: ProjectId
    executionId: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
