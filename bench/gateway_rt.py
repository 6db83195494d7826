"""Gateway round trip: 100 clients sending `ping` through the local stack, vs a bare echo server."""

from __future__ import annotations

import asyncio

from bench.load import CLIENTS, echo_server, stack_and_echo
from bench.machine import cpu_seconds
from bench.stack import local_stack
from bench.stats import Row, ms

BUDGET_RATIO = 0.5


def run() -> dict:
    with echo_server() as echo_url, local_stack() as stack:
        cpu = cpu_seconds(stack.process.pid)
        result = asyncio.run(stack_and_echo(stack.info, echo_url, "ping"))
        cpu = cpu_seconds(stack.process.pid) - cpu
    echo, gateway = result["echo"], result["stack"]
    # Every message the stack handled (the warm-up run too); the echo runs leave it idle.
    gateway["cpuMsPerMessage"] = cpu * 1000 / (gateway["clients"] * gateway["perClient"] * (gateway["runs"] + 1))
    ratio = gateway["rate"]["median"] / echo["rate"]["median"]
    rows = [
        Row(f"gateway round trip: bare websockets echo, {CLIENTS} clients (baseline)",
            f"{echo['rate']['median']:.0f} msg/s; "
            f"latency {ms(echo['latency']['median'])} median, {ms(echo['latency']['p99'])} p99", "-", None),
        Row(f"gateway round trip: ping through the local stack, {CLIENTS} clients",
            f"{gateway['rate']['median']:.0f} msg/s = {ratio:.2f}× echo; "
            f"latency {ms(gateway['latency']['median'])} median, {ms(gateway['latency']['p99'])} p99; "
            f"{gateway['cpuMsPerMessage']:.2f} ms stack CPU per message",
            f"≥ {BUDGET_RATIO}× echo msg/s", ratio >= BUDGET_RATIO),
    ]
    return {"rows": rows, "data": {"echo": echo, "gateway": gateway, "ratio": ratio}}
