"""`python -m bench.holder`: hold many WebSocket connections in a process of their own.

Receiving 1 000 frames must not share a GIL with whoever is posting them. JSON lines:
stdin  ← {"urls": [...]}                       then EOF to close everything and exit
stdout → {"ids": [connectionId, ...]}          once every connection is open
stdout → {"seq": n, "last": <time.monotonic()>} when every connection has the event with seq n
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

from bench.wsclient import close_all, connect_many


async def main() -> None:
    loop = asyncio.get_running_loop()
    request = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    urls = request["urls"]
    seen: Counter[int] = Counter()

    def listener(index: int):
        def on_event(frame: dict) -> None:
            seen[frame["seq"]] += 1
            if seen[frame["seq"]] == len(urls):
                print(json.dumps({"seq": frame["seq"], "last": time.monotonic()}), flush=True)

        return on_event

    clients = await connect_many(urls, on_event=listener)
    ids = [reply["connectionId"] for reply in await asyncio.gather(*(c.ok("whoami") for c in clients))]
    print(json.dumps({"ids": ids}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await close_all(clients)


if __name__ == "__main__":
    asyncio.run(main())
