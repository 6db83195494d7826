"""A local API Gateway WebSocket API: the same handlers, the same events, real WebSockets.

Emulates what the handlers rely on in AWS: the REQUEST authorizer on ``$connect`` (401/403 on
refusal), route selection on ``$request.body.action`` with ``$default``, ``$disconnect``, route
responses back to the sender, the 128 KB message cap (close 1009), idle and lifetime caps, and the
``@connections/{id}`` management API (POST, GET, DELETE; 410 when gone) over real HTTP.

Two knobs emulate the network that loopback lacks: every ``@connections`` POST can take an
emulated round trip (``CLOUTAGENT_DEV_POST_DELAY_MS``, or ``PUT /local/gateway`` while it runs),
and a client can ask at ``$connect`` for its own (``?devPostDelayMs=500``: a slow subscriber). Both wait without using CPU, so a poster's
overlap of round trips is measured as it would be against API Gateway.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import WSCloseCode, WSMsgType, web

from cloutagent import definitions
from cloutagent.ids import iso_millis
from cloutagent_dev.lambdas import Invoker
from cloutagent_dev.request_ids import request_id
from cloutagent_dev.settings import get_dev_settings
from cloutagent.observability import logger
from cloutagent.protocol.frames import MAX_INBOUND_FRAME_BYTES

from datetime import datetime, timezone


MAX_IN_FLIGHT_PER_CONNECTION = 24  # invocations one connection may have running at once


@dataclass
class LocalConnection:
    connection_id: str
    ws: web.WebSocketResponse
    authorizer: dict[str, Any]
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active: float = field(default_factory=time.time)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    post_delay_seconds: float | None = None  # asked for at $connect; None: the gateway's own
    # In AWS every message gets its own Lambda invocation, so one connection's flood never queues
    # another's; here invocations share one thread pool, so each connection may hold a few of it.
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_IN_FLIGHT_PER_CONNECTION))


@dataclass
class GatewayLimits:
    idle_seconds: float = 600.0
    lifetime_seconds: float = 7200.0
    max_message_bytes: int = MAX_INBOUND_FRAME_BYTES


# A dev-only query parameter: the emulated @connections round trip for posts to this connection.
POST_DELAY_PARAMETER = "devPostDelayMs"
MAX_POST_DELAY_SECONDS = 60.0


def _post_delay(query: dict[str, str]) -> float | None:
    """The delay asked for in the query string, in seconds (None when absent or not a number)."""
    try:
        seconds = float(query[POST_DELAY_PARAMETER]) / 1000
    except (KeyError, ValueError):
        return None
    return min(max(seconds, 0.0), MAX_POST_DELAY_SECONDS) if math.isfinite(seconds) else None


_LEADING_ACTION = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"action"[ \t\n\r]*:[ \t\n\r]*"([A-Za-z0-9_.\-]+)"[ \t\n\r]*[,}]')


def _leading_action(body: str) -> str | None:
    """The action of a frame that opens with it, without parsing the rest (the handler parses it all).

    None unless that is the body's only key spelled "action" and no key can hide another spelling
    (``\\u`` escapes), so a valid frame is routed exactly as by a full parse. A body that opens so
    but is not JSON goes to that action's function instead of ``$default``: the reply is the same
    (every function's app refuses it as BAD_REQUEST before looking at the action).
    """
    match = _LEADING_ACTION.match(body)
    if match is None or body.find('"action"', match.end()) != -1 or "\\u" in body:
        return None
    return match.group(1)


def _new_connection_id() -> str:
    # Like API Gateway's ids ("L0SM9cOFvHcCIhw="): safe in a URL path, so never "/" or "+".
    return base64.urlsafe_b64encode(os.urandom(10)).decode()


def _iso(epoch: float) -> str:
    return iso_millis(datetime.fromtimestamp(epoch, timezone.utc))


class LocalGateway:
    def __init__(self, invoker: Invoker, *, stage: str = "local", limits: GatewayLimits | None = None,
                 post_delay_seconds: float | None = None):
        self.invoker = invoker
        self.stage = stage
        self.limits = limits or GatewayLimits()
        # The emulated round trip of every @connections POST (0: loopback's own).
        self.post_delay_seconds = (get_dev_settings().post_delay_ms / 1000 if post_delay_seconds is None
                                   else post_delay_seconds)
        spec = definitions.routes()
        self.routes: dict[str, str] = spec["routes"]
        self.authorizer_function: str = spec["authorizer"]
        self.connections: dict[str, LocalConnection] = {}
        self.extra_http: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = []
        self.domain = "127.0.0.1"

    # -- wiring --------------------------------------------------------------------------------
    def build_app(self, index: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None) -> web.Application:
        # Oversized credentials must reach the authorizer, which refuses them with a clean 401.
        app = web.Application(client_max_size=MAX_INBOUND_FRAME_BYTES * 4,
                              handler_args={"max_field_size": 512 * 1024, "max_line_size": 512 * 1024})
        for prefix in ("", f"/{self.stage}"):
            app.router.add_route("POST", prefix + "/@connections/{id}", self.http_post)
            app.router.add_route("GET", prefix + "/@connections/{id}", self.http_get)
            app.router.add_route("DELETE", prefix + "/@connections/{id}", self.http_delete)
        app.router.add_route("GET", "/local/gateway", self.http_knobs)
        app.router.add_route("PUT", "/local/gateway", self.http_knobs)
        for method, path, fn in self.extra_http:
            app.router.add_route(method, path, fn)
        self._index = index
        app.router.add_route("GET", "/", self.root)
        app.router.add_route("GET", f"/{self.stage}", self.root)
        app.on_shutdown.append(self._close_all)
        return app

    async def root(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        if self._index is not None:
            return await self._index(request)
        return web.Response(text="cloutagent local gateway\n")

    # -- the WebSocket API -----------------------------------------------------------------------
    def _request_context(self, connection_id: str, route_key: str, event_type: str, request: web.Request | None,
                         authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "connectionId": connection_id,
            "requestId": request_id(),
            "messageId": request_id(),
            "domainName": self.domain,
            "stage": self.stage,
            "apiId": "local",
            "connectedAt": int(time.time() * 1000),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": request.remote if request else "127.0.0.1",
                         "userAgent": request.headers.get("User-Agent", "") if request else ""},
            **({"authorizer": authorizer} if authorizer is not None else {}),
        }

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        connection_id = _new_connection_id()
        headers = dict(request.headers)
        query = dict(request.query)
        # The handlers see what they would in AWS: the dev-only knob is the gateway's, not theirs.
        post_delay = _post_delay(query)
        query.pop(POST_DELAY_PARAMETER, None)
        authorizer = await self._authorize(connection_id, request, headers, query)
        if isinstance(authorizer, web.Response):
            return authorizer
        connect_event = {
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None, "isBase64Encoded": False,
            "requestContext": self._request_context(connection_id, "$connect", "CONNECT", request, authorizer),
        }
        result = await self.invoker.invoke(self.routes["$connect"], connect_event)
        status = int((result or {}).get("statusCode", 200))
        if status != 200:
            return web.Response(status=status, text=(result or {}).get("body") or "Forbidden")

        # API Gateway negotiates no permessage-deflate; neither do we (it also costs ~100 KB a socket).
        ws = web.WebSocketResponse(max_msg_size=self.limits.max_message_bytes, autoping=True, compress=False)
        await ws.prepare(request)
        conn = LocalConnection(connection_id, ws, authorizer, request.remote or "127.0.0.1",
                               request.headers.get("User-Agent", ""), post_delay_seconds=post_delay)
        self.connections[connection_id] = conn
        watchdog = asyncio.create_task(self._watchdog(conn))
        tasks: set[asyncio.Task] = set()
        try:
            async for msg in ws:
                conn.last_active = time.time()
                if msg.type == WSMsgType.TEXT:
                    task = asyncio.create_task(self._route(conn, msg.data))
                elif msg.type == WSMsgType.BINARY:
                    task = asyncio.create_task(self._route(conn, msg.data.decode("utf-8", "replace")))
                else:
                    break
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            watchdog.cancel()
            self.connections.pop(connection_id, None)
            await self._disconnect(conn)
        return ws

    async def _authorize(self, connection_id: str, request: web.Request, headers: dict, query: dict) -> Any:
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:local:000000000000:local/{self.stage}/$connect",
            "headers": headers,
            "queryStringParameters": query,
            "requestContext": self._request_context(connection_id, "$connect", "CONNECT", request),
        }
        try:
            policy = await self.invoker.invoke(self.authorizer_function, event)
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return web.Response(status=401, text="Unauthorized")
            logger.exception("authorizer failed")
            return web.Response(status=500, text="Internal server error")
        statements = policy.get("policyDocument", {}).get("Statement", [])
        if not statements or any(s.get("Effect") != "Allow" for s in statements):
            return web.Response(status=403, text="Forbidden")
        return {**(policy.get("context") or {}), "principalId": policy.get("principalId")}

    async def _route(self, conn: LocalConnection, body: str) -> None:
        route_key = self._select_route(body)
        event = {
            "body": body, "isBase64Encoded": False,
            "requestContext": self._request_context(conn.connection_id, route_key, "MESSAGE", None, conn.authorizer),
        }
        try:
            async with conn.in_flight:
                result = await self.invoker.invoke(self.routes[route_key], event)
        except Exception:
            logger.exception("route handler crashed", extra={"route": route_key})
            result = {"statusCode": 500, "body": json.dumps({"message": "Internal server error"})}
        reply = (result or {}).get("body")
        if reply and not conn.ws.closed:
            await self.send(conn, reply)

    def _select_route(self, body: str) -> str:
        action = _leading_action(body)
        if action is None:  # not the usual shape: read it all, as API Gateway does
            try:
                action = json.loads(body).get("action")
            except (ValueError, AttributeError, RecursionError):
                return "$default"
        return action if isinstance(action, str) and action in self.routes and not action.startswith("$") else "$default"

    async def _disconnect(self, conn: LocalConnection) -> None:
        event = {"requestContext": self._request_context(conn.connection_id, "$disconnect", "DISCONNECT", None, conn.authorizer)}
        try:
            await self.invoker.invoke(self.routes["$disconnect"], event)
        except Exception:
            logger.exception("$disconnect handler failed")

    async def _watchdog(self, conn: LocalConnection) -> None:
        # Wakes only at the earliest moment a cap could be due (activity only moves it later), not
        # every second: 1 000 idle connections would otherwise cost the gateway CPU all the time.
        while not conn.ws.closed:
            now = time.time()
            idle_left = conn.last_active + self.limits.idle_seconds - now
            life_left = conn.connected_at + self.limits.lifetime_seconds - now
            if idle_left <= 0 or life_left <= 0:
                await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Going away")
                return
            await asyncio.sleep(min(idle_left, life_left))

    async def send(self, conn: LocalConnection, text: str) -> None:
        async with conn.send_lock:
            await conn.ws.send_str(text)

    async def _close_all(self, app: web.Application) -> None:
        for conn in list(self.connections.values()):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")

    # -- the emulation knobs, at run time (dev only) -------------------------------------------------
    async def http_knobs(self, request: web.Request) -> web.Response:
        """``PUT /local/gateway {"postDelayMs": 5}``: the round trip of every later POST (a bench
        measures several delays on the same connections); ``GET`` reads it. Loopback callers only."""
        if request.remote not in ("127.0.0.1", "::1"):
            return web.json_response({"error": "the gateway's knobs are for this machine only"}, status=403)
        if request.method == "PUT":
            try:
                milliseconds = float((await request.json())["postDelayMs"])
            except (ValueError, KeyError, TypeError):
                return web.json_response({"error": 'send {"postDelayMs": <number>}'}, status=400)
            if not 0 <= milliseconds <= MAX_POST_DELAY_SECONDS * 1000:
                return web.json_response({"error": f"postDelayMs must be 0 to {MAX_POST_DELAY_SECONDS * 1000:.0f}"},
                                         status=400)
            self.post_delay_seconds = milliseconds / 1000
        return web.json_response({"postDelayMs": self.post_delay_seconds * 1000})

    # -- the @connections management API ------------------------------------------------------------
    def _gone(self) -> web.Response:
        return web.json_response({"__type": "GoneException", "message": "Connection is gone"}, status=410,
                                 headers={"x-amzn-ErrorType": "GoneException"})

    async def http_post(self, request: web.Request) -> web.Response:
        conn = self.connections.get(request.match_info["id"])
        if conn is None or conn.ws.closed:
            return self._gone()
        data = await request.read()
        if len(data) > self.limits.max_message_bytes:
            return web.json_response({"__type": "PayloadTooLargeException", "message": "Payload too large"},
                                     status=413, headers={"x-amzn-ErrorType": "PayloadTooLargeException"})
        delay = self.post_delay_seconds if conn.post_delay_seconds is None else conn.post_delay_seconds
        if delay:
            # A round trip: the frame is on its way after half of it, the answer back after all of it.
            await asyncio.sleep(delay / 2)
            if conn.ws.closed:
                return self._gone()
        try:
            await self.send(conn, data.decode("utf-8"))
        except (ConnectionError, RuntimeError):
            return self._gone()
        if delay:
            await asyncio.sleep(delay / 2)
        return web.Response(status=200)

    async def http_get(self, request: web.Request) -> web.Response:
        conn = self.connections.get(request.match_info["id"])
        if conn is None or conn.ws.closed:
            return self._gone()
        return web.json_response({
            "ConnectedAt": _iso(conn.connected_at),
            "LastActiveAt": _iso(conn.last_active),
            "Identity": {"SourceIp": conn.source_ip, "UserAgent": conn.user_agent},
        })

    async def http_delete(self, request: web.Request) -> web.Response:
        conn = self.connections.get(request.match_info["id"])
        if conn is None or conn.ws.closed:
            return self._gone()
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Closed by the server")
        return web.Response(status=204)
