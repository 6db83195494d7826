"""The async client: one live connection at a time, kept alive, renewed, and resumed.

    async with Client(url, api_key="cla_…") as client:
        async with await client.subscribe(project_id, since_seq=0) as events:
            async for event in events:
                ...

Requests go over the current connection and are matched by ``requestId``. When the connection
drops, the client reconnects with backoff and jitter, joins every subscribed project again and
replays each from its last delivered ``seq``. Before API Gateway's 2-hour cap it opens a fresh
connection, moves the subscriptions over, and retires the old one once its replies are in.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, AsyncIterator

from cloutagent_client.api import Api
from cloutagent_client.backoff import Backoff
from cloutagent_client.connection import Connection
from cloutagent_client.errors import (FATAL_HANDSHAKE, ClientClosed, CloutagentError, ConnectionLost,
                                      RequestTimeout)
from cloutagent_client.options import ClientOptions, Credentials, CredentialsProvider, resolve
from cloutagent_client.steering import STEERING_EVENTS, OpenRequests, PermissionRequest
from cloutagent_client.subscriptions import Subscription

log = logging.getLogger("cloutagent_client")
_STABLE_SECONDS = 5.0  # a connection that lived this long resets the backoff
_RUNNING = ("starting", "running", "waiting", "cancelling")  # project states with a current run


class Client(Api):
    def __init__(self, url: str | None = None, *, token: str | None = None, api_key: str | None = None,
                 credentials: CredentialsProvider | None = None, options: ClientOptions | None = None):
        """What is not given comes from the environment, as for the CLI: ``CLOUTAGENT_URL``, then
        ``CLOUTAGENT_TOKEN`` or ``CLOUTAGENT_API_KEY``."""
        url = url or os.environ.get("CLOUTAGENT_URL")
        if not url:
            raise ValueError("No URL: pass one, or set CLOUTAGENT_URL")
        if credentials is None:
            if not (token or api_key):
                token, api_key = os.environ.get("CLOUTAGENT_TOKEN"), os.environ.get("CLOUTAGENT_API_KEY")
            fixed = Credentials(token=token, api_key=None if token else api_key)
            credentials = lambda: fixed  # noqa: E731
        self.url = url
        self.options = options or ClientOptions()
        self.reconnects = 0
        self._credentials = credentials
        self._conn: Connection | None = None
        self._changed = asyncio.Event()  # set whenever a connection is ready, or the client is done
        self._subs: dict[str, list[Subscription]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._supervisor: asyncio.Task | None = None
        self._backoff = Backoff(self.options.reconnect_initial_delay, self.options.reconnect_max_delay)
        self._fatal: CloutagentError | None = None
        self._closing = False

    # -- lifecycle ----------------------------------------------------------------------------------
    async def connect(self) -> "Client":
        """Open the first connection; its failure is raised (later ones are retried)."""
        conn = await self._open()
        self._use(conn)
        self._supervisor = asyncio.create_task(self._supervise(conn))
        return self

    async def close(self) -> None:
        self._closing = True
        for subs in list(self._subs.values()):
            for sub in subs:
                sub.end()
        self._subs.clear()
        tasks = [t for t in (self._supervisor, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
        self._changed.set()

    async def __aenter__(self) -> "Client":
        return await self.connect()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def connection(self) -> Connection | None:
        return self._conn

    # -- requests -----------------------------------------------------------------------------------
    async def request(self, action: str, data: dict[str, Any] | None = None, *,
                      timeout: float | None = None) -> dict[str, Any]:
        """Send an action and return the reply's ``data``; raise the typed error otherwise."""
        timeout = timeout or self.options.request_timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        conn = await self._current(timeout, action)
        return await conn.request(action, data, max(0.01, deadline - loop.time()))

    async def _current(self, timeout: float, action: str | None = None) -> Connection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._fatal is not None:
                raise self._fatal
            if self._closing:
                raise ClientClosed("The client is closed", action=action)
            if self._conn is not None and not self._conn.closed.is_set():
                return self._conn
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise RequestTimeout(f"Not connected within {timeout:g} s", action=action)
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    # -- events -------------------------------------------------------------------------------------
    async def subscribe(self, project_id: str, since_seq: int | None = None, *,
                        timeout: float | None = None) -> Subscription:
        """Join a project and stream its events: those after ``since_seq`` (replayed from the log
        first), or only new ones when ``since_seq`` is None. Raises e.g. ``ProjectNotFound``."""
        sub = Subscription(project_id, since_seq, history=self.history, on_close=self._unsubscribe,
                           gap_grace=self.options.gap_grace)
        self._subs.setdefault(project_id, []).append(sub)
        try:
            conn = await self._current(timeout or self.options.request_timeout, "project.join")
            await self._resume(conn, project_id, [sub], strict=True)
        except BaseException:
            await self._unsubscribe(sub, leave=False)
            raise
        return sub

    async def history(self, project_id: str, since_seq: int = 0,
                      **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every stored event after ``since_seq`` (``messages.get``, paged with ``nextCursor``)."""
        data: dict[str, Any] = {"projectId": project_id, "sinceSeq": since_seq,
                                "limit": self.options.history_page_size, **filters}
        while True:
            page = await self.request("messages.get", data)
            for event in page.get("events") or []:
                yield event
            if not page.get("nextCursor"):
                return
            data = {**data, "cursor": page["nextCursor"]}

    async def open_requests(self, project_id: str) -> list[PermissionRequest]:
        """The current run's permission requests that nobody has answered yet, oldest first (read
        from the log: ``project.get``, ``execution.get``, then ``messages.get`` from its start)."""
        return list(await self._open_in_log(await self.get_project(project_id)))

    async def pending_requests(self, project_id: str) -> AsyncIterator[PermissionRequest]:
        """Each permission request of the project while it is open: the current run's first, then
        new ones as they come, from any run. One answered before its turn is skipped. It runs until
        the project is deleted or you stop (``contextlib.aclosing`` leaves the room at once)."""
        project = await self.get_project(project_id)
        start = int(project.get("lastSeq") or 0)
        async with await self.subscribe(project_id, since_seq=start) as events:
            tracker = await self._open_in_log(project, until_seq=start)
            tracker.execution_id = None  # from here on, every run's requests
            given: set[str] = set()
            while True:
                for event in events.ready():  # what came while the caller was busy with the last one
                    tracker.feed(event)
                request = next((r for r in tracker if r["requestId"] not in given), None)
                if request is None:
                    try:
                        tracker.feed(await events.__anext__())
                    except StopAsyncIteration:
                        return
                    continue
                given = {r["requestId"] for r in tracker if r["requestId"] in given} | {request["requestId"]}
                yield request

    async def _open_in_log(self, project: dict[str, Any], until_seq: int | None = None) -> OpenRequests:
        execution_id = project.get("executionId")
        tracker = OpenRequests(execution_id)
        if project.get("state") not in _RUNNING or not execution_id:
            return tracker
        execution = await self.get_execution(project["projectId"], execution_id)
        filters = {"events": list(STEERING_EVENTS), "since": execution["createdAt"]}
        async for event in self.history(project["projectId"], 0, **filters):
            if until_seq is not None and event["seq"] > until_seq:
                break
            tracker.feed(event)
        return tracker

    def _on_event(self, frame: dict[str, Any]) -> None:
        for sub in list(self._subs.get(str(frame.get("projectId")), ())):
            sub.offer(frame)

    async def _resume(self, conn: Connection, project_id: str, subs: list[Subscription], *,
                      strict: bool = False) -> None:
        """Join (again) on this connection, then replay what each subscription missed."""
        try:
            joined = await conn.request("project.join", {"projectId": project_id}, self.options.request_timeout)
            conn.joined.add(project_id)
            for sub in subs:
                sub.start_at(int(joined.get("lastSeq") or 0))
            await asyncio.gather(*(sub.catch_up() for sub in subs))
        except (ConnectionLost, RequestTimeout):
            if strict:
                raise
            conn.abort()  # a connection that cannot join is no use: the next one will
        except CloutagentError as exc:
            if strict:
                raise
            for sub in subs:  # e.g. the project was deleted while we were away
                sub.end(exc)

    async def _unsubscribe(self, sub: Subscription, *, leave: bool = True) -> None:
        subs = self._subs.get(sub.project_id, [])
        if sub in subs:
            subs.remove(sub)
        if subs:
            return
        self._subs.pop(sub.project_id, None)
        conn = self._conn
        if leave and conn is not None and sub.project_id in conn.joined and not self._closing:
            conn.joined.discard(sub.project_id)
            try:
                await conn.request("project.leave", {"projectId": sub.project_id}, self.options.request_timeout)
            except CloutagentError:
                pass  # closing the connection leaves every room anyway

    # -- staying connected --------------------------------------------------------------------------
    async def _open(self) -> Connection:
        credentials = await resolve(self._credentials)
        return await Connection.open(self.url, credentials, self._on_event, timeout=self.options.open_timeout)

    def _use(self, conn: Connection) -> None:
        self._conn = conn
        self._changed.set()
        self._spawn(self._keep_alive(conn))
        for project_id, subs in self._subs.items():
            live = [sub for sub in subs if not sub.finished]
            if live:
                self._spawn(self._resume(conn, project_id, live))

    async def _supervise(self, conn: Connection) -> None:
        while True:
            rotate = await self._closed_or_old(conn)
            if self._closing:
                return
            if not rotate:
                if conn.age < _STABLE_SECONDS:  # it dropped at once: do not hammer the server
                    await asyncio.sleep(self._backoff.next_delay())
                else:
                    self._backoff.reset()
            fresh = await self._reopen()
            if fresh is None:
                return
            old, conn = conn, fresh
            self.reconnects += 1
            self._use(conn)
            if rotate:
                self._spawn(self._retire(old))

    async def _closed_or_old(self, conn: Connection) -> bool:
        """Wait until the connection closes (False) or reaches the configured age (True)."""
        try:
            await asyncio.wait_for(conn.closed.wait(), max(0.0, self.options.max_connection_age - conn.age))
            return False
        except asyncio.TimeoutError:
            return True

    async def _reopen(self) -> Connection | None:
        while not self._closing:
            try:
                return await self._open()
            except FATAL_HANDSHAKE as exc:  # the same credentials will not work next time either
                self._fail(exc)
                return None
            except Exception as exc:  # network, 5xx, a credentials provider that hiccupped
                delay = self._backoff.next_delay()
                log.info("reconnect failed (%s); retrying in %.1f s", getattr(exc, "code", type(exc).__name__), delay)
                await asyncio.sleep(delay)
        return None

    def _fail(self, exc: CloutagentError) -> None:
        self._fatal = exc
        for subs in self._subs.values():
            for sub in subs:
                sub.end(exc)
        self._changed.set()

    async def _keep_alive(self, conn: Connection) -> None:
        """A ``ping`` action whenever nothing was sent for ``ping_interval``: API Gateway counts
        only client messages as activity. A ping with no answer means a dead connection."""
        interval = self.options.ping_interval
        while not conn.closed.is_set():
            wait = interval - conn.idle
            if wait > 0:
                try:
                    await asyncio.wait_for(conn.closed.wait(), wait)
                except asyncio.TimeoutError:
                    continue
                return
            try:
                await conn.request("ping", None, min(self.options.request_timeout, interval))
            except RequestTimeout:
                conn.abort()
                return
            except CloutagentError:
                return

    async def _retire(self, conn: Connection) -> None:
        """Let the replies still owed on an old connection arrive, then close it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.request_timeout
        try:
            while len(conn.pending) and loop.time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
