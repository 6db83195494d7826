"""The team steering a run: permission requests and questions the agent waits on, follow-up input
and interrupts. What the people send lands in the run's *inbox*; the executor reads it.

A permission request is a record of its own (``PERM#<requestId>``) whose status moves once,
from ``pending`` to a decision, by a conditional write: the first answer wins, a later one is a
conflict, and the executor's own timeout or cancellation is just another answer that can lose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["allow", "deny"]
Resolution = Literal["allow", "deny", "timeout", "cancelled"]
Scope = Literal["once", "run"]
InboxKind = Literal["answer", "input", "interrupt"]

DEFAULT_APPROVAL_TIMEOUT_SECONDS = 300
MIN_APPROVAL_TIMEOUT_SECONDS = 5
MAX_APPROVAL_TIMEOUT_SECONDS = 3_600
QUESTION_TOOL = "AskUserQuestion"


@dataclass(frozen=True)
class PermissionOpened:
    """The executor asks: the pending request record, written with its permission.request event."""

    tenant_id: str
    project_id: str
    execution_id: str
    request_id: str
    tool_name: str
    expires_at: int


@dataclass(frozen=True)
class PermissionAnswered:
    """Someone (or the executor's timeout, or a kill) answered: pending -> resolution, once."""

    tenant_id: str
    project_id: str
    request_id: str
    resolution: Resolution
    by: str
    execution_id: str  # the request must be this execution's


@dataclass(frozen=True)
class InboxMessage:
    """What reaches the executor: an answer, a follow-up, an interrupt (in the order sent)."""

    tenant_id: str
    project_id: str
    execution_id: str
    kind: InboxKind
    by: str
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: int = 0
