"""Shared fixtures: one real local stack per test session, and ways to reach it."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import pytest

from tests.support.stack import RunningStack
from tests.support.ws import WsClient


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> RunningStack:
    # Set (by `make test`'s second pass): runs are claimed by pool executors, and one that starts a
    # session gets a spare CLI, so the same tests prove that path too.
    pool = os.environ.get("CLOUTAGENT_TEST_EXECUTOR_POOL")
    running = RunningStack(tmp_path_factory.mktemp("stack"), extra_args=["--executor-pool", pool] if pool else None)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def ready(stack) -> dict[str, Any]:
    return stack.info


def new_user(ready: dict[str, Any], email: str, tenant_id: str | None = None, role: str | None = None) -> dict[str, Any]:
    """A fresh user from the local stack's dev-only endpoint (a new tenant unless tenant_id)."""
    body = {"email": email, **({"tenantId": tenant_id} if tenant_id else {}), **({"role": role} if role else {})}
    request = urllib.request.Request(f"{ready['httpUrl']}/local/users", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def make_user(ready):
    counter = iter(range(10**6))

    def make(tenant_id: str | None = None, role: str | None = None, prefix: str = "user") -> dict[str, Any]:
        import uuid

        return new_user(ready, f"{prefix}-{uuid.uuid4().hex[:8]}-{next(counter)}@example.com", tenant_id, role)

    return make


@pytest.fixture
async def connect(ready):
    clients: list[WsClient] = []

    async def open_client(user: dict[str, Any] | None = None, *, api_key: bool = False) -> WsClient:
        who = user or ready
        query = f"apiKey={who['apiKey']}" if api_key else f"token={who['token']}"
        client = await WsClient.connect(f"{ready['wsUrl']}/?{query}")
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()
