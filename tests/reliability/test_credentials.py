"""API keys are stored only as hashes and compared in constant time; hostile tokens cost nothing."""

from __future__ import annotations

import hashlib
import json
import tracemalloc

import boto3
import pytest

from cloutagent.domain.identity import Identity, Role
from cloutagent.errors import Unauthorized


def _table_text(ready) -> str:
    client = boto3.client("dynamodb", endpoint_url=ready["awsEndpointUrl"], region_name=ready["region"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    pages = client.get_paginator("scan").paginate(TableName=ready["tableName"])  # test-only scan
    return json.dumps([page["Items"] for page in pages])


def test_an_api_key_is_stored_only_as_its_sha256_hash(aws, ready):
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner)
    key = aws.access.create_api_key(identity, "hash check", "viewer").secret
    everything = _table_text(ready)
    assert key not in everything and key[4:] not in everything
    assert hashlib.sha256(key.encode()).hexdigest() in everything


def test_api_keys_are_compared_in_constant_time(aws, ready, monkeypatch):
    import cloutagent.services.auth as auth

    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner)
    key = aws.access.create_api_key(identity, "timing", "viewer").secret
    compared = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert aws.authenticator.authenticate({}, {"apiKey": key}).role == Role.viewer
    assert compared and compared[0][0] == compared[0][1] == hashlib.sha256(key.encode()).hexdigest()


def test_a_revoked_key_is_refused_even_if_its_record_is_found(aws, ready):
    identity = Identity(tenant_id=ready["tenantId"], user_id=ready["userId"], role=Role.owner)
    created = aws.access.create_api_key(identity, "revoke me", "member")
    aws.access.revoke_api_key(identity, created.key.key_id)
    with pytest.raises(Unauthorized):
        aws.authenticator.authenticate({"X-API-Key": created.secret}, {})


@pytest.mark.parametrize("size", [300_000, 5_000_000])
def test_an_oversized_token_is_refused_without_a_memory_spike(aws, size):
    authenticator = aws.authenticator
    headers = {"Authorization": "Bearer eyJ" + "A" * size}
    tracemalloc.start()
    try:
        with pytest.raises(Unauthorized):
            authenticator.authenticate(headers, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # nothing proportional to the token is allocated while refusing it
    assert peak < 64 * 1024
