"""Relay latency: scripted runs whose events go to 100 watchers, at a fixed offered rate.

Latency of an event = when the last of the 100 watchers received it − when the CLI wrote it: the
moment its message reached the executor's relay (the executor appends that moment for every
message to CLOUTAGENT_RELAY_TRACE, a file this bench sets). Beside it, the latency from when the
scripted model wrote the text block (`[fake:stream … stamp=1]` puts the wall-clock write time in
each text, and writes block i at start + i × delay_ms: a fixed offered rate, not one that drifts),
which adds the real Claude Code CLI's own handling. All clocks are this machine's. Median and p99
are over the events of a run.

The watchers are held by 4 processes of 25 (bench/holder.py), each stamping a frame as it comes off
the socket, before parsing it, so neither their GIL nor their JSON costs are in the latency.
Three runs, one project, 100 watchers joined:
- paced: 50 events/s for 20 s (budget p99 ≤ 100 ms);
- burst: 1 000 events written as fast as the model can (budget p99 ≤ 300 ms);
- paced again with a 101st watcher whose @connections posts take 500 ms (the gateway's per-connection
  `devPostDelayMs`): the other 100 must still make the paced budget.
CPU per delivered event (one event reaching one watcher) is the CPU of every process of the stack
(`cloutagent dev`, moto, the scripted model, the executor and its CLI) from the first event written
to the last delivered, sampled from /proc; the watcher processes' CPU is reported beside it, and a
run is flagged client-bound when they used more than half a core (the budget then says less about
the stack). RELAY_WATCHERS / RELAY_PROCESSES change the split (100 / 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.holder import Holders
from bench.machine import CpuSampler
from bench.stack import local_stack, process_kind, settle, ws_url
from bench.stats import Row, ms, summary
from bench.users import connection_urls, dev_tenant_connections_per_key
from bench.wsclient import Client

WATCHERS = int(os.environ.get("RELAY_WATCHERS", "100"))
PROCESSES = int(os.environ.get("RELAY_PROCESSES", "4"))
PACED = (int(os.environ.get("RELAY_PACED_EVENTS", "1000")), 20)  # events, delay_ms: 50 events/s for 20 s
BURST = (int(os.environ.get("RELAY_BURST_EVENTS", "1000")), 0)
RUNS = os.environ.get("RELAY_RUNS", "paced,burst,slow").split(",")  # fewer, to look into one
SLOW_POST_MS = 500
BUDGETS = {"paced": 0.100, "burst": 0.300, "slow": 0.100}
CLIENT_BOUND_CORES = 0.5
_TRACED = re.compile(r"^([\d.]+)\tStreaming message (\d+) of (\d+)\.")
TIMEOUT_SECONDS = 300
IDLE_TIMEOUT_SECONDS = 120


def _merge(reports: list[dict[str, Any]]) -> dict[int, list[float]]:
    """Every holder's {i: [written_at, last arrival, how many]} → the same over all of them."""
    merged: dict[int, list[float]] = {}
    for report in reports:
        for key, (written, last, count) in report["events"].items():
            entry = merged.setdefault(int(key), [written, last, 0])
            entry[1], entry[2] = max(entry[1], last), entry[2] + count
    return merged


