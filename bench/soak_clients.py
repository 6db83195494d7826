"""The soak's two kinds of client: a Watcher that drops and rejoins at random and must end up with
every event of its project exactly once, and a Driver that keeps executions running."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import websockets

from bench.wsclient import Client, RequestFailed

RUN_PROMPT = "[fake:stream n=30 delay_ms=100]"
PROVOKE_CHANCE = 0.3  # per session: one frame that must be refused with BAD_REQUEST
ONLINE_SECONDS = (5.0, 30.0)  # how long a watcher stays, then drops (clean close or a dead socket)
OFFLINE_SECONDS = (0.5, 3.0)  # how long it stays away before it rejoins


@dataclass
class Tally:
    """What went wrong, by kind; shared by every client of a soak."""

    unexpected: Counter = field(default_factory=Counter)  # error replies nobody provoked, by code
    provoked: int = 0
    transport: Counter = field(default_factory=Counter)  # refused handshakes, replies that never came, drops we did not make
    sessions: int = 0
    runs: Counter = field(default_factory=Counter)  # finished executions by status

    def failed(self, frame: dict) -> None:
        """An error reply nobody provoked, tallied with its action and message (which one it was)."""
        error = frame.get("error") or {}
        code = error.get("code") or frame.get("message") or "no type"
        self.unexpected[f"{code} ({frame.get('action') or '?'}: {str(error.get('message') or '')[:60]})"] += 1


class Watcher:
    def __init__(self, url: str, project_id: str, tally: Tally):
        self.url, self.project_id, self.tally = url, project_id, tally
        self.seen: dict[int, int] = {}  # seq → hash of the event, from live frames and history alike
        self.last_contiguous = 0
        self.live_duplicates = 0  # the same seq twice on one connection
        self.conflicts = 0  # two different events with the same seq
        self.final_last_seq = 0

    def _merge(self, frame: dict) -> None:
        digest = hash(json.dumps(frame, sort_keys=True))
        previous = self.seen.setdefault(frame["seq"], digest)
        if previous != digest:
            self.conflicts += 1
        while self.last_contiguous + 1 in self.seen:
            self.last_contiguous += 1

    def _listener(self, on_connection: set[int]):
        def on_event(frame: dict) -> None:
            if frame.get("projectId") != self.project_id:
                return
            if frame["seq"] in on_connection:
                self.live_duplicates += 1
            on_connection.add(frame["seq"])
            self._merge(frame)

        return on_event

    async def _catch_up(self, client: Client) -> int:
        """messages.get from the last contiguous seq, page by page; returns the project's lastSeq."""
        query: dict = {"projectId": self.project_id, "sinceSeq": self.last_contiguous, "limit": 500}
        previous = self.last_contiguous
        while True:
            page = await client.ok("messages.get", query)
            for event in page["events"]:
                if event["seq"] <= previous:
                    self.conflicts += 1  # history must come in strictly increasing seq
                previous = event["seq"]
                self._merge(event)
            if not page["nextCursor"]:
                return page["lastSeq"]
            query = {"projectId": self.project_id, "cursor": page["nextCursor"], "limit": 500}

    async def session(self, live_seconds: float) -> int | None:
        """Connect, join, recover, stay a while, drop. Returns the lastSeq seen, None on failure."""
        self.tally.sessions += 1
        try:
            client = await Client.connect(self.url, self._listener(set()))
        except (OSError, websockets.InvalidStatus, asyncio.TimeoutError) as exc:
            self.tally.transport[f"connect: {exc}"[:60]] += 1
            return None
        stage = "project.join"  # which step a transport error interrupted, in its tally key
        try:
            await client.ok("project.join", {"projectId": self.project_id})
            stage = "messages.get"
            last_seq = await self._catch_up(client)
            if random.random() < PROVOKE_CHANCE:
                stage = "project.get (provoked)"
                await self._provoke(client)
            stage = "staying"
            await asyncio.sleep(live_seconds)
            return last_seq
        except RequestFailed as failed:
            self.tally.failed(failed.frame)
        except (ConnectionError, asyncio.TimeoutError) as exc:
            self.tally.transport[f"{type(exc).__name__} in {stage}"] += 1
        finally:
            for frame in client.stray:  # frames that answer nothing: a crashed route says so here
                self.tally.failed(frame)
            await self._drop(client)
        return None

    async def _provoke(self, client: Client) -> None:
        frame = await client.request("project.get", {"projectId": "not a project id!"})
        if (frame.get("error") or {}).get("code") == "BAD_REQUEST":
            self.tally.provoked += 1
        else:
            self.tally.failed(frame)

    @staticmethod
    async def _drop(client: Client) -> None:
        if random.random() < 0.5:
            await client.close()  # a clean close
        else:
            client.ws.transport.abort()  # the network goes away: no close frame
            await asyncio.gather(client._reader, return_exceptions=True)

    async def run_until(self, stop: "Stop") -> None:
        while not stop.passed():
            await self.session(min(random.uniform(*ONLINE_SECONDS), stop.left()))
            await asyncio.sleep(random.uniform(*OFFLINE_SECONDS))

    async def finish(self) -> None:
        """One last recovery after everything stopped; then nothing may be missing."""
        for _ in range(3):
            last_seq = await self.session(0.0)
            if last_seq is not None:
                self.final_last_seq = last_seq
                return

    @property
    def lost(self) -> int:
        return sum(1 for seq in range(1, self.final_last_seq + 1) if seq not in self.seen)


class Driver:
    """Keeps one execution running in its project, one after another, until the soak stops."""

    def __init__(self, client: Client, project_id: str, tally: Tally):
        self.client, self.project_id, self.tally = client, project_id, tally
        self.idle = asyncio.Event()
        self.current: str | None = None
        self.finished: dict[str, str] = {}
        self.durations: list[float] = []

    def on_event(self, frame: dict) -> None:
        data = frame.get("data") or {}
        if frame["event"] == "execution.finished":
            self.finished[data["executionId"]] = data["status"]
        if frame["event"] == "project.state" and data.get("state") == "idle" and data.get("executionId") == self.current:
            self.idle.set()

    async def run_until(self, stop: "Stop") -> None:
        while not stop.passed():
            self.idle.clear()
            started = time.monotonic()
            frame = await self.client.request("execute", {"projectId": self.project_id, "prompt": RUN_PROMPT})
            if frame.get("type") != "response":
                self.tally.failed(frame)
                await asyncio.sleep(1.0)
                continue
            self.current = frame["data"]["execution"]["executionId"]
            await self.idle.wait()  # however long it takes: the soak bounds the whole wait
            self.durations.append(time.monotonic() - started)
            self.tally.runs[self.finished.get(self.current, "no execution.finished")] += 1


class Stop:
    """When the soak ends: at its deadline, or earlier if it has to be cut short."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.reason: str | None = None

    def passed(self) -> bool:
        return time.monotonic() >= self.deadline

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def cut(self, reason: str) -> None:
        self.reason = self.reason or reason
        self.deadline = min(self.deadline, time.monotonic())
