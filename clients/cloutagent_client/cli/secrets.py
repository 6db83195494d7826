"""``cloutagent secrets set|list|delete``: a project's secrets (values are never read back)."""

from __future__ import annotations

import sys
from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output, shown
from cloutagent_client import Client


async def set_secret(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    # Without VALUE it comes from stdin, so it stays out of shell history and `ps`.
    value = args.value if args.value is not None else sys.stdin.read().removesuffix("\n")
    reply = await client.set_secret(project["projectId"], args.name, value)
    out.result(reply, f"set {args.name} on {shown(project['name'])}")
    return exit_codes.OK


async def list_secrets(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.list_secrets(project["projectId"])
    rows = [s if isinstance(s, dict) else {"name": s} for s in reply.get("secrets", [])]
    columns = [("NAME", "name")] + [(header, key) for header, key in (("UPDATED", "updatedAt"), ("BY", "updatedBy"))
                                    if any(key in r for r in rows)]
    out.table(rows, columns)
    return exit_codes.OK


async def delete_secret(client: Client, args: Any, out: Output) -> int:
    project = await client.find_project(args.project)
    reply = await client.delete_secret(project["projectId"], args.name)
    out.result(reply, f"deleted {args.name} from {shown(project['name'])}")
    return exit_codes.OK
