"""The threads the local stack's Lambda invocations run on, handed work straight from the event loop.

``loop.run_in_executor`` made, per invocation, a ``concurrent.futures.Future`` with its condition
and lock, a work item, and an asyncio future chained to it: about a tenth of the gateway
emulator's CPU for a ping. Here an invocation is one queue entry, and its answer one
``call_soon_threadsafe``. Threads start as they are needed, as ``ThreadPoolExecutor`` starts them:
a new one only when none is idle, up to ``max_workers``.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any, Callable


class InvocationThreads:
    def __init__(self, max_workers: int, name: str = "lambda"):
        self.max_workers = max_workers
        self.name = name
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads that finished an invocation and wait for the next

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """``fn(*args)`` on one of the threads; the future resolves on the calling loop."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._work.put((loop, future, fn, args))
        self._ensure_a_thread()
        return future

    def _ensure_a_thread(self) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1  # that thread takes this work
                return
            if self._threads >= self.max_workers:
                return  # it waits in the queue for the first thread to finish
            self._threads += 1
            number = self._threads
        threading.Thread(target=self._serve, name=f"{self.name}_{number}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            loop, future, fn, args = self._work.get()
            try:
                result, error = fn(*args), None
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller, as an executor would
                result, error = None, exc
            with self._lock:  # idle before the caller hears back, so its next call finds this thread
                self._idle += 1
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop closed while this ran: nobody awaits it
                pass
            del loop, future, fn, args, result, error  # hold nothing of this invocation while idle


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
