"""A plain WebSocket test client: frames in, frames out, nothing clever."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import websockets

from cloutagent_client.chunks import ChunkAssembler

_ids = itertools.count(1)


class WsClient:
    def __init__(self, ws: Any):
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []
        self.raw_sizes: list[int] = []
        self._waiters: dict[str, asyncio.Future] = {}
        self._event_signal = asyncio.Event()
        self._assembler = ChunkAssembler()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> "WsClient":
        ws = await websockets.connect(url, max_size=None, **kwargs)
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.raw_sizes.append(len(raw.encode() if isinstance(raw, str) else raw))
                frame = self._assembler.feed(json.loads(raw))
                if frame is None:
                    continue
                self.frames.append(frame)
                if frame.get("type") in ("event", "events"):  # one event, or a stored batch of them
                    self.events.extend(frame.get("events") or [frame])
                    self._event_signal.set()
                waiter = self._waiters.pop(frame.get("requestId") or "", None)
                if waiter and not waiter.done():
                    waiter.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            for waiter in self._waiters.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError("connection closed"))

    async def request(self, action: str, data: dict[str, Any] | None = None, timeout: float = 15.0) -> dict[str, Any]:
        request_id = f"r{next(_ids)}"
        future = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = future
        await self.ws.send(json.dumps({"action": action, "requestId": request_id, "data": data or {}}))
        return await asyncio.wait_for(future, timeout)

    async def ok(self, action: str, data: dict[str, Any] | None = None, timeout: float = 15.0) -> dict[str, Any]:
        frame = await self.request(action, data, timeout)
        assert frame["type"] == "response", frame
        return frame["data"]

    async def error(self, action: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        frame = await self.request(action, data)
        assert frame["type"] == "error", frame
        return frame["error"]

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def next_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        start = len(self.frames)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.frames) <= start:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("no frame")
            await asyncio.sleep(0.01)
        return self.frames[start]

    async def wait_for_frame(self, predicate, timeout: float = 15.0) -> dict[str, Any]:
        """The first frame received (so far or later) that matches, e.g. a reply to a raw send."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for frame in self.frames:
                if predicate(frame):
                    return frame
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("frame not received")
            await asyncio.sleep(0.02)

    async def wait_for_event(self, predicate, timeout: float = 15.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("event not received")
            self._event_signal.clear()
            try:
                await asyncio.wait_for(self._event_signal.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)
