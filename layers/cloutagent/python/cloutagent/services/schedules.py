"""Schedules: a project's recurring runs. Create, list and delete them; start a run when one fires.

The item is the truth, the Scheduler schedule only its clock. Create stores the item first, then
the clock (undoing the item if the clock cannot be made); delete removes the item first, then the
clock. So a clock can outlive its item (a failed delete, a deleted project), never the reverse, and
a firing whose item is gone starts nothing and removes its clock.

A firing acts as the schedule itself (``schedule:{id}``, a member of its tenant), through the same
``ExecutionService.start`` as ``execute``. A project that is busy skips the firing — recorded on the
schedule and announced as ``schedule.skipped`` — and never queues it.
"""

from __future__ import annotations

from datetime import datetime

from cloutagent.domain.identity import Identity
from cloutagent.domain.schedules import MAX_SCHEDULES_PER_PROJECT, Firing, Schedule
from cloutagent.errors import BadRequest, LimitExceeded, NotFound, ProjectBusy, ServiceError
from cloutagent.ids import iso_millis, new_id, now_iso
from cloutagent.observability import logger, record_metric
from cloutagent.protocol.actions import Execute, ExecuteOptions, ScheduleCreate
from cloutagent.services.executions import ExecutionService
from cloutagent.services.ports import ProjectStore, ScheduleBackend, ScheduleStore
from cloutagent.services.publisher import Publisher


class ScheduleService:
    def __init__(self, projects: ProjectStore, store: ScheduleStore, backend: ScheduleBackend,
                 executions: ExecutionService, publisher: Publisher):
        self.projects = projects
        self.store = store
        self.backend = backend
        self.executions = executions
        self.publisher = publisher

    # -- client actions --------------------------------------------------------------------------
    def create(self, identity: Identity, data: ScheduleCreate) -> Schedule:
        project = self.projects.get(identity.tenant_id, data.projectId)  # another tenant's: not found
        if project.repository is None and (data.branch or data.pullRequest):
            raise BadRequest("branch and pullRequest need a project with a repository (project.update {repository})")
        if len(self.store.list(identity.tenant_id, project.project_id)) >= MAX_SCHEDULES_PER_PROJECT:
            raise LimitExceeded(f"A project has at most {MAX_SCHEDULES_PER_PROJECT} schedules",
                                {"limit": MAX_SCHEDULES_PER_PROJECT})
        schedule = Schedule(
            tenant_id=identity.tenant_id, project_id=project.project_id, schedule_id=new_id("s_"), name=data.name,
            expression=data.expression, timezone=data.timezone, prompt=data.prompt,
            options=data.options.model_dump(exclude_none=True), branch=data.branch, pull_request=data.pullRequest,
            created_by=identity.user_id, created_at=now_iso(),
        )
        self.store.put(schedule)
        try:
            self.backend.create(schedule)
        except Exception:
            self.store.delete(schedule.tenant_id, schedule.project_id, schedule.schedule_id)
            raise
        logger.info("schedule created", extra={"schedule_id": schedule.schedule_id, "expression": schedule.expression})
        return schedule

    def list(self, identity: Identity, project_id: str) -> list[Schedule]:
        self.projects.get(identity.tenant_id, project_id)
        return sorted(self.store.list(identity.tenant_id, project_id), key=lambda s: s.created_at)

    def delete(self, identity: Identity, project_id: str, schedule_id: str) -> None:
        self.projects.get(identity.tenant_id, project_id)
        if not self.store.delete(identity.tenant_id, project_id, schedule_id):
            raise NotFound("No such schedule in this project")
        self._stop_clock(schedule_id)

    # -- the clock's side ------------------------------------------------------------------------
    def fire(self, tenant_id: str, project_id: str, schedule_id: str, scheduled_time: str | None = None) -> Firing | None:
        """Start the schedule's run, or record why not; None when there was nothing to do (the
        schedule is gone, or this firing was already handled)."""
        fired_at = _fired_at(scheduled_time)
        schedule = self.store.claim(tenant_id, project_id, schedule_id, fired_at)
        if schedule is None:
            if self.store.get(tenant_id, project_id, schedule_id) is None:
                logger.info("a deleted schedule fired: removing its clock", extra={"tenant_id": tenant_id,
                                                                                   "schedule_id": schedule_id})
                self._stop_clock(schedule_id)
            else:
                logger.info("firing already handled", extra={"schedule_id": schedule_id, "fired_at": fired_at})
            return None
        firing = self._start(schedule)
        self.store.record(schedule, firing)
        record_metric(f"Schedule{firing.outcome.capitalize()}", tenant_id=tenant_id)
        logger.info("schedule fired", extra={"tenant_id": tenant_id, "schedule_id": schedule_id,
                                             "outcome": firing.outcome, "code": firing.code,
                                             "execution_id": firing.execution_id})
        if firing.outcome != "started":
            self._announce(schedule, firing)
        return firing

    def _start(self, schedule: Schedule) -> Firing:
        request = Execute(projectId=schedule.project_id, prompt=schedule.prompt,
                          options=ExecuteOptions.model_validate(schedule.options), branch=schedule.branch,
                          pullRequest=schedule.pull_request)
        try:
            execution = self.executions.start(schedule.identity(), request)
        except ProjectBusy as exc:
            return Firing("skipped", code=exc.code, message="The previous run was still going")
        except ServiceError as exc:  # a plan limit, an unpaid subscription, a repository gone
            return Firing("failed", code=exc.code, message=exc.message)
        except Exception:
            # Not raised again: a retried delivery of this firing is refused by its claim anyway.
            logger.exception("scheduled run could not be started", extra={"schedule_id": schedule.schedule_id})
            return Firing("failed", code="INTERNAL", message="The run could not be started")
        return Firing("started", execution_id=execution.execution_id)

    def _announce(self, schedule: Schedule, firing: Firing) -> None:
        """Tell the project's watchers (and its history) that a firing started nothing."""
        try:
            self.publisher.publish(schedule.tenant_id, schedule.project_id, [(
                f"schedule.{firing.outcome}",
                {"scheduleId": schedule.schedule_id, "reason": firing.code, "message": firing.message},
            )])
        except Exception:
            logger.exception("schedule event not published", extra={"schedule_id": schedule.schedule_id})

    def _stop_clock(self, schedule_id: str) -> None:
        try:
            self.backend.delete(schedule_id)
        except Exception:
            # Its item is gone, so its next firing starts nothing and tries this again.
            logger.exception("schedule clock not removed", extra={"schedule_id": schedule_id})


def _fired_at(scheduled_time: str | None) -> str:
    """The firing's time in the one stored format (Scheduler sends ``2026-12-02T09:00:00Z``)."""
    if scheduled_time:
        try:
            return iso_millis(datetime.fromisoformat(scheduled_time))
        except ValueError:
            logger.warning("unreadable scheduled time", extra={"scheduled_time": scheduled_time[:64]})
    return now_iso()
