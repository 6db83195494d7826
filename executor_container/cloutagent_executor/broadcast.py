"""Stored events out to every watcher: one ordered outbox per subscriber, all posting at once.

``send`` only queues, so the relay goes on to store the next batch while this one is posted
(events are always stored before they get here). Each subscriber's frames go out one at a time in
the order they were sent, so per-connection order holds (docs/protocol.md, "Ordering, seq and
replay"); a slow or throttled subscriber delays only its own outbox. Frames that queued up behind
a post go out joined, as one ``events`` frame up to the outbound cap: a subscriber that fell
behind gets the same events in fewer posts, and catches up instead of falling further behind. A
connection that is gone is dropped from the room once, and nothing more is posted to it in this run.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import Any, Callable, Iterable

from cloutagent.domain.models import Event
from cloutagent.observability import logger
from cloutagent.protocol.frames import stored_event_frame
from cloutagent.retry import Backoff, retry_async
from cloutagent.services.fanout import EventPacker, packed_frames

from .http1 import HttpError
from .poster import ConnectionsPoster, Frame, PostFailed, frame_of

# Like the Lambdas' client (adapters/aws.py, CONNECTIONS_MAX_RETRIES): a frame the gateway still
# refuses after a few tries stays in history for the client to replay.
POST_RETRIES = Backoff(attempts=3, base_seconds=0.1, cap_seconds=1.0)
# A watcher this far behind is not reading; what it misses it replays by seq (clients fill gaps).
MAX_OUTBOX_FRAMES = 2_000
# When the run ends, how long its last frames may take to reach slow watchers (a kill leaves the
# executor 15 s locally, 30 s on ECS, before it is stopped hard).
DRAIN_SECONDS = 10.0
# A run re-reads its room when someone else wrote to the project's log (a join always does), and
# at least this often otherwise.
ROOM_MAX_AGE_SECONDS = 5.0
# Delivery counts as busy while more than this share of the watchers still have frames to get: a
# few slow ones do not make every batch wait (relay.py lingers while delivery is busy).
BUSY_SHARE = 0.1
# Joined frames kept for the next subscriber that is behind by the same frames.
MAX_JOINS_KEPT = 64


class Broadcaster:
    def __init__(self, poster: ConnectionsPoster, on_gone: Callable[[str], None], packer: EventPacker | None = None):
        self.poster = poster
        self.on_gone = on_gone  # drops the subscription from the room (blocking: run off the loop)
        self.packer = packer  # joins queued frames of events; None: every frame goes on its own
        self._joined: dict[tuple[Frame, ...], Frame] = {}  # subscribers behind alike share a join
        self._outboxes: dict[str, deque[Frame]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._gone: set[str] = set()
        self.posted = 0
        self.skipped = 0
        self.failed = 0
        self.watchers = 0  # in the latest send

    def send(self, subscribers: Iterable[str], frames: list[Frame]) -> None:
        """Queue ``frames`` for every subscriber; returns at once."""
        subscribers = list(subscribers)
        self.watchers = len(subscribers)
        for connection_id in subscribers:
            if connection_id in self._gone:
                continue
            outbox = self._outboxes.get(connection_id)
            if outbox is None:
                outbox = self._outboxes[connection_id] = deque()
                task = asyncio.create_task(self._drain(connection_id, outbox))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(outbox) + len(frames) > MAX_OUTBOX_FRAMES:
                self.skipped += len(frames)
                logger.warning("watcher too far behind; frames skipped", extra={"connection_id": connection_id})
                continue
            outbox.extend(frames)

    def busy(self) -> bool:
        """Whether a good share of the watchers are still being sent earlier frames."""
        return len(self._outboxes) > max(1, int(self.watchers * BUSY_SHARE))

    async def drained(self, timeout_seconds: float = DRAIN_SECONDS) -> None:
        """Until every outbox is empty (posts in flight end, with their retries); what is still
        queued after ``timeout_seconds`` is given up (it is in history)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while self._tasks:
            pending = list(self._tasks)
            _, late = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            if late and loop.time() >= deadline:
                for task in late:
                    task.cancel()
                self.skipped += sum(map(len, self._outboxes.values()))
                logger.warning("watchers still behind when the run ended", extra={"watchers": len(late)})
                await asyncio.gather(*late, return_exceptions=True)
                return

    async def _drain(self, connection_id: str, outbox: deque[Frame]) -> None:
        try:
            while outbox:
                frame = self._next_frame(outbox)
                if not await self._post(connection_id, frame):
                    self._gone.add(connection_id)
                    await asyncio.to_thread(self.on_gone, connection_id)
                    return
                for _ in range(frame.count):
                    outbox.popleft()
        finally:
            self._outboxes.pop(connection_id, None)

    def _next_frame(self, outbox: deque[Frame]) -> Frame:
        """The outbox's first frame, joined with the frames of events queued behind it that fit."""
        first = outbox[0]
        if self.packer is None or len(outbox) == 1 or first.events is None:
            return first
        group, size = [first], first.events_bytes
        for frame in itertools.islice(outbox, 1, None):
            if frame.events is None:
                break
            size += 1 + frame.events_bytes
            if size > self.packer.room:
                break
            group.append(frame)
        return first if len(group) == 1 else self._join(tuple(group))

    def _join(self, group: tuple[Frame, ...]) -> Frame:
        joined = self._joined.get(group)
        if joined is None:
            if len(self._joined) >= MAX_JOINS_KEPT:
                self._joined.clear()
            events = ",".join(frame.events for frame in group)  # type: ignore[misc]  # joined: all carry events
            joined = self._joined[group] = frame_of(self.packer.frame([events]), events, len(group))  # type: ignore[union-attr]
        return joined

    async def _post(self, connection_id: str, frame: Frame) -> bool:
        """False when the connection is gone. A frame that fails for good is skipped (it is in
        history) and logged: one watcher's failure never stops its later frames or the others."""
        try:
            posted = await retry_async(lambda: self.poster.post(connection_id, frame), POST_RETRIES,
                                       retry_on=_worth_retrying)
        except Exception as exc:  # noqa: BLE001 - RetriesExhausted, a refusal, a bug: same answer
            logger.warning("post to connection failed", extra={"connection_id": connection_id,
                                                               "error": type(exc.__cause__ or exc).__name__})
            self.failed += 1
            return True
        self.posted += posted
        return posted


