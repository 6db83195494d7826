"""A project's event stream, in ``seq`` order and each event exactly once, across reconnects.

Events reach a subscription from three places that overlap: the live room, the history replay
after each (re)join, and gap fills. Whatever the source, an event is delivered only when every
lower ``seq`` has been, and never twice (dedupe by (projectId, seq); a subscription holds one
project). Ordering rules: docs/protocol.md, "Ordering, seq and replay".
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Awaitable, Callable

from cloutagent_client.errors import CloutagentError, ConnectionLost, RequestTimeout

log = logging.getLogger("cloutagent_client")

History = Callable[[str, int], AsyncIterator[dict[str, Any]]]
_END = object()


class Subscription:
    def __init__(self, project_id: str, since_seq: int | None, *, history: History,
                 on_close: Callable[["Subscription"], Awaitable[None]], gap_grace: float):
        self.project_id = project_id
        self.last_seq = since_seq  # highest seq delivered; None until the first join says where "now" is
        self._buffer: dict[int, dict[str, Any]] = {}
        self._queue: asyncio.Queue = asyncio.Queue()
        self._history = history
        self._on_close = on_close
        self._gap_grace = gap_grace
        self._filler: asyncio.Task | None = None
        self._last_item: Any = None  # the end marker or error, once taken from the queue
        self.finished = False

    # -- feeding ------------------------------------------------------------------------------------
    def offer(self, event: dict[str, Any]) -> None:
        """Take an event from any source; deliver whatever is now contiguous."""
        seq = event.get("seq")
        if self.finished or not isinstance(seq, int):
            return
        if (self.last_seq is not None and seq <= self.last_seq) or seq in self._buffer:
            return  # a duplicate: replay and live stream overlap by design
        self._buffer[seq] = event
        if self.last_seq is None:
            return  # before the first join: held until the start point is known
        self._flush()
        if self._buffer:
            self._fill_soon()

    def start_at(self, seq: int) -> None:
        """The first join's ``lastSeq`` marks "now" for a subscription that asked for new events only."""
        if self.last_seq is None:
            self.last_seq = seq
            self._buffer = {s: e for s, e in self._buffer.items() if s > seq}
            self._flush()

    async def catch_up(self) -> None:
        """Replay the stored log from the last delivered seq (after a join, or to fill a gap)."""
        if self.last_seq is None or self.finished:
            return
        async for event in self._history(self.project_id, self.last_seq):
            self.offer(event)

    def _flush(self) -> None:
        while self.last_seq is not None and self.last_seq + 1 in self._buffer:
            self.last_seq += 1
            event = self._buffer.pop(self.last_seq)
            self._queue.put_nowait(event)
            if event.get("event") == "project.deleted":
                self.end()  # the last event a project's log can have
                return

    def _fill_soon(self) -> None:
        if self._filler is None or self._filler.done():
            self._filler = asyncio.create_task(self._fill())

    async def _fill(self) -> None:
        # Live events from concurrent requests may arrive out of order: give the missing ones a
        # moment to turn up by themselves before asking the log.
        await asyncio.sleep(self._gap_grace)
        while self._buffer and not self.finished:
            before = self.last_seq
            try:
                await self.catch_up()
            except (ConnectionLost, RequestTimeout):
                return  # the reconnect replays anyway
            except CloutagentError as exc:
                log.warning("filling a gap in %s failed: %s", self.project_id, exc)
                return
            if self.last_seq == before:
                return  # not stored yet, or expired: the live event or the next gap fill will tell

    # -- ending -------------------------------------------------------------------------------------
    def end(self, error: BaseException | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        if self._filler is not None:
            self._filler.cancel()
        self._queue.put_nowait(error if error is not None else _END)

    async def close(self) -> None:
        self.end()
        await self._on_close(self)

    # -- consuming ----------------------------------------------------------------------------------
    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> dict[str, Any]:
        item = self._last_item if self._last_item is not None else self._take(await self._queue.get())
        if item is _END:
            raise StopAsyncIteration  # and stays ended for later calls
        if isinstance(item, BaseException):
            raise item
        return item

    def ready(self) -> list[dict[str, Any]]:
        """The events delivered but not consumed yet, without waiting (the end stays for ``__anext__``)."""
        events: list[dict[str, Any]] = []
        while self._last_item is None and not self._queue.empty():
            item = self._take(self._queue.get_nowait())
            if item is not _END and not isinstance(item, BaseException):
                events.append(item)
        return events

    def _take(self, item: Any) -> Any:
        if item is _END or isinstance(item, BaseException):
            self._last_item = item
        return item

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
