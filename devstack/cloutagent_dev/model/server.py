"""The scripted model's HTTP face: the Messages API routes the CLI calls, plus a request log."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from .recorder import Recorder
from .reply import Reply, Text
from .script import answer
from .sse import message_json, pause, stream_reply

log = logging.getLogger(__name__)

# The CLI sends the whole conversation each time; a [fake:big] history easily passes 1 MiB.
MAX_BODY_BYTES = 256 * 1024 * 1024
RECORDER_KEY = web.AppKey("recorder", Recorder)


def build_app(recorder: Recorder | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[RECORDER_KEY] = recorder or Recorder()
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    app.router.add_get("/local/model/requests", list_requests)
    app.router.add_delete("/local/model/requests", clear_requests)
    app.router.add_route("*", "/{tail:.*}", unknown_route)
    return app


async def messages(request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    if not isinstance(body, dict):
        return _api_error(400, "invalid_request_error", "body must be a JSON object")
    entry = request.app[RECORDER_KEY].record(request.method, request.path_qs, request.headers, body)
    reply = _safe_answer(body)
    if reply.error is not None:
        entry["outcome"] = f"http_{reply.error.status}"
        return web.json_response(reply.error.body(), status=reply.error.status)
    model = str(body.get("model") or "claude-scripted")
    try:
        if body.get("stream"):
            response = await _stream(request, reply, model)
        else:
            response = await _whole(reply, model)
    except (asyncio.CancelledError, ConnectionError):
        # The CLI gave up on the call (interrupt, abort); the log shows it did.
        entry["outcome"] = "client_disconnected"
        log.info("client went away during %s", request.path_qs)
        raise
    entry["outcome"] = "completed"
    return response


def _safe_answer(body: dict[str, Any]) -> Reply:
    # A script bug must not become an HTTP 500: the CLI would retry it with backoff for minutes.
    try:
        return answer(body)
    except Exception as error:  # noqa: BLE001 - reported to the caller as the model's words
        log.exception("script failed")
        return Reply([Text(f"The scripted model failed: {type(error).__name__}: {error}")], terminal=True)


async def _stream(request: web.Request, reply: Reply, model: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "request-id": "req_scripted",
    })
    await response.prepare(request)
    await stream_reply(reply, model, response.write)
    await response.write_eof()
    return response


async def _whole(reply: Reply, model: str) -> web.Response:
    async def no_ping(_: bytes) -> None:
        return None

    # The non-streaming form cannot show progress: wait out every pause, then answer at once.
    await pause(sum(block.pause_s for block in reply.blocks), no_ping)
    return web.json_response(message_json(reply, model))


async def count_tokens(request: web.Request) -> web.Response:
    body = await _json_body(request)
    request.app[RECORDER_KEY].record(request.method, request.path_qs, request.headers, body)
    # About four characters a token, like the API's own estimates for English.
    return web.json_response({"input_tokens": max(1, len(json.dumps(body)) // 4)})


async def list_requests(request: web.Request) -> web.Response:
    return web.json_response(request.app[RECORDER_KEY].requests)


async def clear_requests(request: web.Request) -> web.Response:
    request.app[RECORDER_KEY].clear()
    return web.json_response({"cleared": True})


async def unknown_route(request: web.Request) -> web.Response:
    # Recorded so a new CLI's extra endpoints show up in tests instead of silently failing.
    raw = await request.read()
    request.app[RECORDER_KEY].record(request.method, request.path_qs, request.headers, _decode(raw))
    log.warning("unknown route %s %s", request.method, request.path_qs)
    return _api_error(404, "not_found_error", f"{request.method} {request.path} is not scripted")


async def _json_body(request: web.Request) -> Any:
    return _decode(await request.read())


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:2000].decode("utf-8", "replace")


def _api_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"type": "error", "error": {"type": error_type, "message": message}}, status=status)


def __getattr__(name: str) -> Any:
    # ScriptedModel lives in runner.py (it imports this module); reachable from here too.
    if name == "ScriptedModel":
        from .runner import ScriptedModel
        return ScriptedModel
    raise AttributeError(name)
