"""Tenant creation: the first sign-in of a new user makes them the owner of a new tenant."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.identity import Identity
from cloutagent.domain.models import Member, Tenant
from cloutagent.errors import Conflict
from cloutagent.ids import new_id, now_iso
from cloutagent.services.ports import AccessStore


class TenantService:
    def __init__(self, store: AccessStore):
        self.store = store

    def ensure_tenant_for_user(self, user_id: str, email: str, tenant_name: str | None = None) -> Member | None:
        """Idempotent: a user who already belongs to a tenant keeps it (retries). Someone with a pending
        invitation gets none: they land in no tenant until they accept (or decline) it. None then."""
        existing = self.store.find_membership(user_id)
        if existing is not None:
            return existing
        now_at = now_iso()
        if email and any(i.open_at(now_at) for i in self.store.invitations_for(email.strip().lower())):
            return None
        now = now_iso()
        tenant = Tenant(tenant_id=new_id("t_"), name=tenant_name or _default_name(email), created_at=now)
        owner = Member(tenant_id=tenant.tenant_id, user_id=user_id, email=email, role="owner", joined_at=now)
        if not self.store.create_tenant(tenant, owner):
            return self.store.find_membership(user_id) or owner
        return owner

    def create_own(self, identity: Identity, tenant_name: str | None = None) -> Member:
        """tenant.create: a person in no tenant (an invitee who would rather not join, or declined)
        starts one of their own as its owner; CONFLICT for anyone who belongs to one."""
        if not identity.invitee or self.store.find_membership(identity.user_id) is not None:
            raise Conflict("You already belong to a tenant; a person belongs to one")
        now = now_iso()
        email = identity.display_name
        tenant = Tenant(tenant_id=new_id("t_"), name=tenant_name or _default_name(email), created_at=now)
        owner = Member(tenant_id=tenant.tenant_id, user_id=identity.user_id, email=email, role="owner", joined_at=now)
        if not self.store.create_tenant(tenant, owner):  # the person's guard: a membership came first
            raise Conflict("You already belong to a tenant; a person belongs to one")
        return owner

    def add_user_to_tenant(self, tenant_id: str, user_id: str, email: str, role: str) -> Member:
        """The dev stack's shortcut (POST /local/users with a tenant): the membership and its guard."""
        member = Member(tenant_id=tenant_id, user_id=user_id, email=email, role=role, joined_at=now_iso())
        self.store.add_member(member)
        return member


def _default_name(email: str) -> str:
    return (email.split("@", 1)[0] or "my") + "'s team"
