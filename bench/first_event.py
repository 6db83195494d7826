"""Time to first event: from `execute` to a watcher's first `execution.message`, a cold start
(a fresh executor process per run) vs a start from the warm pool (`cloutagent dev --executor-pool`).

Two kinds of run, alternating: one that starts a Claude session (`agent.new_session` first: a
project's first run, or the next after a reset), which a pool executor's spare CLI serves
(executor_container/cloutagent_executor/spare.py), and the next one, which resumes that session
(the default), which a spare cannot take: its CLI starts after the claim.

Two stacks run side by side, one without a pool and one with FIRST_EVENT_POOL warm executors, and
the runs alternate between them (cold, warm, cold, …) so the machine's noise hits both alike. Each
run is `[fake:stream n=1 stamp=1]` in a project of its stack, watched by one connection held by a
process of its own (bench/holder.py) that stamps the frame as it comes off the socket; the stamp
the scripted model puts in the text splits the time into "until the model wrote" (executor and CLI
start, the model call) and "relay" (stored and posted). Before a warm run the pool is full again:
as many executors have logged that they wait for a claim as the pool holds plus the claims so far.
FIRST_EVENT_RUNS / FIRST_EVENT_POOL change the counts (5 / 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

from bench.holder import Holders
from bench.stack import local_stack, settle, ws_url
from bench.stats import Row, ms, summary
from bench.users import connection_urls
from bench.wsclient import Client

RUNS = int(os.environ.get("FIRST_EVENT_RUNS", "5"))
POOL = int(os.environ.get("FIRST_EVENT_POOL", "2"))
BUDGET_RATIO = 0.25
PROMPT = "[fake:stream n=1 stamp=1]"
TIMEOUT_SECONDS = 120
POOL_READY = "pool executor waiting for a claim"
KINDS = ("fresh", "resumed")


class Target:
    """One stack, its project, its watcher."""

    def __init__(self, stack, pool: int):
        self.stack, self.pool = stack, pool
        self.claims = 0
        self.control: Client | None = None
        self.watcher: Holders | None = None
        self.project_id = ""

    async def open(self) -> None:
        self.control = await Client.connect(ws_url(self.stack))
        self.project_id = (await self.control.ok("project.create", {"name": "bench first event"}))["project"]["projectId"]
        urls = await connection_urls(self.stack.info, 1)
        self.watcher = await asyncio.to_thread(Holders, urls, 1)
        await self.watcher.ask_each({"cmd": "request", "action": "project.join", "data": {"projectId": self.project_id}})

    async def close(self) -> None:
        if self.watcher:
            self.watcher.close()
        if self.control:
            with contextlib.suppress(Exception):
                await self.control.close()

    async def ready(self) -> None:
        """Nothing left of the last run, and (with a pool) every pool executor waiting."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while self.pool and self.stack.log_text().count(POOL_READY) < self.pool + self.claims:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the pool did not refill: {self.stack.log_text().count(POOL_READY)} ready")
            await asyncio.sleep(0.2)
        await asyncio.to_thread(settle, self.stack)

    async def one_run(self, fresh: bool) -> dict[str, float]:
        assert self.control and self.watcher
        if fresh:
            await self.control.ok("agent.new_session", {"projectId": self.project_id})
        await self.ready()
        await self.watcher.ask_all({"cmd": "arm", "stream": 1})
        started = time.time()
        await self.control.ok("execute", {"projectId": self.project_id, "prompt": PROMPT})
        (waited,) = await self.watcher.ask_all({"cmd": "await", "timeout": TIMEOUT_SECONDS})
        if not waited["complete"]:
            raise RuntimeError(f"no execution.message within {TIMEOUT_SECONDS} s")
        (report,) = await self.watcher.ask_all({"cmd": "report"})
        (written, arrived, _), = report["events"].values()
        self.claims += 1 if self.pool else 0
        await self._idle()
        return {"first": arrived - started, "written": written - started, "relay": arrived - written}

    async def _idle(self) -> None:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if (await self.control.ok("project.get", {"projectId": self.project_id}))["project"].get("state") == "idle":
                return
            await asyncio.sleep(0.3)
        raise RuntimeError("the run did not end")


async def _measure(cold_stack, warm_stack) -> dict[str, Any]:
    targets = {"cold": Target(cold_stack, 0), "warm": Target(warm_stack, POOL)}
    runs: dict[str, list[dict[str, float]]] = {f"{name} {kind}": [] for kind in KINDS for name in targets}
    try:
        for target in targets.values():
            await target.open()
        for attempt in range(RUNS + 1):
            for kind in KINDS:  # fresh, then the run that resumes its session
                for name, target in targets.items():
                    timing = await target.one_run(fresh=kind == "fresh")
                    if attempt:  # the first of each is a warm-up: the stack's own lazy setup
                        runs[f"{name} {kind}"].append(timing)
    finally:
        for target in targets.values():
            await target.close()
    return {"runs": runs, "pool": POOL}


def run() -> dict:
    with local_stack() as cold, local_stack(extra_args=["--executor-pool", str(POOL)]) as warm:
        result = asyncio.run(_measure(cold, warm))
    stats = {name: {key: summary(r[key] for r in runs) for key in ("first", "written", "relay")}
             for name, runs in result["runs"].items()}
    ratios = {kind: stats[f"warm {kind}"]["first"]["median"] / stats[f"cold {kind}"]["first"]["median"] for kind in KINDS}
    result.update(stats=stats, ratio=ratios["fresh"], ratio_resumed=ratios["resumed"])

    def text(name: str) -> str:
        s = stats[name]
        return (f"{ms(s['first']['median'])} median, {ms(s['first']['p99'])} p99 over {s['first']['n']} runs "
                f"(model wrote at {ms(s['written']['median'])}, relay {ms(s['relay']['median'])} median)")

    rows = [
        Row("time to first event: execute → a watcher's first execution.message, a run that starts a session, "
            "cold start (baseline)", text("cold fresh"), "-", None),
        Row(f"time to first event: a run that starts a session, from the warm pool (--executor-pool {POOL}: "
            "a spare CLI)", f"{text('warm fresh')} = {ratios['fresh']:.2f}× cold", f"median ≤ {BUDGET_RATIO}× cold",
            ratios["fresh"] <= BUDGET_RATIO),
        Row("time to first event: a run that resumes its session, cold start", text("cold resumed"), "-", None),
        Row(f"time to first event: a run that resumes its session, from the warm pool (its CLI starts after the "
            f"claim: a spare cannot resume)", f"{text('warm resumed')} = {ratios['resumed']:.2f}× cold", "-", None),
    ]
    return {"rows": rows, "data": result}
