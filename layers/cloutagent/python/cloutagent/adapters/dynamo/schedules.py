"""A project's schedules, in its project's partition (deleting the project purges them).

Item: PK ``T#{t}#P#{p}``, SK ``SCHEDULE#{scheduleId}``, with the schedule as its wire fields
(``expression``, ``timezone``, ``prompt``, ``options``, ...) and what its firings did
(``lastFiredAt``, ``lastOutcome``, ``lastExecutionId``, ``lastError`` and one count per outcome).
``lastFiredAt`` is the firing's scheduled time: claiming a firing is a conditional write on it,
so a firing Scheduler or Lambda delivers twice starts one run.
"""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo import keys
from cloutagent.adapters.dynamo.table import Table, error_code
from cloutagent.domain.schedules import Firing, Schedule

_COUNTERS = {"started": "startedCount", "skipped": "skippedCount", "failed": "failedCount"}


def schedule_item(schedule: Schedule) -> dict[str, Any]:
    stored = schedule.model_dump(mode="json", by_alias=True, exclude={"tenant_id"})
    return {"PK": keys.project_pk(schedule.tenant_id, schedule.project_id), "SK": keys.schedule_sk(schedule.schedule_id),
            **stored}


def schedule_from_item(tenant_id: str, item: dict[str, Any]) -> Schedule:
    return Schedule.model_validate({**{k: v for k, v in item.items() if k not in ("PK", "SK")}, "tenantId": tenant_id})


class DynamoScheduleStore:
    def __init__(self, table: Table):
        self.table = table

    def put(self, schedule: Schedule) -> None:
        self.table.put(schedule_item(schedule), condition="attribute_not_exists(PK)")

    def get(self, tenant_id: str, project_id: str, schedule_id: str) -> Schedule | None:
        item = self.table.get(keys.project_pk(tenant_id, project_id), keys.schedule_sk(schedule_id))
        return schedule_from_item(tenant_id, item) if item else None

    def list(self, tenant_id: str, project_id: str) -> list[Schedule]:
        items = self.table.query_all(keys.project_pk(tenant_id, project_id), sk_prefix=keys.SCHEDULE_PREFIX,
                                     consistent=True)  # a schedule made just before must be counted
        return [schedule_from_item(tenant_id, i) for i in items]

    def delete(self, tenant_id: str, project_id: str, schedule_id: str) -> bool:
        old = self.table.delete(keys.project_pk(tenant_id, project_id), keys.schedule_sk(schedule_id), return_old=True)
        return old is not None

    def claim(self, tenant_id: str, project_id: str, schedule_id: str, fired_at: str) -> Schedule | None:
        """Mark the firing at ``fired_at`` as taken; None if the schedule is gone or this firing (or a
        later one) was already taken."""
        try:
            item = self.table.update(
                keys.project_pk(tenant_id, project_id), keys.schedule_sk(schedule_id), "SET #at = :at",
                condition="attribute_exists(PK) AND (attribute_not_exists(#at) OR #at < :at)",
                names={"#at": "lastFiredAt"}, vals={":at": fired_at},
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return schedule_from_item(tenant_id, item)

    def record(self, schedule: Schedule, firing: Firing) -> None:
        """What the claimed firing did; nothing if the schedule was deleted meanwhile."""
        try:
            self.table.update(
                keys.project_pk(schedule.tenant_id, schedule.project_id), keys.schedule_sk(schedule.schedule_id),
                "SET lastOutcome = :o, lastExecutionId = :x, lastError = :e ADD #count :one",
                condition="attribute_exists(PK)", names={"#count": _COUNTERS[firing.outcome]},
                vals={":o": firing.outcome, ":x": firing.execution_id, ":e": firing.code, ":one": 1},
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
