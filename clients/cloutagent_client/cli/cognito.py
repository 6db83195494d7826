"""Cognito sign-in for the CLI: USER_PASSWORD_AUTH against the pool's app client, and refresh.

Both calls are unauthenticated Cognito APIs (plain JSON over HTTPS), so no AWS credentials are
needed or sent, and the clients need no AWS SDK. ``AWS_ENDPOINT_URL`` redirects them, as it
would boto3 (the local stack's moto).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from typing import Any

from cloutagent_client.errors import Unauthorized

TIMEOUT_SECONDS = 15


class CognitoRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _initiate_auth(region: str, body: dict[str, Any]) -> dict[str, Any]:
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"https://cognito-idp.{region}.amazonaws.com/"
    request = urllib.request.Request(endpoint, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - https or the local stack
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read() or b"{}")
        except ValueError:
            error = {}
        raise CognitoRefused(error.get("message") or error.get("Message") or f"HTTP {exc.code}") from exc


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
    try:
        result = _initiate_auth(region, {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                         "AuthParameters": {"USERNAME": username, "PASSWORD": password}})
    except CognitoRefused as exc:
        raise Unauthorized(exc.message or "Sign-in refused") from exc
    return _tokens(result)


def refresh(region: str, client_id: str, refresh_token: str) -> dict[str, Any]:
    try:
        result = _initiate_auth(region, {"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                                         "AuthParameters": {"REFRESH_TOKEN": refresh_token}})
    except CognitoRefused as exc:
        raise Unauthorized("The saved session expired: run `cloutagent login` again") from exc
    return _tokens(result)


def region_of(url: str) -> str | None:
    """``wss://abc.execute-api.eu-west-1.amazonaws.com/prod`` → ``eu-west-1``."""
    found = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", url)
    return found.group(1) if found else None
