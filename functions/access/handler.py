"""apikey.create / list / revoke, member.list / invite / remove / set_role, invitation.*, tenant.create and
audit.list."""

from cloutagent.gateway.app import WebSocketApp
from cloutagent.protocol import replies
from cloutagent.protocol.actions import (ApiKeyCreate, ApiKeyRef, AuditList, InvitationRef, MemberInvite, MemberRef,
                                         MemberSetRole, TenantCreate)
from cloutagent.wiring import get_container

app = WebSocketApp()


def _access():
    return get_container().access


def _invitations():
    return get_container().invitations


@app.action("apikey.create", ApiKeyCreate)
def create_key(identity, data: ApiKeyCreate):
    return replies.api_key_created(
        _access().create_api_key(identity, data.name, data.role, data.projectIds, data.expiresInDays))


@app.action("apikey.list")
def list_keys(identity, data):
    return replies.api_keys(_access().list_api_keys(identity))


@app.action("apikey.revoke", ApiKeyRef)
def revoke_key(identity, data: ApiKeyRef):
    return replies.api_key(_access().revoke_api_key(identity, data.keyId))


@app.action("member.list")
def list_members(identity, data):
    return replies.members(_access().list_members(identity))


@app.action("member.invite", MemberInvite)
def invite(identity, data: MemberInvite):
    return replies.invitation(_invitations().invite(identity, data.email, data.role))


@app.action("invitation.list")
def list_invitations(identity, data):
    return replies.invitations(_invitations().list(identity))


@app.action("invitation.revoke", InvitationRef)
def revoke_invitation(identity, data: InvitationRef):
    return replies.invitation(_invitations().revoke(identity, data.invitationId))


@app.action("invitation.mine")
def my_invitations(identity, data):
    return replies.invitations(_invitations().mine(identity))


@app.action("invitation.accept", InvitationRef)
def accept_invitation(identity, data: InvitationRef):
    return replies.member(_invitations().accept(identity, data.invitationId))


@app.action("invitation.decline", InvitationRef)
def decline_invitation(identity, data: InvitationRef):
    return replies.invitation(_invitations().decline(identity, data.invitationId))


@app.action("member.remove", MemberRef)
def remove(identity, data: MemberRef):
    return replies.member_removed(_access().remove(identity, data.userId))


@app.action("member.set_role", MemberSetRole)
def set_role(identity, data: MemberSetRole):
    return replies.member(_access().set_role(identity, data.userId, data.role))


@app.action("tenant.create", TenantCreate)
def create_tenant(identity, data: TenantCreate):
    return replies.member(get_container().tenants.create_own(identity, data.name))


@app.action("audit.list", AuditList)
def list_audit(identity, data: AuditList):
    return replies.audit_entries(get_container().audit.list(identity, data.limit, data.cursor))


handler = app.handler
