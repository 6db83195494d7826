"""The run's model gateway: the sandboxed CLI's only way to a model, and only with this run's token.

It listens on a Unix socket in the run's directory (bound into a bubblewrap sandbox), or on a
loopback port when the CLI runs as the agent's own uid beside the executor (no network namespace
to bind a socket into: Fargate). Either way it checks each request
against a token made for this run, swaps it for the platform's real credential and forwards the
request upstream (the Anthropic API, or the scripted model locally), streaming the answer back.
When the run ends the gateway closes and its token is worth nothing: the real key never entered
the sandbox, so nothing the agent saw can call the model afterwards.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, web

from .gateway_meter import CallUsage, budget_stop
from .limits import Limits
from .usage import UsageMeter

DEFAULT_UPSTREAM = "https://api.anthropic.com"
# Request headers the CLI sets that upstream needs; credentials and hop-by-hop headers are not copied.
FORWARDED_HEADERS = ("content-type", "accept", "anthropic-version", "anthropic-beta", "user-agent", "x-app",
                     "x-claude-code-session-id", "x-stainless-retry-count", "x-stainless-timeout")
RETURNED_HEADERS = ("content-type", "content-encoding", "request-id", "anthropic-ratelimit-requests-remaining", "retry-after")
UPSTREAM_TIMEOUT = ClientTimeout(total=None, sock_connect=30, sock_read=600)


@dataclass(frozen=True)
class UpstreamCredential:
    """The platform's credential, which stays in the executor: an API key or an OAuth token."""

    api_key: str = ""
    oauth_token: str = ""

    def headers(self) -> dict[str, str]:
        if self.api_key:
            return {"x-api-key": self.api_key}
        if self.oauth_token:
            return {"authorization": f"Bearer {self.oauth_token}"}
        return {}


def new_run_token() -> str:
    # Shaped like an API key so the CLI accepts it; worthless anywhere but this run's gateway.
    return "sk-ant-api03-run-" + secrets.token_urlsafe(32)


class ModelGateway:
    def __init__(self, socket_path: Path | None, token: str, upstream: str, credential: UpstreamCredential,
                 limits: Limits | None = None):
        self.socket_path = socket_path  # None: a loopback port, then ``url`` says where
        self.url = ""
        self.token = token
        self.upstream = (upstream or DEFAULT_UPSTREAM).rstrip("/")
        self.credential = credential
        self.limits = limits or Limits()
        self.meter = UsageMeter()  # what the run's calls used, as upstream reported it
        self.exhausted: str | None = None  # why the gateway stopped sending calls upstream
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    async def start(self) -> "ModelGateway":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        if self.socket_path is None:
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
            host, port = self._runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
        else:
            await web.UnixSite(self._runner, str(self.socket_path)).start()
        self._session = ClientSession(timeout=UPSTREAM_TIMEOUT, auto_decompress=False)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)

    def accepts(self, request: web.Request) -> bool:
        offered = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        return bool(offered) and hmac.compare_digest(offered.encode(), self.token.encode())

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if not self.accepts(request):
            self.refused += 1
            return web.json_response({"type": "error", "error": {
                "type": "authentication_error", "message": "This run's model token is not valid"}}, status=401)
        body = await request.read()
        call = _model_call(request, body)
        if call is not None:
            self.exhausted = self.exhausted or self.limits.exceeded(self.meter)
            if self.exhausted:
                text, content_type = budget_stop(self.exhausted, stream=bool(call.get("stream")))
                return web.Response(body=text, content_type=content_type.split(";")[0])
        return await self._send_upstream(request, body, call)

    async def _send_upstream(self, request: web.Request, body: bytes, call: dict | None) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        headers.update(self.credential.headers())
        headers["accept-encoding"] = "identity"  # the meter reads the reply as it passes
        if self._session is None:
            raise web.HTTPServiceUnavailable(text="the gateway is not started")
        usage = CallUsage(self.meter, call.get("model")) if call is not None else None
        async with self._session.request(request.method, f"{self.upstream}{request.path_qs}", headers=headers,
                                         data=body) as upstream:
            reply = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items() if k.lower() in RETURNED_HEADERS})
            await reply.prepare(request)
            streamed = "event-stream" in upstream.headers.get("content-type", "")
            whole = b""
            async for chunk in upstream.content.iter_any():
                if usage is not None:
                    if streamed:
                        usage.feed(chunk)
                    else:
                        whole += chunk
                await reply.write(chunk)
            if usage is not None and whole:
                usage.whole(whole)
            await reply.write_eof()
            return reply


def _model_call(request: web.Request, body: bytes) -> dict | None:
    """The JSON of a Messages API call that costs tokens, or None for anything else."""
    if request.method != "POST" or request.path.rstrip("/") != "/v1/messages":
        return None
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