def _worth_retrying(exc: Exception) -> bool:
    return isinstance(exc, HttpError) or (isinstance(exc, PostFailed) and exc.retryable)


class LiveFanout:
    """After each stored batch of a run: the room's subscribers, then their outboxes.

    ``after_stored`` returns at once, so the relay stores the next batch while this one is posted,
    and batches reach the outboxes in the order they were stored.

    The room is read again only when it may have changed. Whoever joins stores ``member.joined``
    after subscribing (``services/rooms.py``), so a join always moves the project's log between
    two of this run's batches: when a batch's first seq does not follow the previous batch's last,
    someone else wrote, and the room is read after that batch was stored (so a watcher who joined
    before it gets it: docs/protocol.md, "Join, then replay"). Otherwise the room read for an
    earlier batch still holds; it is read anyway once it is ``ROOM_MAX_AGE_SECONDS`` old (expired
    subscriptions, watchers gone without a word). That read has no join to catch (a join always
    leaves a gap), so no batch waits for it: the batches go on to the room known so far, and the
    ones delivered after the read to the room it found.
    """

    def __init__(self, rooms: Any, broadcaster: Broadcaster, tenant_id: str, project_id: str):
        self.rooms, self.broadcaster = rooms, broadcaster
        self.tenant_id, self.project_id = tenant_id, project_id
        self.room_reads = 0
        self._last: asyncio.Task | None = None
        self._room: list[str] | None = None
        self._room_read_at = 0.0
        self._refresh: asyncio.Task | None = None  # an age-based room read no batch waits for
        self._next_seq: int | None = None

    def after_stored(self, events: list[Event]) -> None:
        now = asyncio.get_running_loop().time()
        # The first batch reads the room; the next ones wait for that read (each delivery awaits
        # the previous one) instead of reading it again while it is still on its way.
        room_changed = self._next_seq is None or events[0].seq != self._next_seq
        if room_changed:
            self._room_read_at = now
            if self._refresh is not None:  # begun before the join: it must not replace the read after it
                self._refresh.cancel()
                self._refresh = None
        elif now - self._room_read_at >= ROOM_MAX_AGE_SECONDS and self._refresh is None:
            self._room_read_at = now
            self._refresh = asyncio.create_task(self._read_room())
        self._next_seq = events[-1].seq + 1
        self._last = asyncio.create_task(self._deliver(events, self._last, room_changed))

    def busy(self) -> bool:
        """The last batch is not yet with most watchers (its room is being read, or its posts run)."""
        return (self._last is not None and not self._last.done()) or self.broadcaster.busy()

    async def _deliver(self, events: list[Event], previous: asyncio.Task | None, room_changed: bool) -> None:
        room = await self._read_room() if room_changed else None
        if previous is not None:
            await previous  # never raises: each delivery keeps its failures to itself
        if room is None and self._refresh is not None and self._refresh.done():
            room, self._refresh = self._refresh.result(), None  # the age-based read, once it is back
        if room is not None:
            self._room = room
        packed = packed_frames(self.project_id, [stored_event_frame(e) for e in events])
        self.broadcaster.send(self._room or [], [frame_of(text, carried) for text, carried in packed])

    async def _read_room(self) -> list[str] | None:
        self.room_reads += 1
        try:
            return await asyncio.to_thread(self.rooms.subscribers, self.tenant_id, self.project_id)
        except Exception:  # noqa: BLE001 - stored all the same: watchers replay what they miss
            logger.exception("reading the room failed; the last room read is used")
            self._room_read_at = 0.0  # read it again with the next batch
            return None

    async def close(self) -> None:
        """Once the relay has stored its last batch: every frame posted (or given up on)."""
        if self._last is not None:
            await self._last
        if self._refresh is not None:
            await self._refresh  # never raises (_read_room keeps its failure to itself)
        await self.broadcaster.drained()
        await self.broadcaster.poster.close()


def open_fanout(container: Any, tenant_id: str, project_id: str) -> LiveFanout:
    """The run's fan-out: posts signed with the container's credentials (the tenant's session in
    AWS), to the endpoint the Lambdas post to."""
    settings = container.settings
    poster = ConnectionsPoster(settings.connections_url, settings.region, container.clients.credentials)

    def drop(connection_id: str) -> None:
        container.room_store.drop_subscription(tenant_id, project_id, connection_id)

    return LiveFanout(container.room_store, Broadcaster(poster, drop, EventPacker(project_id)), tenant_id, project_id)
