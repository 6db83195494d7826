"""``cloutagent logs <project>``: the project's stored events, optionally then the live ones."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output
from cloutagent_client.cli.render import Style, event_line
from cloutagent_client import BadRequest, Client

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def since_timestamp(value: str, now: datetime | None = None) -> str:
    """``10m`` / ``2h`` / ``3d`` before now, or an ISO 8601 time, as the wire's ISO string."""
    relative = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if relative:
        moment = (now or datetime.now(timezone.utc)) - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadRequest(f"--since takes a duration like 10m, 2h, 3d or an ISO 8601 time, not {value!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def logs(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    project_id = project["projectId"]
    style = Style.for_stream(out.stdout, json_mode=out.json)
    filters: dict[str, Any] = {}
    if args.since:
        filters["since"] = since_timestamp(args.since)
    if args.events:
        filters["events"] = args.events.split(",")
    last = args.since_seq
    kinds: dict[str, str] = {}  # request id -> kind, so that a question's resolution says "answered"
    async for event in client.history(project_id, args.since_seq, **filters):
        _show(event, out, style, args.execution, kinds)
        last = max(last, event["seq"])
    if not args.follow:
        return exit_codes.OK
    # Everything up to the lookup's lastSeq was in the history (or filtered out of it).
    start = max(last, int(project.get("lastSeq") or 0))
    async with await client.subscribe(project_id, since_seq=start) as events:
        async for event in events:  # until Ctrl-C (exit 130) or the project is deleted
            if not args.events or event.get("event") in filters["events"]:
                _show(event, out, style, args.execution, kinds)
    return exit_codes.OK


def _show(event: dict[str, Any], out: Output, style: Style, execution: str | None, kinds: dict[str, str]) -> None:
    data = event.get("data") or {}
    if execution and data.get("executionId") != execution:
        return
    if out.json:
        out.item(event)
        return
    if event.get("event") == "permission.request":
        kinds[str(data.get("requestId"))] = str(data.get("kind"))
    text = event_line(event, style, kinds)
    if text is not None:
        out.line(text)
