"""Closed-loop load: N connected clients each send M requests one after another, all at once.

messages/s is the median over runs; latency median and p99 are over every request of every run.

The local stack and the bare echo server are driven by the same kind of clients from this
process, in alternating runs, so the client-side cost and the machine's noise are the same for
both and the ratio compares the servers. Each run also records the server's CPU per message (its
processes, read from /proc) and how much of a core the clients (this process) used: a run whose
clients used more than CLIENT_BOUND_CORES measured the clients as much as the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from bench.machine import cpu_seconds
from bench.stack import REPO_ROOT, stack_cpu
from bench.stats import summary
from bench.users import connection_urls
from bench.wsclient import Client, close_all, connect_many
from tests.support.stack import RunningStack

CLIENTS = 100
PER_CLIENT = 50  # requests per client per run
RUNS = 7  # measured runs, after one warm-up run
CLIENT_BOUND_CORES = 0.5


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
                  per_client: int = PER_CLIENT,
                  server_cpu: dict[str, Callable[[], float]] | None = None) -> dict[str, dict[str, Any]]:
    """messages/s per run and per-request latency for each target, over RUNS runs after a warm-up
    run; the targets take turns run by run, so machine noise hits each of them alike.
    ``server_cpu``: target → CPU seconds its server has used so far (for CPU per message)."""
    for clients in targets.values():
        await _one_run(clients, action, data or {}, per_client, [])
    rates: dict[str, list[float]] = {name: [] for name in targets}
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    cpu_ms: dict[str, list[float]] = {name: [] for name in targets}
    client_cores: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(RUNS):
        for name, clients in targets.items():
            server = (server_cpu or {}).get(name)
            before = (server() if server else 0.0, time.process_time(), time.perf_counter())
            rates[name].append(await _one_run(clients, action, data or {}, per_client, latencies[name]))
            wall = time.perf_counter() - before[2]
            if server:
                cpu_ms[name].append((server() - before[0]) * 1000 / (len(clients) * per_client))
            client_cores[name].append((time.process_time() - before[1]) / wall)
    return {name: {"rate": summary(rates[name]), "latency": summary(latencies[name]), "rates": rates[name],
                   "clients": len(targets[name]), "perClient": per_client, "runs": RUNS,
                   "serverCpuMsPerMessage": summary(cpu_ms[name])["median"] if cpu_ms[name] else None,
                   "clientCores": summary(client_cores[name])["median"],
                   "clientBound": summary(client_cores[name])["median"] > CLIENT_BOUND_CORES} for name in targets}


def client_note(result: dict[str, Any]) -> str:
    """How busy the clients were, flagged when they, not the server, may have set the pace."""
    note = f"clients {result['clientCores']:.2f} cores"
    return note + (f" (CLIENT-BOUND: over {CLIENT_BOUND_CORES})" if result["clientBound"] else "")


async def compare(urls: dict[str, list[str]], action: str, data: dict[str, Any] | None = None,
                  per_client: int = PER_CLIENT,
                  server_cpu: dict[str, Callable[[], float]] | None = None) -> dict[str, dict[str, Any]]:
    """`measure` over fresh connections to each target (name → one URL per client)."""
    targets = {name: await connect_many(target_urls) for name, target_urls in urls.items()}
    try:
        return await measure(targets, action, data, per_client, server_cpu)
    finally:
        await asyncio.gather(*(close_all(clients) for clients in targets.values()))


async def stack_and_echo(stack: RunningStack, echo: "EchoServer", action: str, data: dict[str, Any] | None = None,
                         per_client: int = PER_CLIENT) -> dict[str, dict[str, Any]]:
    """CLIENTS clients on the stack's dev tenant (API keys enough for the plan's per-user limit)
    and CLIENTS on the bare echo server, taking turns; the stack's CPU is all its processes'."""
    urls = {"stack": await connection_urls(stack.info, CLIENTS), "echo": [echo.url] * CLIENTS}
    cpu = {"stack": lambda: stack_cpu(stack)["total"], "echo": lambda: cpu_seconds(echo.pid)}
    return await compare(urls, action, data, per_client, cpu)


@dataclass
class EchoServer:
    url: str
    pid: int


@contextlib.contextmanager
def echo_server() -> Iterator[EchoServer]:
    process = subprocess.Popen([sys.executable, "-m", "bench.echo_server"], cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield EchoServer(f"ws://127.0.0.1:{port}/", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
