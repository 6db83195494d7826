"""The local stack's scheduler: when a schedule kept in moto is next due, and what its target gets."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cloutagent.domain.schedules import parse_cron
from cloutagent_dev.scheduler import Entry, ScaledClock, filled_input, next_due

UTC = timezone.utc


def entry(expression: str, zone: str = "UTC", input_text: str = "{}") -> Entry:
    is_rate = expression.startswith("rate(")
    return Entry(name="s_1", arn="arn:aws:scheduler:us-east-1:123456789012:schedule/g/s_1", modified=None,
                 target_arn="arn:aws:lambda:us-east-1:123456789012:function:cloutagent-local-scheduled_run",
                 input_text=input_text, expression=expression, zone=ZoneInfo(zone),
                 cron=None if is_rate else parse_cron(expression[5:-1]),
                 period=timedelta(minutes=1) if is_rate else None, next_due=None)


def test_a_rate_is_due_one_period_after_it_is_seen_and_missed_firings_are_not_replayed():
    every_minute = entry("rate(1 minute)")
    seen = datetime(2026, 12, 2, 9, 0, 30, tzinfo=UTC)
    every_minute.next_due = next_due(every_minute, seen)
    assert every_minute.next_due == seen + timedelta(minutes=1)
    late = seen + timedelta(minutes=3, seconds=10)  # a slow tick
    assert next_due(every_minute, late) == seen + timedelta(minutes=4)


def test_a_cron_is_due_at_its_next_matching_minute_in_its_own_time_zone():
    weekdays_nine_paris = entry("cron(0 9 ? * MON-FRI *)", zone="Europe/Paris")
    friday_evening = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    assert next_due(weekdays_nine_paris, friday_evening) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday, 09:00 CET
    quarter = entry("cron(0/15 * * * ? *)")
    assert next_due(quarter, datetime(2026, 12, 2, 9, 15, tzinfo=UTC)) == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    new_year = entry("cron(0 0 1 JAN ? *)")
    assert next_due(new_year, datetime(2026, 12, 2, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    never = entry("cron(0 0 30 FEB ? *)")
    assert next_due(never, datetime(2026, 12, 2, tzinfo=UTC)) is None


def test_the_target_gets_its_input_with_scheduler_s_context_attributes_filled_in():
    text = json.dumps({"scheduleId": "s_1", "scheduledTime": "<aws.scheduler.scheduled-time>"})
    event = filled_input(entry("rate(1 minute)", input_text=text), datetime(2026, 12, 2, 9, 1, tzinfo=UTC))
    assert event == {"scheduleId": "s_1", "scheduledTime": "2026-12-02T09:01:00Z"}


def test_a_shortened_clock_runs_faster_from_when_its_pace_changes():
    clock = ScaledClock(60)
    before = clock.now()
    clock.set_speed(0.5)  # a minute every half second: 120 times the wall clock
    assert clock.now() >= before
    import time

    time.sleep(0.05)
    assert clock.now() - before >= timedelta(seconds=5)


class FakeSchedulerClient:
    """moto's answers to list_schedules / get_schedule, for the schedules a test puts in."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self):
        self.schedules: dict[str, dict] = {}

    def put(self, name: str, expression: str, input_text: str) -> None:
        self.schedules[name] = {"Name": name, "Arn": f"arn:aws:scheduler:us-east-1:1:schedule/g/{name}",
                                "ScheduleExpression": expression, "ScheduleExpressionTimezone": "UTC",
                                "LastModificationDate": 1.0, "State": "ENABLED",
                                "Target": {"Arn": "arn:aws:lambda:us-east-1:1:function:cloutagent-local-scheduled_run",
                                           "Input": input_text}}

    def list_schedules(self, **kwargs):
        return {"Schedules": [{k: v for k, v in s.items() if k != "Target"} for s in self.schedules.values()]}

    def get_schedule(self, Name, GroupName):
        if Name not in self.schedules:
            raise self.exceptions.ResourceNotFoundException(Name)
        return self.schedules[Name]


class RecordingInvoker:
    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    async def invoke(self, function_name, event):
        self.calls.append((function_name, event))


async def test_a_due_schedule_invokes_its_target_with_its_input_and_a_deleted_one_stops():
    import asyncio

    from cloutagent_dev.scheduler import LocalScheduler

    # GIVEN a scheduler whose minute lasts half a second, and a schedule every minute
    client, invoker = FakeSchedulerClient(), RecordingInvoker()
    scheduler = LocalScheduler(invoker, seconds_per_minute=0.5)  # type: ignore[arg-type]
    scheduler.group, scheduler.client = "g", client
    client.put("s_1", "rate(1 minute)", json.dumps({"scheduleId": "s_1", "at": "<aws.scheduler.scheduled-time>"}))
    await scheduler.tick()
    assert invoker.calls == []  # not due yet: a rate counts from when the schedule is seen
    # WHEN a (scheduled) minute passes
    await asyncio.sleep(0.6)
    await scheduler.tick()
    await asyncio.sleep(0)  # the invocation runs beside the tick, as Scheduler's async invoke does
    # THEN scheduled_run got the Input, its scheduled time filled in
    [(function, event)] = invoker.calls
    assert function == "scheduled_run" and event["scheduleId"] == "s_1" and event["at"].endswith("Z")
    # AND once the schedule is gone from moto, it fires no more
    del client.schedules["s_1"]
    await asyncio.sleep(0.6)
    await scheduler.tick()
    await asyncio.sleep(0)
    assert len(invoker.calls) == 1 and scheduler.entries == {}


async def test_the_scheduler_s_pace_can_be_changed_while_it_runs_and_nonsense_is_refused():
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from cloutagent_dev.scheduler import LocalScheduler

    scheduler = LocalScheduler(RecordingInvoker(), seconds_per_minute=60)  # type: ignore[arg-type]
    app = web.Application()
    for method, path, handler in scheduler.routes():
        app.router.add_route(method, path, handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await (await client.get("/local/scheduler")).json())["secondsPerMinute"] == 60
        reply = await client.put("/local/scheduler", json={"secondsPerMinute": 2})
        assert reply.status == 200 and (await reply.json())["secondsPerMinute"] == 2
        for body in ({"secondsPerMinute": 0}, {"secondsPerMinute": "fast"}, {"pace": 2}, {"secondsPerMinute": 10**6}):
            assert (await client.put("/local/scheduler", json=body)).status == 400
        assert scheduler.clock.seconds_per_minute == 2
