"""``cloutagent projects list|create|delete`` and ``whoami``."""

from __future__ import annotations

from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output
from cloutagent_client import Client

_COLUMNS = [("ID", "projectId"), ("NAME", "name"), ("STATE", "state"), ("PATH", "path"), ("LAST SEQ", "lastSeq")]


async def whoami(client: Client, args: Any, out: Output) -> int:
    me = await client.whoami()
    out.result(me, f"{me['userId']} ({me['role']}) in tenant {me['tenantId']} via {me['authType']} at {client.url}")
    return exit_codes.OK


async def list_projects(client: Client, args: Any, out: Output) -> int:
    out.table(await client.list_projects(), _COLUMNS)
    return exit_codes.OK


async def create_project(client: Client, args: Any, out: Output) -> int:
    fields: dict[str, Any] = {"description": args.description or ""}
    if args.path:
        fields["path"] = args.path
    agent = {k: v for k, v in {"model": args.model, "systemPrompt": args.system_prompt}.items() if v is not None}
    limits = {k: v for k, v in {"maxCostUsd": args.max_cost_usd, "maxTokens": args.max_tokens,
                                "timeoutSeconds": args.timeout_seconds}.items() if v is not None}
    if agent:
        fields["agent"] = agent
    if limits:
        fields["limits"] = limits
    project = await client.create_project(args.name, **fields)
    out.result(project, project["projectId"])
    return exit_codes.OK


async def delete_project(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.delete_project(project["projectId"])
    out.result(reply, f"deleted {project['projectId']} ({project['name']})")
    return exit_codes.OK
