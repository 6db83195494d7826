"""Invitations a person accepts: an admin offers a role to an email; only that person takes it up.

Nothing here creates a user or moves anyone between tenants: the invitee signs up (or in) on their
own, sees what is addressed to their verified email, and accepts or declines. Accepting writes the
membership with the person's guard item in one transaction, so a person holds one membership.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from cloutagent.domain.identity import Identity, Role, require_can_grant
from cloutagent.domain.models import Invitation, Member
from cloutagent.errors import Conflict, Forbidden, NotFound
from cloutagent.ids import iso_millis, new_id, now_iso
from cloutagent.services.audit import actor_of
from cloutagent.services.ports import AccessStore

INVITATION_DAYS = 14


class InvitationService:
    def __init__(self, store: AccessStore, limits: Any = None, audit: Any = None):
        self.store = store
        self.limits = limits
        self.audit = audit

    # -- the inviting tenant's admins -----------------------------------------------------------
    def invite(self, identity: Identity, email: str, role: str) -> Invitation:
        """A pending invitation in the caller's tenant; no user is created, no membership written."""
        require_can_grant(identity, Role.parse(role))
        email = email.strip().lower()
        tenant_id = identity.tenant_id
        members = self.store.list_members(tenant_id)
        if any(m.email.lower() == email for m in members):
            raise Conflict("That email is already a member of this tenant")
        now = datetime.now(timezone.utc)
        open_invitations = [i for i in self.store.list_invitations(tenant_id) if i.open_at(iso_millis(now))]
        if any(i.email == email for i in open_invitations):  # before the seats: the clearer answer
            raise Conflict("That email already has a pending invitation here")
        if self.limits is not None:  # a pending invitation holds a seat
            self.limits.check_member_invite(tenant_id, len(members) + len(open_invitations))
        tenant = self.store.get_tenant(tenant_id)
        invitation = Invitation(
            invitation_id=new_id("i_"), tenant_id=tenant_id, tenant_name=tenant.name if tenant else "",
            email=email, role=role, invited_by=identity.display_name or identity.user_id,
            created_at=iso_millis(now), expires_at=iso_millis(now + timedelta(days=INVITATION_DAYS)),
        )
        self.store.put_invitation(invitation, iso_millis(now))
        self._record(identity, tenant_id, "member.invite", invitation.invitation_id, {"email": email, "role": role})
        return invitation

    def list(self, identity: Identity) -> list[Invitation]:
        """The tenant's invitations (pending, accepted, declined), until their items expire."""
        return sorted(self.store.list_invitations(identity.tenant_id), key=lambda i: i.created_at)

    def revoke(self, identity: Identity, invitation_id: str) -> Invitation:
        invitation = self._own(identity, invitation_id)
        if Role.parse(invitation.role) > identity.role:
            raise Forbidden("You may not revoke an invitation whose role is above yours")
        self.store.delete_invitation(identity.tenant_id, invitation.email)
        self._record(identity, identity.tenant_id, "invitation.revoke", invitation_id,
                     {"email": invitation.email, "role": invitation.role})
        return invitation

    # -- the invitee ------------------------------------------------------------------------------
    def mine(self, identity: Identity) -> list[Invitation]:
        """Open invitations addressed to the caller's verified email (from the authorizer, never a body)."""
        now = now_iso()
        return sorted((i for i in self.store.invitations_for(_email_of(identity)) if i.open_at(now)),
                      key=lambda i: i.created_at)

    def accept(self, identity: Identity, invitation_id: str) -> Member:
        """Join the inviting tenant with the invited role; CONFLICT for someone who already belongs to one."""
        invitation = self._addressed_to(identity, invitation_id)
        if not identity.invitee or self.store.find_membership(identity.user_id) is not None:
            raise Conflict("You already belong to a tenant; a person belongs to one")
        member = Member(tenant_id=invitation.tenant_id, user_id=identity.user_id, email=invitation.email,
                        role=invitation.role, joined_at=now_iso())
        self.store.accept_invitation(invitation, member, member.joined_at)
        self._record(identity, invitation.tenant_id, "invitation.accept", invitation_id,
                     {"email": invitation.email, "role": invitation.role})
        return member

    def decline(self, identity: Identity, invitation_id: str) -> Invitation:
        invitation = self._addressed_to(identity, invitation_id)
        self.store.decline_invitation(invitation, now_iso())
        self._record(identity, invitation.tenant_id, "invitation.decline", invitation_id,
                     {"email": invitation.email, "role": invitation.role})
        return invitation.model_copy(update={"status": "declined"})

    def _addressed_to(self, identity: Identity, invitation_id: str) -> Invitation:
        found = next((i for i in self.mine(identity) if i.invitation_id == invitation_id), None)
        if found is None:
            raise NotFound("No such invitation")
        return found

    def _own(self, identity: Identity, invitation_id: str) -> Invitation:
        found = next((i for i in self.store.list_invitations(identity.tenant_id)
                      if i.invitation_id == invitation_id), None)
        if found is None:
            raise NotFound("No such invitation")
        return found

    def _record(self, identity: Identity, tenant_id: str, action: str, target: str, details: dict[str, Any]) -> None:
        # The inviting tenant's log, also for the invitee's answer (who has no tenant of their own yet).
        if self.audit is not None:
            self.audit.record_as(tenant_id, actor_of(identity), action, target, details)


def _email_of(identity: Identity) -> str:
    """A person's verified email, as the authorizer established it; keys and machines have none."""
    if identity.auth_type != "jwt" or "@" not in identity.display_name:
        raise Forbidden("Invitations are for people signed in with their own account")
    return identity.display_name.strip().lower()
