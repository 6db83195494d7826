"""Invoke the real Lambda handlers in-process, the way the Lambda runtime would."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from cloutagent import definitions
from cloutagent.observability import logger

# API Gateway gives a WebSocket route's integration 29 s; an invocation still running then is
# logged with the stack it is stuck in, so a hang in the local stack is diagnosed, not guessed at.
SLOW_INVOCATION_SECONDS = 29.0


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
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
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lambda")
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
        future = loop.run_in_executor(self.pool, self.invoke_sync, function_name, event, running)
        done, _ = await asyncio.wait({future}, timeout=SLOW_INVOCATION_SECONDS)
        if not done:
            _log_stuck(function_name, running.get("thread"), started)
        return await future


def _log_stuck(function_name: str, thread_id: int | None, started: float) -> None:
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
