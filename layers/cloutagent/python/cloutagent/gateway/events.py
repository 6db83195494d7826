"""Reading API Gateway WebSocket events."""

from __future__ import annotations

from typing import Any

from cloutagent.domain.identity import Identity, Role
from cloutagent.errors import Unauthorized


def identity_from_event(event: dict[str, Any]) -> Identity:
    """Identity as the $connect authorizer established it; message bodies are never consulted."""
    ctx = event.get("requestContext") or {}
    auth = ctx.get("authorizer") or {}
    try:
        return Identity(
            tenant_id=str(auth["tenantId"]),
            user_id=str(auth["userId"]),
            role=Role.parse(str(auth["role"])),
            auth_type=str(auth.get("authType", "jwt")),
            connection_id=ctx.get("connectionId"),
            display_name=str(auth.get("displayName") or ""),
            project_ids=_project_ids(auth.get("projectIds")),
            invitee=str(auth.get("invitee", "")) == "true",
        )
    except (KeyError, ValueError) as exc:
        raise Unauthorized("No authorizer context") from exc


def authorizer_context(identity: Identity) -> dict[str, str]:
    """What the authorizer hands to every route (API Gateway allows only flat scalars)."""
    context = {
        "tenantId": identity.tenant_id,
        "userId": identity.user_id,
        "role": identity.role.name,
        "authType": identity.auth_type,
        "displayName": identity.display_name,
    }
    if identity.project_ids is not None:
        context["projectIds"] = ",".join(sorted(identity.project_ids))
    if identity.invitee:
        context["invitee"] = "true"
    return context


def _project_ids(value: object) -> frozenset[str] | None:
    """The authorizer's comma-joined list; absent means every project of the tenant."""
    if value is None:
        return None
    return frozenset(part for part in str(value).split(",") if part)
