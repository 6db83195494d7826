"""Soak ("Reliability"): 100 clients through the local stack while executions run, dropping and
rejoining at random, each recovering with project.join + messages.get sinceSeq.

Passes with zero lost or duplicated events, no error replies other than the provoked ones, and
flat memory (RSS of `cloutagent dev` after a warm-up vs at the end; moto's is reported, as it holds
the growing table). SOAK_SECONDS (default 120) sets the length: `SOAK_SECONDS=600 make bench` for
10 minutes. Four tenants of 25 watchers (one API key each, so a reconnect never trips the per-user
connection limit) and one driver each, one project per tenant: within the free plan's limits.
The soak is cut short if the stack's RSS passes ABORT_RSS_MB, to protect the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time

from bench.soak_clients import Driver, Stop, Tally, Watcher
from bench.stack import local_stack, stack_rss
from bench.stats import Row, summary
from bench.users import connection_urls, new_tenant
from bench.wsclient import Client, close_all

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))
TENANTS = 4
WATCHERS_PER_TENANT = 25
# Each watcher is a member with a key of their own: 26 keys and connections, past the free plan's 5
# and 20 (its limits are tested elsewhere; here they would refuse the load before it starts).
SOAK_PLAN = "team"
# Memory "at start" is read after this: the stack's thread pools (64 Lambda threads, 32 fan-out
# threads) and connection pools take about a minute of this load to fill.
WARM_UP_SECONDS = min(60.0, SOAK_SECONDS / 2)
FLAT_TOLERANCE = 0.10
FINAL_SECONDS = 60.0  # at most this long for the last runs, and again for the final recoveries
ABORT_RSS_MB = 2048.0


async def _tenant(ready: dict, tally: Tally) -> tuple[Driver, list[Watcher]]:
    owner = new_tenant(ready, "bench-soak", plan=SOAK_PLAN)
    [driver_url, *watcher_urls] = await connection_urls(ready, WATCHERS_PER_TENANT + 1, owner["apiKey"], per_key=1)
    client = await Client.connect(driver_url)
    project_id = (await client.ok("project.create", {"name": "soak"}))["project"]["projectId"]
    driver = Driver(client, project_id, tally)
    client.on_event = driver.on_event
    await client.ok("project.join", {"projectId": project_id})
    return driver, [Watcher(url, project_id, tally) for url in watcher_urls]


async def _watch_memory(stack, stop: Stop, started: float, series: list) -> None:
    while not stop.passed():
        rss = stack_rss(stack)
        series.append((time.monotonic() - started, rss))
        if rss["total"] > ABORT_RSS_MB:
            stop.cut(f"stack RSS {rss['total']:.0f} MB > {ABORT_RSS_MB:.0f} MB after {series[-1][0]:.0f} s")
        await asyncio.sleep(5.0)


async def _start_late(watcher: Watcher, stop: Stop) -> None:
    await asyncio.sleep(random.uniform(0, 3))
    await watcher.run_until(stop)


async def _finish(watcher: Watcher) -> None:
    await asyncio.sleep(random.uniform(0, 3))  # final joins spread out, as real reconnects are
    await watcher.finish()


async def _soak(stack) -> dict:
    random.seed(7)
    tally = Tally()
    tenants = [await _tenant(stack.info, tally) for _ in range(TENANTS)]
    drivers = [d for d, _ in tenants]
    watchers = [w for _, ws in tenants for w in ws]
    started, stop, series = time.monotonic(), Stop(SOAK_SECONDS), []
    sampler = asyncio.create_task(_watch_memory(stack, stop, started, series))
    driving = asyncio.gather(*(d.run_until(stop) for d in drivers))
    await asyncio.gather(*(_start_late(w, stop) for w in watchers))
    end_memory = stack_rss(stack)
    # The last runs end, then everyone recovers once more; a stack that has stopped answering
    # must not hold the bench hostage: whoever is not done by then counts as unfinished.
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(driving, FINAL_SECONDS)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(_finish(w) for w in watchers)), FINAL_SECONDS)
    sampler.cancel()
    await close_all([d.client for d in drivers])
    start_memory = next((m for t, m in series if t >= WARM_UP_SECONDS), series[-1][1])
    return {
        "seconds": round(time.monotonic() - started, 1), "cutShort": stop.reason,
        "watchers": len(watchers), "drivers": len(drivers),
        "runs": dict(tally.runs), "runSeconds": summary(t for d in drivers for t in d.durations),
        "sessions": tally.sessions, "provoked": tally.provoked,
        "unexpectedErrors": dict(tally.unexpected), "transportErrors": dict(tally.transport),
        "lost": sum(w.lost for w in watchers),
        "duplicated": sum(w.live_duplicates + w.conflicts for w in watchers),
        "events": sum({w.project_id: w.final_last_seq for w in watchers}.values()),
        "unfinishedWatchers": sum(1 for w in watchers if not w.final_last_seq),
        "memoryStart": start_memory, "memoryEnd": end_memory, "memorySeries": series,
    }


def _rows(result: dict) -> list[Row]:
    start, end = result["memoryStart"], result["memoryEnd"]
    growth = end["dev"] / start["dev"] - 1 if start["dev"] else float("nan")
    runs = sum(result["runs"].values())
    clean = (result["lost"] == 0 and result["duplicated"] == 0 and not result["unexpectedErrors"]
             and not result["transportErrors"] and not result["unfinishedWatchers"] and not result["cutShort"])
    failures = {**result["unexpectedErrors"], **result["transportErrors"]}
    errors = ", ".join(f"{code}×{n}" for code, n in failures.items()) or "none"
    text = (f"{runs} runs ({', '.join(f'{k} {v}' for k, v in result['runs'].items()) or '-'}; "
            f"{result['runSeconds']['median']:.1f} s median, {result['runSeconds']['p99']:.1f} s p99 each), "
            f"{result['events']} events, {result['sessions']} sessions; lost {result['lost']}, "
            f"duplicated {result['duplicated']}")
    if result["unfinishedWatchers"]:
        text += f", {result['unfinishedWatchers']} clients could not recover at the end"
    text += f"; unprovoked errors: {errors}; provoked {result['provoked']}"
    if result["cutShort"]:
        text += f"; CUT SHORT: {result['cutShort']}"
    return [
        Row(f"soak: {result['watchers']} clients dropping/rejoining for {SOAK_SECONDS:.0f} s, executions running",
            text, "0 lost or duplicated, no unprovoked errors", clean),
        Row(f"soak: memory, at {WARM_UP_SECONDS:.0f} s vs end",
            f"dev {start['dev']:.0f} → {end['dev']:.0f} MB ({growth:+.0%}; {result['memorySeries'][0][1]['dev']:.0f} MB "
            f"at 0 s); moto {start['moto']:.0f} → {end['moto']:.0f} MB", f"flat (dev within {FLAT_TOLERANCE:.0%})",
            growth <= FLAT_TOLERANCE and not result["cutShort"]),
    ]


def run() -> dict:
    with local_stack() as stack:
        result = asyncio.run(_soak(stack))
    return {"rows": _rows(result), "data": result}
