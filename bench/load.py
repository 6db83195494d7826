"""Closed-loop load: N connected clients each send M requests one after another, all at once.

messages/s is the median over runs; latency median and p99 are over every request of every run.

The local stack and the bare echo server are driven by the same kind of clients from this
process, in alternating runs, so the client-side cost and the machine's noise are the same for
both and the ratio compares the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from typing import Any, Iterator

from bench.stack import REPO_ROOT
from bench.stats import summary
from bench.users import connection_urls
from bench.wsclient import Client, close_all, connect_many

CLIENTS = 100
PER_CLIENT = 50  # requests per client per run
RUNS = 7  # measured runs, after one warm-up run


async def _one_run(clients: list[Client], action: str, data: dict[str, Any], per_client: int,
                   latencies: list[float]) -> float:
    async def drive(client: Client) -> None:
        for _ in range(per_client):
            sent = time.perf_counter()
            frame = await client.request(action, data)
            latencies.append(time.perf_counter() - sent)
            if frame.get("type") not in (None, "response") or "message" in frame:
                raise RuntimeError(f"{action} failed: {frame}")

    started = time.perf_counter()
    await asyncio.gather(*(drive(c) for c in clients))
    return len(clients) * per_client / (time.perf_counter() - started)


async def measure(targets: dict[str, list[Client]], action: str, data: dict[str, Any] | None = None,
                  per_client: int = PER_CLIENT) -> dict[str, dict[str, Any]]:
    """messages/s per run and per-request latency for each target, over RUNS runs after a warm-up
    run; the targets take turns run by run, so machine noise hits each of them alike."""
    for clients in targets.values():
        await _one_run(clients, action, data or {}, per_client, [])
    rates: dict[str, list[float]] = {name: [] for name in targets}
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(RUNS):
        for name, clients in targets.items():
            rates[name].append(await _one_run(clients, action, data or {}, per_client, latencies[name]))
    return {name: {"rate": summary(rates[name]), "latency": summary(latencies[name]), "rates": rates[name],
                   "clients": len(targets[name]), "perClient": per_client, "runs": RUNS} for name in targets}


async def compare(urls: dict[str, list[str]], action: str, data: dict[str, Any] | None = None,
                  per_client: int = PER_CLIENT) -> dict[str, dict[str, Any]]:
    """`measure` over fresh connections to each target (name → one URL per client)."""
    targets = {name: await connect_many(target_urls) for name, target_urls in urls.items()}
    try:
        return await measure(targets, action, data, per_client)
    finally:
        await asyncio.gather(*(close_all(clients) for clients in targets.values()))


async def stack_and_echo(ready: dict[str, Any], echo_url: str, action: str, data: dict[str, Any] | None = None,
                         per_client: int = PER_CLIENT) -> dict[str, dict[str, Any]]:
    """CLIENTS clients on the stack's dev tenant (API keys enough for the plan's per-user limit)
    and CLIENTS on the bare echo server, taking turns."""
    urls = {"stack": await connection_urls(ready, CLIENTS), "echo": [echo_url] * CLIENTS}
    return await compare(urls, action, data, per_client)


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-m", "bench.echo_server"], cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield f"ws://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)
