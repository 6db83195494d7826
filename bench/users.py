"""Credentials for many connections: plan limits count open connections per user, and each API
key is its own user (`apikey:{keyId}`), so N connections use ⌈N / limit⌉ keys of one tenant."""

from __future__ import annotations

import asyncio
import json
import math
import urllib.request
import uuid
from typing import Any

from cloutagent import definitions

from bench.wsclient import Client


def connections_per_key() -> int:
    """The smallest connectionsPerUser of any plan: safe whatever plan the tenant is on."""
    limits = [p.get("connectionsPerUser") for p in definitions.plans().get("plans", {}).values()]
    return min([n for n in limits if n] or [10_000])


def dev_tenant_connections_per_key() -> int:
    """connectionsPerUser of the plan the stack gives its dev tenant (enterprise): fewer keys to make."""
    return definitions.plans()["plans"]["enterprise"]["connectionsPerUser"]


def new_tenant(ready: dict[str, Any], prefix: str = "bench", plan: str | None = None) -> dict[str, Any]:
    """A new user who owns a new tenant (the stack's dev-only POST /local/users), on ``plan`` if given."""
    body = json.dumps({"email": f"{prefix}-{uuid.uuid4().hex[:10]}@example.com",
                       **({"plan": plan} if plan else {})}).encode()
    request = urllib.request.Request(f"{ready['httpUrl']}/local/users", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


async def connection_urls(ready: dict[str, Any], count: int, api_key: str | None = None,
                          per_key: int | None = None) -> list[str]:
    """`count` WebSocket URLs of one tenant (the dev tenant unless `api_key` names another's owner),
    `per_key` connections per API key (default: as many as any plan allows)."""
    per_key = per_key or connections_per_key()
    base = f"{ready['wsUrl']}/?apiKey="
    admin = await Client.connect(base + (api_key or ready["apiKey"]))
    gate = asyncio.Semaphore(8)

    async def create(i: int) -> str:
        async with gate:
            return (await admin.ok("apikey.create", {"name": f"bench-{i}", "role": "member"}))["key"]

    try:
        keys = await asyncio.gather(*(create(i) for i in range(math.ceil(count / per_key))))
    finally:
        await admin.close()
    return [base + keys[i // per_key] for i in range(count)]
