"""The SDK's shortcuts, for code that is not async: each waits for ``Client``'s own.

Mirrors ``api.py`` method for method (``tests/client/test_sync_client.py`` checks that none is
missing and that each takes the same arguments), so a type checker sees real signatures.
"""

from __future__ import annotations

from typing import Any, Coroutine, Iterator, TypeVar

from cloutagent_client.steering import Decision, PermissionResolved, Scope
from cloutagent_client.types import GitHost, Schedule, Trigger
from cloutagent_client.types import ApiKey, CreatedApiKey, Execution, Identity, Invitation, Member, Project, Role
from cloutagent_client.types import AuditPage

T = TypeVar("T")


class SyncApi:
    _client: Any

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        raise NotImplementedError

    def _iterate(self, generator: Any) -> Iterator[Any]:
        raise NotImplementedError

    def request(self, action: str, data: dict[str, Any] | None = None, *,
                timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._client.request(action, data, timeout=timeout))

    def history(self, project_id: str, since_seq: int = 0, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every stored event after ``since_seq`` (``messages.get``, paged)."""
        return self._iterate(self._client.history(project_id, since_seq, **filters))

    def whoami(self) -> Identity:
        return self._run(self._client.whoami())

    def ping(self) -> dict[str, Any]:
        return self._run(self._client.ping())

    def list_projects(self) -> list[Project]:
        return self._run(self._client.list_projects())

    def get_project(self, project_id: str) -> Project:
        return self._run(self._client.get_project(project_id))

    def create_project(self, name: str, **fields: Any) -> Project:
        return self._run(self._client.create_project(name, **fields))

    def update_project(self, project_id: str, **fields: Any) -> Project:
        return self._run(self._client.update_project(project_id, **fields))

    def delete_project(self, project_id: str) -> dict[str, Any]:
        return self._run(self._client.delete_project(project_id))

    def find_project(self, ref: str) -> Project:
        return self._run(self._client.find_project(ref))

    def execute(self, project_id: str, prompt: str, *, branch: str | None = None, pull_request: bool | None = None,
                **options: Any) -> Execution:
        return self._run(self._client.execute(project_id, prompt, branch=branch, pull_request=pull_request, **options))

    def kill(self, project_id: str) -> dict[str, Any]:
        return self._run(self._client.kill(project_id))

    def new_session(self, project_id: str) -> dict[str, Any]:
        return self._run(self._client.new_session(project_id))

    def get_execution(self, project_id: str, execution_id: str) -> Execution:
        return self._run(self._client.get_execution(project_id, execution_id))

    def list_executions(self, project_id: str, *, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self._run(self._client.list_executions(project_id, limit=limit, cursor=cursor))

    def execution_diff_pages(self, project_id: str, execution_id: str) -> Iterator[str]:
        return self._iterate(self._client.execution_diff_pages(project_id, execution_id))

    def execution_diff(self, project_id: str, execution_id: str) -> str:
        return self._run(self._client.execution_diff(project_id, execution_id))

    def respond(self, project_id: str, request_id: str, decision: Decision, scope: Scope = "once",
                message: str | None = None, answers: dict[str, str] | None = None) -> PermissionResolved:
        return self._run(self._client.respond(project_id, request_id, decision, scope, message, answers))

    def send(self, project_id: str, text: str) -> dict[str, Any]:
        return self._run(self._client.send(project_id, text))

    def interrupt(self, project_id: str) -> dict[str, Any]:
        return self._run(self._client.interrupt(project_id))

    def set_secret(self, project_id: str, name: str, value: str) -> dict[str, Any]:
        return self._run(self._client.set_secret(project_id, name, value))

    def list_secrets(self, project_id: str) -> dict[str, Any]:
        return self._run(self._client.list_secrets(project_id))

    def delete_secret(self, project_id: str, name: str) -> dict[str, Any]:
        return self._run(self._client.delete_secret(project_id, name))

    def create_schedule(self, project_id: str, prompt: str, *, cron: str | None = None, rate: str | None = None,
                        name: str | None = None, timezone: str = "UTC",
                        options: dict[str, Any] | None = None) -> Schedule:
        return self._run(self._client.create_schedule(project_id, prompt, cron=cron, rate=rate, name=name,
                                                      timezone=timezone, options=options))

    def list_schedules(self, project_id: str) -> list[Schedule]:
        return self._run(self._client.list_schedules(project_id))

    def delete_schedule(self, project_id: str, schedule_id: str) -> dict[str, Any]:
        return self._run(self._client.delete_schedule(project_id, schedule_id))

    def set_trigger(self, project_id: str, provider: GitHost, *, word: str | None = None,
                    trust_org_members: bool | None = None, trusted_logins: list[str] | None = None) -> dict[str, Any]:
        return self._run(self._client.set_trigger(project_id, provider, word=word, trust_org_members=trust_org_members,
                                                  trusted_logins=trusted_logins))

    def get_trigger(self, project_id: str) -> tuple[Trigger | None, str | None]:
        return self._run(self._client.get_trigger(project_id))

    def delete_trigger(self, project_id: str) -> dict[str, Any]:
        return self._run(self._client.delete_trigger(project_id))

    def plan(self) -> dict[str, Any]:
        return self._run(self._client.plan())

    def usage(self, month: str | None = None) -> dict[str, Any]:
        return self._run(self._client.usage(month))

    def list_members(self) -> list[Member]:
        return self._run(self._client.list_members())

    def invite_member(self, email: str, role: Role = "member") -> Invitation:
        return self._run(self._client.invite_member(email, role))

    def list_invitations(self) -> list[Invitation]:
        return self._run(self._client.list_invitations())

    def revoke_invitation(self, invitation_id: str) -> Invitation:
        return self._run(self._client.revoke_invitation(invitation_id))

    def my_invitations(self) -> list[Invitation]:
        return self._run(self._client.my_invitations())

    def accept_invitation(self, invitation_id: str) -> Member:
        return self._run(self._client.accept_invitation(invitation_id))

    def decline_invitation(self, invitation_id: str) -> Invitation:
        return self._run(self._client.decline_invitation(invitation_id))

    def create_tenant(self, name: str | None = None) -> Member:
        return self._run(self._client.create_tenant(name))

    def set_member_role(self, user_id: str, role: Role) -> Member:
        return self._run(self._client.set_member_role(user_id, role))

    def remove_member(self, user_id: str) -> dict[str, Any]:
        return self._run(self._client.remove_member(user_id))

    def find_member(self, ref: str) -> Member:
        return self._run(self._client.find_member(ref))

    def create_api_key(self, name: str, role: Role = "member",
                       project_ids: list[str] | None = None, expires_in_days: int | None = None) -> CreatedApiKey:
        return self._run(self._client.create_api_key(name, role, project_ids, expires_in_days))

    def list_api_keys(self) -> list[ApiKey]:
        return self._run(self._client.list_api_keys())

    def revoke_api_key(self, key_id: str) -> ApiKey:
        return self._run(self._client.revoke_api_key(key_id))

    def list_audit(self, limit: int = 50, cursor: str | None = None) -> AuditPage:
        return self._run(self._client.list_audit(limit, cursor))

    def billing_checkout(self, plan: str, success_url: str, cancel_url: str) -> str:
        return self._run(self._client.billing_checkout(plan, success_url, cancel_url))

    def billing_portal(self, return_url: str) -> str:
        return self._run(self._client.billing_portal(return_url))

