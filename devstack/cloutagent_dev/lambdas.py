"""Invoke the real Lambda handlers in-process, the way the Lambda runtime would."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from cloutagent import definitions


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

    def invoke_sync(self, function_name: str, event: dict[str, Any]) -> Any:
        context = LambdaContext(function_name=f"cloutagent-{function_name}")
        return self.handler(function_name)(event, context)

    async def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.invoke_sync, function_name, event)
