"""`python -m bench.echo_server`: a bare websockets echo server, the gateway's baseline.

Prints its port on stdout, then echoes every message until killed. Runs on uvloop when the stack
does (both fall back to asyncio's loop without it).
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.server import serve


async def echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


async def main() -> None:
    async with serve(echo, "127.0.0.1", 0, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:  # the same loop as the local stack's, so the ratio compares the servers, not the loops
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
