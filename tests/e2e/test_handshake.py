"""Bad credentials are refused at the handshake with 401/403 and leave no connection record."""

from __future__ import annotations

import time

import boto3
import pytest
import websockets

from tests.support import tokens
from tests.support.ws import WsClient

pytestmark = pytest.mark.e2e


def _connection_records(ready) -> int:
    client = boto3.client("dynamodb", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    # A scan is fine in a test; the service itself never scans.
    pages = client.get_paginator("scan").paginate(
        TableName=ready["tableName"], FilterExpression="begins_with(SK, :c)", ExpressionAttributeValues={":c": {"S": "CONN#"}})
    return sum(page["Count"] for page in pages)


def bad_tokens(ready) -> dict[str, str]:
    now = int(time.time())
    return {
        "expired": tokens.signed(tokens.claims_for(ready, exp=now - 10, iat=now - 700)),
        "alg none": tokens.unsigned(tokens.claims_for(ready)),
        "HS256 signed with the RSA public key": tokens.hs256_with_public_key(tokens.claims_for(ready)),
        "another issuer": tokens.signed(tokens.claims_for(ready, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil")),
        "another app client": tokens.signed(tokens.claims_for(ready, client_id="someone-elses-client")),
        "an ID token": tokens.signed(tokens.claims_for(ready, token_use="id", client_id=None, aud=ready["userPoolClientId"])),
        "no exp": tokens.signed(tokens.claims_for(ready, exp=None)),
        "nbf in the future": tokens.signed(tokens.claims_for(ready, nbf=now + 3600)),
        "unknown kid": tokens.signed(tokens.claims_for(ready), headers={"kid": "rotated-away"}),
        "crit header": tokens.signed(tokens.claims_for(ready), headers={"crit": ["exp"]}),
        "garbage": "not-a-jwt",
        "300 KB": "e" * 300_000,
    }


async def _status_of(url: str, **kwargs) -> int:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, **kwargs):
            pass
    return refused.value.response.status_code


async def test_forged_and_invalid_tokens_are_refused_with_401_and_leave_no_trace(ready):
    before = _connection_records(ready)
    for name, token in bad_tokens(ready).items():
        if len(token) > 8000:  # too long for a URL; send it as a header like a real client would
            status = await _status_of(ready["wsUrl"], additional_headers={"Authorization": f"Bearer {token}"})
        else:
            status = await _status_of(f"{ready['wsUrl']}/?token={token}")
        assert status == 401, name
    assert _connection_records(ready) == before


async def test_a_correctly_signed_token_for_our_client_is_accepted(ready, connect):
    # The control for the test above: the same forging path, nothing wrong, is let in.
    token = tokens.signed(tokens.claims_for(ready))
    client = await connect({"token": token})
    assert (await client.ok("whoami"))["userId"] == ready["userId"]


async def test_unknown_wrong_and_malformed_api_keys_are_refused(ready):
    for key in ["cla_" + "A" * 43, "not-even-prefixed", "cla_", "cla_" + "x" * 500]:
        assert await _status_of(f"{ready['wsUrl']}/?apiKey={key}") == 401, key
    assert await _status_of(ready["wsUrl"]) == 401  # no credentials at all


async def test_credentials_are_accepted_from_headers_too(ready, connect):
    async with websockets.connect(ready["wsUrl"], additional_headers={"X-API-Key": ready["apiKey"]}) as ws:
        await ws.send('{"action": "ping", "requestId": "p"}')
        assert '"pong":true' in await ws.recv()
    async with websockets.connect(ready["wsUrl"], additional_headers={"Authorization": f"Bearer {ready['token']}"}) as ws:
        await ws.send('{"action": "whoami", "requestId": "w"}')
        assert ready["userId"] in await ws.recv()


async def test_a_valid_token_of_a_user_without_a_tenant_is_forbidden(ready):
    token = tokens.signed(tokens.claims_for(ready, sub="user-who-never-signed-up"))
    assert await _status_of(f"{ready['wsUrl']}/?token={token}") == 403


async def test_another_tenants_api_key_never_reaches_our_tenant(ready, connect, make_user):
    # GIVEN a project of ours, and an API key that belongs to another tenant
    owner = await connect()
    pid = (await owner.ok("project.create", {"name": "ours alone"}))["project"]["projectId"]
    stranger_key = make_user()["apiKey"]

    # WHEN that key connects while claiming our tenant in the query and the headers
    url = f"{ready['wsUrl']}/?apiKey={stranger_key}&tenantId={ready['tenantId']}"
    client = await WsClient.connect(url, additional_headers={"X-Tenant-Id": ready["tenantId"]})
    try:
        # THEN it is its own tenant, and our project does not exist for it
        assert (await client.ok("whoami"))["tenantId"] != ready["tenantId"]
        assert (await client.error("project.get", {"projectId": pid}))["code"] == "PROJECT_NOT_FOUND"
        assert (await client.error("project.join", {"projectId": pid}))["code"] == "PROJECT_NOT_FOUND"
    finally:
        await client.close()


async def test_whoami_names_people_by_email_and_keys_by_name(connect, make_user):
    person = make_user(prefix="whoami-name")
    me = await (await connect(person)).ok("whoami")
    assert me["displayName"] == person["email"] and me["userId"] != person["email"]
    as_key = await (await connect(person, api_key=True)).ok("whoami")
    assert as_key["displayName"].startswith("API key ") and as_key["userId"].startswith("apikey:")
