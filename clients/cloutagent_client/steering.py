"""Steering a run (docs/protocol.md, "Steering a run"): what a permission request and its answer
look like, and which requests of a project are still open, worked out from its events."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Decision = Literal["allow", "deny"]
Scope = Literal["once", "run"]
STEERING_EVENTS = ("permission.request", "permission.resolved", "execution.finished")


class QuestionOption(TypedDict, total=False):
    label: str
    description: str


class Question(TypedDict, total=False):
    """One of an ``AskUserQuestion`` request's ``input.questions``."""

    question: str
    header: str
    multiSelect: bool
    options: list[QuestionOption]


class PermissionRequest(TypedDict, total=False):
    """A ``permission.request`` event's data. ``kind`` is ``question`` for ``AskUserQuestion``."""

    requestId: str
    executionId: str
    toolName: str
    kind: Literal["permission", "question"]
    input: dict[str, Any]
    toolUseId: str
    timeoutSeconds: int
    title: str
    description: str
    reason: str


class PermissionResolved(TypedDict, total=False):
    """A ``permission.resolved`` event's data (and ``permission.respond``'s reply)."""

    requestId: str
    executionId: str
    decision: Decision
    scope: Scope
    by: str
    message: str
    reason: Literal["timeout", "cancelled"]


def questions(request: PermissionRequest | dict[str, Any]) -> list[Question]:
    """A question request's questions (none for a permission request or a malformed input)."""
    listed = (request.get("input") or {}).get("questions") if isinstance(request.get("input"), dict) else None
    return [q for q in listed if isinstance(q, dict)] if isinstance(listed, list) else []


class OpenRequests:
    """The requests no one has answered yet, fed a project's events in ``seq`` order: a request
    opens with ``permission.request`` and closes with its ``permission.resolved``, or when its run
    finishes (the executor resolves whatever is left, but a crashed one cannot)."""

    def __init__(self, execution_id: str | None = None) -> None:
        self.execution_id = execution_id  # only this run's requests, when given
        self._open: dict[str, PermissionRequest] = {}

    def feed(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        name = event.get("event")
        if name == "permission.request" and data.get("requestId"):
            if self.execution_id is None or data.get("executionId") == self.execution_id:
                self._open[str(data["requestId"])] = data  # type: ignore[assignment]
        elif name == "permission.resolved":
            self._open.pop(str(data.get("requestId")), None)
        elif name == "execution.finished":
            for request_id, request in list(self._open.items()):
                if request.get("executionId") == data.get("executionId"):
                    del self._open[request_id]

    def is_open(self, request_id: str) -> bool:
        return request_id in self._open

    def __iter__(self):
        return iter(list(self._open.values()))  # oldest first: dicts keep insertion order

    def __len__(self) -> int:
        return len(self._open)
