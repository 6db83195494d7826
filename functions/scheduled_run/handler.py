"""EventBridge Scheduler fired a schedule: start its run, or record why it was skipped.

The event is the schedule's target input (adapters/eventbridge_scheduler.py): its tenant, project
and schedule ids, and the firing's scheduled time. Only Scheduler, as the scheduler role, may
invoke this function; the schedule item is read again, so a schedule deleted meanwhile starts nothing.
"""

from cloutagent.observability import lambda_handler, logger
from cloutagent.wiring import get_container


@lambda_handler
def handler(event, context=None):
    try:
        tenant_id, project_id, schedule_id = event["tenantId"], event["projectId"], event["scheduleId"]
    except (KeyError, TypeError):
        logger.warning("scheduled run without schedule ids", extra={"keys": sorted(event)[:10] if isinstance(event, dict) else None})
        return {"outcome": None}
    firing = get_container().schedules.fire(tenant_id, project_id, schedule_id, event.get("scheduledTime"))
    return {"outcome": firing.outcome if firing else None, "executionId": firing.execution_id if firing else None}
