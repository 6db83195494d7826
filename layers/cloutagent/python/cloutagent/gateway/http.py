"""HTTP API (payload v2) events <-> a raw request and a JSON reply, and the HTTP status of each error.

The WebSocket counterpart is ``gateway.app``; this is the one place HTTP routes turn errors into
responses. The body stays raw bytes, because a webhook signature is computed over exactly them.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from aws_lambda_powertools.logging import correlation_paths

from cloutagent.errors import ServiceError
from cloutagent.observability import lambda_handler, logger

# Every error code's HTTP status (a test checks that each code in errors.py has one).
STATUS = {
    "BAD_REQUEST": 400, "INVALID_PATH": 400, "UNAUTHORIZED": 401, "PAYMENT_REQUIRED": 402, "FORBIDDEN": 403,
    "NOT_FOUND": 404, "PROJECT_NOT_FOUND": 404, "UNKNOWN_ACTION": 404, "CONFLICT": 409, "PROJECT_BUSY": 409,
    "MESSAGE_TOO_LARGE": 413, "LIMIT_EXCEEDED": 429, "RATE_LIMITED": 429, "INTERNAL": 500,
    "BILLING_NOT_CONFIGURED": 503, "BILLING_UNAVAILABLE": 503, "SECRETS_UNAVAILABLE": 503,
}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    path_parameters: dict[str, str] = field(default_factory=dict)  # the route's {name}s

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request_from_event(event: dict[str, Any]) -> HttpRequest:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    http = (event.get("requestContext") or {}).get("http") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return HttpRequest(method=http.get("method", ""), path=event.get("rawPath", ""), body=body, headers=headers,
                       path_parameters=dict(event.get("pathParameters") or {}))


def json_reply(status: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(data, separators=(",", ":"))}


def error_reply(code: str, message: str, details: dict[str, Any] | None = None,
                request_id: str | None = None) -> dict[str, Any]:
    """An error as an HTTP response: the WebSocket error frame's ``{code, message, details}``."""
    body: dict[str, Any] = {"error": {"code": code, "message": message, "details": details or {}}}
    if request_id:
        body["requestId"] = request_id
    reply = json_reply(STATUS.get(code, 500), body)
    retry_ms = (details or {}).get("retryAfterMs")
    if isinstance(retry_ms, int):  # RATE_LIMITED: HTTP clients and proxies read the standard header
        reply["headers"]["retry-after"] = str(max(1, -(-retry_ms // 1000)))
    return reply


def http_app(fn: Callable[[HttpRequest, Any], dict[str, Any]]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Wrap ``fn(request, context) -> dict`` as a Lambda handler for an HTTP API route."""

    @lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @functools.wraps(fn)
    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        try:
            return json_reply(200, fn(request_from_event(event), context))
        except ServiceError as err:
            logger.info("http request refused", extra={"code": err.code, "reason": err.message})
            return error_reply(err.code, err.message)
        except Exception:
            logger.exception("unhandled error")
            return error_reply("INTERNAL", "Internal error")

    return handler
