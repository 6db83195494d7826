"""Keep what the CLI asked for, so tests can check the system prompt, tools and messages it sent."""

from __future__ import annotations

import threading
import time
from typing import Any, Mapping

from .conversation import system_text, tool_names

# Headers worth seeing; anything carrying a credential is masked, never stored.
_KEPT_HEADERS = (
    "anthropic-beta", "anthropic-version", "content-type", "user-agent", "x-app",
    "x-claude-code-session-id", "x-stainless-retry-count", "x-api-key", "authorization",
)
_SECRET_HEADERS = ("x-api-key", "authorization")


class Recorder:
    """Thread-safe list of recorded requests: the server's loop appends, tests read.

    Only the newest ``max_entries`` are kept, so a long-running local stack does not grow
    without bound (each entry holds the whole conversation sent).
    """

    def __init__(self, max_entries: int = 200) -> None:
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._max_entries = max_entries

    def record(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> dict[str, Any]:
        entry = describe(method, path, headers, body)
        with self._lock:
            self._requests.append(entry)
            del self._requests[:-self._max_entries]
        return entry

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()


def describe(method: str, path: str, headers: Mapping[str, str], body: Any) -> dict[str, Any]:
    """The JSON-safe record of one request (message bodies as sent, credentials masked)."""
    entry: dict[str, Any] = {
        "time": time.time(),
        "method": method,
        "path": path,
        "headers": masked_headers(headers),
    }
    if isinstance(body, dict):
        entry.update({
            "model": body.get("model"),
            "stream": bool(body.get("stream")),
            "max_tokens": body.get("max_tokens"),
            "system": system_text(body),
            "tools": tool_names(body),
            "messages": body.get("messages") or [],
        })
    elif body is not None:
        entry["body"] = body
    return entry


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _KEPT_HEADERS:
            kept[lower] = _mask(value) if lower in _SECRET_HEADERS else value
    return kept


def _mask(value: str) -> str:
    # Only say whether a credential came; its length or prefix could help someone guess it.
    return "[masked]" if value else ""