class RelayTrace:
    """The executor's arrival trace: when each message of a run reached the relay (the CLI wrote it)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cloutagent-relay-trace-"))
        self.path = self.dir / "arrivals.tsv"
        self._offset = 0

    def mark(self) -> None:
        """What is in the file now belongs to earlier runs."""
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def arrivals(self, events: int) -> dict[int, float]:
        """Message i of this run (of ``events``) → when it reached the relay."""
        if not self.path.exists():
            return {}
        with self.path.open("rb") as trace:
            trace.seek(self._offset)
            lines = trace.read().decode("utf-8", "replace").splitlines()
        found: dict[int, float] = {}
        for line in lines:
            match = _TRACED.match(line)
            if match and int(match[3]) == events:
                found.setdefault(int(match[2]), float(match[1]))
        return found

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


async def _wait_idle(control: Client, project_id: str) -> bool:
    deadline = time.monotonic() + IDLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if (await control.ok("project.get", {"projectId": project_id}))["project"].get("state") == "idle":
            return True
        await asyncio.sleep(0.5)
    return False


async def _run_once(name: str, stack, control: Client, project_id: str, watchers: Holders, sampler: CpuSampler,
                    trace: RelayTrace, events: int, delay_ms: int, slow: Holders | None = None) -> dict[str, Any]:
    groups = [watchers, *([slow] if slow else [])]
    for group in groups:
        await group.ask_all({"cmd": "arm", "stream": events})
    trace.mark()
    started = time.time()
    prompt = f"[fake:stream n={events} delay_ms={delay_ms} stamp=1]"
    await control.ok("execute", {"projectId": project_id, "prompt": prompt})
    waits = await watchers.ask_all({"cmd": "await", "timeout": TIMEOUT_SECONDS})
    ended = time.time()
    arrivals = _merge(await watchers.ask_all({"cmd": "report"}))
    written = sorted(entry[0] for entry in arrivals.values())
    last_delivery = max((entry[1] for entry in arrivals.values()), default=ended)
    await asyncio.sleep(3 * sampler.every)  # a sample after the last delivery
    window = sampler.between(written[0] if written else started, last_delivery)
    complete = {i: entry for i, entry in arrivals.items() if entry[2] == len(watchers.ids)}
    relayed = trace.arrivals(events)
    from_cli = [complete[i][1] - relayed[i] for i in complete if i in relayed]
    result: dict[str, Any] = {
        "name": name, "events": events, "delayMs": delay_ms, "watchers": len(watchers.ids),
        "processes": len(watchers.holders), "eventsFullyDelivered": len(complete),
        "latency": summary(from_cli), "tracedEvents": len(from_cli),
        "fromModelWrite": summary(last - wrote for wrote, last, _ in complete.values()),
        "cliHandling": summary(relayed[i] - complete[i][0] for i in complete if i in relayed),
        "deliveries": sum(w["received"] for w in waits), "timedOut": not all(w["complete"] for w in waits),
        "writeSpanSeconds": written[-1] - written[0] if written else 0.0,
        "offeredPerSecond": (len(written) - 1) / (written[-1] - written[0]) if len(written) > 1 and written[-1] > written[0] else None,
        "deliveredSecondsAfterExecute": last_delivery - started, "window": window,
    }
    if slow:
        slow_arrivals = _merge(await slow.ask_all({"cmd": "report"}))
        result["slow"] = {"received": sum(entry[2] for entry in slow_arrivals.values()),
                          "latency": summary(last - wrote for wrote, last, _ in slow_arrivals.values())}
        return result  # its backlog drains for minutes: the stack is stopped, not waited for
    result["idle"] = await _wait_idle(control, project_id)
    await asyncio.to_thread(settle, stack)
    result["run"] = sampler.between(started, time.time())
    return result


async def _measure(stack, trace: RelayTrace) -> dict[str, Any]:
    ready = stack.info
    urls = await connection_urls(ready, WATCHERS + 1, per_key=dev_tenant_connections_per_key())
    control = await Client.connect(ws_url(stack))
    try:
        project_id = (await control.ok("project.create", {"name": "bench relay"}))["project"]["projectId"]
        watchers = await asyncio.to_thread(Holders, urls[:WATCHERS], PROCESSES)
        slow = await asyncio.to_thread(Holders, [f"{urls[WATCHERS]}&devPostDelayMs={SLOW_POST_MS}"], 1)
        try:
            await watchers.ask_each({"cmd": "request", "action": "project.join", "data": {"projectId": project_id}})
            groups = {"stack": [stack.process.pid], "watchers": watchers.pids, "slow": slow.pids}
            with CpuSampler(groups, process_kind) as sampler:
                results = {}
                for name in ("paced", "burst"):
                    if name in RUNS:
                        results[name] = await _run_once(name, stack, control, project_id, watchers, sampler, trace,
                                                        *(PACED if name == "paced" else BURST))
                if "slow" in RUNS:  # last: its watcher's backlog is never waited for
                    await slow.ask_each({"cmd": "request", "action": "project.join", "data": {"projectId": project_id}})
                    results["slow"] = await _run_once("slow", stack, control, project_id, watchers, sampler, trace,
                                                      *PACED, slow=slow)
        finally:
            watchers.close()
            slow.close()
    finally:
        with contextlib.suppress(Exception):
            await control.close()
    return results


def _cpu_text(result: dict[str, Any]) -> tuple[str, bool]:
    window = result["window"]
    seconds = max(window["seconds"], 1e-9)
    deliveries = max(result["events"] * result["watchers"], 1)
    parts = ", ".join(f"{kind} {window.get(f'stack.{kind}', 0.0) / seconds:.2f}"
                      for kind in ("dev", "moto", "model", "executors", "CLI", "exited") if window.get(f"stack.{kind}", 0.0) > 0.005)
    watcher_cores = window.get("watchers", 0.0) / seconds
    client_bound = watcher_cores > CLIENT_BOUND_CORES
    text = (f"stack CPU {window.get('stack', 0.0) * 1e6 / deliveries:.0f} µs per delivered event "
            f"({window.get('stack', 0.0) / seconds:.2f} cores: {parts}); "
            f"watchers {window.get('watchers', 0.0) * 1e6 / deliveries:.0f} µs per delivered event ({watcher_cores:.2f} cores)")
    if client_bound:
        text += f"; CLIENT-BOUND (watchers over {CLIENT_BOUND_CORES} core)"
    return text, client_bound


def _row(result: dict[str, Any]) -> Row:
    lat = result["latency"]
    budget = BUDGETS[result["name"]]
    rate = f"{result['offeredPerSecond']:.1f}/s" if result["offeredPerSecond"] else "at once"
    what = {
        "paced": f"relay latency: {result['events']} events at {1000 / max(result['delayMs'], 1):.0f}/s "
                 f"to {result['watchers']} watchers",
        "burst": f"relay latency: {result['events']}-event burst to {result['watchers']} watchers",
        "slow": f"relay latency: paced as above, plus 1 watcher whose posts take {SLOW_POST_MS} ms; the other {result['watchers']}",
    }[result["name"]]
    cpu, client_bound = _cpu_text(result)
    model, cli = result["fromModelWrite"], result["cliHandling"]
    text = (f"{ms(lat['median'])} median, {ms(lat['p99'])} p99 from the CLI's write over {result['tracedEvents']} events "
            f"({ms(model['median'])} median, {ms(model['p99'])} p99 from the model's: the CLI took "
            f"{ms(cli['median'])} median, {ms(cli['p99'])} p99); "
            f"written in {result['writeSpanSeconds']:.1f} s ({rate}), all delivered "
            f"{result['deliveredSecondsAfterExecute']:.1f} s after execute; {cpu}")
    if result["tracedEvents"] < result["eventsFullyDelivered"]:
        text += (f"; only {result['tracedEvents']} of {result['eventsFullyDelivered']} delivered events in the "
                 f"executor's trace (CLOUTAGENT_RELAY_TRACE)")
    if result["name"] == "slow":
        slow = result["slow"]
        text += (f"; the slow watcher got {slow['received']} of {result['events']} in that time "
                 f"({ms(slow['latency']['median'])} median from the model's write)")
    if result["timedOut"]:
        text += (f"; TIMED OUT after {TIMEOUT_SECONDS} s: {result['deliveries']} of "
                 f"{result['events'] * result['watchers']} deliveries")
    ok = not result["timedOut"] and result["tracedEvents"] == result["events"] and lat["p99"] <= budget
    return Row(what + f" ({result['processes']} processes)", text, f"p99 ≤ {budget * 1000:.0f} ms", ok)


def run() -> dict:
    trace = RelayTrace()
    try:
        with local_stack(env={"CLOUTAGENT_RELAY_TRACE": str(trace.path)}) as stack:
            result = asyncio.run(_measure(stack, trace))
    finally:
        trace.remove()
    return {"rows": [_row(result[name]) for name in ("paced", "burst", "slow") if name in result], "data": result}
