"""``cloutagent usage``: the tenant's plan and what it used this period."""

from __future__ import annotations

from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.output import Output
from cloutagent_client import Client


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, inner in value.items() for pair in _flatten(inner, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), value)]


async def usage(client: Client, args: Any, out: Output) -> int:
    plan = await client.plan()
    used = await client.usage(args.month)
    if out.json:
        out.item({"plan": plan, "usage": used})
        return exit_codes.OK
    for title, section in (("plan", plan), ("usage", used)):
        out.line(title)
        for key, value in _flatten(section):
            out.line(f"  {key:<40} {value}")
    return exit_codes.OK
