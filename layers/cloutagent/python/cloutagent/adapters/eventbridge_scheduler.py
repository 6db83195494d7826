"""EventBridge Scheduler: the clock of every schedule, one Scheduler schedule per cloutagent schedule.

Each is named by its schedule id in the stage's group and invokes the ``scheduled_run`` function,
as the scheduler role, with the schedule's ids and the firing's scheduled time (a context
attribute Scheduler fills in) as its event. Flexible window off: a schedule fires on the minute.
The local stack's scheduler (``cloutagent_dev/scheduler.py``) reads the same schedules from moto.
"""

from __future__ import annotations

import json
from typing import Any

from cloutagent.adapters.dynamo.table import error_code
from cloutagent.domain.schedules import Schedule
from cloutagent.errors import BadRequest

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # replaced by Scheduler with the firing's time
# A firing Scheduler cannot deliver within 5 minutes is dropped: a run starting late surprises
# more than one that did not start (the next firing comes anyway).
RETRY_POLICY = {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 3}


def target_input(schedule: Schedule) -> dict[str, str]:
    """The ``scheduled_run`` event of a schedule's firings."""
    return {"tenantId": schedule.tenant_id, "projectId": schedule.project_id, "scheduleId": schedule.schedule_id,
            "scheduledTime": SCHEDULED_TIME}


class EventBridgeSchedules:
    def __init__(self, client: Any, *, group: str, target_arn: str, role_arn: str):
        self.client = client
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn

    def create(self, schedule: Schedule) -> None:
        try:
            self.client.create_schedule(
                Name=schedule.schedule_id, GroupName=self.group, State="ENABLED",
                Description=f"cloutagent {schedule.tenant_id}/{schedule.project_id}",
                ScheduleExpression=schedule.expression, ScheduleExpressionTimezone=schedule.timezone,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": self.target_arn, "RoleArn": self.role_arn, "RetryPolicy": RETRY_POLICY,
                        "Input": json.dumps(target_input(schedule))},
            )
        except Exception as exc:
            if error_code(exc) == "ValidationException":  # an expression our checks let through
                raise BadRequest("EventBridge Scheduler refused this schedule's expression or time zone") from exc
            raise

    def delete(self, schedule_id: str) -> None:
        """Remove the schedule's clock; one already gone is fine."""
        try:
            self.client.delete_schedule(Name=schedule_id, GroupName=self.group)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
