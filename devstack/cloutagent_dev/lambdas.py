"""Invoke the real Lambda handlers in-process, the way the Lambda runtime would."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from cloutagent import definitions
from cloutagent.observability import logger
from cloutagent_dev.invocation_threads import InvocationThreads
from cloutagent_dev.request_ids import request_id

# API Gateway gives a WebSocket route's integration 29 s; an invocation still running then is
# logged with the stack it is stuck in, so a hang in the local stack is diagnosed, not guessed at.
SLOW_INVOCATION_SECONDS = 29.0


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=request_id)
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(function_name: str) -> Callable[[dict, Any], Any]:
    module_path, _, attr = definitions.routes()["functions"][function_name]["handler"].rpartition(".")
    return getattr(importlib.import_module(module_path), attr)


class Invoker:
    """Runs handlers on a thread pool, as concurrent Lambda invocations would run."""

    def __init__(self, max_workers: int = 64):
        self.threads = InvocationThreads(max_workers, "lambda")
        self._handlers: dict[str, Callable] = {}

    def handler(self, function_name: str) -> Callable:
        if function_name not in self._handlers:
            self._handlers[function_name] = load_handler(function_name)
        return self._handlers[function_name]

    def invoke_sync(self, function_name: str, event: dict[str, Any], running: dict | None = None) -> Any:
        context = LambdaContext(function_name=f"cloutagent-{function_name}")
        if running is not None:
            running["thread"] = threading.get_ident()
        return self.handler(function_name)(event, context)

    async def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        running: dict[str, int] = {}
        started = time.monotonic()
        future = self.threads.run(self.invoke_sync, function_name, event, running)
        # A timer, not asyncio.wait: that made a waiter, a callback and a timer per invocation.
        slow = loop.call_later(SLOW_INVOCATION_SECONDS, _log_stuck, function_name, running, started)
        try:
            return await future
        finally:
            slow.cancel()


def _log_stuck(function_name: str, running: dict[str, int], started: float) -> None:
    thread_id = running.get("thread")
    frame = sys._current_frames().get(thread_id) if thread_id else None
    if frame is None:
        stack = "(not started: every worker is busy)"
    else:  # where our code is, then the library call it waits in
        frames = traceback.extract_stack(frame)
        ours = [f for f in frames if "site-packages" not in f.filename and "/lib/python3" not in f.filename]
        shown = ours[-10:]
        stack = "".join(traceback.format_list(shown + [f for f in frames[-2:] if f not in shown]))
    logger.warning("invocation still running", extra={"function": function_name,
                                                      "seconds": round(time.monotonic() - started, 1), "stack": stack})
