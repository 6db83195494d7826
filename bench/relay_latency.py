"""Relay latency: a scripted run of 1 000 events to 100 subscribers.

Latency of an event = when the last of the 100 subscribers received it − when the scripted model
wrote the text block (`[fake:stream … stamp=1]` puts the wall-clock write time in each text; both
clocks are this machine's), so it includes the real Claude Code CLI's own handling. Median and p99
are over the events of the run. The budget run is a burst (the model writes the 1 000 blocks as
fast as it can); a short paced run first shows the latency when
the relay keeps up. RELAY_EVENTS / RELAY_DELAY_MS change the budget run (default 1000 / 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections import defaultdict

from bench.stack import local_stack
from bench.stats import Row, ms, summary
from bench.users import connection_urls
from bench.wsclient import Client, close_all, connect_many

SUBSCRIBERS = 100
BURST = (int(os.environ.get("RELAY_EVENTS", "1000")), int(os.environ.get("RELAY_DELAY_MS", "0")))
PACED = (100, 200)  # events, delay_ms: 5 events/s, 500 deliveries/s
TIMEOUT_SECONDS = 300
BUDGET_SECONDS = 0.100
_STAMPED = re.compile(r"^Streaming message (\d+) of \d+\. written_at=([\d.]+)$")


class Arrivals:
    """When each stamped line was written, and when each subscriber received it."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.written: dict[int, float] = {}
        self.received: dict[int, list[float]] = defaultdict(list)
        self.deliveries = 0
        self.complete = asyncio.Event()
        self.idle = asyncio.Event()  # the run is over: the project can take the next execute

    def add(self, data: dict) -> None:
        match = _STAMPED.match(data.get("text", ""))
        if not match:
            return
        arrived = time.time()
        self.written[int(match[1])] = float(match[2])
        self.received[int(match[1])].append(arrived)
        self.deliveries += 1
        if self.deliveries == self.expected:
            self.complete.set()


async def _join_all(clients: list[Client], project_id: str) -> None:
    # One at a time: concurrent joins race for the project's next seq, and 8 at once can exhaust the
    # event log's retries (INTERNAL; see the soak). Joining is setup here, not what is measured.
    for client in clients:
        await client.ok("project.join", {"projectId": project_id})


async def _run_once(clients: list[Client], project_id: str, current: list, events: int, delay_ms: int) -> dict:
    arrivals = Arrivals(events * len(clients))
    current[0] = arrivals
    started = time.time()
    prompt = f"[fake:stream n={events} delay_ms={delay_ms} stamp=1]"
    await clients[0].ok("execute", {"projectId": project_id, "prompt": prompt})
    try:
        await asyncio.wait_for(arrivals.complete.wait(), TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        pass
    ended = time.time()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(arrivals.idle.wait(), 60)
    latencies = [max(times) - arrivals.written[seq] for seq, times in arrivals.received.items()
                 if len(times) == len(clients)]
    written = sorted(arrivals.written.values())
    return {
        "latency": summary(latencies), "events": events, "delayMs": delay_ms, "subscribers": len(clients),
        "eventsFullyDelivered": len(latencies), "deliveries": arrivals.deliveries,
        "writeSpanSeconds": written[-1] - written[0] if written else 0.0,
        "runSeconds": ended - started, "timedOut": not arrivals.complete.is_set(),
    }


async def _measure(ready: dict) -> dict:
    current: list = [None]

    def listener(index: int):
        def on_event(frame: dict) -> None:
            data = frame.get("data") or {}
            if current[0] is None:
                return
            if frame["event"] == "execution.message":
                current[0].add(data)
            elif frame["event"] == "project.state" and data.get("state") == "idle" and index == 0:
                current[0].idle.set()

        return on_event

    clients = await connect_many(await connection_urls(ready, SUBSCRIBERS), on_event=listener)
    try:
        project_id = (await clients[0].ok("project.create", {"name": "bench relay"}))["project"]["projectId"]
        await _join_all(clients, project_id)
        paced = await _run_once(clients, project_id, current, *PACED)
        burst = await _run_once(clients, project_id, current, *BURST)
    finally:
        await close_all(clients)
    return {"paced": paced, "burst": burst}


def _row(result: dict, budget: bool) -> Row:
    lat = result["latency"]
    text = (f"{ms(lat['median'])} median, {ms(lat['p99'])} p99 over {result['eventsFullyDelivered']} events; "
            f"written in {result['writeSpanSeconds']:.1f} s, all delivered {result['runSeconds']:.1f} s after execute")
    if result["timedOut"]:
        text += (f"; TIMED OUT after {TIMEOUT_SECONDS} s: {result['deliveries']} of "
                 f"{result['events'] * result['subscribers']} deliveries")
    what = f"relay latency: {result['events']} events, delay_ms={result['delayMs']}, to {result['subscribers']} subscribers"
    ok = not result["timedOut"] and lat["p99"] <= BUDGET_SECONDS
    return Row(what, text, f"p99 ≤ {BUDGET_SECONDS * 1000:.0f} ms" if budget else "- (context)", ok if budget else None)


def run() -> dict:
    with local_stack() as stack:
        result = asyncio.run(_measure(stack.info))
    return {"rows": [_row(result["paced"], False), _row(result["burst"], True)], "data": result}
