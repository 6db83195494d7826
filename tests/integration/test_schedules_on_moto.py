"""Schedules against the stack's moto: the Scheduler schedule as AWS keeps it, and firings on the real table."""

from __future__ import annotations

import json
import uuid

import pytest

from cloutagent.domain.identity import Identity, Role
from cloutagent.protocol.actions import ProjectCreate, ScheduleCreate
from cloutagent.wiring import Container
from tests.fakes import FakeLauncher


@pytest.fixture
def world(aws):
    """A tenant with a project, and a container whose runs launch nothing (the launcher is not under test)."""
    container = Container(settings=aws.settings, clients=aws.clients, launcher=FakeLauncher())
    member = container.tenants.ensure_tenant_for_user(f"sched-{uuid.uuid4()}", "sched@example.com")
    owner = Identity(tenant_id=member.tenant_id, user_id=member.user_id, role=Role.owner)
    project = container.projects.create(owner, ProjectCreate(name="scheduled"))
    return container, owner, project


def test_a_schedule_is_a_scheduler_schedule_that_invokes_scheduled_run_as_the_scheduler_role(world):
    container, owner, project = world
    schedule = container.schedules.create(owner, ScheduleCreate(projectId=project.project_id, prompt="nightly",
                                                                cron="0 2 ? * MON-FRI *", timezone="Europe/Paris"))
    settings = container.settings
    kept = container.clients.client("scheduler").get_schedule(Name=schedule.schedule_id, GroupName=settings.schedule_group)
    assert kept["ScheduleExpression"] == "cron(0 2 ? * MON-FRI *)" and kept["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert kept["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = kept["Target"]
    assert (target["Arn"], target["RoleArn"]) == (settings.scheduled_run_arn, settings.scheduler_role_arn)
    assert target["Arn"].endswith("scheduled_run") and target["RoleArn"].startswith("arn:aws:iam::")
    assert json.loads(target["Input"]) == {"tenantId": owner.tenant_id, "projectId": project.project_id,
                                           "scheduleId": schedule.schedule_id,
                                           "scheduledTime": "<aws.scheduler.scheduled-time>"}
    container.schedules.delete(owner, project.project_id, schedule.schedule_id)
    names = [s["Name"] for s in container.clients.client("scheduler").list_schedules(
        GroupName=settings.schedule_group)["Schedules"]]
    assert schedule.schedule_id not in names


def test_a_firing_is_claimed_once_on_the_table_and_a_busy_project_skips_the_next(world):
    container, owner, project = world
    schedule = container.schedules.create(owner, ScheduleCreate(projectId=project.project_id, prompt="tidy",
                                                                rate="1 day"))
    ids = (owner.tenant_id, project.project_id, schedule.schedule_id)
    first = container.schedules.fire(*ids, "2026-12-02T09:00:00Z")
    assert first.outcome == "started"
    assert container.schedules.fire(*ids, "2026-12-02T09:00:00Z") is None  # the same firing, redelivered
    second = container.schedules.fire(*ids, "2026-12-03T09:00:00Z")
    assert (second.outcome, second.code) == ("skipped", "PROJECT_BUSY")
    [stored] = container.schedules.list(owner, project.project_id)
    assert (stored.started_count, stored.skipped_count, stored.last_outcome) == (1, 1, "skipped")
    assert stored.last_fired_at == "2026-12-03T09:00:00.000Z"
    execution = container.executions.get(owner, project.project_id, first.execution_id)
    assert execution.created_by == f"schedule:{schedule.schedule_id}"


def test_a_schedule_whose_item_is_gone_starts_nothing_and_loses_its_clock(world):
    container, owner, project = world
    schedule = container.schedules.create(owner, ScheduleCreate(projectId=project.project_id, prompt="x", rate="1 day"))
    container.schedule_store.delete(owner.tenant_id, project.project_id, schedule.schedule_id)  # as a project purge does
    assert container.schedules.fire(owner.tenant_id, project.project_id, schedule.schedule_id, "2026-12-02T09:00:00Z") is None
    client = container.clients.client("scheduler")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_schedule(Name=schedule.schedule_id, GroupName=container.settings.schedule_group)
    assert container.launcher.launched == []
