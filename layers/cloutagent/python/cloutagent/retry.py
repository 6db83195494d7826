"""The one retry helper: bounded attempts with capped, jittered exponential backoff.

Used only where botocore's own retries cannot help (a lost optimistic-concurrency race, a
whole batch that must be stored in order); never stacked on a boto3 call's built-in retries.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How often to try and how long to wait between tries (full jitter, AWS's recommendation)."""

    attempts: int
    base_seconds: float
    cap_seconds: float

    def delay(self, attempt: int) -> float:
        """A random wait before try ``attempt + 2``, at most ``cap_seconds``."""
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** min(attempt, 30)))


class RetriesExhausted(Exception):
    """Every try failed with a retryable error; the last one is the cause."""


def retry(call: Callable[[], T], backoff: Backoff, *, retry_on: Callable[[Exception], bool],
          on_retry: Callable[[int, Exception], None] | None = None,
          sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()`` until it returns; retryable errors are retried, others raise at once."""
    for attempt in range(backoff.attempts):
        try:
            return call()
        except Exception as exc:
            sleep(_wait_after(exc, attempt, backoff, retry_on, on_retry))
    raise RetriesExhausted("no attempt was allowed")


async def retry_async(call: Callable[[], Awaitable[T]], backoff: Backoff, *,
                      retry_on: Callable[[Exception], bool],
                      on_retry: Callable[[int, Exception], None] | None = None) -> T:
    """The asyncio twin of :func:`retry`: waits without blocking the loop."""
    for attempt in range(backoff.attempts):
        try:
            return await call()
        except Exception as exc:
            await asyncio.sleep(_wait_after(exc, attempt, backoff, retry_on, on_retry))
    raise RetriesExhausted("no attempt was allowed")


def _wait_after(exc: Exception, attempt: int, backoff: Backoff, retry_on: Callable[[Exception], bool],
                on_retry: Callable[[int, Exception], None] | None) -> float:
    """How long to wait before the next try; raises when ``exc`` ends the retrying."""
    if not retry_on(exc):
        raise exc
    if attempt == backoff.attempts - 1:
        raise RetriesExhausted(str(exc)) from exc
    if on_retry is not None:
        on_retry(attempt + 1, exc)
    return backoff.delay(attempt)
