"""Approval latency: from a teammate's `permission.respond` to the tool running.

A project without bypassPermissions, one subscriber that answers. The prompt
`[fake:bash command="date +%s.%N > t.txt; cat t.txt"]` makes the real Claude Code CLI ask (the
redirect is a write); the command prints the wall-clock moment it ran, so its `tool_result` holds
the tool's start on this machine's clock. Latency = that moment − when the `allow` was sent.
Runs are sequential in one project, each waiting for `project.state` idle.

The budget runs answer as soon as the request arrives. A few more runs answer after a hold, as a
person would: those show the latency once the executor polls fast, and, against the others, how
many inbox reads a waiting run costs per second (the executor logs `inbox reads` per run).
APPROVAL_RUNS / APPROVAL_HELD_RUNS / APPROVAL_HOLD_SECONDS change the counts (30 / 3 / 5).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloutagent_executor.steering import FAST_POLL_SECONDS, SLOW_POLL_SECONDS

from bench.stack import local_stack, ws_url
from bench.stats import Row, ms, summary
from bench.wsclient import Client

PROMPT = '[fake:bash command="date +%s.%N > t.txt; cat t.txt"]'
BUDGET_SECONDS = 1.0
APPROVAL_TIMEOUT_SECONDS = 120  # the project's: no bench run should be denied for being slow
STEP_TIMEOUT_SECONDS = 120
_EPOCH = re.compile(r"\d{10}\.\d+")


@dataclass
class RunEvents:
    """What the subscriber saw of one execution."""

    request: dict[str, Any] | None = None
    resolved: bool = False
    picked_up_at: float | None = None  # the executor's `running` after the answer: it read the inbox
    tool_result: dict[str, Any] | None = None
    finished: dict[str, Any] | None = None
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class Tracker:
    def __init__(self) -> None:
        self.runs: dict[str, RunEvents] = {}

    def of(self, execution_id: str) -> RunEvents:
        return self.runs.setdefault(execution_id, RunEvents())

    def on_event(self, frame: dict[str, Any]) -> None:
        data = frame.get("data") or {}
        if "executionId" not in data:
            return
        run, name = self.of(data["executionId"]), frame["event"]
        if name == "permission.request" and run.request is None:
            run.request = data
            run.asked.set()
        elif name == "permission.resolved":
            run.resolved = True
        elif name == "project.state" and data.get("state") == "running" and run.resolved and not run.picked_up_at:
            run.picked_up_at = _epoch(frame["ts"])
        elif name == "execution.message" and data.get("kind") == "tool_result":
            run.tool_result = data
        elif name == "execution.finished":
            run.finished = data
        elif name == "project.state" and data.get("state") == "idle":
            run.idle.set()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def _one_run(client: Client, tracker: Tracker, project_id: str, hold: float) -> dict[str, Any]:
    reply = await client.ok("execute", {"projectId": project_id, "prompt": PROMPT})
    execution_id = reply["execution"]["executionId"]
    run = tracker.of(execution_id)
    await asyncio.wait_for(run.asked.wait(), STEP_TIMEOUT_SECONDS)
    await asyncio.sleep(hold)
    sent = time.time()
    await client.ok("permission.respond", {"projectId": project_id, "requestId": run.request["requestId"],
                                           "decision": "allow"})
    await asyncio.wait_for(run.idle.wait(), STEP_TIMEOUT_SECONDS)
    content = json.dumps((run.tool_result or {}).get("content"))
    stamp = _EPOCH.search(content)
    if (run.finished or {}).get("status") != "completed" or stamp is None or run.tool_result.get("isError"):
        raise RuntimeError(f"run {execution_id} did not run the tool: finished={run.finished}, result={content[:200]}")
    return {"executionId": execution_id, "holdSeconds": hold, "respondToToolStart": float(stamp[0]) - sent,
            "respondToPickup": run.picked_up_at - sent if run.picked_up_at else None}


async def _measure(url: str, runs: int, held_runs: int, hold: float) -> list[dict[str, Any]]:
    tracker = Tracker()
    client = await Client.connect(url, tracker.on_event)
    try:
        project = await client.ok("project.create", {"name": "bench approval",
                                                     "agent": {"approvalTimeoutSeconds": APPROVAL_TIMEOUT_SECONDS}})
        project_id = project["project"]["projectId"]
        await client.ok("project.join", {"projectId": project_id})
        return [await _one_run(client, tracker, project_id, 0.0 if i < runs else hold)
                for i in range(runs + held_runs)]
    finally:
        await client.close()


def _inbox_reads(log_text: str) -> dict[str, dict[str, float]]:
    """Per execution: the executor's inbox reads and how long its poller ran (workspace ready → the count)."""
    lines: dict[str, dict[str, float]] = {}
    for raw in log_text.splitlines():
        if not raw.startswith("{"):
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        execution_id = line.get("execution_id")
        if line.get("message") not in ("workspace ready", "inbox reads") or not execution_id:
            continue
        at = datetime.strptime(line["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
        entry = lines.setdefault(execution_id, {})
        if line["message"] == "workspace ready":
            entry["startedAt"] = at
        else:
            entry.update(reads=line["reads"], endedAt=at)
    return {x: {"reads": e["reads"], "seconds": e["endedAt"] - e["startedAt"]}
            for x, e in lines.items() if {"reads", "startedAt", "endedAt"} <= e.keys()}


def _reads_after_the_runs(stack: Any, samples: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """The last executor may still be writing its log when the project turns idle."""
    wanted = {s["executionId"] for s in samples}
    deadline = time.monotonic() + 15
    while True:
        found = {x: r for x, r in _inbox_reads(stack.log_text()).items() if x in wanted}
        if wanted <= found.keys() or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _latency_row(samples: list[dict[str, Any]], hold: float, budget: bool) -> Row:
    latency = summary(s["respondToToolStart"] for s in samples)
    pickup = summary(s["respondToPickup"] for s in samples if s["respondToPickup"] is not None)
    when = "at once" if not hold else f"after {hold:g} s"
    text = (f"{ms(latency['median'])} median, {ms(latency['p99'])} p99 over {latency['n']} runs; "
            f"the executor read the answer {ms(pickup['median'])} median, {ms(pickup['p99'])} p99 after it was sent")
    what = f"approval: respond → tool start, answered {when}"
    ok = latency["p99"] <= BUDGET_SECONDS
    return Row(what, text, f"p99 ≤ {BUDGET_SECONDS:g} s" if budget else "- (context)", ok if budget else None)


def _reads_row(reads: dict[str, dict[str, float]], quick: list[dict[str, Any]], held: list[dict[str, Any]]) -> Row:
    what = "approval: executor inbox reads per second, per waiting run"
    quick_reads = [reads[s["executionId"]] for s in quick if s["executionId"] in reads]
    held_reads = [reads[s["executionId"]] for s in held if s["executionId"] in reads]
    if not quick_reads:
        return Row(what, f"{1 / FAST_POLL_SECONDS:.1f}/s waiting, {1 / SLOW_POLL_SECONDS:.1f}/s otherwise: computed "
                         "from the poll intervals, the executors' 'inbox reads' lines were not in the stack's log",
                   "-", None)
    quick_mean = {k: statistics.mean(r[k] for r in quick_reads) for k in ("reads", "seconds")}
    parts = [f"a run answered at once: {quick_mean['reads']:.1f} reads in {quick_mean['seconds']:.1f} s "
             f"= {quick_mean['reads'] / quick_mean['seconds']:.1f}/s"]
    if held_reads:
        # Held runs differ from the others only by time spent waiting: their extra reads are the waiting ones.
        held_mean = {k: statistics.mean(r[k] for r in held_reads) for k in ("reads", "seconds")}
        extra = {k: held_mean[k] - quick_mean[k] for k in quick_mean}
        parts.insert(0, f"{extra['reads'] / extra['seconds']:.1f}/s while a request waits (held runs: "
                        f"+{extra['reads']:.1f} reads in +{extra['seconds']:.1f} s)")
    return Row(what, "; ".join(parts) + " (the executors' 'inbox reads' log lines)", "-", None)


def run() -> dict:
    runs = int(os.environ.get("APPROVAL_RUNS", "30"))
    held_runs = int(os.environ.get("APPROVAL_HELD_RUNS", "3"))
    hold = float(os.environ.get("APPROVAL_HOLD_SECONDS", "5"))
    with local_stack() as stack:
        samples = asyncio.run(_measure(ws_url(stack), runs, held_runs, hold))
        reads = _reads_after_the_runs(stack, samples)
    quick, held = samples[:runs], samples[runs:]
    rows = [_latency_row(quick, 0.0, True)]
    if held:
        rows.append(_latency_row(held, hold, False))
    rows.append(_reads_row(reads, quick, held))
    for sample in samples:
        sample.update(reads.get(sample["executionId"], {}))
    return {"rows": rows, "data": {"runs": runs, "heldRuns": held_runs, "holdSeconds": hold, "samples": samples,
                                   "quick": summary(s["respondToToolStart"] for s in quick),
                                   "held": summary(s["respondToToolStart"] for s in held)}}
