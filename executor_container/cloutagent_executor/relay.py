"""From agent messages to stored, broadcast events: batched, ordered, retried, never lost.

One consumer drains the queue, so events keep the order the agent produced them. A batch is
whatever arrived while the previous one was being written (plus a short linger while events are
coming fast), so a burst costs one DynamoDB transaction and one subscriber query per batch, and a
trickle still goes out at once. Storing is this loop's only wait: each stored batch is handed to
the run's fan-out (``broadcast.LiveFanout``), which posts it while the next batch is stored.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from cloutagent.domain.changes import ExecutionMetered, ProjectChange
from cloutagent.domain.executions import Usage
from cloutagent.observability import logger
from cloutagent.retry import Backoff, RetriesExhausted, retry_async

from .usage import UsageMeter

MAX_BATCH = 1000  # events per append; the log pages them into items (adapters/dynamo/events.py)
# How long a batch waits for more events (each batch is a write and a POST per watcher). While the
# watchers are still being sent the previous batch, until they have it (at most the busy linger):
# the busier the delivery, the bigger the batches, so the posting keeps up with any event rate.
# Otherwise only while events arrive faster than the linger; a trickle goes out at once.
LINGER_SECONDS = 0.02
BUSY_LINGER_SECONDS = 0.03
CALM_CHECK_SECONDS = 0.005
USAGE_INTERVAL_SECONDS = 1.0  # execution.usage: at most one a second
# A batch that cannot be stored holds up every later one (order is kept): ~20 s of trying.
STORE_RETRIES = Backoff(attempts=8, base_seconds=0.1, cap_seconds=5.0)
MAX_EVENT_TEXT_CHARS = 250_000  # DynamoDB items stop at 400 KB; longer texts become parts

_STOP = object()


class _Now:
    """Events that must be stored on their own, with a change, before the caller goes on."""

    def __init__(self, events: list, change: ProjectChange):
        self.events, self.change = events, change
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()


def split_oversized(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A text longer than one item can hold becomes several messages marked part/parts."""
    text = data.get("text")
    if not isinstance(text, str) or len(text) <= MAX_EVENT_TEXT_CHARS:
        return [data]
    pieces = [text[i : i + MAX_EVENT_TEXT_CHARS] for i in range(0, len(text), MAX_EVENT_TEXT_CHARS)]
    return [{**data, "text": p, "part": i + 1, "parts": len(pieces)} for i, p in enumerate(pieces)]


class _Arrivals:
    """How far apart events have been arriving lately (an exponential moving average)."""

    def __init__(self) -> None:
        self.gap = float("inf")
        self._last: float | None = None

    def note(self) -> None:
        now = time.monotonic()
        if self._last is not None:
            gap = now - self._last
            self.gap = gap if self.gap == float("inf") else 0.8 * self.gap + 0.2 * gap
        self._last = now

    def fast(self) -> bool:
        return self.gap < LINGER_SECONDS


class ArrivalTrace:
    """``make bench``'s view of when the CLI wrote each message: a line per message as it reaches
    the relay (``<epoch seconds>\t<first 80 characters>``). Off unless a path is set."""

    def __init__(self, path: str):
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - closed with the relay

    def note(self, data: dict[str, Any]) -> None:
        text = data.get("text")
        if isinstance(text, str):
            self._file.write(f"{time.time():.6f}\t{text[:80]}\n")

    def close(self) -> None:
        self._file.close()


