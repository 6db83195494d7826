"""Forge tokens for handshake tests: with moto's own Cognito signing key (so only the claim under
test is wrong), with no signature, or HMAC-signed with the public key (the classic confusion)."""

from __future__ import annotations

import base64
import gzip
import json
import time
from importlib import resources
from typing import Any

from jose import jwk, jwt


def _moto_jwk(name: str) -> dict[str, Any]:
    raw = resources.files("moto.cognitoidp").joinpath(f"resources/{name}.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))


def private_key() -> dict[str, Any]:
    return _moto_jwk("jwks-private")


def public_jwks() -> dict[str, Any]:
    return _moto_jwk("jwks-public")


def claims_for(ready: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": f"https://cognito-idp.{ready['region']}.amazonaws.com/{ready['userPoolId']}",
        "sub": ready["userId"], "client_id": ready["userPoolClientId"], "token_use": "access",
        "iat": now, "auth_time": now, "exp": now + 600, "jti": "test", "username": "dev",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, private_key(), algorithm="RS256", headers={"kid": "dummy", **(headers or {})})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "kid": "dummy", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any]) -> str:
    import hashlib
    import hmac

    public_pem = jwk.construct(public_jwks()["keys"][0], "RS256").to_pem()
    header = _b64(json.dumps({"alg": "HS256", "kid": "dummy", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"
