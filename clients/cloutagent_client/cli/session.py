"""Run one CLI command: resolve the target, connect, call it, turn errors into exit codes."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.config import resolve_target
from cloutagent_client.cli.output import Output
from cloutagent_client import Client, ClientOptions, CloutagentError
from cloutagent_client.errors import ConnectionFailed

Command = Callable[[Client, Any, Output], Awaitable[int]]


async def _connected(args: Any, command: Command, out: Output) -> int:
    target = resolve_target(args)
    client = Client(target.url, credentials=target.credentials,
                    options=ClientOptions(request_timeout=args.timeout, open_timeout=min(args.timeout, 15.0)))
    try:
        await client.connect()
    except ConnectionFailed as exc:
        if target.source.startswith("the local stack"):  # a ready file left by a stack that is gone
            exc.message += f" (from {target.source}: is the local stack running? start it with `make dev`)"
        raise
    try:
        return await command(client, args, out)
    finally:
        await client.close()


def run(args: Any, command: Command) -> int:
    out = Output(args.json)
    try:
        return asyncio.run(_connected(args, command, out))
    except CloutagentError as exc:
        out.error(exc)
        return exit_codes.for_error(exc)
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
