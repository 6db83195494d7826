"""Requests in flight on one connection, matched to their replies by ``requestId``."""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any


class PendingRequests:
    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future] = {}
        # Unique per connection, so a late reply from an earlier connection can never match.
        self._prefix = os.urandom(4).hex()
        self._counter = itertools.count(1)

    def open(self) -> tuple[str, asyncio.Future]:
        request_id = f"{self._prefix}-{next(self._counter)}"
        future = asyncio.get_running_loop().create_future()
        self._futures[request_id] = future
        return request_id, future

    def resolve(self, frame: dict[str, Any]) -> bool:
        """Hand a response or error frame to its waiter; False if nobody waits for it."""
        future = self._futures.pop(str(frame.get("requestId") or ""), None)
        if future is None or future.done():
            return False
        future.set_result(frame)
        return True

    def discard(self, request_id: str) -> None:
        self._futures.pop(request_id, None)

    def fail_all(self, exc: BaseException) -> None:
        futures, self._futures = self._futures, {}
        for future in futures.values():
            if not future.done():
                future.set_exception(exc)

    def __len__(self) -> int:
        return len(self._futures)
