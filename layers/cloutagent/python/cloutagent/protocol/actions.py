"""The ``data`` of each client action. Constraints live here, in ``Field``s, not in if-chains.

Unknown fields are ignored, so identity fields smuggled into a body (``tenantId``, ``userId``,
``role``) have no effect: identity always comes from the authorizer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from cloutagent.domain.models import AgentConfig, Limits
from cloutagent.domain.notifications import ALL_NOTIFICATION_TYPES, MAX_URL_LENGTH, NotificationType, WebhookFormat
from cloutagent.domain.repositories import Repository, check_branch
from cloutagent.domain.schedules import SCHEDULE_ID_PATTERN, check_timezone, cron_expression, rate_expression
from cloutagent.domain.steering import Decision, Scope
from cloutagent.domain.secrets import MAX_SECRET_BYTES, SECRET_NAME_PATTERN, is_reserved_name
from cloutagent.domain.text import check_description, check_name
from cloutagent.domain.triggers import DEFAULT_WORD, LOGIN_PATTERN, MAX_TRUSTED_LOGINS, WORD_PATTERN, GitHost

ProjectId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RoleName = Literal["owner", "admin", "member", "viewer"]
# Shown to teammates: no control or formatting characters (domain/text.py)
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]
Description = Annotated[str, Field(max_length=2_000), AfterValidator(check_description)]


class ActionData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class Empty(ActionData):
    pass


class ProjectRef(ActionData):
    projectId: ProjectId


class ProjectCreate(ActionData):
    name: Name
    description: Description = ""
    path: str | None = Field(default=None, max_length=256)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    limits: Limits = Field(default_factory=Limits)
    repository: Repository | None = None


class ProjectUpdate(ActionData):
    projectId: ProjectId
    name: Name | None = None
    description: Description | None = None
    path: str | None = Field(default=None, max_length=256)
    agent: AgentConfig | None = None
    limits: Limits | None = None
    repository: Repository | None = None  # an explicit null removes it


class MessagesGet(ActionData):
    projectId: ProjectId
    sinceSeq: int | None = Field(default=None, ge=0)
    since: datetime | None = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)
    events: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=20)


class ApiKeyCreate(ActionData):
    name: Name
    role: RoleName = "member"
    # Limit the key to these projects (a CI secret that can run one project); others are "not found".
    projectIds: list[ProjectId] | None = Field(default=None, min_length=1, max_length=50)
    # The key stops working this many days after its creation; omitted or null: never.
    expiresInDays: int | None = Field(default=None, ge=1, le=3650)


class ApiKeyRef(ActionData):
    keyId: str = Field(min_length=1, max_length=64)


class MemberInvite(ActionData):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(check_name)]
    role: RoleName = "member"


class MemberRef(ActionData):
    userId: str = Field(min_length=1, max_length=128)


class InvitationRef(ActionData):
    invitationId: str = Field(min_length=1, max_length=64)


class TenantCreate(ActionData):
    name: Name | None = None  # default: "{the email's local part}'s team"


class MemberSetRole(ActionData):
    userId: str = Field(min_length=1, max_length=128)
    role: RoleName


class AuditList(ActionData):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


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
    # With a repository: start from (and push to) this existing branch instead of a new one.
    branch: Annotated[str, AfterValidator(check_branch)] | None = Field(default=None, max_length=200)
    pullRequest: bool | None = None  # None: the repository's default


class ExecutionRef(ActionData):
    projectId: ProjectId
    executionId: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class AgentKill(ActionData):
    projectId: ProjectId
    # The run meant: refused with CONFLICT when another one is running by now (never kills a newer run).
    executionId: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class PermissionRespond(ActionData):
    projectId: ProjectId
    requestId: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    decision: Decision
    scope: Scope = "once"
    message: str | None = Field(default=None, max_length=2_000)  # told to the agent on deny
    # For a question (AskUserQuestion): each question's text -> the answer.
    answers: dict[Annotated[str, Field(max_length=2_000)], Annotated[str, Field(max_length=10_000)]] | None = Field(
        default=None, max_length=20)


class AgentSend(ActionData):
    projectId: ProjectId
    text: str = Field(min_length=1, max_length=100_000)


class ExecutionDiff(ExecutionRef):
    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")  # where the last page ended


# -- secrets ------------------------------------------------------------------------------------
SecretName = Annotated[str, Field(pattern=SECRET_NAME_PATTERN)]


def _env_safe_value(value: SecretStr) -> SecretStr:
    # Field(max_length) counts characters; the limit is in bytes. The message never echoes it.
    text = value.get_secret_value()
    if len(text.encode()) > MAX_SECRET_BYTES:
        raise ValueError(f"A secret value is at most {MAX_SECRET_BYTES} bytes of UTF-8")
    if "\x00" in text:
        raise ValueError("A secret value cannot contain NUL characters (it becomes an environment variable)")
    return value


def _settable_name(name: str) -> str:
    if is_reserved_name(name):
        raise ValueError("this name configures the agent's runtime and cannot be a secret")
    return name


class SecretSet(ActionData):
    projectId: ProjectId
    name: Annotated[SecretName, AfterValidator(_settable_name)]
    # SecretStr: the value never shows in a repr, a log line or a validation error.
    value: Annotated[SecretStr, Field(min_length=1, max_length=MAX_SECRET_BYTES), AfterValidator(_env_safe_value)]


class SecretRef(ActionData):
    projectId: ProjectId
    name: SecretName


# -- notifications ------------------------------------------------------------------------------
class WebhookSet(ActionData):
    projectId: ProjectId
    url: str = Field(min_length=8, max_length=MAX_URL_LENGTH)  # the rules: domain.notifications.check_webhook_url
    format: WebhookFormat = "json"
    events: list[NotificationType] = Field(default_factory=lambda: list(ALL_NOTIFICATION_TYPES), min_length=1,
                                           max_length=len(ALL_NOTIFICATION_TYPES))


# -- Git host triggers --------------------------------------------------------------------------
class TriggerSet(ActionData):
    projectId: ProjectId
    provider: GitHost
    word: str = Field(default=DEFAULT_WORD, pattern=WORD_PATTERN)  # matched as a word, in any case
    trustOrgMembers: bool = True  # GitHub: the repository's owners, org members and collaborators
    trustedLogins: list[Annotated[str, Field(pattern=LOGIN_PATTERN)]] = Field(default_factory=list,
                                                                             max_length=MAX_TRUSTED_LOGINS)


# -- billing ------------------------------------------------------------------------------------
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
# Where Stripe sends the browser back to; the caller's own pages, http(s) only.
ReturnUrl = Annotated[str, Field(min_length=10, max_length=2_000, pattern=r"^https?://[^\s]+$")]


class UsageGet(ActionData):
    month: Month | None = None


class BillingCheckout(ActionData):
    plan: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    successUrl: ReturnUrl
    cancelUrl: ReturnUrl


class BillingPortal(ActionData):
    returnUrl: ReturnUrl


# -- schedules ----------------------------------------------------------------------------------
class ScheduleCreate(ActionData):
    """A recurring ``execute``: exactly one of ``cron`` and ``rate`` (EventBridge Scheduler's syntax,
    with or without the ``cron(...)``/``rate(...)`` wrapper; checked in domain/schedules.py)."""

    projectId: ProjectId
    name: Name | None = None
    cron: Annotated[str, Field(min_length=11, max_length=200), AfterValidator(cron_expression)] | None = None
    rate: Annotated[str, Field(min_length=5, max_length=40), AfterValidator(rate_expression)] | None = None
    timezone: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(check_timezone)] = "UTC"
    prompt: str = Field(min_length=1, max_length=100_000)
    options: ExecuteOptions = Field(default_factory=ExecuteOptions)
    branch: Annotated[str, AfterValidator(check_branch)] | None = Field(default=None, max_length=200)
    pullRequest: bool | None = None

    @model_validator(mode="after")
    def _one_clock(self) -> "ScheduleCreate":
        if (self.cron is None) == (self.rate is None):
            raise ValueError("give exactly one of cron and rate")
        return self

    @property
    def expression(self) -> str:
        return self.cron or self.rate or ""


class ScheduleRef(ActionData):
    projectId: ProjectId
    scheduleId: str = Field(pattern=SCHEDULE_ID_PATTERN)
