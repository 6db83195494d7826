"""The token wrapper is strict where python-jose is permissive, and never hammers the JWKS."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from cloutagent.adapters.jwks import JwksCache
from cloutagent.errors import Unauthorized
from cloutagent.services.auth import TokenVerifier

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"
CLIENT = "client-1"


@pytest.fixture(scope="module")
def keypair():
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = jwk.construct(pem, "RS256").public_key().to_dict()
    return pem, {**public, "kid": "k1", "use": "sig", "alg": "RS256"}


def make_verifier(public_jwk, min_refetch=60.0):
    calls = []

    def fetch():
        calls.append(time.monotonic())
        return {"keys": [public_jwk]}

    return TokenVerifier(JwksCache(fetch, min_refetch), ISSUER, CLIENT), calls


def token(pem, kid="k1", **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "u1", "client_id": CLIENT, "token_use": "access", "iat": now, "exp": now + 60, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, pem, algorithm="RS256", headers={"kid": kid})


def test_a_good_access_token_yields_its_claims(keypair):
    pem, public = keypair
    verifier, _ = make_verifier(public)
    assert verifier.verify(token(pem))["sub"] == "u1"


@pytest.mark.parametrize("claims", [
    {"exp": int(time.time()) - 1}, {"exp": None}, {"iat": None}, {"iss": "https://evil"}, {"client_id": "other"},
    # nbf a year ahead: the value is taken when tests are collected, maybe many minutes earlier
    {"token_use": "id"}, {"nbf": int(time.time()) + 365 * 86400}, {"sub": None},
])
def test_tokens_with_a_wrong_or_missing_claim_are_refused(keypair, claims):
    pem, public = keypair
    verifier, _ = make_verifier(public)
    with pytest.raises(Unauthorized):
        verifier.verify(token(pem, **claims))


def test_unknown_kids_refetch_the_jwks_at_most_once_per_window(keypair):
    pem, public = keypair
    verifier, calls = make_verifier(public, min_refetch=3600)
    verifier.verify(token(pem))
    for _ in range(50):
        with pytest.raises(Unauthorized):
            verifier.verify(token(pem, kid="unknown"))
    assert len(calls) == 1


def test_an_unknown_kid_after_the_window_refetches_once_more(keypair):
    pem, public = keypair
    verifier, calls = make_verifier(public, min_refetch=0)
    verifier.verify(token(pem))
    with pytest.raises(Unauthorized):
        verifier.verify(token(pem, kid="rotated"))
    assert len(calls) == 2


def test_oversized_tokens_are_refused_before_parsing(keypair):
    _, public = keypair
    verifier, calls = make_verifier(public)
    started = time.perf_counter()
    with pytest.raises(Unauthorized):
        verifier.verify("a" * 300_000)
    assert calls == []  # never even looked at the key set
