"""The one retry helper: bounded, jittered, and it never retries what it should not."""

from __future__ import annotations

import asyncio

import pytest

from cloutagent.retry import Backoff, RetriesExhausted, retry, retry_async

QUICK = Backoff(attempts=4, base_seconds=0.01, cap_seconds=0.02)


class Flaky:
    def __init__(self, failures: int, error: type[Exception] = TimeoutError):
        self.calls, self.failures, self.error = 0, failures, error

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("not yet")
        return "done"


def test_retries_until_the_call_succeeds_with_waits_within_the_cap():
    waits: list[float] = []
    flaky = Flaky(failures=2)
    assert retry(flaky, QUICK, retry_on=lambda e: isinstance(e, TimeoutError), sleep=waits.append) == "done"
    assert flaky.calls == 3 and len(waits) == 2 and all(0 <= w <= 0.02 for w in waits)


def test_gives_up_after_the_attempts_with_the_last_error_as_cause():
    flaky = Flaky(failures=10)
    with pytest.raises(RetriesExhausted) as raised:
        retry(flaky, QUICK, retry_on=lambda e: True, sleep=lambda s: None)
    assert flaky.calls == QUICK.attempts and isinstance(raised.value.__cause__, TimeoutError)


def test_an_error_that_is_not_retryable_raises_at_once():
    flaky = Flaky(failures=1, error=KeyError)
    with pytest.raises(KeyError):
        retry(flaky, QUICK, retry_on=lambda e: isinstance(e, TimeoutError), sleep=lambda s: None)
    assert flaky.calls == 1


def test_the_async_twin_retries_and_reports_each_retry():
    flaky, seen = Flaky(failures=2), []

    async def call() -> str:
        return flaky()

    result = asyncio.run(retry_async(call, QUICK, retry_on=lambda e: True, on_retry=lambda n, e: seen.append(n)))
    assert result == "done" and seen == [1, 2]
