"""The Cognito JWKS, fetched once per process and refetched at most once per window."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any, Callable

MAX_JWKS_BYTES = 64 * 1024


def http_fetch_jwks(url: str) -> dict[str, Any]:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ValueError("JWKS must be fetched over https")
    with urllib.request.urlopen(url, timeout=3) as response:  # nosec B310: scheme checked above
        return json.loads(response.read(MAX_JWKS_BYTES))


class JwksCache:
    def __init__(self, fetch: Callable[[], dict[str, Any]], min_refetch_seconds: float):
        self._fetch = fetch
        self._min_refetch = min_refetch_seconds
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    def key_for(self, kid: str) -> dict[str, Any] | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            if kid not in self._keys and self._may_refetch():
                self._refresh()
        return self._keys.get(kid)

    def _may_refetch(self) -> bool:
        # An unknown kid may be a rotated key; but never let a stream of bogus kids hammer Cognito.
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self._min_refetch

    def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetch_count += 1
        document = self._fetch()
        self._keys = {k["kid"]: k for k in document.get("keys", []) if "kid" in k}
