"""Typed shortcuts for the actions in docs/protocol.md. Each one is a single ``request``."""

from __future__ import annotations

from typing import Any, AsyncIterator

from cloutagent_client.errors import BadRequest, NotFound, ProjectNotFound
from cloutagent_client.steering import Decision, PermissionResolved, Scope
from cloutagent_client.types import GitHost, Schedule, Trigger
from cloutagent_client.types import ApiKey, CreatedApiKey, Execution, Identity, Invitation, Member, Project, Role
from cloutagent_client.types import AuditPage


def project_by_ref(projects: list[Project], ref: str) -> Project:
    """The project whose id is ``ref``, or the only one named ``ref`` (the REST client's too)."""
    by_id = [p for p in projects if p["projectId"] == ref]
    if by_id:
        return by_id[0]
    named = [p for p in projects if p["name"] == ref]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(p["projectId"] for p in named)
        raise BadRequest(f"{len(named)} projects are named {ref!r} ({ids}); use the id", {"field": "project"})
    raise ProjectNotFound(f"No project with the id or name {ref!r}")


class Api:
    async def request(self, action: str, data: dict[str, Any] | None = None, *,
                      timeout: float | None = None) -> dict[str, Any]:
        raise NotImplementedError

    # -- session ------------------------------------------------------------------------------------
    async def whoami(self) -> Identity:
        return await self.request("whoami")

    async def ping(self) -> dict[str, Any]:
        return await self.request("ping")

    # -- projects -----------------------------------------------------------------------------------
    async def list_projects(self) -> list[Project]:
        return (await self.request("project.list"))["projects"]

    async def get_project(self, project_id: str) -> Project:
        return (await self.request("project.get", {"projectId": project_id}))["project"]

    async def create_project(self, name: str, **fields: Any) -> Project:
        """Fields as in the Project object: description, path, agent, limits, repository (a dict)."""
        return (await self.request("project.create", {"name": name, **fields}))["project"]

    async def update_project(self, project_id: str, **fields: Any) -> Project:
        """Replace the given fields; ``repository=None`` removes the repository (sent as ``null``)."""
        return (await self.request("project.update", {"projectId": project_id, **fields}))["project"]

    async def delete_project(self, project_id: str) -> dict[str, Any]:
        return await self.request("project.delete", {"projectId": project_id})

    async def find_project(self, ref: str) -> Project:
        """A project by id, or by a name no other project of the tenant has."""
        return project_by_ref(await self.list_projects(), ref)

    # -- executions ---------------------------------------------------------------------------------
    async def execute(self, project_id: str, prompt: str, *, branch: str | None = None,
                      pull_request: bool | None = None, **options: Any) -> Execution:
        """Start a run; options: maxTokens, maxCostUsd, timeoutSeconds, model. ``branch`` and
        ``pull_request`` apply to a project with a repository only."""
        data: dict[str, Any] = {"projectId": project_id, "prompt": prompt}
        if branch is not None:
            data["branch"] = branch
        if pull_request is not None:
            data["pullRequest"] = pull_request
        options = {k: v for k, v in options.items() if v is not None}
        if options:
            data["options"] = options
        return (await self.request("execute", data))["execution"]

    async def kill(self, project_id: str) -> dict[str, Any]:
        return await self.request("agent.kill", {"projectId": project_id})

    async def new_session(self, project_id: str) -> dict[str, Any]:
        return await self.request("agent.new_session", {"projectId": project_id})

    async def get_execution(self, project_id: str, execution_id: str) -> Execution:
        return (await self.request("execution.get", {"projectId": project_id, "executionId": execution_id}))["execution"]

    async def list_executions(self, project_id: str, *, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"projectId": project_id, "limit": limit, **({"cursor": cursor} if cursor else {})}
        return await self.request("execution.list", data)

    async def execution_diff_pages(self, project_id: str, execution_id: str) -> AsyncIterator[str]:
        """The run's unified diff, page by page (``execution.diff``, paged with ``nextCursor``)."""
        data: dict[str, Any] = {"projectId": project_id, "executionId": execution_id}
        while True:
            page = await self.request("execution.diff", data)
            if page.get("diff"):
                yield page["diff"]
            if not page.get("nextCursor"):
                return
            data = {**data, "cursor": page["nextCursor"]}

    async def execution_diff(self, project_id: str, execution_id: str) -> str:
        """The run's whole unified diff; ``""`` when it changed nothing or the project has no repository."""
        return "".join([page async for page in self.execution_diff_pages(project_id, execution_id)])

    # -- steering a run -----------------------------------------------------------------------------
    async def respond(self, project_id: str, request_id: str, decision: Decision, scope: Scope = "once",
                      message: str | None = None, answers: dict[str, str] | None = None) -> PermissionResolved:
        """Answer a permission request (``permission.respond``); the first answer wins, a later one
        raises ``Conflict`` whose ``details`` say which decision stood and who gave it. A question is
        answered with ``decision="allow"`` and ``answers``: question text -> label(s) or free text."""
        data: dict[str, Any] = {"projectId": project_id, "requestId": request_id, "decision": decision, "scope": scope}
        if message is not None:
            data["message"] = message
        if answers is not None:
            data["answers"] = answers
        return await self.request("permission.respond", data)  # type: ignore[return-value]

    async def send(self, project_id: str, text: str) -> dict[str, Any]:
        """A follow-up for the running agent (``agent.send``): the next user message of the same run."""
        return await self.request("agent.send", {"projectId": project_id, "text": text})

    async def interrupt(self, project_id: str) -> dict[str, Any]:
        """End the agent's current turn, not the run (``agent.interrupt``)."""
        return await self.request("agent.interrupt", {"projectId": project_id})

    # -- secrets, plan and usage ---------------------------------------------------------------------
    async def set_secret(self, project_id: str, name: str, value: str) -> dict[str, Any]:
        return await self.request("secret.set", {"projectId": project_id, "name": name, "value": value})

    async def list_secrets(self, project_id: str) -> dict[str, Any]:
        return await self.request("secret.list", {"projectId": project_id})

    async def delete_secret(self, project_id: str, name: str) -> dict[str, Any]:
        return await self.request("secret.delete", {"projectId": project_id, "name": name})

    # -- schedules -----------------------------------------------------------------------------------
    async def create_schedule(self, project_id: str, prompt: str, *, cron: str | None = None, rate: str | None = None,
                              name: str | None = None, timezone: str = "UTC",
                              options: dict[str, Any] | None = None) -> Schedule:
        """A recurring run (``schedule.create``): exactly one of ``cron`` (``0 9 ? * MON-FRI *``) and
        ``rate`` (``15 minutes``), EventBridge Scheduler's syntax. A firing while a run goes on is skipped."""
        data: dict[str, Any] = {"projectId": project_id, "prompt": prompt, "timezone": timezone}
        for key, value in (("cron", cron), ("rate", rate), ("name", name), ("options", options)):
            if value is not None:
                data[key] = value
        return (await self.request("schedule.create", data))["schedule"]

    async def list_schedules(self, project_id: str) -> list[Schedule]:
        """The project's schedules, each with what its last firing did (started, skipped, failed)."""
        return (await self.request("schedule.list", {"projectId": project_id}))["schedules"]

    async def delete_schedule(self, project_id: str, schedule_id: str) -> dict[str, Any]:
        return await self.request("schedule.delete", {"projectId": project_id, "scheduleId": schedule_id})

    # -- Git host triggers ---------------------------------------------------------------------------
    async def set_trigger(self, project_id: str, provider: GitHost, *, word: str | None = None,
                          trust_org_members: bool | None = None,
                          trusted_logins: list[str] | None = None) -> dict[str, Any]:
        """Let trusted comments mentioning ``word`` on the project's repository start runs (``trigger.set``):
        ``{"trigger", "url", "secret"}``, the URL and secret to give the Git host, the secret this once."""
        data: dict[str, Any] = {"projectId": project_id, "provider": provider}
        for key, value in (("word", word), ("trustOrgMembers", trust_org_members), ("trustedLogins", trusted_logins)):
            if value is not None:
                data[key] = value
        return await self.request("trigger.set", data)

    async def get_trigger(self, project_id: str) -> tuple[Trigger | None, str | None]:
        """The project's trigger (never its secret) and the URL the Git host sends to; (None, None) without one."""
        reply = await self.request("trigger.get", {"projectId": project_id})
        return reply["trigger"], reply["url"]

    async def delete_trigger(self, project_id: str) -> dict[str, Any]:
        return await self.request("trigger.delete", {"projectId": project_id})

    async def plan(self) -> dict[str, Any]:
        return await self.request("plan.get")

    async def usage(self, month: str | None = None) -> dict[str, Any]:
        """This month's spend, executions and tokens (or ``month``, ``YYYY-MM``)."""
        return await self.request("usage.get", {"month": month} if month else {})

    # -- the team: members and API keys --------------------------------------------------------------
    async def list_members(self) -> list[Member]:
        return (await self.request("member.list"))["members"]

    async def invite_member(self, email: str, role: Role = "member") -> Invitation:
        """Invite a person by email: a pending invitation they accept (or decline) once signed in."""
        return (await self.request("member.invite", {"email": email, "role": role}))["invitation"]

    async def list_invitations(self) -> list[Invitation]:
        """The tenant's invitations, pending, accepted and declined (admin)."""
        return (await self.request("invitation.list"))["invitations"]

    async def revoke_invitation(self, invitation_id: str) -> Invitation:
        return (await self.request("invitation.revoke", {"invitationId": invitation_id}))["invitation"]

    async def my_invitations(self) -> list[Invitation]:
        """Open invitations addressed to the signed-in person's verified email."""
        return (await self.request("invitation.mine"))["invitations"]

    async def accept_invitation(self, invitation_id: str) -> Member:
        """Join the inviting tenant; reconnect to act in it. ``Conflict`` if you already belong to one."""
        return (await self.request("invitation.accept", {"invitationId": invitation_id}))["member"]

    async def decline_invitation(self, invitation_id: str) -> Invitation:
        return (await self.request("invitation.decline", {"invitationId": invitation_id}))["invitation"]

    async def create_tenant(self, name: str | None = None) -> Member:
        """For a person in no tenant: start one of your own, as its owner; reconnect to act in it."""
        return (await self.request("tenant.create", {"name": name} if name else {}))["member"]

    async def set_member_role(self, user_id: str, role: Role) -> Member:
        return (await self.request("member.set_role", {"userId": user_id, "role": role}))["member"]

    async def remove_member(self, user_id: str) -> dict[str, Any]:
        return await self.request("member.remove", {"userId": user_id})

    async def find_member(self, ref: str) -> Member:
        """A member by user id or email; ``NotFound`` when none."""
        for member in await self.list_members():
            if ref in (member["userId"], member.get("email")):
                return member
        raise NotFound(f"No member {ref!r} in this tenant", {"member": ref})

    async def create_api_key(self, name: str, role: Role = "member",
                             project_ids: list[str] | None = None, expires_in_days: int | None = None) -> CreatedApiKey:
        """``{"apiKey": ApiKey, "key": "cla_…"}``: the key itself is in this reply only, never again.
        With ``project_ids`` the key reaches only those projects (a CI secret for one project); with
        ``expires_in_days`` (1–3650) it is refused from then on."""
        data: dict[str, Any] = {"name": name, "role": role}
        if project_ids is not None:
            data["projectIds"] = project_ids
        if expires_in_days is not None:
            data["expiresInDays"] = expires_in_days
        return await self.request("apikey.create", data)

    async def list_api_keys(self) -> list[ApiKey]:
        return (await self.request("apikey.list"))["apiKeys"]

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        return (await self.request("apikey.revoke", {"keyId": key_id}))["apiKey"]

    async def list_audit(self, limit: int = 50, cursor: str | None = None) -> AuditPage:
        """A page of the tenant's audit log, newest first (admin); pass ``nextCursor`` for the next."""
        data: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return await self.request("audit.list", data)

    async def billing_checkout(self, plan: str, success_url: str, cancel_url: str) -> str:
        """The URL of a Stripe Checkout page that subscribes the tenant to ``plan``."""
        data = {"plan": plan, "successUrl": success_url, "cancelUrl": cancel_url}
        return (await self.request("billing.checkout", data))["url"]

    async def billing_portal(self, return_url: str) -> str:
        """The URL of Stripe's Customer Portal for the tenant."""
        return (await self.request("billing.portal", {"returnUrl": return_url}))["url"]
