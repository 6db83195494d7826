"""Who is connecting: strict verification of Cognito access tokens and API keys.

python-jose is permissive by default (it accepts what the token's header asks for); this
wrapper decides the algorithm, the key, and every claim that must be present.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.models import ApiKey
from cloutagent.errors import Forbidden, Unauthorized
from cloutagent.ids import iso_millis
from cloutagent.observability import logger
from cloutagent.services.access import API_KEY_PREFIX, hash_api_key
from cloutagent.services.ports import AccessStore, Directory, Jwks

MAX_TOKEN_BYTES = 8 * 1024
MAX_API_KEY_CHARS = 128
API_KEY_USE_INTERVAL_SECONDS = 300  # how stale an API key's lastUsedAt may get
_REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "token_use", "client_id")


class TokenVerifier:
    def __init__(self, jwks: Jwks, issuer: str, client_id: str):
        self.jwks = jwks
        self.issuer = issuer
        self.client_id = client_id

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid Cognito access token for our app client, else Unauthorized."""
        if len(token) > MAX_TOKEN_BYTES:  # before any parsing, import or copy
            raise Unauthorized("Token too large")
        from jose import jwt  # lazy: only the authorizer pays for it
        from jose.exceptions import JOSEError

        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthorized("Malformed token") from exc
        if header.get("alg") != "RS256" or "crit" in header or not isinstance(header.get("kid"), str):
            raise Unauthorized("Token header not accepted")
        key = self.jwks.key_for(header["kid"])
        if key is None:
            raise Unauthorized("Unknown signing key")
        try:
            claims = jwt.decode(
                token, key, algorithms=["RS256"], issuer=self.issuer,
                options={"verify_aud": False, "require_exp": True, "require_iat": True, "require_sub": True,
                         "require_iss": True, "leeway": 0},
            )
        except JOSEError as exc:
            raise Unauthorized("Invalid token") from exc
        if any(c not in claims for c in _REQUIRED_CLAIMS):
            raise Unauthorized("Token lacks required claims")
        if claims["token_use"] != "access":
            raise Unauthorized("An access token is required")
        if claims["client_id"] != self.client_id:
            raise Unauthorized("Token issued to another client")
        return claims


class Authenticator:
    def __init__(self, verifier: TokenVerifier, access_store: AccessStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), directory: Directory | None = None):
        self.verifier = verifier
        self.store = access_store
        self.clock = clock
        self.directory = directory  # a person without a membership: their verified email (invitees)

    def authenticate(self, headers: Mapping[str, str], query: Mapping[str, str], *,
                     invitees: bool = False) -> Identity:
        """The caller's identity. ``invitees``: also admit a person who belongs to no tenant yet, as an
        identity that may only answer invitations (the WebSocket authorizer; REST has no such routes)."""
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        query = query or {}
        credentials = (query.get("token"), query.get("apiKey"), lowered.get("authorization"), lowered.get("x-api-key"))
        if any(value and len(value) > MAX_TOKEN_BYTES + 16 for value in credentials):
            raise Unauthorized("Credentials too large")  # refused before anything is parsed or copied
        token = query.get("token") or _bearer(lowered.get("authorization"))
        api_key = query.get("apiKey") or lowered.get("x-api-key")
        if token:
            return self._from_token(token, invitees)
        if api_key:
            return self._from_api_key(api_key)
        raise Unauthorized("No credentials")

    def _from_token(self, token: str, invitees: bool = False) -> Identity:
        claims = self.verifier.verify(token)
        member = self.store.find_membership(claims["sub"])
        if member is None:
            return self._invitee(claims, invitees)
        return Identity(tenant_id=member.tenant_id, user_id=member.user_id, role=Role.parse(member.role),
                        display_name=member.email or "")

    def _invitee(self, claims: dict[str, Any], admitted: bool) -> Identity:
        """No tenant, no data: the verified email from Cognito (never the token or a message), to
        find the invitations addressed to it. Without one, the person is refused as before."""
        email = self.directory.verified_email(str(claims.get("username") or claims["sub"])) \
            if admitted and self.directory is not None else None
        if not email:
            raise Forbidden("This user does not belong to a tenant")
        return Identity(tenant_id="", user_id=claims["sub"], role=Role.viewer, display_name=email, invitee=True)

    def _from_api_key(self, key: str) -> Identity:
        if not key.startswith(API_KEY_PREFIX) or len(key) > MAX_API_KEY_CHARS:
            raise Unauthorized("Invalid API key")
        digest = hash_api_key(key)
        found = self.store.find_api_key(digest)
        if found is None:
            raise Unauthorized("Invalid API key")
        indexed, stored_hash = found
        if not hmac.compare_digest(stored_hash, digest):
            raise Unauthorized("Invalid API key")
        # The index is eventually consistent: a key revoked (or downgraded) a moment ago can still be
        # there. The key item, read strongly consistent, is the truth for revocation, expiry and role.
        record = self.store.get_api_key(indexed.tenant_id, indexed.key_id)
        now = self.clock()
        refused = "revoked" if record is None else record.refused_at(iso_millis(now))
        if refused:
            raise Unauthorized(f"API key {refused}")
        self._note_use(record, now)
        return Identity(tenant_id=record.tenant_id, user_id=f"apikey:{record.key_id}",
                        role=Role.parse(record.role), auth_type="apikey", display_name=f"API key {record.name}",
                        project_ids=None if record.project_ids is None else frozenset(record.project_ids))


    def _note_use(self, key: ApiKey, now: datetime) -> None:
        """``lastUsedAt``, written at most once an interval per key: a busy CI key costs no write per request."""
        cutoff = iso_millis(now - timedelta(seconds=API_KEY_USE_INTERVAL_SECONDS))
        if key.last_used_at and key.last_used_at >= cutoff:
            return
        try:
            self.store.touch_api_key(key.tenant_id, key.key_id, iso_millis(now), cutoff)
        except Exception:  # bookkeeping only: never the reason a valid key is refused
            logger.exception("API key use not recorded", extra={"key_id": key.key_id})


def _bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None
