"""boto3 clients, created lazily and once per process.

boto3 follows ``AWS_ENDPOINT_URL`` by itself, so locally every client reaches the moto server
through the same code path as in AWS. The management API is the exception: its endpoint is the
WebSocket API's own URL (``CLOUTAGENT_CONNECTIONS_URL``).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from cloutagent.settings import get_settings

_lock = threading.Lock()


@lru_cache(maxsize=None)
def _session() -> Any:
    import boto3  # lazy: keeps cold starts of functions that never call AWS fast

    return boto3.session.Session()


@lru_cache(maxsize=None)
def client(service: str, endpoint_url: str | None = None, max_retries: int = 5) -> Any:
    """A shared client; boto3 clients are thread-safe once created, creation is not."""
    return client_of(_session(), service, endpoint_url, max_retries)


def client_of(session: Any, service: str, endpoint_url: str | None = None, max_retries: int = 5) -> Any:
    """A client of ``session`` with the platform's timeouts, retries and pool size."""
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": max_retries, "mode": "standard"},  # retries after the first try
        max_pool_connections=64,
        connect_timeout=3,
        read_timeout=10,
    )
    with _lock:
        return session.client(
            service, region_name=get_settings().region, endpoint_url=endpoint_url or None, config=config
        )


def dynamodb() -> Any:
    return client("dynamodb")


# A post runs in a fan-out thread with other subscribers waiting: a frame that a throttled
# gateway still refuses after a few seconds stays in history for the client to replay.
CONNECTIONS_MAX_RETRIES = 2


def connections_api() -> Any:
    return client("apigatewaymanagementapi", get_settings().connections_url, CONNECTIONS_MAX_RETRIES)


def shared_loader() -> Any:
    """botocore's model loader of this process: sessions made later (a tenant's) reuse the service
    models it has read instead of reading and parsing them again (~0.1 s per service)."""
    return _session()._session.get_component("data_loader")


def preload_models(services: tuple[str, ...]) -> None:
    """Read the models of ``services`` into the shared loader, without credentials or a call."""
    botocore_session = _session()._session
    for service in services:
        botocore_session.create_client(service, region_name=get_settings().region,
                                       aws_access_key_id="preload", aws_secret_access_key="preload")  # nosec B106 - no call is made


def credentials() -> Any:
    """The process's credentials (botocore refreshes them), for requests signed without a client."""
    return _session().get_credentials()


def reset_clients() -> None:
    client.cache_clear()
    _session.cache_clear()
