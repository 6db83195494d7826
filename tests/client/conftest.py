"""Fixtures for the SDK and CLI tests: SDK clients on the shared local stack, and its HTTP side."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest

from cloutagent_client import Client, ClientOptions


@pytest.fixture
async def sdk(ready):
    clients: list[Client] = []

    async def open_client(user: dict[str, Any] | None = None, **options: Any) -> Client:
        who = user or ready
        client = await Client(ready["wsUrl"], api_key=who["apiKey"], options=ClientOptions(**options)).connect()
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


def _http(ready: dict[str, Any], method: str, path: str) -> tuple[int, dict[str, Any] | None]:
    request = urllib.request.Request(f"{ready['httpUrl']}{path}", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        return response.status, json.loads(body) if body else None


@pytest.fixture
def gateway(ready):
    """The local gateway's @connections API, the way API Gateway's management API is used."""

    class Gateway:
        async def drop(self, connection_id: str) -> int:
            status, _ = await asyncio.to_thread(_http, ready, "DELETE", f"/@connections/{connection_id}")
            return status

        async def info(self, connection_id: str) -> dict[str, Any]:
            _, body = await asyncio.to_thread(_http, ready, "GET", f"/@connections/{connection_id}")
            return body or {}

    return Gateway()
