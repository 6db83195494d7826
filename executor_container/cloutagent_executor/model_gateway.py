"""The run's model gateway: the sandboxed CLI's only way to a model, and only with this run's token.

It listens on a Unix socket in the run's directory (bound into the sandbox), checks each request
against a token made for this run, swaps it for the platform's real credential and forwards the
request upstream (the Anthropic API, or the scripted model locally), streaming the answer back.
When the run ends the gateway closes and its token is worth nothing: the real key never entered
the sandbox, so nothing the agent saw can call the model afterwards.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, web

DEFAULT_UPSTREAM = "https://api.anthropic.com"
# Request headers the CLI sets that upstream needs; credentials and hop-by-hop headers are not copied.
FORWARDED_HEADERS = ("content-type", "accept", "accept-encoding", "anthropic-version", "anthropic-beta", "user-agent", "x-app",
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
    def __init__(self, socket_path: Path, token: str, upstream: str, credential: UpstreamCredential):
        self.socket_path = socket_path
        self.token = token
        self.upstream = (upstream or DEFAULT_UPSTREAM).rstrip("/")
        self.credential = credential
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    async def start(self) -> "ModelGateway":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.UnixSite(self._runner, str(self.socket_path)).start()
        self._session = ClientSession(timeout=UPSTREAM_TIMEOUT, auto_decompress=False)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        self.socket_path.unlink(missing_ok=True)

    def accepts(self, request: web.Request) -> bool:
        offered = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        return bool(offered) and hmac.compare_digest(offered.encode(), self.token.encode())

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if not self.accepts(request):
            self.refused += 1
            return web.json_response({"type": "error", "error": {
                "type": "authentication_error", "message": "This run's model token is not valid"}}, status=401)
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        headers.update(self.credential.headers())
        if self._session is None:
            raise web.HTTPServiceUnavailable(text="the gateway is not started")
        async with self._session.request(request.method, f"{self.upstream}{request.path_qs}", headers=headers,
                                         data=await request.read()) as upstream:
            reply = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items() if k.lower() in RETURNED_HEADERS})
            await reply.prepare(request)
            async for chunk in upstream.content.iter_any():
                await reply.write(chunk)
            await reply.write_eof()
            return reply
