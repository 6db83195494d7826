"""A lean HTTP/1.1 client for one host: a pool of keep-alive connections, one request at a time each.

Why not aiohttp's client (which the model gateway serves with): it spends 0.2–0.4 ms of CPU per
request in this process, and the relay makes one request per watcher per batch; this one spends a
few tens of microseconds (``make bench``, the poster row). It does only what the ``@connections``
API needs: requests with a known body, responses with ``Content-Length`` or chunked bodies,
keep-alive, TLS. No redirects, cookies, compression or proxies.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any


class HttpError(Exception):
    """The exchange failed: no connection, a dropped connection, a timeout, a malformed answer."""


class ClosedBeforeAnswer(HttpError):
    """The server closed the connection before a byte of the answer: a kept-alive connection it
    had already given up on. The request can go again on a new connection."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class _Exchange(asyncio.Protocol):
    """One connection; parses the response to the request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future | None = None
        self._head: tuple[int, dict[str, str]] | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            response = self._parse()
        except HttpError as exc:
            self._fail(exc)
            return
        if response is not None:
            self._waiter.set_result(response)

    def eof_received(self) -> bool:
        self.connection_lost(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        error = HttpError if self._buffer or self._head else ClosedBeforeAnswer
        self._fail(error(f"connection closed ({exc or 'by the server'})"))

    # -- use -------------------------------------------------------------------------------
    def send(self, data: bytes) -> asyncio.Future:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._buffer.clear()
        self._head = None
        self.used = True
        self.transport.write(data)
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def _parse(self) -> Response | None:
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            self._head = _parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
        status, headers = self._head
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = _dechunk(self._buffer)
            if body is None:
                return None
        else:
            length = int(headers.get("content-length", "0") or 0)
            if len(self._buffer) < length:
                return None
            body = bytes(self._buffer[:length])
        if headers.get("connection", "").lower() == "close":
            self.closed = True
        return Response(status, headers, body)


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP/1.1 response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if not headers.get("content-length", "0").isdigit():
        raise HttpError("malformed Content-Length")
    return int(parts[1]), headers


def _dechunk(buffer: bytearray) -> bytes | None:
    """The body once every chunk and the terminating one are in ``buffer``; None until then."""
    body, at = bytearray(), 0
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buffer[at:line_end]).split(b";", 1)[0], 16)
        except ValueError as exc:
            raise HttpError("malformed chunk size") from exc
        start = line_end + 2
        if size == 0:
            return bytes(body) if buffer.find(b"\r\n", start) >= 0 else None  # trailers end the body
        if len(buffer) < start + size + 2:
            return None
        body += buffer[start : start + size]
        at = start + size + 2


class HttpPool:
    """Up to ``max_connections`` kept-alive connections to one ``host:port``."""

    def __init__(self, host: str, port: int, *, tls: bool, max_connections: int = 128, timeout_seconds: float = 10.0):
        self.host, self.port = host, port
        self.timeout_seconds = timeout_seconds
        self._ssl = ssl.create_default_context() if tls else None
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Exchange] = []

    async def request(self, data: bytes) -> Response:
        """Send one request (head and body, already encoded) and read its response."""
        async with self._slots:
            exchange = self._reuse()
            if exchange is not None:
                try:
                    return await self._round_trip(exchange, data)
                except ClosedBeforeAnswer:
                    pass  # a kept-alive connection the server had closed: once more, on a new one
            return await self._round_trip(await self._connect(), data)

    async def _round_trip(self, exchange: _Exchange, data: bytes) -> Response:
        try:
            response = await self._exchange(exchange, data)
        except BaseException:
            exchange.close()
            raise
        return self._keep(exchange, response)

    def _reuse(self) -> _Exchange | None:
        while self._idle:
            exchange = self._idle.pop()
            if not exchange.closed:
                return exchange
        return None

    def _keep(self, exchange: _Exchange, response: Response) -> Response:
        if exchange.closed:
            exchange.close()
        else:
            self._idle.append(exchange)
        return response

    async def _connect(self) -> _Exchange:
        loop = asyncio.get_running_loop()
        try:
            _, exchange = await asyncio.wait_for(
                loop.create_connection(_Exchange, self.host, self.port, ssl=self._ssl,
                                       server_hostname=self.host if self._ssl else None),
                self.timeout_seconds,
            )
        except (OSError, asyncio.TimeoutError) as exc:
            raise HttpError(f"cannot connect to {self.host}:{self.port} ({type(exc).__name__})") from exc
        return exchange

    async def _exchange(self, exchange: _Exchange, data: bytes) -> Response:
        waiter = exchange.send(data)
        timer = asyncio.get_running_loop().call_later(self.timeout_seconds, _time_out, exchange, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _time_out(exchange: _Exchange, waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(HttpError("timed out"))
    exchange.close()
