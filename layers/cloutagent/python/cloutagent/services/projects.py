"""Project use cases: create, list, get, update, delete."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.changes import AuditRecorded, ProjectChange
from cloutagent.domain.identity import Identity, require_can_set_agent_powers, require_can_set_repository
from cloutagent.domain.models import AgentConfig, Event, Project
from cloutagent.domain.paths import choose_default_path, ensure_no_overlap, normalize_path
from cloutagent.domain.repositories import Repository, check_url
from cloutagent.errors import BadRequest, ExpectationFailed, ProjectBusy, ProjectNotFound, StaleWrite
from cloutagent.ids import new_id, now_iso
from cloutagent.protocol.actions import ProjectCreate, ProjectUpdate
from cloutagent.services.audit import audited
from cloutagent.services.publisher import Publisher
from cloutagent.services.ports import ProjectStore, RoomStore

MAX_DELETE_ATTEMPTS = 5


class ProjectService:
    def __init__(self, store: ProjectStore, room_store: RoomStore, publisher: Publisher, limits: Any = None,
                 *, allow_loopback_repositories: bool = False, audit: Any = None):
        self.audit = audit  # an AuditLog: changes to the agent's powers and the repository are recorded
        self.store = store
        self.room_store = room_store
        self.publisher = publisher
        self.limits = limits  # the license manager, when billing is wired in
        self.allow_loopback_repositories = allow_loopback_repositories

    def _checked_repository(self, identity: Identity, repository: Repository | None) -> Repository | None:
        require_can_set_repository(identity)
        if repository is not None:
            try:
                check_url(repository.url, allow_loopback_http=self.allow_loopback_repositories)
            except ValueError as exc:
                raise BadRequest(str(exc), details={"field": "repository.url"}) from exc
        return repository

    def create(self, identity: Identity, data: ProjectCreate) -> Project:
        require_can_set_agent_powers(identity, AgentConfig(), data.agent)
        if data.repository is not None:
            self._checked_repository(identity, data.repository)
        tenant, existing = self.store.overview(identity.tenant_id)
        if self.limits is not None:
            self.limits.check_project_create(identity.tenant_id, tenant, len(existing))
        taken = [p.path for p in existing]
        if data.path is None:
            path = choose_default_path(data.name, taken)
        else:
            path = normalize_path(data.path)
            ensure_no_overlap(path, taken)
        now = now_iso()
        project = Project(
            tenant_id=identity.tenant_id, project_id=new_id("p_"), name=data.name, description=data.description,
            path=path, agent=data.agent, limits=data.limits, repository=data.repository,
            created_at=now, updated_at=now, last_seq=1,
        )
        event = Event(project_id=project.project_id, seq=1, event="project.created", ts=now,
                      data={"project": project.to_wire(), "by": identity.user_id})
        # Nobody can have joined a project that did not exist, so there is no one to broadcast to.
        self.store.create(project, event)
        return project

    def list(self, identity: Identity) -> list[Project]:
        mine = [p for p in self.store.list(identity.tenant_id) if identity.reaches(p.project_id)]
        return sorted(mine, key=lambda p: p.created_at)

    def get(self, identity: Identity, project_id: str) -> Project:
        return self.store.get(identity.tenant_id, project_id)

    def update(self, identity: Identity, data: ProjectUpdate) -> Project:
        project = self.store.get(identity.tenant_id, data.projectId)
        changes: dict[str, Any] = {}
        if data.name is not None:
            changes["name"] = data.name
        if data.description is not None:
            changes["description"] = data.description
        if data.agent is not None:
            require_can_set_agent_powers(identity, project.agent, data.agent)
            changes["agent"] = data.agent.to_wire()
        if data.limits is not None:
            changes["limits"] = data.limits.to_wire()
        if "repository" in data.model_fields_set and data.repository != project.repository:
            repository = self._checked_repository(identity, data.repository)
            changes["repository"] = repository.to_wire() if repository else None
        if data.path is not None and data.path != project.path:
            if project.state != "idle":
                raise ProjectBusy("The workspace path cannot change while an execution runs")
            changes["path"] = self._validated_new_path(identity, project, data.path)
        if not changes:
            return project  # nothing changed: no write, no event
        updated = Project.model_validate({**project.model_dump(), **{_snake(k): v for k, v in changes.items()}})
        expect = {"state": "idle"} if "path" in changes else {}
        try:
            [event] = self.publisher.publish(
                identity.tenant_id, project.project_id,
                [("project.updated", {"project": updated.to_wire(exclude={"last_seq", "updated_at"}),
                                      "changed": sorted(changes), "by": identity.user_id})],
                last_seq=project.last_seq, change=ProjectChange(set_fields=changes, expect=expect,
                                                                records=self._audit_powers(identity, project, updated,
                                                                                           changes)),
            )
        except ExpectationFailed as exc:
            raise ProjectBusy("The workspace path cannot change while an execution runs") from exc
        return updated.model_copy(update={"last_seq": event.seq, "updated_at": event.ts})

    def _audit_powers(self, identity: Identity, before: Project, after: Project,
                      changes: dict[str, Any]) -> tuple[AuditRecorded, ...]:
        """What the agent may do unasked, and where it pushes, are admin decisions: the log keeps them
        (an entry committed with the update itself)."""
        if self.audit is None:
            return ()
        details: dict[str, Any] = {}
        if "agent" in changes and after.agent.powers() != before.agent.powers():
            powers = {"permission_mode", "allowed_tools", "disallowed_tools", "project_settings"}
            details["agent"] = {"from": before.agent.model_dump(mode="json", by_alias=True, include=powers),
                                "to": after.agent.model_dump(mode="json", by_alias=True, include=powers)}
        if "repository" in changes:
            details["repository"] = {"url": after.repository.url if after.repository else None}
        if not details:
            return ()
        return audited(self.audit, identity, "project.update", before.project_id, details, project_id=before.project_id)

    def _validated_new_path(self, identity: Identity, project: Project, raw: str) -> str:
        path = normalize_path(raw)
        others = [p.path for p in self.store.list(identity.tenant_id) if p.project_id != project.project_id]
        ensure_no_overlap(path, others)
        return path

    def delete(self, identity: Identity, project_id: str) -> None:
        for _ in range(MAX_DELETE_ATTEMPTS):
            project = self.store.get(identity.tenant_id, project_id)
            event = Event(project_id=project_id, seq=project.last_seq + 1, event="project.deleted",
                          ts=now_iso(), data={"projectId": project_id, "by": identity.user_id})
            try:
                self.store.delete(project, event)
            except StaleWrite:
                continue
            self.publisher.broadcast(identity.tenant_id, project_id, [event])
            self.store.purge(identity.tenant_id, project_id)  # subscriptions, executions, secrets
            return
        raise ProjectNotFound()


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
