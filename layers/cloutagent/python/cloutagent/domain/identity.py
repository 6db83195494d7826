"""Who is calling, and what each role may do: one permission table every action consults."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from cloutagent.domain.models import AgentConfig
from cloutagent.errors import Forbidden, ProjectNotFound


class Role(IntEnum):
    viewer = 10
    member = 20
    admin = 30
    owner = 40

    @classmethod
    def parse(cls, value: str) -> "Role":
        return cls[value]


@dataclass(frozen=True)
class Identity:
    """The caller, as established by the authorizer. Never built from a message body."""

    tenant_id: str
    user_id: str
    role: Role
    auth_type: str = "jwt"  # jwt | apikey
    connection_id: str | None = None
    display_name: str = ""  # what people read: the member's email, or the API key's name
    # An API key limited to some projects (apikey.create {projectIds}); None: every project of the tenant.
    project_ids: frozenset[str] | None = None
    # A signed-in person who belongs to no tenant yet (tenant_id ""): may only answer invitations.
    invitee: bool = False

    def reaches(self, project_id: str) -> bool:
        return self.project_ids is None or project_id in self.project_ids

    def log_keys(self) -> dict[str, str | None]:
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "role": self.role.name,
            "connection_id": self.connection_id,
        }


# The lowest role allowed to perform each action. Anything not listed is refused.
MIN_ROLE: dict[str, Role] = {
    "ping": Role.viewer,
    "health": Role.viewer,
    "whoami": Role.viewer,
    "openapi": Role.viewer,
    "project.list": Role.viewer,
    "project.get": Role.viewer,
    "project.join": Role.viewer,
    "project.leave": Role.viewer,
    "messages.get": Role.viewer,
    "project.create": Role.member,
    "project.update": Role.member,
    "project.delete": Role.member,
    "execute": Role.member,
    "agent.kill": Role.member,
    "agent.new_session": Role.member,
    "permission.respond": Role.member,
    "agent.send": Role.member,
    "agent.interrupt": Role.member,
    "execution.get": Role.viewer,
    "execution.diff": Role.viewer,
    "execution.list": Role.viewer,
    "member.list": Role.viewer,
    "member.invite": Role.admin,
    "member.remove": Role.admin,
    "member.set_role": Role.admin,
    "apikey.create": Role.admin,
    "apikey.list": Role.admin,
    "apikey.revoke": Role.admin,
    "audit.list": Role.admin,
    "secret.list": Role.member,
    "secret.set": Role.admin,
    "secret.delete": Role.admin,
    "webhook.set": Role.admin,
    "webhook.get": Role.admin,
    "webhook.delete": Role.admin,
    "trigger.set": Role.admin,
    "trigger.get": Role.admin,
    "trigger.delete": Role.admin,
    "plan.get": Role.admin,
    "usage.get": Role.admin,
    "billing.checkout": Role.admin,
    "billing.portal": Role.admin,
    "schedule.list": Role.viewer,
    "schedule.create": Role.member,
    "schedule.delete": Role.member,
    "invitation.list": Role.admin,
    "invitation.revoke": Role.admin,
    "invitation.mine": Role.viewer,
    "invitation.accept": Role.viewer,
    "invitation.decline": Role.viewer,
    "tenant.create": Role.viewer,
}


# All that a person with no tenant (an invitee identity) may do: nothing reads or writes a tenant.
INVITEE_ACTIONS = frozenset({"ping", "health", "whoami", "invitation.mine", "invitation.accept",
                             "invitation.decline", "tenant.create"})


# What a key limited to some projects may still do without naming a project (project.list shows
# only its projects). Everything else tenant-wide (members, keys, billing, creating projects) is refused.
PROJECT_SCOPED_TENANT_ACTIONS = frozenset({"ping", "health", "whoami", "openapi", "project.list"})


# The actions that name no project (tests/unit/test_project_scope.py checks this against the models).
TENANT_ACTIONS = frozenset({
    "ping", "health", "whoami", "openapi", "project.list", "project.create",
    "member.list", "member.invite", "member.remove", "member.set_role",
    "apikey.create", "apikey.list", "apikey.revoke", "audit.list",
    "plan.get", "usage.get", "billing.checkout", "billing.portal",
    "invitation.list", "invitation.revoke", "invitation.mine", "invitation.accept", "invitation.decline",
    "tenant.create",
})


def allowed_actions(role: Role, project_scoped: bool = False, invitee: bool = False) -> list[str]:
    """Every action ``role`` may perform (a key limited to projects: only those within them and
    the few tenant-wide reads it keeps; an invitee: only answering invitations): clients show only
    the controls that would work."""
    if invitee:
        return sorted(INVITEE_ACTIONS)
    refused = TENANT_ACTIONS - PROJECT_SCOPED_TENANT_ACTIONS if project_scoped else frozenset()
    return sorted(action for action, needed in MIN_ROLE.items() if role >= needed and action not in refused)


def require_permission(identity: Identity, action: str) -> None:
    if identity.invitee and action not in INVITEE_ACTIONS:
        raise Forbidden(f"You belong to no tenant yet; accept an invitation to perform {action}")
    needed = MIN_ROLE.get(action)
    if needed is None or identity.role < needed:
        raise Forbidden(f"Your role ({identity.role.name}) may not perform {action}")


def require_project_scope(identity: Identity, action: str, project_id: str | None) -> None:
    """A key limited to some projects sees every other project as not found."""
    if identity.project_ids is None:
        return
    if project_id is None:
        if action not in PROJECT_SCOPED_TENANT_ACTIONS:
            raise Forbidden(f"This API key is limited to some projects; it may not perform {action}")
    elif project_id not in identity.project_ids:
        raise ProjectNotFound()


def require_can_grant(identity: Identity, role: Role) -> None:
    """Nobody hands out a role above their own."""
    if role > identity.role:
        raise Forbidden(f"Your role ({identity.role.name}) may not grant {role.name}")


def require_can_set_repository(identity: Identity) -> None:
    """Where runs clone from and push to, and with which token, is the admins' call."""
    if identity.role < Role.admin:
        raise Forbidden("Only an admin may set or change the project's repository")


def require_can_set_agent_powers(identity: Identity, before: AgentConfig, after: AgentConfig) -> None:
    """The agent is untrusted: what it may do unasked (permission mode, tools) is the admins' call."""
    if after.powers() != before.powers() and identity.role < Role.admin:
        raise Forbidden("Only an admin may change the agent's permission mode or tools")
