"""REST API v1 (API Gateway HTTP API, payload v2): a request becomes the WebSocket action its route
names, run through the same handler, role check, validation, tenancy and errors.

The routes are data (``definitions/rest.json``), read here, by infra/ and by the local stack. A route
key (``GET /v1/projects/{projectId}``) names one action; its path parameters, query string and JSON
body merge into that action's ``data``. Credentials come from headers only (``X-API-Key`` or
``Authorization: Bearer``), through the same ``Authenticator`` as the WebSocket's ``$connect``:
API Gateway's HTTP API authorizers cannot answer 401 with a JSON body, so the check runs here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Callable, Mapping

from cloutagent import definitions
from cloutagent.domain.identity import Identity
from cloutagent.errors import BadRequest, MessageTooLarge, NotFound
from cloutagent.protocol.frames import MAX_INBOUND_FRAME_BYTES, parse_json_object

MAX_BODY_BYTES = MAX_INBOUND_FRAME_BYTES  # the same limit as a WebSocket frame


@dataclass(frozen=True)
class RestRoute:
    method: str
    path: str  # with the prefix, in API Gateway's syntax: /v1/projects/{projectId}
    action: str
    status: int = 200
    public: bool = False  # answered without credentials (health, the OpenAPI document)
    query_lists: tuple[str, ...] = ()  # comma-separated lists in the query string

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{"))


@cache
def rest_routes() -> dict[str, RestRoute]:
    """Every REST route by its route key, as rest.json lists them."""
    spec = definitions.load("rest")
    routes = [
        RestRoute(method=r["method"], path=spec["prefix"] + r["path"], action=r["action"],
                  status=r.get("status", 200), public=r.get("public", False),
                  query_lists=tuple(r.get("queryLists", ())))
        for r in spec["routes"]
    ]
    return {route.route_key: route for route in routes}


def is_http_event(event: Mapping[str, Any]) -> bool:
    return "http" in (event.get("requestContext") or {})


def route_for(event: Mapping[str, Any]) -> RestRoute:
    route = rest_routes().get(str(event.get("routeKey", "")))
    if route is None:
        raise NotFound("No such route")
    return route


def rest_identity(event: Mapping[str, Any], authenticate: Callable[..., Identity]) -> Identity:
    """Who calls, from the request's headers alone: credentials in a URL end up in logs."""
    return authenticate(event.get("headers") or {}, {})


def request_data(route: RestRoute, event: Mapping[str, Any]) -> dict[str, Any]:
    """The action's data: the JSON body, then the query string, then the path (which wins, and may
    not be contradicted by the body)."""
    data = _json_body(event)
    for name, value in (event.get("queryStringParameters") or {}).items():
        data[name] = value.split(",") if name in route.query_lists else value
    for name, value in (event.get("pathParameters") or {}).items():
        if name in data and data[name] != value:
            raise BadRequest(f"'{name}' in the body differs from the path", {"field": name})
        data[name] = value
    return data


def _json_body(event: Mapping[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raise BadRequest("The body must be JSON text")
    if len(raw.encode("utf-8")) > MAX_BODY_BYTES:
        raise MessageTooLarge(f"The body is over {MAX_BODY_BYTES // 1024} KB",
                              {"limitBytes": MAX_BODY_BYTES})
    if not raw.strip():
        return {}
    return parse_json_object(raw, "The body")


def request_id(event: Mapping[str, Any]) -> str | None:
    return (event.get("requestContext") or {}).get("requestId")
