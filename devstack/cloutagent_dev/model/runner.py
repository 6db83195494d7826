"""Run the scripted model in a background thread with its own event loop, for tests and tools."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

from .env import cli_env
from .recorder import Recorder
from .server import build_app

HOST = "127.0.0.1"  # never reachable from another machine


async def start_site(app: web.Application, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1; returns the runner and the port actually bound."""
    # handler_cancellation: a client that hangs up (an interrupted CLI) cancels its stalled handler.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    # On stop, a stalled reply ([fake:sleep]) is cut off after a moment rather than awaited.
    site = web.TCPSite(runner, HOST, port, shutdown_timeout=1.0)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, bound


class ScriptedModel:
    """The scripted Messages API on a free local port: ``with ScriptedModel() as model: ...``."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.base_url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self, port: int = 0) -> str:
        """Start serving and return the base URL (for ANTHROPIC_BASE_URL)."""
        if self.base_url is not None:
            return self.base_url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="scripted-model", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start_site(build_app(self.recorder), port), self._loop)
        try:
            self._runner, bound = future.result(timeout=30)
        except BaseException:
            self.stop()  # e.g. the port is taken: leave no loop thread behind
            raise
        self.base_url = f"http://{HOST}:{bound}"
        return self.base_url

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request recorded so far (see docs/model-double.md for the fields)."""
        return self.recorder.requests

    def cli_env(self, **extra: str) -> dict[str, str]:
        """The CLI environment that points it here (see ``cloutagent_dev.model.env.cli_env``)."""
        if self.base_url is None:
            raise RuntimeError("start the scripted model first")
        return cli_env(self.base_url, **extra)

    def message_requests(self) -> list[dict[str, Any]]:
        """Only the Messages API calls (``POST /v1/messages``), in arrival order."""
        return [r for r in self.requests if r["path"].split("?")[0] == "/v1/messages"]

    def clear(self) -> None:
        self.recorder.clear()

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._loop.close()
        self._loop = self._thread = self._runner = None
        self.base_url = None

    def __enter__(self) -> "ScriptedModel":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
