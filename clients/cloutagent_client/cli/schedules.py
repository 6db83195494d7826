"""``cloutagent schedules create|list|delete``: a project's recurring runs."""

from __future__ import annotations

from typing import Any

from cloutagent_client import Client
from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown


async def create_schedule(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    options = {key: value for key, value in (("maxCostUsd", args.max_cost_usd), ("maxTokens", args.max_tokens),
                                             ("timeoutSeconds", args.timeout_seconds), ("model", args.model))
               if value is not None}
    schedule = await client.create_schedule(project["projectId"], args.prompt, cron=args.cron, rate=args.rate,
                                            name=args.name, timezone=args.timezone, options=options or None)
    out.result(schedule, f"{schedule['scheduleId']}: {schedule['expression']} ({schedule['timezone']}) "
                         f"on {shown(project['name'])}")
    return exit_codes.OK


async def list_schedules(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    schedules = await client.list_schedules(project["projectId"])
    rows = [{**s, "name": shown(s.get("name") or ""), "last": _last(s)} for s in schedules]
    out.table(rows, [("ID", "scheduleId"), ("NAME", "name"), ("WHEN", "expression"), ("TZ", "timezone"),
                     ("LAST", "last"), ("STARTED", "startedCount"), ("SKIPPED", "skippedCount"),
                     ("FAILED", "failedCount")])
    return exit_codes.OK


async def delete_schedule(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.delete_schedule(project["projectId"], args.schedule)
    out.result(reply, f"deleted {args.schedule} from {shown(project['name'])}")
    return exit_codes.OK


def _last(schedule: dict[str, Any]) -> str:
    if not schedule.get("lastOutcome"):
        return "never fired"
    reason = f" ({schedule['lastError']})" if schedule.get("lastError") else ""
    return f"{schedule['lastOutcome']}{reason} at {schedule.get('lastFiredAt')}"
