"""EventBridge Scheduler, locally: fires the schedules kept in moto at the scheduled_run function.

moto stores schedules (create, get, list, delete) but never fires one. This loop plays that part:
it lists the enabled schedules of the group, reads each new or changed one (``get_schedule``, the
same Target and Input AWS keeps), and when one is due invokes its target function with its Input,
through the same invoker as every other handler, without waiting for it (Scheduler invokes Lambda
asynchronously). Scheduler's context attributes in the Input (``<aws.scheduler.scheduled-time>``...)
are filled in as Scheduler fills them.

A shortened clock: the scheduler keeps its own time, which runs ``60 / secondsPerMinute`` times as
fast as the wall clock (``CLOUTAGENT_DEV_SCHEDULER_SECONDS_PER_MINUTE``, or ``PUT /local/scheduler``
while the stack runs), so ``rate(1 minute)`` can fire every two seconds in a test. Rates count from
when the schedule was first seen; crons are matched minute by minute in the schedule's time zone.
Missed firings are not replayed (a slow tick fires a schedule once, then it waits for its next).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from cloutagent.domain.schedules import Cron, parse_cron, rate_seconds
from cloutagent.observability import logger
from cloutagent_dev.lambdas import Invoker

MAX_SECONDS_PER_MINUTE = 3600.0
CRON_LOOKAHEAD_DAYS = 400  # a cron with no minute in this long (Feb 30, a past year) never fires


class ScaledClock:
    """Wall-clock time from the moment it starts, ``60 / seconds_per_minute`` times as fast."""

    def __init__(self, seconds_per_minute: float = 60.0):
        self.seconds_per_minute = seconds_per_minute
        self._real = time.monotonic()
        self._virtual = datetime.now(timezone.utc)

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._real
        return self._virtual + timedelta(seconds=elapsed * 60.0 / self.seconds_per_minute)

    def set_speed(self, seconds_per_minute: float) -> None:
        """Change the pace from now on; the time so far stays as it was."""
        self._virtual, self._real = self.now(), time.monotonic()
        self.seconds_per_minute = seconds_per_minute


@dataclass
class Entry:
    """A schedule as the local scheduler knows it: what to invoke, and when next."""

    name: str
    arn: str
    modified: Any
    target_arn: str
    input_text: str
    expression: str
    zone: ZoneInfo
    cron: Cron | None
    period: timedelta | None
    next_due: datetime | None


def next_due(entry: Entry, after: datetime) -> datetime | None:
    """The first firing strictly after ``after`` (UTC): a rate's next period, a cron's next minute."""
    if entry.period is not None:
        due = entry.next_due or after
        while due <= after:
            due += entry.period
        return due
    assert entry.cron is not None
    local = after.astimezone(entry.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = local + timedelta(days=CRON_LOOKAHEAD_DAYS)
    cron = entry.cron
    while local < end:
        if local.month not in cron.months.values or local.year not in cron.years.values:
            local = (local.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
        elif not cron.matches(local.replace(hour=min(cron.hours.values), minute=min(cron.minutes.values))):
            local = local.replace(hour=0, minute=0) + timedelta(days=1)
        elif local.hour not in cron.hours.values:
            local = local.replace(minute=0) + timedelta(hours=1)
        elif local.minute not in cron.minutes.values:
            local += timedelta(minutes=1)
        else:
            return local.astimezone(timezone.utc)
    return None


def filled_input(entry: Entry, due: datetime) -> dict[str, Any]:
    """The Input with Scheduler's context attributes filled in, as the event the target receives."""
    text = (entry.input_text
            .replace("<aws.scheduler.scheduled-time>", due.strftime("%Y-%m-%dT%H:%M:%SZ"))
            .replace("<aws.scheduler.schedule-arn>", entry.arn)
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.attempt-number>", "1"))
    return json.loads(text)


class LocalScheduler:
    def __init__(self, invoker: Invoker, *, seconds_per_minute: float | None = None):
        from cloutagent_dev.settings import get_dev_settings

        self.invoker = invoker
        self.client: Any = None  # a boto3 "scheduler" client on moto, from start()
        self.group = ""
        self.clock = ScaledClock(seconds_per_minute or get_dev_settings().scheduler_seconds_per_minute)
        self.entries: dict[str, Entry] = {}
        self.fired = 0
        self._task: asyncio.Task | None = None
        self._invocations: set[asyncio.Task] = set()

    @property
    def tick_seconds(self) -> float:
        return min(1.0, max(0.1, self.clock.seconds_per_minute / 20))

    def start(self, group: str, client: Any = None) -> None:
        """Fire the schedules of ``group`` from now on (``client``: moto's, by default)."""
        from cloutagent.adapters import aws

        self.group, self.client = group, client or aws.client("scheduler")
        self._task = asyncio.get_running_loop().create_task(self._run_forever())

    async def stop(self) -> None:
        for task in [t for t in (self._task, *self._invocations) if t]:
            task.cancel()
        await asyncio.gather(*[t for t in (self._task, *self._invocations) if t], return_exceptions=True)

    async def _run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("local scheduler tick failed")
            await asyncio.sleep(self.tick_seconds)

    async def tick(self) -> None:
        """Catch up with moto's schedules, then fire each one that is due."""
        summaries = await asyncio.to_thread(self._list)
        now = self.clock.now()
        for name in set(self.entries) - set(summaries):
            del self.entries[name]  # deleted: it fires no more
        for name, summary in summaries.items():
            known = self.entries.get(name)
            if known is None or known.modified != summary.get("LastModificationDate"):
                entry = await asyncio.to_thread(self._read, name, now)
                if entry is not None:
                    self.entries[name] = entry
        for entry in list(self.entries.values()):
            if entry.next_due is not None and entry.next_due <= now:
                due = entry.next_due
                entry.next_due = next_due(entry, now)
                self._fire(entry, due)

    def _list(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        token = None
        while True:
            page = self.client.list_schedules(GroupName=self.group, State="ENABLED",
                                              **({"NextToken": token} if token else {}))
            found.update({s["Name"]: s for s in page.get("Schedules", [])})
            token = page.get("NextToken")
            if not token:
                return found

    def _read(self, name: str, now: datetime) -> Entry | None:
        try:
            schedule = self.client.get_schedule(Name=name, GroupName=self.group)
        except self.client.exceptions.ResourceNotFoundException:
            return None  # deleted between the list and now
        expression = schedule["ScheduleExpression"]
        try:
            is_rate = expression.startswith("rate(")
            entry = Entry(
                name=name, arn=schedule["Arn"], modified=schedule.get("LastModificationDate"),
                target_arn=schedule["Target"]["Arn"], input_text=schedule["Target"].get("Input", "{}"),
                expression=expression, zone=ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC"),
                cron=None if is_rate else parse_cron(expression[len("cron("):-1]),
                period=timedelta(seconds=rate_seconds(expression)) if is_rate else None, next_due=None,
            )
        except (ValueError, KeyError):
            logger.warning("local scheduler cannot run this schedule", extra={"schedule": name, "expression": expression})
            return None
        entry.next_due = next_due(entry, now)
        return entry

    def _fire(self, entry: Entry, due: datetime) -> None:
        function = entry.target_arn.rsplit(":", 1)[-1].removeprefix("cloutagent-local-")
        event = filled_input(entry, due)
        self.fired += 1
        logger.info("local scheduler fires", extra={"schedule": entry.name, "function": function,
                                                    "scheduled_time": due.isoformat()})
        task = asyncio.get_running_loop().create_task(self._invoke(function, event))
        self._invocations.add(task)
        task.add_done_callback(self._invocations.discard)

    async def _invoke(self, function: str, event: dict[str, Any]) -> None:
        try:
            await self.invoker.invoke(function, event)
        except Exception:
            logger.exception("scheduled invocation failed", extra={"function": function})

    # -- the knob, at run time (dev only) --------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Any]]:
        return [("GET", "/local/scheduler", self.http_knobs), ("PUT", "/local/scheduler", self.http_knobs)]

    async def http_knobs(self, request: web.Request) -> web.Response:
        """``PUT /local/scheduler {"secondsPerMinute": 2}``: how many real seconds a scheduled minute
        lasts from now on; ``GET`` reads it, the scheduler's time and what it knows. Loopback only."""
        if request.remote not in ("127.0.0.1", "::1"):
            return web.json_response({"error": "the scheduler's knobs are for this machine only"}, status=403)
        if request.method == "PUT":
            try:
                seconds = float((await request.json())["secondsPerMinute"])
            except (ValueError, KeyError, TypeError):
                return web.json_response({"error": 'send {"secondsPerMinute": <number>}'}, status=400)
            if not 0.5 <= seconds <= MAX_SECONDS_PER_MINUTE:
                return web.json_response({"error": f"secondsPerMinute must be 0.5 to {MAX_SECONDS_PER_MINUTE:.0f}"},
                                         status=400)
            self.clock.set_speed(seconds)
        return web.json_response({
            "secondsPerMinute": self.clock.seconds_per_minute, "now": self.clock.now().isoformat(),
            "schedules": {name: {"expression": e.expression,
                                 "nextDue": e.next_due.isoformat() if e.next_due else None}
                          for name, e in sorted(self.entries.items())},
            "fired": self.fired,
        })
