"""Steering a run from any client: answer its permission requests and questions, send follow-ups,
interrupt its turn. Each is one transaction: the event everyone sees, and the inbox message the
executor reads (``domain/steering.py``)."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.changes import ProjectChange
from cloutagent.domain.identity import Identity
from cloutagent.domain.models import Project
from cloutagent.domain.steering import InboxMessage, PermissionAnswered
from cloutagent.errors import Conflict, ExpectationFailed, NotFound
from cloutagent.ids import epoch_seconds
from cloutagent.protocol.actions import AgentSend, PermissionRespond, ProjectRef
from cloutagent.services.ports import PermissionStore, ProjectStore
from cloutagent.services.publisher import Publisher

INBOX_TTL_SECONDS = 24 * 3600
ACTIVE_STATES = ("starting", "running", "waiting")


class SteeringService:
    def __init__(self, projects: ProjectStore, permissions: PermissionStore, publisher: Publisher):
        self.projects = projects
        self.permissions = permissions
        self.publisher = publisher

    def respond(self, identity: Identity, data: PermissionRespond) -> dict[str, Any]:
        """The first answer wins; a later one gets CONFLICT naming the answer that did, even when
        the run it answered has ended meanwhile (two people answering at once race its end too)."""
        project = self.projects.get(identity.tenant_id, data.projectId)
        if not _is_active(project):
            raise (self._answered(identity, project.project_id, data.requestId)
                   or Conflict("Nothing is running, so nothing waits for an answer"))
        execution_id = project.execution_id or ""
        answer = {"requestId": data.requestId, "decision": data.decision, "scope": data.scope,
                  "message": data.message, "answers": data.answers}
        resolved = {"requestId": data.requestId, "executionId": execution_id, "decision": data.decision,
                    "scope": data.scope, "by": identity.user_id,
                    **({"message": data.message} if data.message else {})}
        change = ProjectChange(
            expect={"execution_id": execution_id},
            records=(PermissionAnswered(identity.tenant_id, project.project_id, data.requestId, data.decision,
                                        identity.user_id, execution_id),
                     self._inbox(identity, project, "answer", answer)))
        try:
            self.publisher.publish(identity.tenant_id, project.project_id, [("permission.resolved", resolved)],
                                   last_seq=project.last_seq, change=change)
        except ExpectationFailed as exc:
            raise self._why_not(identity, project, data.requestId) from exc
        return resolved

    def send(self, identity: Identity, data: AgentSend) -> dict[str, Any]:
        """A follow-up: the next user message of the same run (queued while a turn goes on)."""
        project = self._active(identity, data.projectId, "Nothing is running: start a run with execute")
        event = {"executionId": project.execution_id, "text": data.text, "by": identity.user_id}
        self._deliver(identity, project, ("execution.input", event), self._inbox(identity, project, "input",
                                                                                  {"text": data.text}))
        return event

    def interrupt(self, identity: Identity, data: ProjectRef) -> dict[str, Any]:
        """Stop the current turn, not the run: queued input then runs, else the run finishes."""
        project = self._active(identity, data.projectId, "Nothing is running, so there is no turn to interrupt")
        event = {"executionId": project.execution_id, "by": identity.user_id}
        self._deliver(identity, project, ("execution.interrupt", event), self._inbox(identity, project, "interrupt", {}))
        return event

    def _active(self, identity: Identity, project_id: str, idle_message: str) -> Project:
        project = self.projects.get(identity.tenant_id, project_id)
        if not _is_active(project):
            raise Conflict(idle_message)
        return project

    def _deliver(self, identity: Identity, project: Project, event: tuple[str, dict[str, Any]],
                 message: InboxMessage) -> None:
        # The state must still be the one read: once the executor has moved the run to
        # "finishing" (its last turn ended with nothing queued) nothing more can be queued.
        change = ProjectChange(expect={"execution_id": project.execution_id, "state": project.state},
                               records=(message,))
        try:
            self.publisher.publish(identity.tenant_id, project.project_id, [event], last_seq=project.last_seq,
                                   change=change)
        except ExpectationFailed as exc:
            raise Conflict("The run is finishing or finished meanwhile: start a new run with execute") from exc

    @staticmethod
    def _inbox(identity: Identity, project: Project, kind: str, data: dict[str, Any]) -> InboxMessage:
        return InboxMessage(identity.tenant_id, project.project_id, project.execution_id or "", kind,  # type: ignore[arg-type]
                            identity.user_id, data, epoch_seconds() + INBOX_TTL_SECONDS)

    def _why_not(self, identity: Identity, project: Project, request_id: str) -> Exception:
        record = self.permissions.get(identity.tenant_id, project.project_id, request_id)
        if record is None or record.get("executionId") != project.execution_id:
            return NotFound("No such permission request in the running execution")
        return _already_answered(record) or Conflict("The run finished meanwhile")

    def _answered(self, identity: Identity, project_id: str, request_id: str) -> Conflict | None:
        """CONFLICT naming the answer, when this request of the project was answered."""
        return _already_answered(self.permissions.get(identity.tenant_id, project_id, request_id))


def _is_active(project: Project) -> bool:
    return project.state in ACTIVE_STATES and bool(project.execution_id)


def _already_answered(record: dict[str, Any] | None) -> Conflict | None:
    if record is None or record.get("status") == "pending":
        return None
    return Conflict("This request was already answered",
                    details={"decision": record.get("status"), "by": record.get("by")})
