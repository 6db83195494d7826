"""Gateway round trip: 100 clients sending `ping` through the local stack, vs a bare echo server.

Server CPU per message is measured for both, run by run: every process of the stack (`cloutagent
dev` with its handlers, moto, the scripted model) and the echo server's one process. The clients
run in this process; a run in which they used more than half a core is flagged client-bound.
"""

from __future__ import annotations

import asyncio

from bench.load import CLIENTS, client_note, echo_server, stack_and_echo
from bench.stack import local_stack
from bench.stats import Row, ms

BUDGET_RATIO = 0.5


def run() -> dict:
    with echo_server() as echo, local_stack() as stack:
        result = asyncio.run(stack_and_echo(stack, echo, "ping"))
    echo_result, gateway = result["echo"], result["stack"]
    ratio = gateway["rate"]["median"] / echo_result["rate"]["median"]
    rows = [
        Row(f"gateway round trip: bare websockets echo, {CLIENTS} clients (baseline)",
            f"{echo_result['rate']['median']:.0f} msg/s; "
            f"latency {ms(echo_result['latency']['median'])} median, {ms(echo_result['latency']['p99'])} p99; "
            f"{echo_result['serverCpuMsPerMessage']:.3f} ms server CPU per message; {client_note(echo_result)}",
            "-", None),
        Row(f"gateway round trip: ping through the local stack, {CLIENTS} clients",
            f"{gateway['rate']['median']:.0f} msg/s = {ratio:.2f}× echo; "
            f"latency {ms(gateway['latency']['median'])} median, {ms(gateway['latency']['p99'])} p99; "
            f"{gateway['serverCpuMsPerMessage']:.3f} ms stack CPU per message "
            f"= {gateway['serverCpuMsPerMessage'] / echo_result['serverCpuMsPerMessage']:.1f}× echo's; "
            f"{client_note(gateway)}",
            f"≥ {BUDGET_RATIO}× echo msg/s", ratio >= BUDGET_RATIO),
    ]
    return {"rows": rows, "data": {"echo": echo_result, "gateway": gateway, "ratio": ratio}}
