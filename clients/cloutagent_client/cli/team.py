"""``cloutagent members …``, ``cloutagent keys …`` and ``cloutagent audit``: who is in the tenant,
its API keys, and who changed what."""

from __future__ import annotations

from typing import Any

from cloutagent_client import Client
from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown
from cloutagent_client.errors import BadRequest, NotFound

_MEMBER_COLUMNS = [("USER", "userId"), ("EMAIL", "email"), ("ROLE", "role"), ("JOINED", "joinedAt")]
_KEY_COLUMNS = [("ID", "keyId"), ("NAME", "name"), ("ROLE", "role"), ("PREFIX", "prefix"),
                ("CREATED", "createdAt"), ("EXPIRES", "expiresAt"), ("LAST USED", "lastUsedAt"), ("REVOKED", "revokedAt")]
_INVITATION_COLUMNS = [("ID", "invitationId"), ("TEAM", "tenantName"), ("ROLE", "role"), ("FROM", "invitedBy"),
                       ("EXPIRES", "expiresAt")]
_SENT_COLUMNS = [("ID", "invitationId"), ("EMAIL", "email"), ("ROLE", "role"), ("STATUS", "status"),
                 ("BY", "invitedBy"), ("EXPIRES", "expiresAt")]
_AUDIT_COLUMNS = [("AT", "at"), ("ACTION", "action"), ("BY", "by"), ("TARGET", "target"), ("DETAILS", "details")]


async def list_members(client: Client, args: Any, out: Output) -> int:
    out.table(await client.list_members(), _MEMBER_COLUMNS)
    return exit_codes.OK


async def invite_member(client: Client, args: Any, out: Output) -> int:
    invitation = await client.invite_member(args.email, args.role)
    out.result(invitation, f"invited {shown(invitation['email'])} as {invitation['role']} "
                           f"({invitation['invitationId']}, pending until {invitation['expiresAt']}): they join once "
                           "they sign in and accept")
    return exit_codes.OK


async def my_invitations(client: Client, args: Any, out: Output) -> int:
    out.table(await client.my_invitations(), _INVITATION_COLUMNS)
    return exit_codes.OK


async def accept_invitation(client: Client, args: Any, out: Output) -> int:
    member = await client.accept_invitation(args.invitation)
    out.result(member, f"joined as {member['role']}: connect again to work in the team")
    return exit_codes.OK


async def decline_invitation(client: Client, args: Any, out: Output) -> int:
    invitation = await client.decline_invitation(args.invitation)
    out.result(invitation, f"declined {invitation['invitationId']} ({shown(invitation['tenantName'])})")
    return exit_codes.OK


async def create_own_tenant(client: Client, args: Any, out: Output) -> int:
    member = await client.create_tenant(args.name)
    out.result(member, "you now own a team of your own: connect again to work in it")
    return exit_codes.OK


async def sent_invitations(client: Client, args: Any, out: Output) -> int:
    out.table(await client.list_invitations(), _SENT_COLUMNS)
    return exit_codes.OK


async def revoke_invitation(client: Client, args: Any, out: Output) -> int:
    invitation = await client.revoke_invitation(args.invitation)
    out.result(invitation, f"revoked the invitation of {shown(invitation['email'])}")
    return exit_codes.OK


async def set_member_role(client: Client, args: Any, out: Output) -> int:
    member = await client.set_member_role((await client.find_member(args.member))["userId"], args.role)
    out.result(member, f"{shown(member.get('email') or member['userId'])} is now {member['role']}")
    return exit_codes.OK


async def remove_member(client: Client, args: Any, out: Output) -> int:
    member = await client.find_member(args.member)
    reply = await client.remove_member(member["userId"])
    out.result(reply, f"removed {shown(member.get('email') or member['userId'])}")
    return exit_codes.OK


async def create_key(client: Client, args: Any, out: Output) -> int:
    projects = [(await client.find_project(ref))["projectId"] for ref in args.project or []]
    created = await client.create_api_key(args.name, args.role, projects or None,
                                          getattr(args, "expires_in_days", None))
    if out.json:
        out.item(created)
    else:  # the key alone on stdout, so `cloutagent keys create ci > key.txt` keeps just it
        out.line(created["key"])
        key = created["apiKey"]
        out.note(f"created {key['keyId']} ({shown(key['name'])}, {key['role']}): this is the only time the key "
                 "is shown; store it now")
    return exit_codes.OK


async def list_keys(client: Client, args: Any, out: Output) -> int:
    out.table(await client.list_api_keys(), _KEY_COLUMNS)
    return exit_codes.OK


async def revoke_key(client: Client, args: Any, out: Output) -> int:
    key = await client.revoke_api_key(await _key_id(client, args.key))
    out.result(key, f"revoked {key['keyId']} ({shown(key['name'])}): new connections with it are refused")
    return exit_codes.OK


async def list_audit(client: Client, args: Any, out: Output) -> int:
    page = await client.list_audit(args.limit, args.cursor)
    if out.json:
        out.table(page["entries"], _AUDIT_COLUMNS)
    else:
        rows = [{"at": e["at"], "action": e["action"], "target": shown(e["target"]),
                 "by": shown(e["actor"].get("displayName") or e["actor"]["userId"]),
                 "details": shown(_details(e["details"]))} for e in page["entries"]]
        out.table(rows, _AUDIT_COLUMNS)
    if page.get("nextCursor"):
        out.note(f"more: cloutagent audit --cursor {page['nextCursor']}")
    return exit_codes.OK


def _details(details: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in details.items() if v is not None)


async def _key_id(client: Client, ref: str) -> str:
    """A key id as given, or the id of the one live key with that name."""
    if ref.startswith("k_"):
        return ref
    named = [k for k in await client.list_api_keys() if k["name"] == ref and not k.get("revokedAt")]
    if len(named) == 1:
        return named[0]["keyId"]
    if not named:
        raise NotFound(f"No live API key named {ref!r}", {"key": ref})
    raise BadRequest(f"{len(named)} live keys are named {ref!r}: use the id", {"key": ref})
