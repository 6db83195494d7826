"""``cloutagent login`` / ``logout``: remember where to connect and as whom."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Any

from cloutagent_client.cli import exit_codes
from cloutagent_client.cli.config import DEFAULT_CONFIG, DEFAULT_READY_FILE, Target, read_ready_file, save_config
from cloutagent_client.cli.output import Output
from cloutagent_client import BadRequest, Client, ClientOptions, CloutagentError, Credentials


async def _verify(url: str, credentials: Credentials, timeout: float) -> dict[str, Any]:
    async with Client(url, credentials=lambda: credentials, options=ClientOptions(request_timeout=timeout)) as client:
        return await client.whoami()


def _config_for(args: Any) -> tuple[dict[str, Any], Target]:
    auto_local = args.local or (not args.url and DEFAULT_READY_FILE.exists())
    local_ready = args.ready_file or (DEFAULT_READY_FILE if auto_local else None)
    if local_ready:
        ready = read_ready_file(Path(local_ready))
        credentials = Credentials(api_key=ready["apiKey"])
        return {"readyFile": str(Path(local_ready).resolve())}, Target(ready["wsUrl"], lambda: credentials, "local")
    if not args.url:
        raise BadRequest("Where to? Pass --url wss://… (or --local for the local stack)")
    if args.api_key or args.token:
        credentials = Credentials(api_key=args.api_key) if args.api_key else Credentials(token=args.token)
        key = {"apiKey": args.api_key} if args.api_key else {"token": args.token}
        return {"url": args.url, **key}, Target(args.url, lambda: credentials, "--url")
    return _cognito(args)


def _cognito(args: Any) -> tuple[dict[str, Any], Target]:
    from cloutagent_client.cli.cognito import region_of, sign_in

    region = args.region or region_of(args.url)
    if not (args.username and args.client_id and region):
        raise BadRequest("A Cognito sign-in needs --username, --client-id and --region "
                         "(or use --api-key / --token)")
    password = args.password if args.password is not None else getpass.getpass(f"Password for {args.username}: ")
    tokens = sign_in(region, args.client_id, args.username, password)
    credentials = Credentials(token=tokens["token"])
    config = {"url": args.url, "region": region, "clientId": args.client_id, "username": args.username, **tokens}
    return config, Target(args.url, lambda: credentials, "cognito")


def login(args: Any) -> int:
    out = Output(args.json)
    try:
        config, target = _config_for(args)
        me = asyncio.run(_verify(target.url, target.credentials(), args.timeout))
    except CloutagentError as exc:
        out.error(exc)
        return exit_codes.for_error(exc)
    path = Path(args.config or DEFAULT_CONFIG)
    save_config(path, config)
    out.result({"url": target.url, **me}, f"Logged in to {target.url} as {me['userId']} ({me['role']}) "
                                          f"in tenant {me['tenantId']}. Saved to {path}")
    return exit_codes.OK


def logout(args: Any) -> int:
    path = Path(args.config or DEFAULT_CONFIG)
    path.unlink(missing_ok=True)
    Output(args.json).result({"loggedOut": True}, f"Logged out (removed {path})")
    return exit_codes.OK
