"""Tenant access: API keys for machines and members for people."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

from cloutagent.domain.identity import Identity, Role, require_can_grant
from cloutagent.domain.models import ApiKey, Member, NewApiKey
from cloutagent.errors import Conflict, Forbidden, NotFound
from cloutagent.ids import iso_millis, new_id, new_secret_token, now_iso
from cloutagent.services.ports import AccessStore

API_KEY_PREFIX = "cla_"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class AccessService:
    def __init__(self, store: AccessStore, limits: Any = None,
                 sessions: Any = None, projects: Any = None, audit: Any = None):
        self.store = store
        self.audit = audit  # an AuditLog: every change below is recorded once it happened
        self.projects = projects  # a ProjectStore: keys limited to projects name existing ones
        self.limits = limits
        self.sessions = sessions  # closes open connections of a principal whose access changed

    def _end_sessions(self, tenant_id: str, user_id: str) -> None:
        if self.sessions is not None:
            self.sessions.close_all(tenant_id, user_id)

    def _record(self, identity: Identity, action: str, target: str, details: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.record(identity, action, target, details)

    # -- API keys ----------------------------------------------------------------------------
    def create_api_key(self, identity: Identity, name: str, role: str,
                       project_ids: list[str] | None = None, expires_in_days: int | None = None) -> NewApiKey:
        require_can_grant(identity, Role.parse(role))
        if project_ids is not None and self.projects is not None:
            for project_id in dict.fromkeys(project_ids):
                self.projects.get(identity.tenant_id, project_id)  # PROJECT_NOT_FOUND for a typo
        if self.limits is not None:  # each key multiplies the per-principal connection cap
            live = [k for k in self.store.list_api_keys(identity.tenant_id) if not k.revoked_at]
            self.limits.check_api_key_create(identity.tenant_id, len(live))
        secret = new_secret_token(API_KEY_PREFIX, 32)
        now = datetime.now(timezone.utc)
        key = ApiKey(
            tenant_id=identity.tenant_id, key_id=new_id("k_"), name=name, role=role,
            prefix=secret[:10], created_at=iso_millis(now), created_by=identity.user_id,
            project_ids=None if project_ids is None else sorted(set(project_ids)),
            expires_at=None if expires_in_days is None else iso_millis(now + timedelta(days=expires_in_days)),
        )
        self.store.put_api_key(key, hash_api_key(secret))
        self._record(identity, "apikey.create", key.key_id,
                     {"name": name, "role": role, "projectIds": key.project_ids, "expiresAt": key.expires_at})
        return NewApiKey(key, secret)

    def list_api_keys(self, identity: Identity) -> list[ApiKey]:
        return self.store.list_api_keys(identity.tenant_id)

    def revoke_api_key(self, identity: Identity, key_id: str) -> ApiKey:
        key = next((k for k in self.store.list_api_keys(identity.tenant_id) if k.key_id == key_id), None)
        if key is None:
            raise NotFound("No such API key")
        if Role.parse(key.role) > identity.role:
            raise Forbidden("You may not revoke a key whose role is above yours")
        if key.revoked_at:
            return key  # already revoked: nothing changes, nothing to record
        revoked = self.store.revoke_api_key(identity.tenant_id, key_id, now_iso())
        self._end_sessions(identity.tenant_id, f"apikey:{key_id}")
        self._record(identity, "apikey.revoke", key_id, {"name": key.name, "role": key.role})
        return revoked

    def _follow_creator(self, identity: Identity, creator: str, new_role: Role | None) -> None:
        """The creator rule: a removed member's live keys are revoked; a demoted member's live keys
        ranked above the new role are downgraded to it. Either way their open connections close."""
        now = now_iso()
        for key in self.store.list_api_keys(identity.tenant_id):
            if key.created_by != creator or key.refused_at(now):
                continue
            if new_role is None:
                self.store.revoke_api_key(identity.tenant_id, key.key_id, now)
                change = ("apikey.revoke", {"name": key.name, "role": key.role, "reason": "creator removed"})
            elif Role.parse(key.role) > new_role:
                self.store.set_api_key_role(identity.tenant_id, key.key_id, new_role.name)
                change = ("apikey.downgrade", {"name": key.name, "from": key.role, "to": new_role.name,
                                               "reason": "creator demoted"})
            else:
                continue
            self._end_sessions(identity.tenant_id, f"apikey:{key.key_id}")
            self._record(identity, change[0], key.key_id, change[1])

    # -- members -----------------------------------------------------------------------------
    def list_members(self, identity: Identity) -> list[Member]:
        return self.store.list_members(identity.tenant_id)

    # member.invite: services/invitations.py (a pending invitation the person accepts).

    def set_role(self, identity: Identity, user_id: str, role: str) -> Member:
        new_role = Role.parse(role)
        require_can_grant(identity, new_role)
        target = self._manageable_member(identity, user_id)
        if Role.parse(target.role) == Role.owner and new_role != Role.owner:
            self._ensure_another_owner(identity.tenant_id, user_id)
        member = self.store.set_role(identity.tenant_id, user_id, role)
        self._end_sessions(identity.tenant_id, user_id)  # reconnect to act with the new role
        self._record(identity, "member.set_role", user_id, {"email": target.email, "from": target.role, "to": role})
        if new_role < Role.parse(target.role):
            self._follow_creator(identity, user_id, new_role)
        return member

    def remove(self, identity: Identity, user_id: str) -> Member:
        """Take a member out of the tenant; returns the member as it was."""
        target = self._manageable_member(identity, user_id)
        if Role.parse(target.role) == Role.owner:
            self._ensure_another_owner(identity.tenant_id, user_id)
        self.store.remove_member(identity.tenant_id, user_id)
        self._end_sessions(identity.tenant_id, user_id)
        self._record(identity, "member.remove", user_id, {"email": target.email, "role": target.role})
        self._follow_creator(identity, user_id, None)
        return target

    def _manageable_member(self, identity: Identity, user_id: str) -> Member:
        target = self.store.get_member(identity.tenant_id, user_id)
        if Role.parse(target.role) > identity.role:
            raise Forbidden("You may not change a member whose role is above yours")
        return target

    def _ensure_another_owner(self, tenant_id: str, leaving_user: str) -> None:
        owners = [m for m in self.store.list_members(tenant_id) if m.role == "owner" and m.user_id != leaving_user]
        if not owners:
            raise Conflict("A tenant must keep at least one owner")