class EventRelay:
    def __init__(self, log: Any, fanout: Any, tenant_id: str, project_id: str, execution_id: str,
                 trace: ArrivalTrace | None = None):
        self.log = log  # the event log: append() stores a batch with its seqs
        self.fanout = fanout  # after_stored(events) posts them to the room; close() when done
        self.tenant_id = tenant_id
        self.project_id = project_id
        self.execution_id = execution_id
        self.queue: asyncio.Queue = asyncio.Queue()
        self.last_seq: int | None = None
        self.failed: Exception | None = None
        self.stored = 0
        self.batches = 0  # transactions that stored events (the fan-out posts each one once per watcher)
        self._task: asyncio.Task | None = None
        self._meter: UsageMeter | None = None
        self._usage_task: asyncio.Task | None = None
        self._reported: dict[str, Any] | None = None
        self._held: Any = None  # a _Now that ended the batch being collected
        self._arrivals = _Arrivals()
        self._trace = trace

    def start(self) -> "EventRelay":
        self._task = asyncio.create_task(self._run())
        return self

    async def push(self, data: dict[str, Any]) -> None:
        if self._trace is not None:
            self._trace.note(data)
        for part in split_oversized(data):
            self._put(("execution.message", {"executionId": self.execution_id, **part}))

    def publish(self, event: str, data: dict[str, Any]) -> None:
        """An event of the executor's own (``execution.git``), in order with the agent's."""
        self._put((event, {"executionId": self.execution_id, **data}))

    def _put(self, item: tuple[str, dict[str, Any]]) -> None:
        self._arrivals.note()
        self.queue.put_nowait(item)

    async def publish_now(self, events: list[tuple[str, dict[str, Any]]], change: ProjectChange) -> None:
        """Store ``events`` with ``change`` in order after everything pushed so far, and wait.

        For a state change the executor must see committed (a permission request and its pending
        record): ``ExpectationFailed`` comes back to the caller, and is not retried.
        """
        now = _Now(events, change)
        self.queue.put_nowait(now)
        await now.done

    def watch_usage(self, meter: UsageMeter) -> None:
        """Report ``meter``'s totals as ``execution.usage`` events while the run goes on:
        at most one a second, only when they changed, and once more when the relay closes."""
        self._meter = meter
        self._usage_task = asyncio.create_task(self._report_usage())

    async def _report_usage(self) -> None:
        while True:
            await asyncio.sleep(USAGE_INTERVAL_SECONDS)
            self._queue_usage()

    def _queue_usage(self) -> None:
        if self._meter is None:
            return
        snapshot = {"usage": self._meter.usage(), "costUsd": round(self._meter.cost_usd(), 6)}
        if snapshot != self._reported and any(snapshot["usage"].values()):
            self._reported = snapshot
            self._put(("execution.usage", {"executionId": self.execution_id, **snapshot}))

    async def close(self) -> None:
        if self._usage_task is not None:
            self._usage_task.cancel()
            self._queue_usage()  # the totals at the end, if the last second changed them
        self.queue.put_nowait(_STOP)
        try:
            if self._task:
                await self._task
        finally:
            await self.fanout.close()
            if self._trace is not None:
                self._trace.close()

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first, self._held = (self._held, None) if self._held is not None else (await self.queue.get(), None)
            if first is _STOP:
                return
            if isinstance(first, _Now):
                await self._store_now(first)
                continue
            batch, stopping = await self._collect(first)
            await self._store(batch)

    async def _store_now(self, now: _Now) -> None:
        try:
            await self._append(now.events, now.change)
        except Exception as exc:  # noqa: BLE001 - ExpectationFailed and the rest: the caller decides
            self.last_seq = None  # the project is read again, and so its seq
            if not now.done.done():  # the caller may have stopped waiting (a run being stopped)
                now.done.set_exception(exc)
            return
        if not now.done.done():
            now.done.set_result(None)

    async def _append(self, events: list, change: ProjectChange | None) -> None:
        """Store ``events`` (in one transaction, with ``change``), then hand them to the fan-out."""
        stored = await asyncio.to_thread(self.log.append, self.tenant_id, self.project_id, events,
                                         last_seq=self.last_seq, change=change)
        self.last_seq = stored[-1].seq
        self.stored += len(stored)
        self.batches += 1
        self.fanout.after_stored(stored)

    async def _collect(self, first: Any) -> tuple[list, bool]:
        batch = [first]
        loop = asyncio.get_running_loop()
        until_calm = self.fanout.busy()
        linger = BUSY_LINGER_SECONDS if until_calm else LINGER_SECONDS if self._arrivals.fast() else 0.0
        deadline = loop.time() + linger
        while len(batch) < MAX_BATCH:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0 or (until_calm and not self.fanout.busy()):
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), min(remaining, CALM_CHECK_SECONDS)
                                                  if until_calm else remaining)
                except asyncio.TimeoutError:
                    continue
            if item is _STOP:
                return batch, True
            if isinstance(item, _Now):
                self._held = item
                return batch, False
            batch.append(item)
        return batch, False

    def _metered(self, batch: list) -> ProjectChange | None:
        """The batch's latest usage report, to be kept on the execution record with it."""
        reports = [data for name, data in batch if name == "execution.usage"]
        if not reports:
            return None
        latest = reports[-1]
        return ProjectChange(records=(ExecutionMetered(self.tenant_id, self.project_id, self.execution_id,
                                                       Usage.model_validate(latest["usage"]), latest["costUsd"]),))

    async def _store(self, batch: list) -> None:
        change = self._metered(batch)

        async def store_once() -> None:
            await self._append(batch, change)

        def note_failure(attempt: int, exc: Exception) -> None:
            # Throttling beyond botocore's retries, a blip: re-read the seq, keep order, retry.
            self.last_seq = None
            self.failed = exc
            logger.warning("storing events failed; retrying", extra={"attempt": attempt, "error": type(exc).__name__})

        try:
            await retry_async(store_once, STORE_RETRIES, retry_on=lambda exc: True, on_retry=note_failure)
        except RetriesExhausted as exc:
            logger.error("giving up on an event batch", extra={"events": len(batch), "bytes": len(json.dumps(batch))})
            raise RuntimeError("events could not be stored") from exc
