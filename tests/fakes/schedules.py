"""In-memory fakes of the schedule ports: the item store (claims and records as conditional
writes do) and the clock (EventBridge Scheduler), which can be told to fail."""

from __future__ import annotations

from cloutagent.domain.schedules import Firing, Schedule

_COUNTS = {"started": "started_count", "skipped": "skipped_count", "failed": "failed_count"}


class FakeScheduleStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Schedule] = {}

    def put(self, schedule: Schedule) -> None:
        self.items[(schedule.tenant_id, schedule.project_id, schedule.schedule_id)] = schedule

    def get(self, tenant_id: str, project_id: str, schedule_id: str) -> Schedule | None:
        return self.items.get((tenant_id, project_id, schedule_id))

    def list(self, tenant_id: str, project_id: str) -> list[Schedule]:
        return [s for (t, p, _), s in self.items.items() if (t, p) == (tenant_id, project_id)]

    def delete(self, tenant_id: str, project_id: str, schedule_id: str) -> bool:
        return self.items.pop((tenant_id, project_id, schedule_id), None) is not None

    def claim(self, tenant_id: str, project_id: str, schedule_id: str, fired_at: str) -> Schedule | None:
        schedule = self.get(tenant_id, project_id, schedule_id)
        if schedule is None or (schedule.last_fired_at is not None and schedule.last_fired_at >= fired_at):
            return None
        self.put(schedule.model_copy(update={"last_fired_at": fired_at}))
        return self.get(tenant_id, project_id, schedule_id)

    def record(self, schedule: Schedule, firing: Firing) -> None:
        current = self.get(schedule.tenant_id, schedule.project_id, schedule.schedule_id)
        if current is None:
            return
        count = _COUNTS[firing.outcome]
        self.put(current.model_copy(update={"last_outcome": firing.outcome, "last_execution_id": firing.execution_id,
                                            "last_error": firing.code, count: getattr(current, count) + 1}))


class FakeScheduleBackend:
    def __init__(self, fail_create: Exception | None = None, fail_delete: Exception | None = None):
        self.clocks: dict[str, Schedule] = {}
        self.fail_create = fail_create
        self.fail_delete = fail_delete

    def create(self, schedule: Schedule) -> None:
        if self.fail_create:
            raise self.fail_create
        self.clocks[schedule.schedule_id] = schedule

    def delete(self, schedule_id: str) -> None:
        if self.fail_delete:
            raise self.fail_delete
        self.clocks.pop(schedule_id, None)
