"""A flood within one's rights: one connection of one tenant sends 500 `project.join` at once, while a
connection of another tenant keeps sending `ping`. The flood must be answered `RATE_LIMITED` in part
and the other tenant's ping p99 must stay within the latency budget a watcher already has (the relay's
100 ms p99); its p99 on a quiet stack, same run, is reported beside it.

The rate limits are scaled to a tenth (`PUT /local/limits`): this machine answers a few dozen joins
a second, where Lambda would take all 500 at once; the refusal path is the same code either way.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

from bench.stack import local_stack
from bench.stats import Row, ms, summary
from bench.users import new_tenant
from bench.wsclient import Client

FLOOD = 500
QUIET_PINGS = 200
BUDGET_P99_SECONDS = 0.100  # the relay budget: what a watcher may wait for anything
RATE_LIMIT_SCALE = 0.1


def run() -> dict:
    with local_stack() as stack:
        _scale_limits(stack.info["httpUrl"], RATE_LIMIT_SCALE)
        result = asyncio.run(_measure(stack.info))
    quiet, flooded = result["quiet"], result["flooded"]
    ratio = flooded["p99"] / quiet["p99"]
    ok = result["limited"] > 0 and flooded["p99"] <= BUDGET_P99_SECONDS
    rows = [Row(
        f"abuse: {FLOOD} project.join at once from one connection; another tenant's ping meanwhile",
        f"{result['limited']} of {FLOOD} answered RATE_LIMITED in {result['floodSeconds']:.1f} s; the other "
        f"tenant's ping p99 {ms(flooded['p99'])} during the flood = {ratio:.2f}× its quiet p99 "
        f"({ms(quiet['p99'])}); {result['pingErrors']} pings refused",
        f"some RATE_LIMITED; ping p99 ≤ {ms(BUDGET_P99_SECONDS)}", ok and result["pingErrors"] == 0,
    )]
    return {"rows": rows, "data": result}


def _scale_limits(http_url: str, scale: float) -> None:
    request = urllib.request.Request(f"{http_url}/local/limits", data=json.dumps({"rateLimitScale": scale}).encode(),
                                     method="PUT", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


async def _measure(ready: dict) -> dict:
    flooder_owner, other_owner = new_tenant(ready, "flooder"), new_tenant(ready, "calm")
    flooder = await Client.connect(f"{ready['wsUrl']}/?apiKey={flooder_owner['apiKey']}")
    other = await Client.connect(f"{ready['wsUrl']}/?apiKey={other_owner['apiKey']}")
    try:
        pid = (await flooder.ok("project.create", {"name": "flooded"}))["project"]["projectId"]
        await asyncio.sleep(1.1)  # a fresh rate window for the flood
        quiet = [await _ping(other) for _ in range(QUIET_PINGS)]
        started = time.perf_counter()
        flood = asyncio.gather(*(flooder.request("project.join", {"projectId": pid}, timeout=120)
                                 for _ in range(FLOOD)))
        flooded: list[float] = []
        while not flood.done():
            flooded.append(await _ping(other))
        replies = await flood
        flood_seconds = time.perf_counter() - started
    finally:
        await flooder.close()
        await other.close()
    limited = sum(1 for r in replies if (r.get("error") or {}).get("code") == "RATE_LIMITED")
    return {"quiet": summary(quiet), "flooded": summary(flooded), "limited": limited,
            "floodSeconds": flood_seconds, "pingErrors": sum(1 for t in quiet + flooded if t < 0)}


async def _ping(client: Client) -> float:
    """Seconds for one ping round trip; negative when it was refused."""
    started = time.perf_counter()
    frame = await client.request("ping", timeout=60)
    elapsed = time.perf_counter() - started
    return elapsed if frame.get("type") == "response" else -elapsed
