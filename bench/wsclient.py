"""A lean WebSocket client for load: requests matched by requestId, events to a callback.

Unlike tests/support/ws.py it keeps no frames, so hundreds of clients can run for minutes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any, Callable

import websockets

from cloutagent_client.chunks import ChunkAssembler

_ids = itertools.count(1)


class RequestFailed(Exception):
    def __init__(self, frame: dict[str, Any]):
        super().__init__(json.dumps(frame)[:300])
        self.frame = frame


class Client:
    def __init__(self, ws: Any, on_event: Callable[[dict[str, Any]], None] | None = None):
        self.ws = ws
        self.on_event = on_event
        self.stray: list[dict[str, Any]] = []  # frames that answer no request: errors without requestId, 500s
        self._waiters: dict[str, asyncio.Future] = {}
        self._assembler = ChunkAssembler()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, on_event: Callable[[dict[str, Any]], None] | None = None) -> "Client":
        return cls(await websockets.connect(url, max_size=None, open_timeout=60), on_event)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = self._assembler.feed(json.loads(raw))
                if frame is None:
                    continue
                if frame.get("type") in ("event", "events"):
                    for event in frame.get("events") or [frame]:
                        if self.on_event:
                            self.on_event(event)
                    continue
                waiter = self._waiters.pop(frame.get("requestId") or "", None)
                if waiter is None:
                    self.stray.append(frame)
                elif not waiter.done():
                    waiter.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            for waiter in self._waiters.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError("connection closed"))

    async def request(self, action: str, data: dict[str, Any] | None = None, timeout: float = 60.0) -> dict[str, Any]:
        """The reply frame (response or error)."""
        request_id = f"b{next(_ids)}"
        future = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = future
        await self.ws.send(json.dumps({"action": action, "requestId": request_id, "data": data or {}}))
        return await asyncio.wait_for(future, timeout)

    async def ok(self, action: str, data: dict[str, Any] | None = None, timeout: float = 60.0) -> dict[str, Any]:
        frame = await self.request(action, data, timeout)
        if frame.get("type") != "response":
            raise RequestFailed(frame)
        return frame["data"]

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


async def connect_many(urls: list[str], concurrency: int = 50,
                       on_event: Callable[[int], Callable[[dict[str, Any]], None]] | None = None) -> list[Client]:
    """One connection per URL, `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, url: str) -> Client:
        async with gate:
            return await Client.connect(url, on_event(index) if on_event else None)

    return list(await asyncio.gather(*(one(i, url) for i, url in enumerate(urls))))


async def close_all(clients: list[Client]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
