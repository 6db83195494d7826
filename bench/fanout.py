"""Fan-out: one event to 1 000 subscribers, in parallel (services.fanout.Fanout) vs one by one.

The subscribers are real WebSocket connections on the local gateway, held by a process of their
own (bench/holder.py), and every post goes through the real @connections HTTP API with
adapters.connections.ApiGatewayConnections and the production client configuration. The room is
given (no DynamoDB query), so only delivery is timed: from the call until the last of the 1 000
connections has the frame. CPU time of this (posting) process and of the gateway is recorded too.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from bench.machine import cpu_seconds
from bench.stack import REPO_ROOT, local_stack, pointed_at
from bench.stats import Row, ms, summary
from bench.users import connection_urls

SUBSCRIBERS = 1000
RUNS = 5  # of each mode, alternating, after one warm-up of each
BUDGET_SPEEDUP = 4.0


class GivenRoom:
    """The SubscriptionsPort with a fixed list of subscribers."""

    def __init__(self, subscribers: list[str]):
        self._subscribers = subscribers
        self.dropped: list[str] = []

    def subscribers(self, tenant_id: str, project_id: str) -> list[str]:
        return list(self._subscribers)

    def drop_subscription(self, tenant_id: str, project_id: str, connection_id: str) -> None:
        self.dropped.append(connection_id)


class Holder:
    """The connections' process: tells when every connection has a given seq."""

    def __init__(self, urls: list[str]):
        self.process = subprocess.Popen([sys.executable, "-m", "bench.holder"], cwd=REPO_ROOT, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.process.stdin.write(json.dumps({"urls": urls}) + "\n")
        self.process.stdin.flush()
        self.ids: list[str] = self._line()["ids"]

    def _line(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the connection holder exited")
        return json.loads(line)

    def all_received(self, seq: int) -> float:
        reply = self._line()
        assert reply["seq"] == seq, reply
        return reply["last"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=120)


def _timed(send: Callable[[str], None], holder: Holder, seq: int, gateway_pid: int) -> dict[str, float]:
    from cloutagent.ids import now_iso
    from cloutagent.protocol.frames import event_frame

    text = json.dumps(event_frame("bench.fanout", "p_bench", seq, now_iso(), {"n": seq}), separators=(",", ":"))
    cpu, gateway_cpu, started = time.process_time(), cpu_seconds(gateway_pid), time.monotonic()
    send(text)
    returned = time.monotonic()
    last = holder.all_received(seq)
    return {"returned": returned - started, "lastReceived": last - started,
            "posterCpu": time.process_time() - cpu, "gatewayCpu": cpu_seconds(gateway_pid) - gateway_cpu}


def _measure(stack) -> dict:
    from cloutagent.adapters.connections import ApiGatewayConnections
    from cloutagent.services.fanout import Fanout
    from cloutagent.wiring import FANOUT_THREADS

    holder = Holder(asyncio.run(connection_urls(stack.info, SUBSCRIBERS)))
    try:
        with pointed_at(stack.info) as container, ThreadPoolExecutor(FANOUT_THREADS, "fanout") as pool:
            connections = ApiGatewayConnections(container.clients.connections_api())
            room = GivenRoom(holder.ids)
            fanout = Fanout(room, connections, pool)
            tenant = stack.info["tenantId"]

            def parallel(text: str) -> None:
                assert fanout.send_texts(tenant, "p_bench", room.subscribers(tenant, "p_bench"), [text]) == SUBSCRIBERS

            def sequential(text: str) -> None:
                assert all(connections.post(cid, text) for cid in holder.ids)

            timings: dict[str, list[dict]] = {"parallel": [], "sequential": []}
            seq = 0
            for run in range(RUNS + 1):
                for mode, send in (("parallel", parallel), ("sequential", sequential)):
                    seq += 1
                    timing = _timed(send, holder, seq, stack.process.pid)
                    if run:  # the first of each is a warm-up: connection pools fill
                        timings[mode].append(timing)
    finally:
        holder.close()
    return {"timings": timings, "threads": FANOUT_THREADS, "dropped": len(room.dropped)}


def run() -> dict:
    with local_stack() as stack:
        result = _measure(stack)
    last = {mode: summary(t["lastReceived"] for t in runs) for mode, runs in result["timings"].items()}
    cpu = {mode: {k: summary(t[k] / SUBSCRIBERS for t in runs)["median"] for k in ("posterCpu", "gatewayCpu")}
           for mode, runs in result["timings"].items()}
    speedup = last["sequential"]["median"] / last["parallel"]["median"]
    per_post = cpu["sequential"]
    rows = [
        Row(f"fan-out: one event to {SUBSCRIBERS} subscribers, sequential posts (baseline)",
            f"{ms(last['sequential']['median'])} median, {ms(last['sequential']['p99'])} p99; CPU per post: "
            f"{per_post['posterCpu'] * 1000:.2f} ms poster, {per_post['gatewayCpu'] * 1000:.2f} ms gateway", "-", None),
        Row(f"fan-out: one event to {SUBSCRIBERS} subscribers, Fanout ({result['threads']} threads)",
            f"{ms(last['parallel']['median'])} median, {ms(last['parallel']['p99'])} p99 = {speedup:.1f}× faster",
            f"≥ {BUDGET_SPEEDUP:.0f}× faster than sequential", speedup >= BUDGET_SPEEDUP),
    ]
    return {"rows": rows, "data": {**result, "lastReceived": last, "cpuPerPost": cpu, "speedup": speedup}}
