"""Request rate limits: fixed one-second windows, per caller (a WebSocket connection, or a REST
caller's key or user) and per tenant, with the plan's limits (plans.json ``requestsPerSecond*``).

A window is one counter item per tenant (adapters/dynamo/rate_counter.py): one write per request
counts both the caller and the tenant. Fixed windows let a caller send up to twice its limit across
a window boundary; that is the price of one write instead of a read-modify-write bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloutagent.domain.identity import Identity

WINDOW_MS = 1000
# Actions that read and write nothing: counting them would cost more than answering them, and the
# API Gateway stage throttle bounds them anyway.
UNCOUNTED_ACTIONS = frozenset({"ping", "health", "whoami", "openapi"})


@dataclass(frozen=True)
class WindowCounts:
    """Requests so far in this window, this one included."""

    caller: int
    tenant: int


def window_of(now_ms: int) -> int:
    return now_ms // WINDOW_MS


def retry_after_ms(now_ms: int) -> int:
    """How long until the next window opens."""
    return WINDOW_MS - now_ms % WINDOW_MS


def caller_of(identity: Identity) -> str:
    """Whose requests a window counts: the connection, or (over REST, which has none) the key or user."""
    return identity.connection_id or identity.user_id
