"""Fan-out: one frame to 1 000 subscribers with an emulated @connections round trip, the
executor's Broadcaster (every subscriber's outbox posting at once) vs one post after another.

On loopback a post never waits for the network, so overlapping posts would only overlap CPU. The
stack is started with CLOUTAGENT_DEV_POST_DELAY_MS=10: every POST takes a 10 ms round trip that
uses no CPU (docs/local-stack.md, "Emulation knobs"), as a post to API Gateway waits on the
network. Context rows repeat it at 5 and 20 ms on the same connections (`PUT /local/gateway`
changes the stack's delay while it runs). The subscribers are real WebSocket connections, held by processes of
their own (bench/holder.py), stamped as each frame comes off the socket; the posts go through the
real @connections HTTP API with the executor's ConnectionsPoster, signed as in AWS. The room is
given (no DynamoDB query), so only delivery is timed: from the first post until the last of the
1 000 connections has the frame.

Gateway CPU per post is the `cloutagent dev` process's CPU over the run less what it uses idle with
the same connections open (measured just before), over the posts.

The poster CPU row: CPU of this (posting) process per POST, the executor's poster vs boto3's
`post_to_connection` (the Lambdas' client, `connections_api()`), both one post after another to
the same connections with the emulated delay off (a process that sleeps between posts also pays
for waking up), in alternating rounds of 200, so the machine's noise (a busy sibling hyperthread
slows CPU time too) hits both alike. FANOUT_DELAYS_MS changes the delays ("10,5,20").
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from typing import Any, Awaitable, Callable

from bench.holder import Holders
from bench.machine import cpu_seconds
from bench.stack import local_stack, pointed_at
from bench.stats import Row, ms, summary
from bench.users import connection_urls, dev_tenant_connections_per_key

SUBSCRIBERS = 1000
DELAYS_MS = [int(d) for d in os.environ.get("FANOUT_DELAYS_MS", "10,5,20").split(",")]
BUDGET_DELAY_MS = 10
RUNS = {BUDGET_DELAY_MS: 3}  # measured runs of each mode, after a warm-up; 2 for the context rows
BUDGET_SPEEDUP = 8.0
BUDGET_CPU_RATIO = 0.25
CPU_ROUNDS, CPU_ROUND_POSTS = 5, 200  # of each client, alternating
IDLE_SECONDS = 3.0
TIMEOUT_SECONDS = 120


def _frame_text(run: int) -> tuple[str, str]:
    """A fan-out frame and the marker that tells it apart in the raw text."""
    from cloutagent.ids import now_iso
    from cloutagent.protocol.frames import event_frame

    data = {"fanoutRun": run}
    text = json.dumps(event_frame("bench.fanout", "p_bench", run, now_iso(), data), separators=(",", ":"))
    marker = json.dumps(data, separators=(",", ":"))
    assert marker in text
    return text, marker


async def _idle_rate(pid: int) -> float:
    """CPU seconds per second the process uses with nothing posted (its connections' upkeep)."""
    cpu, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(IDLE_SECONDS)
    return (cpu_seconds(pid) - cpu) / (time.monotonic() - started)


async def _timed(holders: Holders, run: int, send: Callable[[Any], Awaitable[None]], gateway_pid: int,
                 gateway_idle: float) -> dict[str, float]:
    from cloutagent_executor.poster import frame_of

    text, marker = _frame_text(run)
    await holders.ask_all({"cmd": "arm", "marker": marker})
    frame = frame_of(text)
    cpu, gateway_cpu, started, wall = time.process_time(), cpu_seconds(gateway_pid), time.time(), time.monotonic()
    await send(frame)
    returned = time.time()
    cpu = time.process_time() - cpu
    waits = await holders.ask_all({"cmd": "await", "timeout": TIMEOUT_SECONDS})
    if not all(w["complete"] for w in waits):
        raise RuntimeError(f"run {run}: {sum(w['received'] for w in waits)} of {len(holders.ids)} connections got the frame")
    await asyncio.sleep(0.2)  # the gateway's last answers are sent: its CPU is all in
    gateway_cpu = cpu_seconds(gateway_pid) - gateway_cpu - gateway_idle * (time.monotonic() - wall)
    return {"returned": returned - started, "lastReceived": max(w["last"] for w in waits) - started,
            "posterCpu": cpu, "gatewayCpu": gateway_cpu}


async def _measure(stack, urls: list[str], container) -> dict[str, Any]:
    from cloutagent_executor.broadcast import Broadcaster
    from cloutagent_executor.poster import ConnectionsPoster

    info, gateway_pid = stack.info, stack.process.pid
    poster = ConnectionsPoster(info["httpUrl"], info["region"], container.clients.credentials)
    dropped: list[str] = []
    broadcaster = Broadcaster(poster, dropped.append)
    results: dict[int, Any] = {}
    run = 0
    opened = time.monotonic()
    holders = await asyncio.to_thread(Holders, urls, 2)
    setup = time.monotonic() - opened

    async def parallel(frame) -> None:
        broadcaster.send(holders.ids, [frame])
        await broadcaster.drained()

    async def sequential(frame) -> None:
        for connection_id in holders.ids:
            assert await poster.post(connection_id, frame)

    try:
        for delay in DELAYS_MS:
            await asyncio.to_thread(_set_post_delay, info, delay)
            run += 1  # a warm-up: the poster's pool opens its connections, the gateway takes the delay
            await _timed(holders, run, parallel, gateway_pid, 0.0)
            idle = await _idle_rate(gateway_pid)
            timings: dict[str, list[dict[str, float]]] = {"parallel": [], "sequential": []}
            for _ in range(RUNS.get(delay, 2)):
                for mode, send in (("parallel", parallel), ("sequential", sequential)):
                    run += 1
                    timings[mode].append(await _timed(holders, run, send, gateway_pid, idle))
            results[delay] = {"timings": timings, "gatewayIdleCores": idle}
        # CPU per POST with no emulated wait: a process that sleeps between posts pays for waking
        # up (on this VM ~0.3 ms a post, see the sequential rows), which is not the client's cost.
        await asyncio.to_thread(_set_post_delay, info, 0)
        cpu = await _poster_vs_boto3(holders.ids, poster, container)
    finally:
        holders.close()
        await poster.close()
    return {"delays": results, "cpu": cpu, "setupSeconds": setup, "dropped": len(dropped),
            "failed": broadcaster.failed}


def _set_post_delay(info: dict[str, Any], milliseconds: int) -> None:
    request = urllib.request.Request(f"{info['httpUrl']}/local/gateway", method="PUT",
                                     data=json.dumps({"postDelayMs": milliseconds}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert json.loads(reply.read())["postDelayMs"] == milliseconds


async def _poster_vs_boto3(ids: list[str], poster, container) -> dict[str, float]:
    """CPU of this process per POST, one post after another: the executor's poster (awaited on
    the loop) and boto3's post_to_connection (blocking this thread), in alternating rounds."""
    from cloutagent_executor.poster import frame_of

    client = container.clients.connections_api()
    text, _ = _frame_text(0)  # no holder is armed for it: received, not parsed, not counted
    frame = frame_of(text)
    for connection_id in ids[:20]:  # warm: boto3's connection pool, signer and endpoint resolution
        client.post_to_connection(ConnectionId=connection_id, Data=frame.body)
    cpu = {"poster": 0.0, "boto3": 0.0}
    posts = 0
    for round_ in range(CPU_ROUNDS):
        chunk = ids[(round_ * CPU_ROUND_POSTS) % len(ids):][:CPU_ROUND_POSTS]
        started = time.process_time()
        for connection_id in chunk:
            assert await poster.post(connection_id, frame)
        cpu["poster"] += time.process_time() - started
        started = time.process_time()
        for connection_id in chunk:
            client.post_to_connection(ConnectionId=connection_id, Data=frame.body)
        cpu["boto3"] += time.process_time() - started
        posts += len(chunk)
    return {"posterPerPost": cpu["poster"] / posts, "boto3PerPost": cpu["boto3"] / posts, "posts": posts}


def run() -> dict:
    with local_stack(env={"CLOUTAGENT_DEV_POST_DELAY_MS": str(BUDGET_DELAY_MS)}) as stack:
        urls = asyncio.run(connection_urls(stack.info, SUBSCRIBERS, per_key=dev_tenant_connections_per_key()))
        with pointed_at(stack.info) as container:
            result = asyncio.run(_measure(stack, urls, container))
    rows: list[Row] = []
    for delay, measured in result["delays"].items():
        timings = measured["timings"]
        last = {mode: summary(t["lastReceived"] for t in runs) for mode, runs in timings.items()}
        per_post = {mode: {k: summary(t[k] / SUBSCRIBERS for t in runs)["median"] for k in ("posterCpu", "gatewayCpu")}
                    for mode, runs in timings.items()}
        speedup = last["sequential"]["median"] / last["parallel"]["median"]
        measured.update(lastReceived=last, cpuPerPost=per_post, speedup=speedup)
        what = f"fan-out: one frame to {SUBSCRIBERS} subscribers, {delay} ms emulated round trip"
        budget = delay == BUDGET_DELAY_MS
        rows.append(Row(
            f"{what}, sequential poster.post (baseline)",
            f"{ms(last['sequential']['median'])} median, {ms(last['sequential']['p99'])} p99; CPU per post: "
            f"{per_post['sequential']['posterCpu'] * 1000:.3f} ms poster, {per_post['sequential']['gatewayCpu'] * 1000:.3f} ms gateway "
            f"(its {measured['gatewayIdleCores']:.3f} cores idle subtracted)",
            "-", None))
        rows.append(Row(
            f"{what}, Broadcaster (one outbox per subscriber)",
            f"{ms(last['parallel']['median'])} median, {ms(last['parallel']['p99'])} p99 = {speedup:.1f}× faster; "
            f"CPU per post: {per_post['parallel']['posterCpu'] * 1000:.3f} ms poster, "
            f"{per_post['parallel']['gatewayCpu'] * 1000:.3f} ms gateway",
            f"≥ {BUDGET_SPEEDUP:.0f}× faster than sequential" if budget else "- (context)",
            speedup >= BUDGET_SPEEDUP if budget else None))
        if delay == BUDGET_DELAY_MS:
            cpu = result["cpu"]
            ratio = cpu["posterPerPost"] / cpu["boto3PerPost"]
            result["cpuRatio"] = ratio
            rows.append(Row(
                "poster CPU per POST: the executor's ConnectionsPoster vs boto3 post_to_connection",
                f"{cpu['posterPerPost'] * 1000:.3f} ms vs {cpu['boto3PerPost'] * 1000:.3f} ms = {ratio:.2f}× boto3 "
                f"({cpu['posts']} posts each, one after another with no emulated delay, "
                f"in alternating rounds of {CPU_ROUND_POSTS}; with the {BUDGET_DELAY_MS} ms round trip each "
                f"post also pays for waking up: the poster's {per_post['sequential']['posterCpu'] * 1000:.3f} ms above)",
                f"≤ {BUDGET_CPU_RATIO}× boto3", ratio <= BUDGET_CPU_RATIO))
    if result["dropped"] or result["failed"]:
        rows.append(Row("fan-out: posts that failed", f"{result['dropped']} gone, {result['failed']} failed", "0", False))
    return {"rows": rows, "data": result}
