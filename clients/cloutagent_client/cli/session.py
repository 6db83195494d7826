"""Run one CLI command: resolve the target, connect, call it, turn errors into exit codes; or, for
the commands that need no WebSocket (``run --no-wait``, ``wait``, ``events``), the same over REST."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.config import resolve_target, rest_url
from cloutagent_client.cli.output import Output
from cloutagent_client import Client, ClientOptions, CloutagentError, RestClient
from cloutagent_client.errors import ConnectionFailed

Command = Callable[[Client, Any, Output], Awaitable[int]]
RestCommand = Callable[[RestClient, Any, Output], int]


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


def run_rest(args: Any, command: RestCommand) -> int:
    """A command over the REST API: the same target, credentials (refreshed per request), errors and
    exit codes, and no connection held between requests."""
    out = Output(args.json)
    try:
        target = resolve_target(args)
        client = RestClient(rest_url(args, target), credentials=target.credentials, timeout=args.timeout)
        return command(client, args, out)
    except CloutagentError as exc:
        out.error(exc)
        return exit_codes.for_error(exc)
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
