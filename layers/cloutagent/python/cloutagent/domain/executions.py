"""Executions: the run state machine and the limits a run gets.

Project state      idle -> starting -> running -> (cancelling) -> idle
Execution status   starting -> running -> completed | failed | cancelled | timeout | budget_exceeded

At most one execution per project is ever not finished: the project item holds it
(``executionId``) and every transition is a conditional write on that item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from cloutagent.domain.models import DomainModel, Limits, Project

ExecutionStatus = Literal["starting", "running", "cancelling", "completed", "failed", "cancelled", "timeout", "budget_exceeded"]
FINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "timeout", "budget_exceeded"})
ACTIVE_PROJECT_STATES = ("starting", "running", "waiting", "finishing", "cancelling")
DEFAULT_TIMEOUT_SECONDS = 900


class LaunchFailed(Exception):
    """The executor could not be started; the message is safe to show (no ARNs, no secrets)."""


class Usage(DomainModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Execution(DomainModel):
    tenant_id: str
    project_id: str
    execution_id: str
    status: ExecutionStatus = "starting"
    prompt: str
    model: str | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    created_by: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    duration_ms: int | None = None
    num_turns: int | None = None
    session_id: str | None = None
    error: str | None = None
    error_code: str | None = None  # a repository failure's code (docs/protocol.md)
    branch: str | None = None  # the existing branch the run starts from and pushes to
    pull_request: bool | None = None  # None: the repository's default
    git: dict[str, Any] | None = None  # what the run delivered: the execution.git event's data
    # A Git host comment started it: where to answer when it ends (domain/triggers.py CommentTarget). Not on the wire.
    trigger: dict[str, Any] | None = None

    wire_exclude: ClassVar[frozenset[str]] = frozenset({"tenant_id", "trigger"})


@dataclass(frozen=True)
class ExecutionPage:
    """One page of a project's executions, newest first."""

    executions: list[Execution]
    next_cursor: str | None


DIFF_PAGE_BYTES = 64 * 1024  # a page of execution.diff: well under a frame, a few hundred lines


@dataclass(frozen=True)
class DiffPage:
    text: str
    next_cursor: str | None
    total_bytes: int


class RunBrief(DomainModel):
    """Everything an executor needs to run one execution, read once when the run begins."""

    execution: Execution
    project: Project
    secrets_env: dict[str, str] = Field(default_factory=dict, repr=False)  # the project's own secrets
    # The repository's token: for the executor's git only, so never among the agent's secrets.
    repository_token: str | None = Field(default=None, repr=False)


class Outcome(DomainModel):
    """How a run ended, as the executor (or the crash detector) reports it."""

    status: Literal["completed", "failed", "cancelled", "timeout", "budget_exceeded"]
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    duration_ms: int = 0
    num_turns: int = 0
    session_id: str | None = None
    error: str | None = Field(default=None, max_length=2_000)
    error_code: str | None = None
    git: dict[str, Any] | None = None

    def finished_event(self, execution_id: str) -> dict[str, Any]:
        data = {"executionId": execution_id, **self.to_wire(exclude={"git"})}
        for optional in ("error", "errorCode"):
            if data[optional] is None:
                data.pop(optional)
        return data


def effective_limits(project: Project, options: Any) -> dict[str, Any]:
    """An execution's options override the project's defaults."""
    limits: Limits = project.limits
    return {
        "model": options.model or project.agent.model,
        "max_tokens": options.maxTokens or limits.max_tokens,
        "max_cost_usd": options.maxCostUsd or limits.max_cost_usd,
        "timeout_seconds": options.timeoutSeconds or limits.timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
    }
