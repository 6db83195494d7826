"""One WebSocket connection: frames out, whole frames in (chunks reassembled), replies matched."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cloutagent_client.errors import (ConnectionFailed, ConnectionLost, MessageTooLarge, RequestTimeout, error_from_wire,
                                     handshake_error)
from cloutagent_client.options import Credentials
from cloutagent_client.requests import PendingRequests
from cloutagent_client.chunks import ChunkAssembler

log = logging.getLogger("cloutagent_client")

EventHandler = Callable[[dict[str, Any]], None]
# API Gateway closes a connection that sends a bigger frame (1009), failing every request on it:
# a frame this size is refused here, before it is sent, with the size in the error.
MAX_FRAME_BYTES = 128 * 1024


class Connection:
    def __init__(self, ws: Any, on_event: EventHandler):
        self.ws = ws
        self.on_event = on_event
        self.pending = PendingRequests()
        self.opened_at = time.monotonic()
        self.last_sent = self.opened_at
        self.closed = asyncio.Event()
        self.joined: set[str] = set()  # projects joined on this connection
        self._assembler = ChunkAssembler()  # per connection: incomplete chunks die with it
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, credentials: Credentials, on_event: EventHandler, *, timeout: float) -> "Connection":
        try:
            ws = await websockets.connect(url, additional_headers=credentials.headers(), max_size=None,
                                          open_timeout=timeout, user_agent_header="cloutagent-sdk")
        except InvalidStatus as exc:
            body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
            raise handshake_error(exc.response.status_code, body) from exc
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
            raise ConnectionFailed(f"Cannot connect to {url.split('?')[0]}: {exc}") from exc
        return cls(ws, on_event)

    @property
    def age(self) -> float:
        return time.monotonic() - self.opened_at

    @property
    def idle(self) -> float:
        return time.monotonic() - self.last_sent

    async def request(self, action: str, data: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        """Send one action and wait for its reply; the reply's ``data``, or the typed error."""
        if self.closed.is_set():
            raise ConnectionLost("The connection is closed", action=action)
        request_id, future = self.pending.open()
        try:
            frame_text = json.dumps({"action": action, "requestId": request_id, "data": data or {}})
            size = len(frame_text.encode())
            if size > MAX_FRAME_BYTES:
                raise MessageTooLarge(f"The request is {size / 1024:.0f} KB; a message may be at most "
                                      f"{MAX_FRAME_BYTES // 1024} KB", {"bytes": size, "limitBytes": MAX_FRAME_BYTES},
                                      action=action)
            await self.ws.send(frame_text)
            self.last_sent = time.monotonic()
            frame = await asyncio.wait_for(future, timeout)
        except ConnectionClosed as exc:
            raise ConnectionLost("The connection closed before the reply", action=action) from exc
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(f"No reply to {action} within {timeout:g} s", action=action) from exc
        finally:
            self.pending.discard(request_id)
        if frame.get("type") == "error":
            raise error_from_wire(frame.get("error"), action)
        return frame.get("data") or {}

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._dispatch(raw)
        except ConnectionClosed:
            pass
        except Exception:  # never let one bad frame kill the reader silently
            log.exception("reading from the connection failed")
        finally:
            self.pending.fail_all(ConnectionLost("The connection closed before the reply"))
            self.closed.set()

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            frame = self._assembler.feed(json.loads(raw))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("ignoring a frame that is not a JSON object or a valid chunk")
            return
        if not isinstance(frame, dict):
            return
        kind = frame.get("type")
        if kind == "event":
            self.on_event(frame)
        elif kind == "events":  # a batch of events stored together, in seq order
            for event in frame.get("events") or []:
                self.on_event(event)
        elif kind in ("response", "error"):
            self.pending.resolve(frame)
        else:  # e.g. API Gateway's {"message": "Internal server error"}: no requestId to match
            log.warning("ignoring a frame without a known type: %s", str(frame)[:200])

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)

    def abort(self) -> None:
        """Drop a connection that stopped answering; the reader then notices it closed."""
        transport = getattr(self.ws, "transport", None)
        if transport is not None:
            transport.abort()
