"""`python -m bench.holder`: hold many WebSocket connections in a process of their own, and tell
when frames reached them.

Receiving frames must not share a GIL with whoever posts them, nor with each other at scale: a
bench splits its watchers over several of these (`Holders`). Every frame is stamped with
`time.time()` as it comes off the socket, before any JSON parsing. One JSON line in per command on
stdin, one JSON line out per reply on stdout:

  {"cmd": "open", "urls": [...]}           → {"ids": [connectionId, ...]} once every one is open
  {"cmd": "request", "action": a, "data": d} → {"ok": n}   every connection, one after another
  {"cmd": "arm", "marker": s}              → {"armed": true}  count frames whose raw text holds s
  {"cmd": "arm", "stream": n}              → {"armed": true}  tally the run's stamped
                                             "Streaming message i of n. written_at=…" texts
  {"cmd": "await", "timeout": s}           → when every connection has the marker / all n texts,
                                             or at the timeout: {"complete", "first", "last", "received"}
  {"cmd": "report"}                        → {"events": {i: [written_at, last arrival, how many]},
                                             "perConnection": [texts each connection got]}
then EOF on stdin closes everything and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import subprocess
import sys
import time
from typing import Any, Iterator

import websockets

from cloutagent_client.chunks import ChunkAssembler

_STAMPED = re.compile(r"^Streaming message (\d+) of (\d+)\. written_at=([\d.]+)$")
_ids = itertools.count(1)


class Watch:
    """What one `arm` asked to be counted, and what has arrived of it."""

    def __init__(self, connections: int, marker: str | None = None, stream: int | None = None):
        self.marker, self.stream = marker, stream
        self.per_connection = [0] * connections
        self.expected = 1 if marker is not None else stream or 0
        self.complete_connections = 0
        self.first: float | None = None
        self.last: float | None = None
        self.events: dict[int, list[float]] = {}  # i → [written_at, last arrival, how many]
        self.done = asyncio.Event()

    def count(self, index: int, at: float, times: int = 1) -> None:
        self.first = at if self.first is None else self.first
        self.last = at
        before = self.per_connection[index]
        self.per_connection[index] += times
        if before < self.expected <= self.per_connection[index]:
            self.complete_connections += 1
            if self.complete_connections == len(self.per_connection):
                self.done.set()

    def stamped(self, index: int, at: float, text: str) -> None:
        match = _STAMPED.match(text)
        if not match or int(match[2]) != self.stream:
            return
        entry = self.events.setdefault(int(match[1]), [float(match[3]), at, 0])
        entry[1], entry[2] = max(entry[1], at), entry[2] + 1
        self.count(index, at)


class Connection:
    def __init__(self, holder: "HolderProcess", index: int, ws: Any):
        self.holder, self.index, self.ws = holder, index, ws
        self.assembler = ChunkAssembler()
        self.waiters: dict[str, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                at = time.time()  # on raw receive: before anything is parsed
                self.holder.received(self, at, raw)

    async def request(self, action: str, data: dict[str, Any]) -> dict[str, Any]:
        request_id = f"h{next(_ids)}"
        future = self.waiters[request_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"action": action, "requestId": request_id, "data": data}))
        return await asyncio.wait_for(future, 120)


class HolderProcess:
    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.watch: Watch | None = None

    def received(self, conn: Connection, at: float, raw: str | bytes) -> None:
        watch = self.watch
        if watch is not None and watch.marker is not None:
            if watch.marker in raw:  # the fan-out's frames are not parsed at all
                watch.count(conn.index, at)
            return
        frame = conn.assembler.feed(json.loads(raw))
        if frame is None:
            return
        waiter = conn.waiters.pop(frame.get("requestId") or "", None)
        if waiter is not None and frame.get("type") in ("response", "error"):
            if not waiter.done():
                waiter.set_result(frame)
            return
        if watch is not None and frame.get("type") in ("event", "events"):
            for event in frame.get("events") or [frame]:
                if event.get("event") == "execution.message":
                    watch.stamped(conn.index, at, (event.get("data") or {}).get("text") or "")

    async def open(self, urls: list[str]) -> dict[str, Any]:
        gate = asyncio.Semaphore(50)

        async def one(index: int, url: str) -> Connection:
            async with gate:
                ws = await websockets.connect(url, max_size=None, open_timeout=120, compression=None)
                return Connection(self, index, ws)

        self.connections = list(await asyncio.gather(*(one(i, url) for i, url in enumerate(urls))))
        replies = await asyncio.gather(*(c.request("whoami", {}) for c in self.connections))
        return {"ids": [reply["data"]["connectionId"] for reply in replies]}

    async def request(self, action: str, data: dict[str, Any]) -> dict[str, Any]:
        # One at a time: concurrent joins race for the project's next seq (see bench/soak.py).
        for conn in self.connections:
            reply = await conn.request(action, data)
            if reply.get("type") != "response":
                raise RuntimeError(f"{action} failed: {json.dumps(reply)[:300]}")
        return {"ok": len(self.connections)}

    async def wait(self, timeout: float) -> dict[str, Any]:
        watch = self.watch
        assert watch is not None, "await before arm"
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(watch.done.wait(), timeout)
        return {"complete": watch.done.is_set(), "first": watch.first, "last": watch.last,
                "received": sum(watch.per_connection)}

    def report(self) -> dict[str, Any]:
        watch = self.watch
        assert watch is not None, "report before arm"
        return {"events": watch.events, "perConnection": watch.per_connection}

    async def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        cmd = command["cmd"]
        if cmd == "open":
            return await self.open(command["urls"])
        if cmd == "request":
            return await self.request(command["action"], command.get("data") or {})
        if cmd == "arm":
            self.watch = Watch(len(self.connections), command.get("marker"), command.get("stream"))
            return {"armed": True}
        if cmd == "await":
            return await self.wait(float(command.get("timeout", 300)))
        if cmd == "report":
            return self.report()
        raise ValueError(f"unknown command {cmd!r}")


async def main() -> None:
    loop = asyncio.get_running_loop()
    holder = HolderProcess()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        try:
            reply = await holder.handle(json.loads(line))
        except Exception as exc:  # the parent sees why instead of a closed pipe
            reply = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        print(json.dumps(reply), flush=True)
    await asyncio.gather(*(c.ws.close() for c in holder.connections), return_exceptions=True)


class Holder:
    """The parent's side of one holder process (blocking; run `ask` in a thread from async code)."""

    def __init__(self, urls: list[str]):
        from bench.stack import REPO_ROOT

        self.process = subprocess.Popen([sys.executable, "-m", "bench.holder"], cwd=REPO_ROOT, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.ids: list[str] = self.ask({"cmd": "open", "urls": urls})["ids"]

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the connection holder exited")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the connection holder failed: {reply['error']}")
        return reply

    @property
    def pid(self) -> int:
        return self.process.pid

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Holders:
    """Connections split over several holder processes, asked the same thing at once."""

    def __init__(self, urls: list[str], processes: int):
        share = -(-len(urls) // processes)
        parts = [urls[i:i + share] for i in range(0, len(urls), share)]
        self.holders: list[Holder] = []
        try:
            for part in parts:
                self.holders.append(Holder(part))
        except BaseException:
            self.close()
            raise
        self.ids = [cid for holder in self.holders for cid in holder.ids]

    @property
    def pids(self) -> list[int]:
        return [holder.pid for holder in self.holders]

    async def ask_all(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(asyncio.to_thread(h.ask, command) for h in self.holders)))

    async def ask_each(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        """One holder after another (joins: each holder's connections one at a time too)."""
        return [await asyncio.to_thread(h.ask, command) for h in self.holders]

    def close(self) -> None:
        for holder in self.holders:
            holder.close()


@contextlib.contextmanager
def held(urls: list[str], processes: int = 1) -> Iterator[Holders]:
    holders = Holders(urls, processes)
    try:
        yield holders
    finally:
        holders.close()


if __name__ == "__main__":
    try:  # the watchers are clients: the cheaper their loop, the less they colour what is measured
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
