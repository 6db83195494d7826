"""How a client connects and how hard it tries: credentials and tunables, read once."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Awaitable, Callable, Union

# API Gateway closes a connection after 10 minutes without a client message and after 2 hours in
# any case; the defaults stay well inside both.
IDLE_LIMIT_SECONDS = 600
LIFETIME_LIMIT_SECONDS = 7200


@dataclass(frozen=True)
class Credentials:
    """One of a Cognito access token or an API key (``cla_…``)."""

    token: str | None = None
    api_key: str | None = None

    def __post_init__(self) -> None:
        if bool(self.token) == bool(self.api_key):
            raise ValueError("give exactly one of token or api_key")

    def headers(self) -> dict[str, str]:
        # Headers, not the query string, so credentials stay out of URLs and access logs.
        return {"Authorization": f"Bearer {self.token}"} if self.token else {"X-API-Key": str(self.api_key)}


# Called before every connection attempt, so an expiring token can be refreshed in between.
CredentialsProvider = Callable[[], Union[Credentials, Awaitable[Credentials]]]


async def resolve(provider: CredentialsProvider) -> Credentials:
    value = provider()
    return await value if inspect.isawaitable(value) else value


@dataclass(frozen=True)
class ClientOptions:
    request_timeout: float = 30.0
    open_timeout: float = 15.0
    ping_interval: float = 240.0            # keep-alive `ping` after this long without sending
    max_connection_age: float = LIFETIME_LIMIT_SECONDS - 600  # reconnect before the 2-hour cap
    reconnect_initial_delay: float = 0.2
    reconnect_max_delay: float = 30.0
    gap_grace: float = 0.25                 # how long an out-of-order event may wait for the ones before it
    history_page_size: int = 500

    def __post_init__(self) -> None:
        if not 0 < self.ping_interval < IDLE_LIMIT_SECONDS:
            raise ValueError(f"ping_interval must be between 0 and {IDLE_LIMIT_SECONDS} seconds")
        if not 0 < self.max_connection_age <= LIFETIME_LIMIT_SECONDS:
            raise ValueError(f"max_connection_age must be between 0 and {LIFETIME_LIMIT_SECONDS} seconds")
