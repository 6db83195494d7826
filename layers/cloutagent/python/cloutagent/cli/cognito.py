"""Cognito sign-in for the CLI: USER_PASSWORD_AUTH against the pool's app client, and refresh.

Both calls are unauthenticated Cognito APIs, so no AWS credentials are needed (or sent).
"""

from __future__ import annotations

import re
import time
from typing import Any

from cloutagent.client.errors import Unauthorized


def _client(region: str) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.client("cognito-idp", region_name=region, config=Config(signature_version=UNSIGNED))


def _tokens(result: dict[str, Any]) -> dict[str, Any]:
    auth = result.get("AuthenticationResult")
    if not auth:  # NEW_PASSWORD_REQUIRED, MFA, …: finish those in the hosted UI
        raise Unauthorized(f"Cognito asks for a {result.get('ChallengeName', 'challenge')}; "
                           "complete it in the hosted UI, then log in again")
    tokens = {"token": auth["AccessToken"], "expiresAt": int(time.time()) + int(auth.get("ExpiresIn", 3600))}
    if auth.get("RefreshToken"):
        tokens["refreshToken"] = auth["RefreshToken"]
    return tokens


def sign_in(region: str, client_id: str, username: str, password: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        result = _client(region).initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password})
    except ClientError as exc:
        raise Unauthorized(exc.response.get("Error", {}).get("Message") or "Sign-in refused") from exc
    return _tokens(result)


def refresh(region: str, client_id: str, refresh_token: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        result = _client(region).initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token})
    except ClientError as exc:
        raise Unauthorized("The saved session expired: run `cloutagent login` again") from exc
    return _tokens(result)


def region_of(url: str) -> str | None:
    """``wss://abc.execute-api.eu-west-1.amazonaws.com/prod`` → ``eu-west-1``."""
    found = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", url)
    return found.group(1) if found else None
