"""The deployment's HTTP API in the local stack: every REST v1 route (``rest.json``) and every
``http`` function of ``routes.json`` (webhook receivers), each turned into the same payload v2
event API Gateway sends and given to the function AWS would invoke."""

from __future__ import annotations

import base64
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

from cloutagent import definitions
from cloutagent.gateway.rest import rest_routes
from cloutagent_dev.lambdas import Invoker
from cloutagent_dev.request_ids import request_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LocalHttpApi:
    def __init__(self, invoker: Invoker):
        self.invoker = invoker

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path, handler) for aiohttp, whose ``{name}`` path syntax is API Gateway's."""
        spec = definitions.routes()
        found = [(route.method, route.path, spec["routes"][route.action]) for route in rest_routes().values()]
        found += [(f["method"], f["path"], name) for name, f in spec["functions"].items() if f["trigger"] == "http"]
        return [(method, path, self._forwarder(function, f"{method} {path}")) for method, path, function in found]

    def _forwarder(self, function: str, route_key: str) -> Handler:
        async def forward(request: web.Request) -> web.StreamResponse:
            result = await self.invoker.invoke(function, await http_api_event(request, route_key))
            return web.Response(status=result.get("statusCode", 500), text=result.get("body", ""),
                                headers=result.get("headers") or {})

        return forward


async def http_api_event(request: web.Request, route_key: str) -> dict[str, Any]:
    """The request as API Gateway's HTTP API (payload format 2.0) hands it to Lambda."""
    raw = await request.read()
    try:
        body, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    now = time.time()
    query: dict[str, str] = {}
    for name in request.query:  # repeated names are joined with commas, as API Gateway does
        query[name] = ",".join(request.query.getall(name))
    event = {
        "version": "2.0", "routeKey": route_key, "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "requestContext": {
            "accountId": "local", "apiId": "local", "domainName": request.host, "requestId": request_id(),
            "routeKey": route_key, "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
            "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                     "sourceIp": request.remote or "127.0.0.1", "userAgent": request.headers.get("User-Agent", "")},
        },
        "body": body, "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = query
    if request.match_info:
        event["pathParameters"] = dict(request.match_info)
    return event
