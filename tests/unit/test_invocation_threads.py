"""The local stack's invocation threads: answers and errors reach the caller, as many run at once
as there are threads, more wait their turn, and a thread is started only when none is idle."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cloutagent_dev.invocation_threads import InvocationThreads


async def test_an_answer_and_an_error_reach_the_awaiting_caller():
    threads = InvocationThreads(2)

    def refuse():
        raise ValueError("Unauthorized")

    assert await threads.run(lambda a, b: a + b, 2, 3) == 5
    with pytest.raises(ValueError, match="Unauthorized"):
        await threads.run(refuse)


async def test_calls_one_after_another_use_one_thread():
    threads = InvocationThreads(8)
    names = {await threads.run(lambda: threading.current_thread().name) for _ in range(20)}
    assert len(names) == 1 and threads._threads == 1


async def test_at_most_max_workers_run_at_once_and_the_rest_wait_their_turn():
    threads = InvocationThreads(2)
    release = threading.Event()
    running, most = [0], [0]
    lock = threading.Lock()

    def hold() -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return "done"

    calls = [threads.run(hold) for _ in range(5)]
    await asyncio.sleep(0.2)
    assert running[0] == 2  # two threads, both busy; three calls queued
    release.set()
    assert await asyncio.gather(*calls) == ["done"] * 5
    assert most[0] == 2 and threads._threads == 2


async def test_a_caller_that_stopped_waiting_does_not_stop_the_threads():
    threads = InvocationThreads(1)
    started = threading.Event()
    gate = threading.Event()

    def slow() -> str:
        started.set()
        gate.wait(5)
        return "late"

    abandoned = threads.run(slow)
    await asyncio.to_thread(started.wait, 5)
    abandoned.cancel()
    gate.set()
    assert await threads.run(lambda: "next") == "next"
