"""Schedules: the expressions they accept, and what a firing does, against in-memory ports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from pydantic import ValidationError

from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.models import Event, Project
from cloutagent.domain.schedules import MAX_SCHEDULES_PER_PROJECT, cron_expression, parse_cron, rate_expression
from cloutagent.errors import LimitExceeded, NotFound, ProjectNotFound
from cloutagent.protocol.actions import ScheduleCreate
from cloutagent.services.executions import ExecutionService
from cloutagent.services.fanout import Fanout
from cloutagent.services.publisher import Publisher
from cloutagent.services.schedules import ScheduleService
from tests.fakes import FakeDatabase, FakeEventLog, FakeExecutionStore, FakeLauncher, FakeProjectStore, FakeRoomStore, FakeSockets
from tests.fakes.schedules import FakeScheduleBackend, FakeScheduleStore

ALICE = Identity(tenant_id="t_a", user_id="u_alice", role=Role.member)
MALLORY = Identity(tenant_id="t_m", user_id="u_mallory", role=Role.owner)


# -- expressions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1 minute", "rate(1 minute)"), ("rate(15 minutes)", "rate(15 minutes)"), ("2 hours", "rate(2 hours)"),
    ("rate(1 day)", "rate(1 day)"),
])
def test_rates_are_taken_in_scheduler_s_form(text, expected):
    assert rate_expression(text) == expected


@pytest.mark.parametrize("text", ["0 minutes", "1 minutes", "5 minute", "30 seconds", "rate(5 weeks)", "rate(5 minutes",
                                  "every 5 minutes", "-1 minutes"])
def test_rates_scheduler_would_refuse_are_refused_here(text):
    with pytest.raises(ValueError):
        rate_expression(text)


@pytest.mark.parametrize("text", ["0 9 ? * MON-FRI *", "cron(0/15 * * * ? *)", "0 12 L * ? *", "0 8 ? * 2#1 *",
                                  "5,35 14 ? JAN-MAR 6L 2026-2030", "0 0 15W * ? *"])
def test_crons_in_eventbridge_syntax_are_accepted(text):
    assert cron_expression(text).startswith("cron(") and cron_expression(text).endswith(")")


@pytest.mark.parametrize("text", [
    "* * * * *",  # five fields: Unix cron, not EventBridge's
    "0 9 * * * *",  # both day fields given
    "0 9 ? * ? *",  # neither day field given
    "60 * * * ? *", "0 24 * * ? *", "0 0 32 * ? *", "0 0 ? 13 * *", "0 0 ? * 8 *", "0 0 * * ? 1969",
    "0 0-/5 * * ? *", "0 5-1 * * ? *", "? 0 * * ? *", "0 0 * FOO ? *", "rm -rf / * * ?",
])
def test_malformed_crons_are_refused_with_a_reason(text):
    with pytest.raises(ValueError):
        cron_expression(text)


def test_a_cron_names_exactly_its_minutes():
    weekday_nine = parse_cron("0 9 ? * MON-FRI *")
    assert weekday_nine.matches(datetime(2026, 12, 7, 9, 0))  # a Monday
    assert not weekday_nine.matches(datetime(2026, 12, 6, 9, 0))  # a Sunday
    assert not weekday_nine.matches(datetime(2026, 12, 7, 9, 1))
    quarter = parse_cron("0/15 * * * ? *")
    assert [m for m in range(60) if quarter.matches(datetime(2026, 12, 2, 3, m))] == [0, 15, 30, 45]
    first_monday = parse_cron("0 8 ? * 2#1 *")
    assert first_monday.matches(datetime(2026, 12, 7, 8, 0)) and not first_monday.matches(datetime(2026, 12, 14, 8, 0))
    last_day = parse_cron("0 12 L * ? *")
    assert last_day.matches(datetime(2026, 2, 28, 12, 0)) and not last_day.matches(datetime(2026, 2, 27, 12, 0))


def test_a_schedule_has_exactly_one_clock_and_a_known_time_zone():
    with pytest.raises(ValidationError):
        ScheduleCreate(projectId="p_1", prompt="hi")
    with pytest.raises(ValidationError):
        ScheduleCreate(projectId="p_1", prompt="hi", cron="0 9 ? * MON-FRI *", rate="1 hour")
    with pytest.raises(ValidationError):
        ScheduleCreate(projectId="p_1", prompt="hi", rate="1 hour", timezone="Mars/Olympus_Mons")
    assert ScheduleCreate(projectId="p_1", prompt="hi", rate="1 hour", timezone="Europe/Paris").expression == "rate(1 hour)"


# -- the service -----------------------------------------------------------------------------------
class World:
    def __init__(self, backend: FakeScheduleBackend | None = None, limits=None):
        self.db = FakeDatabase()
        self.projects = FakeProjectStore(self.db)
        self.launcher = FakeLauncher()
        publisher = Publisher(FakeEventLog(self.db), Fanout(FakeRoomStore(), FakeSockets(), ThreadPoolExecutor(2)))
        self.executions = ExecutionService(self.projects, FakeExecutionStore(self.db), publisher, self.launcher,
                                           limits=limits)
        self.store, self.backend = FakeScheduleStore(), backend or FakeScheduleBackend()
        self.service = ScheduleService(self.projects, self.store, self.backend, self.executions, publisher)
        project = Project(tenant_id="t_a", project_id="p_1", name="demo", path="demo", created_at="t", updated_at="t")
        self.projects.create(project, Event(project_id="p_1", seq=1, event="project.created", ts="t", data={}))

    def create(self, **fields):
        return self.service.create(ALICE, ScheduleCreate(projectId="p_1", prompt="nightly", **({"rate": "1 minute"} | fields)))

    def events(self) -> list[Event]:
        return self.db.events[("t_a", "p_1")]


def test_create_stores_the_schedule_and_its_clock():
    world = World()
    schedule = world.create(name="nightly")
    assert world.store.get("t_a", "p_1", schedule.schedule_id) == schedule
    assert world.backend.clocks[schedule.schedule_id].expression == "rate(1 minute)"
    assert world.service.list(ALICE, "p_1") == [schedule]


def test_another_tenant_s_project_is_not_found_and_gets_no_schedule():
    world = World()
    with pytest.raises(ProjectNotFound):
        world.service.create(MALLORY, ScheduleCreate(projectId="p_1", prompt="x", rate="1 minute"))
    with pytest.raises(ProjectNotFound):
        world.service.list(MALLORY, "p_1")
    assert world.store.items == {} and world.backend.clocks == {}


def test_a_project_has_at_most_its_cap_of_schedules():
    world = World()
    for _ in range(MAX_SCHEDULES_PER_PROJECT):
        world.create()
    with pytest.raises(LimitExceeded):
        world.create()
    assert len(world.backend.clocks) == MAX_SCHEDULES_PER_PROJECT


def test_when_the_clock_cannot_be_made_no_item_is_left_behind():
    world = World(FakeScheduleBackend(fail_create=RuntimeError("Scheduler is down")))
    with pytest.raises(RuntimeError):
        world.create()
    assert world.store.items == {}


def test_delete_removes_item_and_clock_and_a_second_delete_is_not_found():
    world = World()
    schedule = world.create()
    world.service.delete(ALICE, "p_1", schedule.schedule_id)
    assert world.store.items == {} and world.backend.clocks == {}
    with pytest.raises(NotFound):
        world.service.delete(ALICE, "p_1", schedule.schedule_id)


def test_a_clock_that_outlived_its_schedule_starts_nothing_and_is_removed_when_it_fires():
    # GIVEN a schedule whose clock could not be removed when it was deleted
    world = World()
    schedule = world.create()
    world.backend.fail_delete = RuntimeError("throttled")
    world.service.delete(ALICE, "p_1", schedule.schedule_id)
    assert schedule.schedule_id in world.backend.clocks
    # WHEN the orphan clock fires
    world.backend.fail_delete = None
    assert world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:00:00Z") is None
    # THEN no run started, and the clock is gone
    assert world.launcher.launched == [] and world.backend.clocks == {}


def test_a_firing_starts_a_run_attributed_to_the_schedule():
    world = World()
    schedule = world.create()
    firing = world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:00:00Z")
    assert firing.outcome == "started" and world.launcher.launched == [firing.execution_id]
    execution = world.executions.get(ALICE, "p_1", firing.execution_id)
    assert execution.created_by == f"schedule:{schedule.schedule_id}" and execution.prompt == "nightly"
    stored = world.store.get("t_a", "p_1", schedule.schedule_id)
    assert (stored.last_outcome, stored.last_execution_id, stored.started_count) == ("started", firing.execution_id, 1)
    assert stored.last_fired_at == "2026-12-02T09:00:00.000Z"


def test_a_firing_while_the_previous_run_goes_on_is_skipped_recorded_and_announced_never_queued():
    # GIVEN a schedule whose first run is still running
    world = World()
    schedule = world.create()
    first = world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:00:00Z")
    # WHEN it fires again
    second = world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:01:00Z")
    # THEN nothing more was launched, the skip is on the schedule and in the project's history
    assert second.outcome == "skipped" and second.code == "PROJECT_BUSY"
    assert world.launcher.launched == [first.execution_id]
    stored = world.store.get("t_a", "p_1", schedule.schedule_id)
    assert (stored.last_outcome, stored.skipped_count, stored.started_count) == ("skipped", 1, 1)
    skipped = [e for e in world.events() if e.event == "schedule.skipped"]
    assert [e.data["scheduleId"] for e in skipped] == [schedule.schedule_id]
    assert skipped[0].data["reason"] == "PROJECT_BUSY"


def test_the_same_firing_delivered_twice_starts_one_run():
    world = World()
    schedule = world.create()
    world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:00:00Z")
    assert world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:00:00Z") is None
    assert len(world.launcher.launched) == 1
    assert world.store.get("t_a", "p_1", schedule.schedule_id).skipped_count == 0


def test_a_plan_limit_fails_the_firing_with_its_code():
    class NoMoreRuns:
        def check_execute(self, tenant_id, limits):
            raise LimitExceeded("The monthly spend cap is reached")

    world = World(limits=NoMoreRuns())
    schedule = world.create()
    firing = world.service.fire("t_a", "p_1", schedule.schedule_id, "2026-12-02T09:00:00Z")
    assert (firing.outcome, firing.code) == ("failed", "LIMIT_EXCEEDED") and world.launcher.launched == []
    stored = world.store.get("t_a", "p_1", schedule.schedule_id)
    assert (stored.last_outcome, stored.last_error, stored.failed_count) == ("failed", "LIMIT_EXCEEDED", 1)
    assert [e.event for e in world.events()][-1] == "schedule.failed"


def test_the_shortest_rate_is_taken_on_the_wire():
    assert ScheduleCreate(projectId="p_1", prompt="hi", rate="1 day").expression == "rate(1 day)"
