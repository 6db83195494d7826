"""The CLI's Cognito sign-in speaks Cognito's JSON API itself (no AWS SDK in the clients)."""

from __future__ import annotations

import secrets
import uuid

import boto3
import pytest

from cloutagent_client.cli import cognito
from cloutagent_client.errors import Unauthorized


@pytest.fixture
def pool_user(ready, monkeypatch):
    """A user with a permanent password in the local stack's Cognito (moto)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", ready["awsEndpointUrl"])
    idp = boto3.client("cognito-idp", region_name=ready["region"], endpoint_url=ready["awsEndpointUrl"],
                       aws_access_key_id="local", aws_secret_access_key="local")
    email, password = f"cli-{uuid.uuid4().hex[:8]}@example.com", "Aa1!" + secrets.token_urlsafe(12)
    idp.admin_create_user(UserPoolId=ready["userPoolId"], Username=email, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=ready["userPoolId"], Username=email, Password=password, Permanent=True)
    return email, password


def test_sign_in_and_refresh_return_tokens(ready, pool_user):
    # GIVEN a user with a password  WHEN the CLI signs in, then refreshes
    email, password = pool_user
    tokens = cognito.sign_in(ready["region"], ready["userPoolClientId"], email, password)
    renewed = cognito.refresh(ready["region"], ready["userPoolClientId"], tokens["refreshToken"])
    # THEN both give an access token with an expiry
    assert tokens["token"].count(".") == 2 and renewed["token"].count(".") == 2
    assert renewed["expiresAt"] >= tokens["expiresAt"] - 5


def test_a_wrong_password_is_unauthorized_with_cognitos_reason(ready, pool_user):
    email, _ = pool_user
    with pytest.raises(Unauthorized) as refused:
        cognito.sign_in(ready["region"], ready["userPoolClientId"], email, "Wrong-password-1!")
    assert refused.value.args[0]  # Cognito's own message, not a stack trace
