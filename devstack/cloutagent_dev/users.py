"""Local users: real Cognito (moto) users with real RS256 access tokens, and their tenants."""

from __future__ import annotations

import secrets
from typing import Any

from cloutagent.domain.identity import Identity, Role


def sign_up(cognito: Any, pool_id: str, client_id: str, email: str) -> tuple[str, str]:
    """Create a confirmed user and sign them in; returns (sub, access token)."""
    password = "Aa1!" + secrets.token_urlsafe(16)
    cognito.admin_create_user(
        UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    return sign_in(cognito, pool_id, client_id, email, password)


def sign_in(cognito: Any, pool_id: str, client_id: str, email: str, password: str) -> tuple[str, str]:
    auth = cognito.admin_initiate_auth(
        UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    return sub, auth["AccessToken"]


def create_local_user(container: Any, email: str, tenant_id: str | None = None, role: str | None = None) -> dict[str, Any]:
    """What the ready file and ``POST /local/users`` hand out."""
    from functions.post_confirmation.handler import handler as post_confirmation

    settings = container.settings
    if tenant_id and container.access_store.get_tenant(tenant_id) is None:
        raise ValueError(f"no tenant {tenant_id}")
    if not tenant_id and role not in (None, "owner"):
        raise ValueError("a new tenant's first user is its owner; pass tenantId to add a user with another role")
    cognito = container.clients.client("cognito-idp")
    sub, token = sign_up(cognito, settings.user_pool_id, settings.user_pool_client_id, email)
    if tenant_id:
        member = container.tenants.add_user_to_tenant(tenant_id, sub, email, role or "member")
    else:
        # The same trigger Cognito runs in AWS after sign-up confirmation.
        post_confirmation({"triggerSource": "PostConfirmation_ConfirmSignUp",
                           "request": {"userAttributes": {"sub": sub, "email": email}}})
        member = container.access_store.find_membership(sub)
        if member is None:  # an invitation waits: no tenant, no key, until the person accepts it
            return {"tenantId": None, "userId": sub, "role": None, "email": email, "token": token, "apiKey": None}
    identity = Identity(tenant_id=member.tenant_id, user_id=sub, role=Role.parse(member.role))
    api_key = container.access.create_api_key(identity, f"{email} (local)", member.role).secret
    return {"tenantId": member.tenant_id, "userId": sub, "role": member.role, "email": email,
            "token": token, "apiKey": api_key}
