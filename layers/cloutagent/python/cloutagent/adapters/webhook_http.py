"""POST a notification to a webhook URL, connecting only to the address the caller approved.

The service resolves the host, checks every address (domain/notifications.py) and passes the one to
use: the connection goes to that address, while the Host header and TLS (SNI, certificate check)
still name the URL's host. So a name cannot resolve to a public address for the check and to a
private one for the request (DNS rebinding). Redirects are not followed: a 3xx is a failed try.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from functools import cached_property
from urllib.parse import urlsplit

from cloutagent.domain.notifications import Delivery

MAX_RESPONSE_BYTES = 4096  # the receiver's answer is read (so the connection ends cleanly), not kept


class HttpWebhookPoster:
    def __init__(self, user_agent: str = "cloutagent-webhooks/1"):
        self.user_agent = user_agent

    @cached_property
    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context()

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address the host resolves to (a literal address resolves to itself)."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(info[4][0] for info in infos))

    def post(self, url: str, address: str, body: bytes, headers: dict[str, str], timeout: float) -> Delivery:
        """One try of at most ``timeout`` seconds in all: POST ``body`` to ``url`` through ``address``.

        Never raises for a network failure. A socket timeout bounds each wait, not the whole try,
        so a watchdog cuts off a receiver that trickles its handshake or its answer.
        """
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        watchdog = _Watchdog(timeout)
        connection = self._connection(parts.scheme, parts.hostname or "", address, parts.port, timeout, watchdog)
        try:
            with watchdog:
                try:
                    connection.request("POST", path, body=body, headers={
                        "Content-Type": "application/json", "User-Agent": self.user_agent, **headers})
                    response = connection.getresponse()
                    response.read(MAX_RESPONSE_BYTES)
                    delivery = Delivery(status=response.status)
                except (OSError, http.client.HTTPException) as exc:
                    delivery = Delivery(status=None, error=type(exc).__name__)
        finally:
            connection.close()  # after the watchdog is done: it never touches a closed (reused) descriptor
        return Delivery(status=None, error="Timeout") if watchdog.cut.is_set() else delivery

    def _connection(self, scheme: str, host: str, address: str, port: int | None, timeout: float,
                    watchdog: _Watchdog) -> http.client.HTTPConnection:
        if scheme == "https":
            return _PinnedHttps(host, address, port or 443, watchdog, timeout=timeout, context=self._tls)
        return _PinnedHttp(host, address, port or 80, watchdog, timeout=timeout)


def exchange(method: str, url: str, address: str, body: bytes | None, headers: dict[str, str], timeout: float,
             *, max_bytes: int = MAX_RESPONSE_BYTES) -> tuple[int | None, bytes]:
    """One request of at most ``timeout`` seconds through ``address`` (checked by the caller), as ``post``
    makes it: the status (None when there was no answer) and at most ``max_bytes`` of the answer."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    watchdog = _Watchdog(timeout)
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHttps(parts.hostname or "", address, parts.port or 443,
                                                              watchdog, timeout=timeout,
                                                              context=ssl.create_default_context())
    else:
        connection = _PinnedHttp(parts.hostname or "", address, parts.port or 80, watchdog, timeout=timeout)
    try:
        with watchdog:
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer: tuple[int | None, bytes] = (response.status, response.read(max_bytes))
            except (OSError, http.client.HTTPException):
                answer = (None, b"")
    finally:
        connection.close()
    return (None, b"") if watchdog.cut.is_set() else answer


class _Watchdog:
    """Cuts a try off when its time is up, whatever it is waiting for (TLS handshake, answer)."""

    def __init__(self, seconds: float):
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._done = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        """The connection's socket, as soon as it exists (TLS keeps the same descriptor)."""
        with self._lock:
            if self.cut.is_set():
                sock.close()
                raise TimeoutError("the try's time was up while connecting")
            self._fd = sock.fileno()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.cut.set()
            if self._fd is None:
                return  # still connecting: watch() refuses the socket when it comes
            # A shutdown wakes the blocked read in the other thread, TLS or not; the descriptor
            # stays open (detach) until post() closes the connection.
            alias = socket.socket(fileno=self._fd)
            try:
                alias.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                alias.detach()


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, watchdog: _Watchdog, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address
        self._watchdog = watchdog

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._watchdog.watch(sock)
        self.sock = sock


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, watchdog: _Watchdog, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address
        self._watchdog = watchdog

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._watchdog.watch(sock)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
