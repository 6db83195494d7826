"""In-memory fakes of the service ports (cloutagent.services.ports): fast unit tests, no stack.

They keep the contracts that matter to services — a ProjectChange is all or nothing, an unmet
``expect`` raises ExpectationFailed, ``seq`` numbers are gap-free — and nothing else.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from cloutagent.domain.changes import (
    ExecutionCreated, ExecutionFinished, ExecutionMetered, ExecutionMoved, ProjectChange, SecretRemoved, SecretSealed,
)
from cloutagent.domain.executions import Execution
from cloutagent.domain.models import Event, Project
from cloutagent.domain.secrets import SealedSecret, SecretIndex
from cloutagent.errors import ExpectationFailed, NotFound, ProjectNotFound
from cloutagent.ids import now_iso


@dataclass
class FakeDatabase:
    """What the DynamoDB table holds, as plain objects."""

    projects: dict[tuple[str, str], Project] = field(default_factory=dict)
    executions: dict[tuple[str, str, str], Execution] = field(default_factory=dict)
    events: dict[tuple[str, str], list[Event]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], dict[str, SealedSecret]] = field(default_factory=dict)
    secret_names: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def project(self, tenant_id: str, project_id: str) -> Project:
        try:
            return self.projects[(tenant_id, project_id)]
        except KeyError:
            raise ProjectNotFound() from None


class FakeProjectStore:
    def __init__(self, db: FakeDatabase):
        self.db = db

    def create(self, project: Project, created_event: Event) -> None:
        self.db.projects[(project.tenant_id, project.project_id)] = project.model_copy(update={"last_seq": 1})
        self.db.events[(project.tenant_id, project.project_id)] = [created_event]

    def get(self, tenant_id: str, project_id: str) -> Project:
        return self.db.project(tenant_id, project_id)

    def list(self, tenant_id: str) -> list[Project]:
        return [p for (t, _), p in self.db.projects.items() if t == tenant_id]

    def overview(self, tenant_id: str):
        return None, self.list(tenant_id)

    def delete(self, project: Project, deleted_event: Event) -> None:
        self.db.projects.pop((project.tenant_id, project.project_id), None)

    def purge(self, tenant_id: str, project_id: str) -> int:
        return 0


class FakeEventLog:
    """Appends with the change in one step under a lock: the transaction of the real log."""

    def __init__(self, db: FakeDatabase):
        self.db = db

    def append(self, tenant_id: str, project_id: str, events: list[tuple[str, dict[str, Any]]], *,
               last_seq: int | None = None, change: ProjectChange | None = None) -> list[Event]:
        change = change or ProjectChange()
        with self.db.lock:
            project = self.db.project(tenant_id, project_id)
            if any(getattr(project, name) != value for name, value in change.expect.items()):
                raise ExpectationFailed(project.model_dump(by_alias=True))
            ts, seq = now_iso(), project.last_seq
            stored = [Event(project_id=project_id, seq=seq + i + 1, event=name, ts=ts, data=data)
                      for i, (name, data) in enumerate(events)]
            self.db.events.setdefault((tenant_id, project_id), []).extend(stored)
            update = {**change.set_fields, "last_seq": seq + len(stored), "updated_at": ts}
            # Validated, as a project read back from the table is.
            self.db.projects[(tenant_id, project_id)] = Project.model_validate({**project.model_dump(), **update})
            if change.secret_names is not None:
                self.db.secret_names[(tenant_id, project_id)] = dict(change.secret_names)
            for record in change.records:
                self._apply(record)
        return stored

    def _apply(self, record: Any) -> None:
        if isinstance(record, ExecutionCreated):
            e = record.execution
            self.db.executions[(e.tenant_id, e.project_id, e.execution_id)] = e
        elif isinstance(record, (ExecutionMoved, ExecutionFinished)):
            e = record.execution
            key = (e.tenant_id, e.project_id, e.execution_id)
            current = self.db.executions[key]
            if isinstance(record, ExecutionMoved):
                self.db.executions[key] = current.model_copy(update={"status": record.status})
            else:
                self.db.executions[key] = current.model_copy(update={
                    "status": record.outcome.status, "finished_at": record.finished_at, "error": record.outcome.error,
                    "cost_usd": record.outcome.cost_usd, "session_id": record.outcome.session_id,
                    "git": record.outcome.git})
        elif isinstance(record, ExecutionMetered):
            key = (record.tenant_id, record.project_id, record.execution_id)
            self.db.executions[key] = self.db.executions[key].model_copy(
                update={"usage": record.usage, "cost_usd": record.cost_usd})
        elif isinstance(record, SecretSealed):
            self.db.secrets.setdefault((record.tenant_id, record.project_id), {})[record.secret.name] = record.secret
        elif isinstance(record, SecretRemoved):
            self.db.secrets.get((record.tenant_id, record.project_id), {}).pop(record.name, None)

    def last_seq(self, tenant_id: str, project_id: str) -> int:
        return self.db.project(tenant_id, project_id).last_seq

    def read(self, tenant_id: str, project_id: str, *, after_seq: int, limit: int, since_ts: str | None = None,
             names: list[str] | None = None, max_read: int | None = None) -> tuple[list[Event], int | None]:
        stored = [e for e in self.db.events.get((tenant_id, project_id), []) if e.seq > after_seq]
        evaluated = stored[:max_read] if max_read is not None else stored
        found = [e for e in evaluated if (since_ts is None or e.ts >= since_ts) and (not names or e.event in names)]
        if len(found) > limit:
            return found[:limit], found[limit - 1].seq
        return found, evaluated[-1].seq if len(evaluated) < len(stored) else None


class FakeExecutionStore:
    def __init__(self, db: FakeDatabase):
        self.db = db

    def get(self, tenant_id: str, project_id: str, execution_id: str) -> Execution:
        try:
            return self.db.executions[(tenant_id, project_id, execution_id)]
        except KeyError:
            raise NotFound("No such execution") from None

    def list(self, tenant_id: str, project_id: str, limit: int, cursor: str | None):
        found = [e for (t, p, _), e in self.db.executions.items() if (t, p) == (tenant_id, project_id)]
        return sorted(found, key=lambda e: e.execution_id, reverse=True)[:limit], None


class FakeSecretStore:
    def __init__(self, db: FakeDatabase):
        self.db = db

    def index(self, tenant_id: str, project_id: str) -> SecretIndex:
        project = self.db.project(tenant_id, project_id)
        return SecretIndex(last_seq=project.last_seq, updated=self.db.secret_names.get((tenant_id, project_id), {}))

    def sealed(self, tenant_id: str, project_id: str) -> list[SealedSecret]:
        return list(self.db.secrets.get((tenant_id, project_id), {}).values())


class FakeRoomStore:
    def __init__(self) -> None:
        self.rooms: dict[tuple[str, str], set[str]] = {}

    def subscribe(self, identity, project_id: str, connection_id: str) -> bool:
        room = self.rooms.setdefault((identity.tenant_id, project_id), set())
        joined = connection_id not in room
        room.add(connection_id)
        return joined

    def unsubscribe(self, identity, project_id: str, connection_id: str) -> None:
        self.rooms.get((identity.tenant_id, project_id), set()).discard(connection_id)

    def subscribers(self, tenant_id: str, project_id: str) -> list[str]:
        return sorted(self.rooms.get((tenant_id, project_id), set()))

    def drop_subscription(self, tenant_id: str, project_id: str, connection_id: str) -> None:
        self.rooms.get((tenant_id, project_id), set()).discard(connection_id)


class FakeSockets:
    """The @connections API: records what each connection received; some are gone."""

    def __init__(self, gone: set[str] | None = None):
        self.sent: dict[str, list[str]] = {}
        self.gone = gone or set()

    def post(self, connection_id: str, text: str) -> bool:
        if connection_id in self.gone:
            return False
        self.sent.setdefault(connection_id, []).append(text)
        return True

    def disconnect(self, connection_id: str) -> None:
        self.gone.add(connection_id)


class FakeLauncher:
    def __init__(self, fail_with: Exception | None = None):
        self.launched: list[str] = []
        self.stopped: list[str] = []
        self.fail_with = fail_with

    def launch(self, execution: Execution) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.launched.append(execution.execution_id)
        return f"fake:{execution.execution_id}"

    def stop(self, execution: Execution, reason: str) -> None:
        self.stopped.append(execution.execution_id)


class FakeSecrets:
    """The secret service's one call the executor path needs: the project's environment."""

    def __init__(self, env: dict[str, str] | None = None, fail: bool = False):
        self.env, self.fail = env or {}, fail

    def environment(self, tenant_id: str, project_id: str) -> dict[str, str]:
        if self.fail:
            raise RuntimeError("KMS is down")
        return dict(self.env)
