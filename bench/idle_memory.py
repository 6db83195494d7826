"""Idle memory: RSS of the local stack (`cloutagent dev` + its moto child, VmRSS from /proc) with
1 000 idle WebSocket connections, against the same stack with one connection, in the same run.

The connections are held by bench/holder.py, so this process's memory is not in the picture.
"""

from __future__ import annotations

import asyncio
import time

from bench.holder import Holder
from bench.stack import local_stack, stack_rss, ws_url
from bench.stats import Row, summary
from bench.users import connection_urls
from bench.wsclient import Client

CONNECTIONS = 1000
SAMPLES = 5  # RSS read this many times, a second apart
BUDGET_MB = 300.0


def _sample(stack) -> dict[str, dict[str, float]]:
    readings = []
    for _ in range(SAMPLES):
        time.sleep(1.0)
        readings.append(stack_rss(stack))
    return {part: summary(r[part] for r in readings) for part in ("dev", "moto", "total")}


async def _touch(url: str) -> None:
    """One connection and one request: every handler the idle connections use is loaded."""
    client = await Client.connect(url)
    await client.ok("ping")
    await client.close()


def run() -> dict:
    with local_stack() as stack:
        asyncio.run(_touch(ws_url(stack)))
        urls = asyncio.run(connection_urls(stack.info, CONNECTIONS))
        baseline = _sample(stack)
        holder = Holder(urls)
        try:
            loaded = _sample(stack)
        finally:
            holder.close()
    total = loaded["total"]["median"]
    per_connection_kb = (total - baseline["total"]["median"]) * 1024 / CONNECTIONS
    rows = [Row(f"idle memory: stack with {CONNECTIONS} idle WebSocket connections",
                f"{total:.0f} MB (dev {loaded['dev']['median']:.0f} + moto {loaded['moto']['median']:.0f}); "
                f"{baseline['total']['median']:.0f} MB with none = {per_connection_kb:.0f} KB per connection",
                f"RSS ≤ {BUDGET_MB:.0f} MB", total <= BUDGET_MB)]
    return {"rows": rows, "data": {"baseline": baseline, "loaded": loaded, "perConnectionKb": per_connection_kb}}
