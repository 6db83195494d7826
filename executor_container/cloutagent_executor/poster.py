"""Posting frames to WebSocket connections (API Gateway's ``@connections`` API) from the event loop.

The executor's side of ``adapters/connections.py`` (which the Lambdas keep): the same requests,
signed with SigV4 the same way, but without botocore per POST. botocore spends ~0.7 ms of CPU on
each ``post_to_connection`` (the user-agent string, a request object, the signing key derived
again, the payload hashed again for every subscriber); a batch goes to every watcher, so here:
- a frame's body and its SHA-256 are made once (``Frame``), whatever the number of subscribers;
- the signing key is derived once per day and credential set (``Signer``), so each request costs
  one SHA-256 of its canonical form and one HMAC;
- requests go over kept-alive connections (``http1.HttpPool``) on the executor's event loop.
``tests/executor/test_poster.py`` checks every signature against botocore's own signer.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from botocore.utils import normalize_url_path, percent_encode

from .http1 import HttpPool

SERVICE = "execute-api"
CREDENTIALS_REREAD_SECONDS = 60.0
_GONE_TYPES = ("GoneException", "ForbiddenException")  # as adapters/connections.py: the connection is gone


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame's text, encoded and hashed once for every subscriber it goes to."""

    text: str
    body: bytes
    sha256: str
    events: str | None = None  # the events it carries, as between an events frame's brackets; None: a chunk
    events_bytes: int = 0  # their size in UTF-8, measured once for every subscriber that may join them
    count: int = 1  # how many frames of a batch it stands for (frames joined for one subscriber)


def frame_of(text: str, events: str | None = None, count: int = 1) -> Frame:
    body = text.encode("utf-8")
    size = len(events.encode("utf-8")) if events is not None else 0
    return Frame(text, body, hashlib.sha256(body).hexdigest(), events, size, count)


class PostFailed(Exception):
    """The gateway refused a post for a reason other than the connection being gone."""

    def __init__(self, status: int, error_type: str):
        super().__init__(f"{status} {error_type or 'error'}")
        self.status, self.error_type = status, error_type

    @property
    def retryable(self) -> bool:
        """Throttling and the gateway's own failures; the next try may succeed."""
        return self.status == 429 or self.status >= 500


class Signer:
    """SigV4 for one region and service, with the signing key kept for its day."""

    def __init__(self, region: str, credentials: Callable[[], Any], service: str = SERVICE):
        self.region, self.service = region, service
        self.credentials = credentials  # () -> botocore credentials (refreshable or not)
        self._key: tuple[tuple[str, str], bytes] | None = None  # ((day, secret), signing key)
        self._frozen: tuple[float, Any] | None = None  # (when read, frozen credentials)

    def headers(self, method: str, host: str, canonical_path: str, payload_sha256: str,
                now: datetime | None = None) -> list[tuple[str, str]]:
        """The headers that sign this request (``X-Amz-Date``, the token, ``Authorization``)."""
        frozen = self._current_credentials()
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        signed = [("host", host), ("x-amz-date", stamp)]
        if frozen.token:
            signed.append(("x-amz-security-token", frozen.token))
        names = ";".join(name for name, _ in signed)
        canonical = "\n".join((method, canonical_path, "", *(f"{n}:{v}" for n, v in signed), "", names, payload_sha256))
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(day, frozen.secret_key), to_sign.encode(), hashlib.sha256).hexdigest()
        authorization = f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, SignedHeaders={names}, Signature={signature}"
        token = [("X-Amz-Security-Token", frozen.token)] if frozen.token else []
        return [("X-Amz-Date", stamp), *token, ("Authorization", authorization)]

    def _current_credentials(self) -> Any:
        """Frozen credentials, read again every minute: botocore refreshes a session's well before
        it expires (15 minutes), and reading them takes a lock and a clock check per request."""
        now = time.monotonic()
        if self._frozen is None or now - self._frozen[0] >= CREDENTIALS_REREAD_SECONDS:
            self._frozen = (now, self.credentials().get_frozen_credentials())
        return self._frozen[1]

    def _signing_key(self, day: str, secret: str) -> bytes:
        if self._key is None or self._key[0] != (day, secret):
            key = f"AWS4{secret}".encode()
            for part in (day, self.region, self.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key = ((day, secret), key)
        return self._key[1]


class ConnectionsPoster:
    """``post_to_connection`` for the event loop: one request per call, no retry of its own."""

    def __init__(self, endpoint_url: str, region: str, credentials: Callable[[], Any], *,
                 max_connections: int = 128, timeout_seconds: float = 10.0):
        url = urlsplit(endpoint_url.rstrip("/"))
        tls = url.scheme == "https"
        self.host = url.netloc  # with the port when there is one, as botocore signs it
        self.stage_path = url.path  # "/<stage>"
        self.signer = Signer(region, credentials)
        self.pool = HttpPool(url.hostname or "", url.port or (443 if tls else 80), tls=tls,
                             max_connections=max_connections, timeout_seconds=timeout_seconds)
        self._paths: dict[str, tuple[str, str]] = {}

    async def post(self, connection_id: str, frame: Frame) -> bool:
        """Send one frame; False when the connection is gone. ``PostFailed``/``HttpError`` else."""
        path, canonical_path = self._path(connection_id)
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(frame.body)}"]
        head += [f"{name}: {value}" for name, value in self.signer.headers("POST", self.host, canonical_path, frame.sha256)]
        response = await self.pool.request(("\r\n".join(head) + "\r\n\r\n").encode() + frame.body)
        if response.status < 300:
            return True
        error_type = response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
        if response.status in (403, 410) and error_type in _GONE_TYPES:
            return False
        raise PostFailed(response.status, error_type)

    def _path(self, connection_id: str) -> tuple[str, str]:
        """The request path as botocore builds it, and its canonical (signed) form."""
        paths = self._paths.get(connection_id)
        if paths is None:
            path = f"{self.stage_path}/@connections/{percent_encode(connection_id)}"
            paths = (path, quote(normalize_url_path(path), safe="/~"))
            if len(self._paths) < 10_000:  # watchers of one run; bounded all the same
                self._paths[connection_id] = paths
        return paths

    async def close(self) -> None:
        await self.pool.close()
